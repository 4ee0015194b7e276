"""What the API server does with a custom resource, done offline: prune nulls, default, validate.

The CRD YAML files are the single source of truth for a valid source, so the tests judge samples by
the CRD itself, not by a copy of its rules: the structural OpenAPI v3 schema is converted to JSON
Schema for `jsonschema`, defaults are applied by walking the schema (as the apiextensions server
does, before validation), and the `x-kubernetes-validations` CEL rules are evaluated with cel-python.

Unknown fields are reported (additionalProperties false), as kubectl's strict field validation does,
instead of being pruned silently. The converter refuses schema keywords it does not know, so that a
keyword added to a CRD later cannot be ignored by these tests without anyone noticing.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import celpy
import jsonschema
import yaml

import aimsource

CRD_DIR = Path(aimsource.__file__).parent / "crds"
SOURCES_CRD = "aim.eai.amd.com_aimclustermodelsources.yaml"
MODELS_CRD = "aim.eai.amd.com_aimclustermodels.yaml"

# Keywords copied unchanged into JSON Schema (same meaning in OpenAPI v3.0 and JSON Schema draft 7).
_COPIED = frozenset(
    {"enum", "pattern", "minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems", "required"}
)
# Keywords that do not constrain a value here (documentation, formats the API server treats as
# hints, list semantics for server-side apply) or that are handled by this module's own walks.
_HANDLED = frozenset(
    {
        "type",
        "properties",
        "items",
        "additionalProperties",
        "description",
        "default",
        "format",
        "nullable",
        "x-kubernetes-validations",
        "x-kubernetes-preserve-unknown-fields",
        "x-kubernetes-int-or-string",
        "x-kubernetes-list-type",
        "x-kubernetes-list-map-keys",
    }
)


@cache
def load_crd(filename: str) -> dict[str, Any]:
    with (CRD_DIR / filename).open(encoding="utf-8") as stream:
        crd: dict[str, Any] = yaml.safe_load(stream)
    return crd


def version(crd: dict[str, Any], name: str = "v1alpha1") -> dict[str, Any]:
    (found,) = [v for v in crd["spec"]["versions"] if v["name"] == name]
    return found  # type: ignore[no-any-return]


def root_schema(filename: str) -> dict[str, Any]:
    return version(load_crd(filename))["schema"]["openAPIV3Schema"]  # type: ignore[no-any-return]


def to_json_schema(node: dict[str, Any]) -> dict[str, Any]:
    """Convert one structural-schema node (and its children) to JSON Schema."""
    unknown = set(node) - _COPIED - _HANDLED
    if unknown:
        raise AssertionError(f"schema keywords this converter does not understand: {sorted(unknown)}")
    out: dict[str, Any] = {key: node[key] for key in _COPIED if key in node}
    if "pattern" in out:
        out["pattern"] = go_pattern(out["pattern"])
    if node.get("x-kubernetes-int-or-string"):
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    elif "type" in node:
        out["type"] = [node["type"], "null"] if node.get("nullable") else node["type"]
    if "enum" in out and node.get("nullable"):
        out["enum"] = [*out["enum"], None]
    if "properties" in node:
        out["properties"] = {key: to_json_schema(child) for key, child in node["properties"].items()}
        if not node.get("x-kubernetes-preserve-unknown-fields"):
            out["additionalProperties"] = False
    if isinstance(node.get("additionalProperties"), dict):
        out["additionalProperties"] = to_json_schema(node["additionalProperties"])
    if "items" in node:
        out["items"] = to_json_schema(node["items"])
    return out


def go_pattern(pattern: str) -> str:
    """A CRD pattern as the API server (Go's RE2) reads it, for Python's `re`.

    Go's `$` matches only at the end of the text; Python's also before a final newline, so
    `^[a-z]+$` would admit "abc\\n" here and not in a cluster. The CRDs' patterns end with `$` and
    use it nowhere else (checked, so that a new one cannot slip by).
    """
    body = pattern[:-1] if pattern.endswith("$") and not pattern.endswith("\\$") else pattern
    if "$" in body:
        raise AssertionError(f"pattern with a $ this converter does not translate: {pattern}")
    return body + "\\Z" if body != pattern else pattern


def prune_nulls_and_default(value: Any, node: dict[str, Any]) -> Any:
    """A copy of `value` as the API server stores it before validation.

    A null field that is not nullable is dropped, then replaced by its default if it has one; a
    defaulted object gets its own nested defaults too.
    """
    if isinstance(value, dict) and "properties" in node:
        out = {}
        for key, child in value.items():
            schema = node["properties"].get(key)
            if child is None and schema is not None and not schema.get("nullable"):
                continue
            out[key] = prune_nulls_and_default(child, schema) if schema is not None else child
        for key, schema in node["properties"].items():
            if key not in out and "default" in schema:
                out[key] = prune_nulls_and_default(copy.deepcopy(schema["default"]), schema)
        return out
    if isinstance(value, list) and "items" in node:
        return [prune_nulls_and_default(item, node["items"]) for item in value]
    return value


# One environment for the whole session: building one raises the recursion limit, which hypothesis
# reports when it happens inside a test.
_CEL = celpy.Environment()


@cache
def _program(rule: str) -> celpy.Runner:
    return _CEL.program(_CEL.compile(rule))


@cache
def _validator(filename: str) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(to_json_schema(root_schema(filename)))


def cel_failures(value: Any, node: dict[str, Any], path: str) -> list[str]:
    """Messages of the `x-kubernetes-validations` rules that `value` breaks, anywhere inside it."""
    failures = []
    for validation in node.get("x-kubernetes-validations", ()):
        try:
            ok = bool(_program(validation["rule"]).evaluate({"self": celpy.json_to_cel(value)}))
        except celpy.CELEvalError:
            ok = False  # the API server rejects an object whose rule cannot be evaluated
        if not ok:
            failures.append(f"{path}: {validation.get('message', validation['rule'])}")
    if isinstance(value, dict):
        for key, child in value.items():
            if key in node.get("properties", {}) and child is not None:
                failures += cel_failures(child, node["properties"][key], f"{path}.{key}")
    if isinstance(value, list) and "items" in node:
        for i, item in enumerate(value):
            failures += cel_failures(item, node["items"], f"{path}[{i}]")
    return failures


def admit(obj: dict[str, Any], filename: str = SOURCES_CRD) -> tuple[dict[str, Any], list[str]]:
    """(the stored object, the reasons it is rejected): empty reasons means the API server admits it."""
    schema = root_schema(filename)
    stored = prune_nulls_and_default(obj, schema)
    errors = [
        f"{'.'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
        for error in _validator(filename).iter_errors(stored)
    ]
    # The API server evaluates CEL rules only on values that passed the schema's type checks; here,
    # rules run on well-typed objects only, which is enough for a verdict.
    if not errors:
        errors = cel_failures(stored, schema, "(root)")
    return stored, errors


def walk(node: dict[str, Any], path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every schema node with its path: properties as `.name`, list items as `[]`."""
    nodes = [(path or "(root)", node)]
    for key, child in node.get("properties", {}).items():
        nodes += walk(child, f"{path}.{key}")
    if "items" in node:
        nodes += walk(node["items"], f"{path}[]")
    return nodes
