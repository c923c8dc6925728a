# The two commands: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,postgres]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python run.py

test: $(STAMP)
	$(BIN)/ruff check ringback tests bench run.py
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check ringback tests bench run.py

bench: $(STAMP)
	$(BIN)/python bench/first_touch.py
	$(BIN)/python bench/recovery.py
	$(BIN)/python bench/scale.py

clean:
	rm -rf $(VENV) var build *.egg-info .pytest_cache .ruff_cache
