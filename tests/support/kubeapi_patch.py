"""Patch formats and selectors of the emulated Kubernetes API.

kopf and our client send JSON merge patches (RFC 7386); kubectl sends strategic
merge patches and JSON patches (RFC 6902). Selectors follow the label-selector
grammar of `kubectl get -l` and the small field-selector subset every resource
supports (`metadata.name`, `metadata.namespace`).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from typing import Any

from tests.support.kubeapi_types import ApiError, bad_request

MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"

# Keys by which a strategic merge patch merges lists of objects instead of replacing them.
_MERGE_KEYS = ("uid", "name", "type")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, null deletes a key, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    """A merge patch that merges lists of objects by their key (uid, name or type), as kubectl expects.

    Not the full strategic-merge grammar (no `$patch`/`$retainKeys` directives): enough for
    conditions, owner references and named lists.
    """
    if not isinstance(patch, dict):
        if isinstance(patch, list) and isinstance(target, list):
            return _merge_lists(target, patch)
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = strategic_merge_patch(result.get(key), value)
    return result


def _merge_lists(target: list[Any], patch: list[Any]) -> list[Any]:
    if not (patch and all(isinstance(item, dict) for item in patch + target)):
        return copy.deepcopy(patch)
    key = next((k for k in _MERGE_KEYS if all(k in item for item in patch + target)), None)
    if key is None:
        return copy.deepcopy(patch)
    merged = [copy.deepcopy(item) for item in target]
    for item in patch:
        for index, existing in enumerate(merged):
            if existing[key] == item[key]:
                merged[index] = strategic_merge_patch(existing, item)
                break
        else:
            merged.append(copy.deepcopy(item))
    return merged


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902 operations add, remove, replace and test."""
    if not isinstance(operations, list):
        raise bad_request("json patch must be a list of operations")
    doc = copy.deepcopy(target)
    for op in operations:
        path = [part.replace("~1", "/").replace("~0", "~") for part in op.get("path", "").split("/")[1:]]
        if not path:
            raise bad_request(f"json patch operation without a path: {op}")
        parent = doc
        for part in path[:-1]:
            parent = parent[int(part)] if isinstance(parent, list) else parent.setdefault(part, {})
        last = path[-1]
        kind = op.get("op")
        try:
            if kind == "test":
                current = parent[int(last)] if isinstance(parent, list) else parent[last]
                if current != op.get("value"):
                    raise ApiError(422, "Invalid", f"json patch test operation failed at {op['path']}")
            elif kind == "remove":
                del parent[int(last) if isinstance(parent, list) else last]
            elif kind in ("add", "replace"):
                if isinstance(parent, list):
                    index = len(parent) if last == "-" else int(last)
                    if kind == "add":
                        parent.insert(index, op["value"])
                    else:
                        parent[index] = op["value"]
                else:
                    if kind == "replace" and last not in parent:
                        raise ApiError(422, "Invalid", f"json patch replace of a missing path {op['path']}")
                    parent[last] = op["value"]
            else:
                raise bad_request(f"unsupported json patch operation {kind!r}")
        except (KeyError, IndexError, ValueError) as e:
            raise ApiError(422, "Invalid", f"json patch cannot apply to {op.get('path')}: {e}") from None
    return doc


def apply_patch(target: Mapping[str, Any], patch: Any, content_type: str) -> dict[str, Any]:
    kind = content_type.split(";")[0].strip().lower()
    if kind == MERGE:
        result = merge_patch(target, patch)
    elif kind == STRATEGIC:
        result = strategic_merge_patch(target, patch)
    elif kind == JSON_PATCH:
        result = json_patch(target, patch)
    else:
        raise ApiError(
            415,
            "UnsupportedMediaType",
            f"the body of the request was in an unknown format"
            f" - accepted media types include: {MERGE}, {STRATEGIC}, {JSON_PATCH}",
        )
    if not isinstance(result, dict):
        raise bad_request("the patch did not produce an object")
    return result


# --- selectors ---------------------------------------------------------------------------------------

Predicate = Callable[[Mapping[str, Any]], bool]

_SET_RE = re.compile(r"^\s*([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")
_EQ_RE = re.compile(r"^\s*([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)\s*$")
_EXISTS_RE = re.compile(r"^\s*(!?)\s*([\w./-]+)\s*$")


def _split_requirements(text: str) -> list[str]:
    """Split on commas that are not inside `in (a, b)` sets."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [part for part in parts if part.strip()]


def label_selector(text: str | None) -> Predicate:
    """`a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`, `a notin (x,y)`, joined by commas (AND)."""
    checks: list[Predicate] = []
    for requirement in _split_requirements(text or ""):
        checks.append(_label_requirement(requirement))

    def matches(obj: Mapping[str, Any]) -> bool:
        labels = obj.get("metadata", {}).get("labels") or {}
        return all(check(labels) for check in checks)

    return matches


def _label_requirement(text: str) -> Predicate:
    if m := _SET_RE.match(text):
        key, op, values = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",") if v.strip()}
        if op == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if m := _EQ_RE.match(text):
        key, op, value = m.groups()
        if op == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    if m := _EXISTS_RE.match(text):
        negate, key = m.groups()
        if negate:
            return lambda labels: key not in labels
        return lambda labels: key in labels
    raise bad_request(f"unable to parse requirement: {text!r}")


_FIELDS = {
    "metadata.name": lambda obj: obj.get("metadata", {}).get("name"),
    "metadata.namespace": lambda obj: obj.get("metadata", {}).get("namespace") or "",
}


def field_selector(text: str | None) -> Predicate:
    checks: list[Predicate] = []
    for requirement in _split_requirements(text or ""):
        m = _EQ_RE.match(requirement)
        if not m or m.group(1) not in _FIELDS:
            raise bad_request(
                f'"{requirement.strip()}" is not a known field selector:'
                f" only {', '.join(_FIELDS)} are supported"
            )
        getter, op, value = _FIELDS[m.group(1)], m.group(2), m.group(3)
        if op == "!=":
            checks.append(lambda obj, g=getter, v=value: g(obj) != v)
        else:
            checks.append(lambda obj, g=getter, v=value: g(obj) == v)
    return lambda obj: all(check(obj) for check in checks)
