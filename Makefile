# The README names these targets; each one installs what it needs first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
MIN_VENV ?= .venv-min
MIN_BIN := $(MIN_VENV)/bin
MIN_SHOWN := click|requests|tenacity|pyyaml|sqlite-utils|rich|orjson|pytest|responses|hypothesis|ruff
SIZE ?= 20000

.PHONY: demo test test-browser test-min reliability bench lint clean

$(BIN)/lo-sync: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,bench]'
	@touch $@

demo: $(BIN)/lo-sync
	$(BIN)/lo-sync demo

# The browser tests need Chromium, which a laptop may not have: they run on their own.
test: $(BIN)/lo-sync
	$(BIN)/python -m pytest -q -m "not slow and not browser"

# The dashboard rendered in headless Chromium (`apt-get install -y chromium`); without it
# they fail saying so, unless LO_SYNC_SKIP_BROWSER=1.
test-browser: $(BIN)/lo-sync
	$(BIN)/python -m pytest -q -m browser

# The lowest versions pyproject.toml allows for each direct dependency, so that its
# floors are tested rather than guessed. Rebuilt from nothing when pyproject.toml
# changes: an install over an old venv keeps versions above a lowered floor.
$(MIN_BIN)/lo-sync: pyproject.toml
	rm -rf $(MIN_VENV)
	$(PYTHON) -m venv $(MIN_VENV)
	$(MIN_BIN)/python -m pip install --quiet uv
	$(MIN_BIN)/uv pip install --quiet --python $(MIN_BIN)/python \
		--resolution lowest-direct -e '.[test]'
	@touch $@

# rich draws only at a terminal, which the suite never is, so the demo also runs
# under a pseudo-terminal.
test-min: $(MIN_BIN)/lo-sync
	@$(MIN_BIN)/uv pip freeze --quiet --python $(MIN_BIN)/python | grep -iE '^($(MIN_SHOWN))=='
	$(MIN_BIN)/lo-sync --help > /dev/null
	rm -rf $(MIN_VENV)/demo
	$(MIN_BIN)/python -c 'import os, pty, sys; sys.exit(os.waitstatus_to_exitcode(pty.spawn(sys.argv[1:])))' \
		$(MIN_BIN)/lo-sync demo --dir $(MIN_VENV)/demo < /dev/null > $(MIN_VENV)/demo.log \
		|| { tail -n 40 $(MIN_VENV)/demo.log; exit 1; }
	$(MIN_BIN)/python -m pytest -q -m "not slow and not browser"

reliability: $(BIN)/lo-sync
	$(BIN)/python -m pytest -q -m slow

bench: $(BIN)/lo-sync
	$(BIN)/python benchmarks/run.py --size $(SIZE)

lint: $(BIN)/lo-sync
	$(BIN)/ruff check lo_sync tests benchmarks
	$(BIN)/ruff format --check lo_sync tests benchmarks

clean:
	rm -rf $(VENV) $(MIN_VENV) .pytest_cache build *.egg-info
