# Two commands do all set-up on a fresh machine:
#   make demo   score the bundled example photos with the default model
#   make test   run the whole test suite
# Both create .venv and install CPU torch 2.13.0 first, so that no CUDA build is pulled in.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv demo test lint bench bench-quick bench-studies clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

demo: venv
	$(BIN)/lpfiqa score examples/ --sort

test: venv
	$(BIN)/python -m pytest -q

lint: venv
	$(BIN)/ruff check src tests tools bench

bench: venv
	$(BIN)/python bench/run_all.py

bench-quick: venv
	$(BIN)/python bench/run_all.py --quick

bench-studies: venv  # make bench, then the studies behind the default model (docs/STUDIES.md): ~1.5 h more
	$(BIN)/python bench/run_all.py --studies

clean:
	rm -rf $(VENV) build *.egg-info
