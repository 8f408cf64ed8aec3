"""Test helpers shared by every service's tests: emulator, tables, events."""
