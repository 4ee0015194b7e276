"""What the API server does to a custom resource before storing it: prune, default, validate.

On a real cluster a field that the CRD's structural schema does not declare is
dropped silently (unless `x-kubernetes-preserve-unknown-fields`), defaults are
filled in, and an object that breaks the schema or an `x-kubernetes-validations`
CEL rule is refused with 422 Invalid. The emulator does the same, so that a
status field the CRD would prune, or a spec the CRD would refuse, shows up in
tests as it would in production.

The schema conversion, defaulting and CEL evaluation are those of
`tests/support/crd_schema.py` (the offline judge of our CRDs), so there is one
interpretation of the CRD in the test suite; pruning is added here.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import jsonschema

from tests.support.crd_schema import cel_failures, prune_nulls_and_default, to_json_schema

# Managed by the API server itself, never pruned or validated against the CRD's schema.
_SERVER_FIELDS = ("apiVersion", "kind", "metadata")


def crd_schema(crd: Mapping[str, Any], version: str) -> dict[str, Any] | None:
    for served in crd.get("spec", {}).get("versions", []):
        if served.get("name") == version:
            schema = (served.get("schema") or {}).get("openAPIV3Schema")
            return dict(schema) if schema else None
    return None


def prune_unknown(value: Any, node: Mapping[str, Any]) -> Any:
    """A copy of `value` without the fields its schema does not declare."""
    if isinstance(value, dict):
        if node.get("x-kubernetes-preserve-unknown-fields"):
            return copy.deepcopy(value)
        properties = node.get("properties")
        extra = node.get("additionalProperties")
        if properties is None and not isinstance(extra, dict):
            return copy.deepcopy(value) if node.get("type") != "object" else {}
        out = {}
        for key, child in value.items():
            if properties is not None and key in properties:
                out[key] = prune_unknown(child, properties[key])
            elif isinstance(extra, dict):
                out[key] = prune_unknown(child, extra)
        return out
    if isinstance(value, list) and isinstance(node.get("items"), dict):
        return [prune_unknown(item, node["items"]) for item in value]
    return copy.deepcopy(value)


def unknown_fields(obj: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    """The paths (`spec.typo`) that pruning would drop: what `fieldValidation=Strict` refuses."""
    found: list[str] = []

    def walk(value: Any, node: Mapping[str, Any], path: str) -> None:
        if isinstance(value, dict) and not node.get("x-kubernetes-preserve-unknown-fields"):
            properties = node.get("properties")
            extra = node.get("additionalProperties")
            if properties is None and not isinstance(extra, dict):
                return
            for key, child in value.items():
                where = f"{path}.{key}" if path else str(key)
                if properties is not None and key in properties:
                    walk(child, properties[key], where)
                elif isinstance(extra, dict):
                    walk(child, extra, where)
                else:
                    found.append(where)
        elif isinstance(value, list) and isinstance(node.get("items"), dict):
            for index, item in enumerate(value):
                walk(item, node["items"], f"{path}[{index}]")

    body = {key: value for key, value in obj.items() if key not in _SERVER_FIELDS}
    walk(body, schema, "")
    return found


@lru_cache(maxsize=32)
def _validator(schema_json: str) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(to_json_schema(json.loads(schema_json)))


def admit(obj: Mapping[str, Any], schema: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """(the object as stored, the reasons to refuse it); server-managed fields are left alone."""
    server = {key: copy.deepcopy(obj[key]) for key in _SERVER_FIELDS if key in obj}
    body = {key: value for key, value in obj.items() if key not in _SERVER_FIELDS}
    user_schema = dict(
        schema,
        properties={
            key: child for key, child in (schema.get("properties") or {}).items() if key not in _SERVER_FIELDS
        },
    )
    user_schema.pop("required", None)
    required = [key for key in schema.get("required", []) if key not in _SERVER_FIELDS]
    stored = prune_nulls_and_default(prune_unknown(body, user_schema), user_schema)
    errors = [f"{key}: Required value" for key in required if key not in stored]
    errors += [
        f"{'.'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
        for error in _validator(json.dumps(user_schema, sort_keys=True)).iter_errors(stored)
    ]
    if not errors:
        errors = [failure.removeprefix("(root).") for failure in cel_failures(stored, user_schema, "(root)")]
    return {**server, **stored}, errors
