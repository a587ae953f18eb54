# Two commands for humans and CI: `make demo` and `make test`.
# Each creates .venv on first use (a fresh machine needs only python3 and make).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint serve sandbox clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
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

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache demo-output
