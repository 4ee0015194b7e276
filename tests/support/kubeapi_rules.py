"""The API server's own rules for every object: names, labels, annotations, server-side conversions.

They are what a client meets before any schema: an object name must be an RFC 1123 subdomain, a
label value at most 63 characters (a model labelled with a long source name is refused on a real
cluster), and a Secret's `stringData` is stored as base64 `data`.
"""

from __future__ import annotations

import base64
import datetime
import re
from collections.abc import Mapping
from typing import Any

from tests.support.kubeapi_types import ResourceType, bad_request, invalid

_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_QUALIFIED_RE = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")  # label names and values


def now_rfc3339() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def spec_part(obj: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


def validate_name(rt: ResourceType, name: str) -> None:
    if len(name) > 253 or not _NAME_RE.match(name):
        raise invalid(
            rt,
            name,
            "metadata.name",
            f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of'
            " lower case alphanumeric characters, '-' or '.', and must start and end with an"
            " alphanumeric character",
        )


def validate_metadata(rt: ResourceType, name: str, meta: Mapping[str, Any]) -> None:
    """Label and annotation rules of the API server (e.g. a label value is at most 63 characters)."""
    sections = (("labels", meta.get("labels") or {}), ("annotations", meta.get("annotations") or {}))
    for field, values in sections:
        for key, value in values.items():
            prefix, _, short = str(key).rpartition("/")
            if (
                len(short) > 63
                or not _QUALIFIED_RE.match(short)
                or (prefix and (len(prefix) > 253 or not _NAME_RE.match(prefix)))
            ):
                raise invalid(
                    rt,
                    name,
                    f"metadata.{field}",
                    f'Invalid value: "{key}": name part must consist of alphanumeric'
                    " characters, '-', '_' or '.', at most 63 characters",
                )
            if not isinstance(value, str):
                raise bad_request(f"metadata.{field}[{key}] must be a string")
            if field == "labels" and value and (len(value) > 63 or not _QUALIFIED_RE.match(value)):
                raise invalid(
                    rt,
                    name,
                    "metadata.labels",
                    f'Invalid value: "{value}": a valid label must be an empty string or'
                    " consist of alphanumeric characters, '-', '_' or '.', at most 63"
                    " characters",
                )


def normalise(rt: ResourceType, obj: dict[str, Any]) -> None:
    """Server-side conversions: Secret.stringData is folded into base64 `data`, default type."""
    if rt.kind == "Secret" and not rt.group:
        string_data = obj.pop("stringData", None) or {}
        data = obj.setdefault("data", {})
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode()
        obj.setdefault("type", "Opaque")
