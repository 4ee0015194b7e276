"""The offline API-server model in schema.py handles the schema features our CRDs do not use yet.

Without these, a CRD that starts using `nullable` or int-or-string would be judged wrongly by every
other test in this package.
"""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from tests.support.crd_schema import cel_failures, prune_nulls_and_default, to_json_schema

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "port": {"x-kubernetes-int-or-string": True},
        "note": {"type": "string", "nullable": True},
        "size": {"type": "integer", "default": 3},
        "open": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "pair": {
            "type": "object",
            "default": {},
            "properties": {"a": {"type": "integer", "default": 1}, "b": {"type": "integer"}},
            "x-kubernetes-validations": [{"rule": "self.a <= 5", "message": "a too big"}],
        },
    },
}


def verdict(value: dict[str, Any]) -> bool:
    stored = prune_nulls_and_default(value, SCHEMA)
    return not list(
        jsonschema.Draft7Validator(to_json_schema(SCHEMA)).iter_errors(stored)
    ) and not cel_failures(stored, SCHEMA, "")


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ({"port": 80}, True),
        ({"port": "http"}, True),
        ({"port": 1.5}, False),
        ({"note": None}, True),
        ({"size": None}, True),
        ({"open": {"anything": [1]}}, True),
        ({"labels": {"a": "b"}}, True),
        ({"labels": {"a": 1}}, False),
        ({"extra": 1}, False),
        ({"pair": {"a": 6}}, False),
    ],
    ids=[
        "int",
        "string",
        "float",
        "nullable-null",
        "null-defaulted",
        "preserved",
        "map",
        "map-bad",
        "unknown",
        "cel",
    ],
)
def test_verdict(value: dict[str, Any], ok: bool) -> None:
    assert verdict(value) is ok


def test_defaults_apply_to_missing_and_null_fields_and_inside_defaulted_objects() -> None:
    stored = prune_nulls_and_default({"size": None, "note": None}, SCHEMA)
    assert stored == {"size": 3, "note": None, "pair": {"a": 1}}


def test_unknown_schema_keyword_is_refused() -> None:
    with pytest.raises(AssertionError, match="oneOf"):
        to_json_schema({"type": "object", "oneOf": []})
