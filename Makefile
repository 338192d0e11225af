# The two commands a newcomer needs: `make run` and `make test`.
# Each creates and fills .venv/ at the repository root when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test check format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Runtime dependencies only.
$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# Everything the tests need: runtime, the train extra (PyTorch CPU) and the dev tools.
$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[train,dev]"
	touch $@ $(VENV)/.run-installed

# axe-core for the accessibility checks in tests/e2e, from the npm registry (package-lock.json pins
# it). Without npm the recipe only says so, and those checks skip with a reason.
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: the axe-core checks in tests/e2e will be skipped"; fi

run: $(VENV)/.run-installed
	$(BIN)/moodtape serve

check: $(VENV)/.test-installed
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

test: check node_modules/.installed
	$(BIN)/python -m pytest

format: $(VENV)/.test-installed
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache artifacts
