# The README names these targets; each one installs what it needs first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SIZE ?= 20000

.PHONY: demo test reliability bench lint clean

$(BIN)/lo-sync: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,bench]'
	@touch $@

demo: $(BIN)/lo-sync
	$(BIN)/lo-sync demo

test: $(BIN)/lo-sync
	$(BIN)/python -m pytest -q -m "not slow"

reliability: $(BIN)/lo-sync
	$(BIN)/python -m pytest -q -m slow

bench: $(BIN)/lo-sync
	$(BIN)/python benchmarks/run.py --size $(SIZE)

lint: $(BIN)/lo-sync
	$(BIN)/ruff check lo_sync tests benchmarks
	$(BIN)/ruff format --check lo_sync tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
