# The two commands the README opens with: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint typecheck imports unit venv clean bench image

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

# The operator image, built with buildah on a Debian base made by mmdebstrap (docs/image.md; as root).
# IMAGE=registry.example.com/aimsource:0.1.0 names it; BASE=python:3.11.14-slim-bookworm builds on
# that image instead of the Debian base.
IMAGE ?= localhost/aimsource:dev
image:
	$(PYTHON) scripts/build-image --tag $(IMAGE) $(if $(BASE),--base $(BASE))

bench: venv
	$(BIN)/python benchmarks/registry_listing.py
	$(BIN)/python benchmarks/operator_scale.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info
