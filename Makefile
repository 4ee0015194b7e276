# The two commands the README opens with: `make demo` and `make test`. Both first install the
# Debian packages they need when missing (scripts/install-deps, shared with .ci/run).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export PYTHON

.PHONY: demo demo-cluster test suite unit lint typecheck imports venv deps-python deps-demo deps-test \
	testbed clean bench image

deps-python:
	@scripts/install-deps python
deps-demo:
	@scripts/install-deps demo
deps-test:
	@scripts/install-deps test

$(BIN)/.installed: pyproject.toml | deps-python
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

# The real control plane and Helm the tests run, built from Go once per machine (~/.cache/aimsource/);
# built here rather than inside pytest so that the first run shows its progress.
testbed: deps-test
	@$(PYTHON) scripts/kube-testbed --build >/dev/null
	@$(PYTHON) scripts/helm --build >/dev/null

# The whole suite; a test whose real component (docker-registry, kubectl, promtool, the testbed,
# Helm) is missing fails and names it.
suite: venv
	$(BIN)/pytest -q -p no:cacheprovider

test: deps-test testbed lint typecheck imports suite

# A quick local run: tests whose real component is missing are skipped, each with its reason in
# the summary (-rs), and an unbuilt testbed or Helm is not built. Not a substitute for `make test`.
unit: venv
	AIMSOURCE_ALLOW_MISSING=1 $(BIN)/pytest -q -p no:cacheprovider -rs

demo: deps-demo venv
	$(BIN)/python scripts/demo.py

# The operator on a real control plane, until Ctrl-C (scripts/demo_cluster.py).
demo-cluster: deps-test venv
	$(BIN)/python scripts/demo_cluster.py

# The operator image, built with buildah on a Debian base made by mmdebstrap (docs/image.md; as root).
# IMAGE=registry.example.com/aimsource:0.1.0 names it; BASE=python:3.11.14-slim-bookworm builds on
# that image instead of the Debian base.
IMAGE ?= localhost/aimsource:dev
image:
	$(PYTHON) scripts/build-image --tag $(IMAGE) $(if $(BASE),--base $(BASE))

# first_sync.py runs on the real control plane (hence testbed) with a real docker-registry.
bench: venv testbed
	@scripts/install-deps bench
	$(BIN)/python benchmarks/registry_listing.py
	$(BIN)/python benchmarks/operator_scale.py
	$(BIN)/python benchmarks/discovery.py
	$(BIN)/python benchmarks/first_sync.py --rounds 2

clean:
	rm -rf $(VENV) build dist src/*.egg-info
