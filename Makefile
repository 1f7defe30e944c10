# Two commands set everything up on a fresh machine: `make build` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONTENT ?= content
OUTPUT ?= output
STAMP := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: build serve new check plan test lint typecheck clean help

help:
	@echo "make build   build the site from $(CONTENT)/ into $(OUTPUT)/"
	@echo "make serve   preview at http://127.0.0.1:8000/, rebuilding as you save"
	@echo "make new TITLE=\"My post\" CAMPAIGN=equity   start a new post"
	@echo "make check   check posts for problems before publishing"
	@echo "make plan    write each campaign's posting plan into plan/"
	@echo "make test    run every test (lint, types, unit, browser)"
	@echo "make clean   remove $(OUTPUT)/ and caches"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(DEVSTAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

# Compiled here when a module changed: the environment may forbid Python to cache bytecode
# as it runs (PYTHONDONTWRITEBYTECODE), and compiling the package on every start costs
# ~0.1 s (checking it on every build, ~0.05 s).
COMPILED := $(VENV)/.compiled
$(COMPILED): $(wildcard generator/*.py) $(STAMP)
	@$(BIN)/python -m compileall -q generator
	@touch $@

build: $(COMPILED)
	$(BIN)/microsite build --content $(CONTENT) --output $(OUTPUT) $(ARGS)

serve: $(COMPILED)
	$(BIN)/microsite serve --content $(CONTENT) --output $(OUTPUT) $(ARGS)

new: $(STAMP)
	@test -n "$(TITLE)" || { echo 'Usage: make new TITLE="Your title" CAMPAIGN=equity'; exit 2; }
	@test -n "$(CAMPAIGN)" || { echo 'Usage: make new TITLE="Your title" CAMPAIGN=equity'; exit 2; }
	$(BIN)/microsite new "$(TITLE)" --campaign "$(CAMPAIGN)" --content $(CONTENT)

check: $(STAMP)
	$(BIN)/microsite check --content $(CONTENT) $(ARGS)

plan: $(STAMP)
	$(BIN)/microsite plan --content $(CONTENT) $(ARGS)

lint: $(DEVSTAMP)
	$(BIN)/ruff check generator tests bench

typecheck: $(DEVSTAMP)
	$(BIN)/mypy

test: $(DEVSTAMP) lint typecheck
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(OUTPUT) .$(OUTPUT).spare .cache plan .pytest_cache .mypy_cache .ruff_cache
