# The two commands: `make run` and `make test`. Both create .venv on first use.
# `make run` installs the runtime dependencies only; `make test` adds the test extras.
# -qq: setuptools prints a notice box on every editable install; errors still show.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUN_STAMP  := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed

.PHONY: run test lint bench bench-cluster dist wheel clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --quiet -e .
	touch $(RUN_STAMP)

$(TEST_STAMP): setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --quiet -e '.[test,postgres]'
	touch $(TEST_STAMP) $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/python run.py

test: $(TEST_STAMP)
	$(BIN)/ruff check ringback tests bench run.py
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(TEST_STAMP)
	$(BIN)/ruff check ringback tests bench run.py

# bench/throughput.py needs Debian's wrk (apt-get install wrk) and the PostgreSQL driver (the test extras).
bench: $(TEST_STAMP)
	$(BIN)/python bench/first_touch.py
	$(BIN)/python bench/recovery.py
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/throughput.py

# Cluster mode: 1, 2 and 3 nodes on one scratch PostgreSQL database (bench_cluster, dropped after), wrk on each.
bench-cluster: $(TEST_STAMP)
	$(BIN)/python bench/cluster.py

# One file, dist/ringback: Python, templates, migrations and the OpenAPI spec inside (packaging/ringback.spec).
dist: $(TEST_STAMP)
	$(BIN)/pyinstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build/pyinstaller \
		packaging/ringback.spec

# A wheel and an sdist in dist/, with every package data file.
wheel: $(TEST_STAMP)
	$(BIN)/python -m build --no-isolation --outdir dist .

clean:
	rm -rf $(VENV) var build dist *.egg-info .pytest_cache .ruff_cache
