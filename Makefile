# Two commands for humans and CI: `make demo` and `make test`.
# Each creates .venv on first use (a fresh machine needs only python3 and make).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# --compile-bytecode: the tests start nudger in many subprocesses, and where the environment
# sets PYTHONDONTWRITEBYTECODE each one would compile every dependency anew (3 s of CPU).
UV_INSTALL := $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python

# Dependencies come from requirements/*.lock: exact versions, every file's sha256 checked.
# pip installs uv alone from installer.lock; uv installs dev.lock (checking every hash as
# pip does) in seconds where pip takes a minute on a machine with an empty cache.
LOCK_VENV ?= .venv-lock
LOCK_FLAGS := --generate-hashes --allow-unsafe --strip-extras --all-build-deps \
	--no-emit-index-url --no-emit-find-links --quiet

.PHONY: demo test lint serve sandbox clean lock

$(BIN)/.installed: pyproject.toml requirements/dev.lock requirements/installer.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/installer.lock
	$(UV_INSTALL) --require-hashes -r requirements/dev.lock
	$(UV_INSTALL) --no-deps --no-build-isolation -e .
	touch $@

demo: $(BIN)/.installed
	$(BIN)/nudger demo

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The suite mostly waits (on the emulator, the database, subprocesses, Retry-After), so
# it runs in 4 xdist workers, 2 a core on CI's 2 cores: 4 took 288 s where 2 took 416 s
# and one process 870 s. PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= 4
test: lint
	$(BIN)/pytest -n $(PYTEST_WORKERS)

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
	$(LOCK_VENV)/bin/pip-compile $(filter-out --all-build-deps,$(LOCK_FLAGS)) --upgrade \
		-o requirements/installer.lock requirements/installer.in

clean:
	rm -rf $(VENV) $(LOCK_VENV) .pytest_cache .mypy_cache .ruff_cache demo-output
