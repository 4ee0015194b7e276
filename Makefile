# The two commands the README opens with: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint typecheck imports unit venv clean bench

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

venv: $(BIN)/.installed

lint: venv
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: venv
	$(BIN)/mypy --strict

imports: venv
	$(BIN)/lint-imports

unit: venv
	$(BIN)/pytest -q -p no:cacheprovider

test: lint typecheck imports unit

demo: venv
	$(BIN)/python scripts/demo.py

bench: venv
	$(BIN)/python benchmarks/registry_listing.py
	$(BIN)/python benchmarks/operator_scale.py
	$(BIN)/python benchmarks/discovery.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info
