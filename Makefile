# Two commands do all set-up on a fresh machine:
#   make demo   score the bundled example photos with the default model
#   make test   run the whole test suite
# Both create .venv and install CPU torch 2.13.0 first, so that no CUDA build is pulled in, then
# every other package at the exact version CI tested (requirements/constraints.txt).
#   make test-latest   the same suite against the newest releases (in .venv-latest), to find breaks on purpose
#   make lock          adopt the versions .venv-latest tested: rewrite requirements/constraints.txt
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements/constraints.txt
LATEST := .venv-latest

.PHONY: venv demo test test-latest lock lint bench bench-quick bench-studies clean

venv: $(STAMP)

# The build backend is pinned too: setuptools/wheel from the lock, then an editable install without
# build isolation (an isolated build would fetch the newest setuptools).
$(STAMP): pyproject.toml $(LOCK)
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q -c $(LOCK) --upgrade pip
	$(BIN)/pip install -q -c $(LOCK) torch==2.13.0
	$(BIN)/pip install -q -c $(LOCK) setuptools wheel
	$(BIN)/pip install -q -c $(LOCK) --no-build-isolation -e '.[dev]'
	touch $(STAMP)

test-latest:
	rm -rf $(LATEST)
	$(PY) -m venv $(LATEST)
	$(LATEST)/bin/pip install -q --upgrade pip setuptools wheel
	echo 'torch==2.13.0' > $(LATEST)/torch.txt  # the CPU wheel: an eager upgrade would pull a CUDA build
	$(LATEST)/bin/pip install -q -c $(LATEST)/torch.txt torch
	$(LATEST)/bin/pip install -q -c $(LATEST)/torch.txt --upgrade --upgrade-strategy eager --no-build-isolation -e '.[dev]'
	$(LATEST)/bin/python -m pytest -q
	$(LATEST)/bin/pip freeze --all --exclude-editable | sed 's/+cpu$$//' > $(LATEST)/tested.txt
	@echo "newest versions pass: 'make lock' adopts them ($(LATEST)/tested.txt)"

lock:
	test -f $(LATEST)/tested.txt || { echo "run 'make test-latest' first"; exit 1; }
	{ sed -n '1,3p' $(LOCK); grep -v '^lpfiqa' $(LATEST)/tested.txt | sort -f; } > $(LOCK).tmp && mv $(LOCK).tmp $(LOCK)

demo: venv
	$(BIN)/lpfiqa score examples/ --sort

test: venv
	$(BIN)/python -m pytest -q

lint: venv
	$(BIN)/ruff check src tests tools bench

bench: venv
	$(BIN)/python -m bench.run_all

bench-quick: venv
	$(BIN)/python -m bench.run_all --quick

bench-studies: venv  # make bench, then the studies behind the default model (docs/STUDIES.md): ~1.5 h more
	$(BIN)/python -m bench.run_all --studies

clean:
	rm -rf $(VENV) $(LATEST) build *.egg-info
