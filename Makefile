# cxnb — every target bootstraps .venv from requirements.lock on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PARAMS ?= params/demo.yaml
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install report test unit validate lint format bench clean

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name cxnb --display-name "cxnb (.venv)" >/dev/null
	@touch $(STAMP)

install: $(STAMP) ## create .venv with the locked dependencies and the cxnb kernel

report: $(STAMP) ## run the demo end to end: reports/demo/index.html (PARAMS=... for a client)
	$(BIN)/cxnb run $(PARAMS)

test: $(STAMP) ## all tests: unit, end to end, database, real data, and nbval over notebooks/
	$(BIN)/python -m pytest tests $(PYTEST_ARGS)
	$(MAKE) --no-print-directory validate

unit: $(STAMP) ## fast tests only (no slow, db or real-data tests)
	$(BIN)/python -m pytest tests -m "not slow and not db and not realdata" $(PYTEST_ARGS)

validate: $(STAMP) ## nbval: every notebook runs top to bottom on its default (demo) parameters
	$(BIN)/python -m pytest --nbval-lax --nbval-current-env -p no:cacheprovider notebooks

lint: $(STAMP) ## ruff, and notebooks committed without outputs (nbstripout)
	$(BIN)/ruff check .
	$(BIN)/nbstripout --verify notebooks/*.ipynb

format: $(STAMP) ## strip notebook outputs and apply ruff fixes
	$(BIN)/nbstripout notebooks/*.ipynb
	$(BIN)/ruff check --fix .

bench: $(STAMP) ## benchmarks: writes benchmarks/results.md and figures
	$(BIN)/python benchmarks/run_all.py

clean: ## remove generated reports, caches and benchmark data (keeps .venv)
	rm -rf reports/*/ reports/.scratch reports/.*.lock .pytest_cache .ruff_cache .hypothesis benchmarks/data
	find . -name __pycache__ -not -path "./$(VENV)/*" -exec rm -rf {} +
