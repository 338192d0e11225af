# The two commands a newcomer needs: `make run` and `make test`.
# Each creates and fills .venv/ at the repository root when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test check format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Runtime dependencies, and HEIC support (the heic extra): an iPhone photo uploaded to the app on
# your own machine is read. The extra bundles GPL code, hence not a core dependency (README).
$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[heic]"
	touch $@

# Everything the tests need: runtime, the train extra (PyTorch CPU), the dev tools, and the heic
# extra, so the HEIC tests run here and in CI (they skip, saying why, where it is missing).
$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[train,dev,heic]"
	touch $@ $(VENV)/.run-installed

# axe-core for the accessibility checks in tests/e2e, from the npm registry (package-lock.json pins
# it). Without npm the recipe only says so, and those checks skip with a reason.
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: the axe-core checks in tests/e2e will be skipped"; fi

# ONNX Runtime Web for the page's on-device mode (issue 13): its 11 MB WebAssembly is too large to
# commit, so npm fetches the pinned version and three files are copied into a git-ignored static
# folder. Without them the page reads frames on the server, as before.
ORT_DIR := src/moodtape/web/static/vendor/ort
ORT_FILES := ort.wasm.min.mjs ort-wasm-simd-threaded.mjs ort-wasm-simd-threaded.wasm

$(ORT_DIR)/.installed: node_modules/.installed
	@if [ -d node_modules/onnxruntime-web/dist ]; then mkdir -p $(ORT_DIR) && \
	for f in $(ORT_FILES); do cp node_modules/onnxruntime-web/dist/$$f $(ORT_DIR)/; done && touch $@; \
	else echo "onnxruntime-web not installed: the page reads camera frames on the server"; fi

run: $(VENV)/.run-installed $(ORT_DIR)/.installed
	$(BIN)/moodtape serve

check: $(VENV)/.test-installed
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

test: check node_modules/.installed $(ORT_DIR)/.installed
	$(BIN)/python -m pytest

format: $(VENV)/.test-installed
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

clean:
	rm -rf $(VENV) node_modules $(ORT_DIR) .pytest_cache .mypy_cache .ruff_cache artifacts
