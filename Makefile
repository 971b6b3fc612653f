# hallq: `make demo` and `make test` work from a fresh clone (see README.md).
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.stamp
PYTEST_ARGS ?=

.PHONY: venv deps lint test demo bench clean

# The venv is (re)installed only when pyproject.toml is newer than the stamp.
venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PY) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "error: hallq needs Python >= 3.11; '$(PY)' is: $$($(PY) --version 2>&1)." >&2; \
	  echo "       Run 'make deps', or give one: make PY=/path/to/python3.11 ..." >&2; exit 1; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check --progress-bar off -q -e '.[test]'
	touch $@

deps:
	PY=$(PY) bash scripts/bootstrap.sh

# Runs every check, then fails if any did.
lint: venv
	@status=0; \
	for check in "ruff check ." "ruff format --check ." "mypy" "lint-imports --no-logo"; do \
	  echo "+ $$check"; $(BIN)/$$check || status=1; \
	done; \
	exit $$status

test: deps venv lint
	HALLQ_REQUIRE_PG=1 HALLQ_NO_SKIPS=1 $(BIN)/pytest -q -p no:cacheprovider --durations=10 $(PYTEST_ARGS)

# The whole simulated hall (center, buses, display controller, kiosk, hall screen, web
# pages); headless without $DISPLAY, outputs in var/demo/. `hallq demo` alone runs the
# engine-only hall day.
demo: deps venv
	$(BIN)/hallq hall-demo --config config/examples/county.toml --out var/demo

bench: venv
	@set -e; for script in bench/*.py; do \
	  [ -e "$$script" ] || { echo "no benchmarks in bench/"; break; }; \
	  echo "+ $(BIN)/python $$script"; $(BIN)/python "$$script"; \
	done

clean:
	rm -rf var/ $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis \
	  .import_linter_cache build dist *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
