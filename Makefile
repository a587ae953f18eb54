# Two commands for humans and CI: `make demo` and `make test`.
# Each creates .venv on first use (a fresh machine needs only python3 and make).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

# Dependencies come from requirements/*.lock: exact versions, every file's sha256 checked.
LOCK_VENV ?= .venv-lock
LOCK_FLAGS := --generate-hashes --allow-unsafe --strip-extras --all-build-deps \
	--no-emit-index-url --no-emit-find-links --quiet

.PHONY: demo test lint serve sandbox clean lock

$(BIN)/.installed: pyproject.toml requirements/dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

demo: $(BIN)/.installed
	$(BIN)/nudger demo

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

serve: $(BIN)/.installed
	$(BIN)/nudger serve --sandbox

# Refresh both locks to the newest versions pyproject.toml allows (needs PyPI); the
# runtime lock takes the dev lock's versions, so the image runs what the tests ran.
lock:
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet pip-tools
	$(LOCK_VENV)/bin/pip-compile $(LOCK_FLAGS) --upgrade --extra dev --extra postgres \
		-o requirements/dev.lock pyproject.toml
	$(LOCK_VENV)/bin/pip-compile $(LOCK_FLAGS) --extra postgres -c requirements/dev.lock \
		-o requirements/runtime.lock pyproject.toml

clean:
	rm -rf $(VENV) $(LOCK_VENV) .pytest_cache .mypy_cache .ruff_cache demo-output
