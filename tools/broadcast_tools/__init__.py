"""Build, guard and local tooling for the monorepo (never shipped to Lambda)."""
