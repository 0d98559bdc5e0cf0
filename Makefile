# hashpivot: `make demo` solves the bundled reference portfolio; `make test` runs the suite.
# Each target creates .venv from scratch when it is absent.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test bench clean

$(BIN)/hashpivot: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(BIN)/hashpivot
	$(BIN)/hashpivot solve --out plan.xlsx --force

test: $(BIN)/hashpivot
	$(BIN)/python -m pytest

bench: $(BIN)/hashpivot
	$(BIN)/python benchmarks/scaling.py

clean:
	rm -rf $(VENV) plan.xlsx .pytest_cache
