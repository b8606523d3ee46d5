# Two commands do all set-up on a machine with python3 (3.10+), git and make:
#   make demo   bake a project with the defaults and run the whole lifecycle
#   make test   run the template's test suite (what CI runs)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= $(CURDIR)/.demo

.PHONY: help venv test test-fast demo bench lint clean

help:
	@echo "make demo       bake a project and run train -> gate -> register -> promote -> deploy"
	@echo "make test       full template test suite (CI)"
	@echo "make test-fast  the suite without the slow end-to-end cases"
	@echo "make bench      benchmarks (bake/repro, registry scale, deploy, repro vs a plain script at 100k rows)"

# The pins in constraints.txt are for Python 3.11+; on 3.10 pip picks versions within the ranges.
CONSTRAINTS = $(shell $(PYTHON) -c 'import sys; print("-c constraints.txt" if sys.version_info >= (3, 11) else "")')

$(STAMP): requirements.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt $(CONSTRAINTS)
	touch $@

venv: $(STAMP)

# Two workers; tests sharing a bake stay on one (loadgroup), in the order tests/conftest.py
# sets (no reorder): each test is listed as it finishes, quick ones from the first seconds.
PYTEST = PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -n 2 --dist loadgroup \
	--no-loadscope-reorder -v --durations=15

test: $(STAMP)
	@echo "make test: about 15-20 minutes on a quiet 2-core machine, longer under load"
	$(PYTEST)

test-fast: $(STAMP)
	@echo "make test-fast: the quick half of make test (no end-to-end lifecycle cases)"
	$(PYTEST) -m "not slow"

demo: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh "$(DEMO_DIR)"

bench: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python benchmarks/bake_repro.py
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python benchmarks/registry_scale.py
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python benchmarks/deploy.py
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python benchmarks/pipeline_scale.py --rows 100000

lint: $(STAMP)
	$(BIN)/ruff check hooks tests benchmarks scripts local_extensions.py
	$(BIN)/ruff format --check hooks tests benchmarks scripts local_extensions.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache
