"""The checks only `aimsource check` makes: each selector's reference (or wildcard pattern) and
version constraints.

`parse_source` leaves references and constraints as text (the sync parses them and reports what
does not parse in the status); a manifest checked offline is told about each one at the path of
its entry instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aimsource.domain.errors import InvalidConstraintError, InvalidReferenceError
from aimsource.domain.patterns import is_pattern, parse_pattern
from aimsource.domain.references import parse_reference
from aimsource.domain.spec.field_checks import FieldChecker


def check_selectors(
    spec: Mapping[str, Any], registry: str, checker: FieldChecker, *, default_registry: str
) -> None:
    """Report each reference and constraint that does not parse, at the path of its entry.

    Works on the raw spec so that paths keep their indices when other entries are malformed;
    entries that are not strings were reported already. A registry that is not valid is reported
    once, and the references are then judged against `default_registry` instead.
    """
    try:
        parse_reference("probe", default_registry=registry)
    except InvalidReferenceError:
        checker.add("spec.registry", f'"{registry}" is not a valid registry host[:port]')
        registry = default_registry  # so that each reference is judged on its own, not on the registry
    for i, image in _texts(spec.get("images")):
        _check_reference(image, f"spec.images[{i}]", registry, checker)
    for i, item in _entries(spec.get("filters")):
        if isinstance(item, Mapping):
            if isinstance(item.get("image"), str):
                _check_reference(item["image"], f"spec.filters[{i}].image", registry, checker, pattern=True)
            _check_constraints(item.get("versions"), f"spec.filters[{i}].versions", checker)
    _check_constraints(spec.get("versions"), "spec.versions", checker)


def _entries(value: Any) -> list[tuple[int, Any]]:
    return list(enumerate(value)) if isinstance(value, list | tuple) else []


def _texts(value: Any) -> list[tuple[int, str]]:
    return [(i, item) for i, item in _entries(value) if isinstance(item, str) and item]


def _check_reference(
    text: str, path: str, registry: str, checker: FieldChecker, *, pattern: bool = False
) -> None:
    """A reference, or in `filters[].image` a pattern with `*` (`domain.patterns`)."""
    try:
        if pattern and is_pattern(text):
            parse_pattern(text, default_registry=registry)
        else:
            parse_reference(text, default_registry=registry)
    except InvalidReferenceError as exc:
        checker.add(path, str(exc))


def _check_constraints(value: Any, path: str, checker: FieldChecker) -> None:
    """Each entry that does not parse, at its own path; then, when all parse, a list that no
    version can ever satisfy (`>=2.0.0`, `<1.0.0`), at the list's path."""
    texts = _texts(value)
    if not texts:
        return
    # Loaded by the first source with versions: a source without any (the usual listing of whole
    # repositories) never needs the constraint grammar, and its import is a sixth of the domain's.
    from aimsource.domain.versions.constraints import Constraints, parse_constraint
    from aimsource.domain.versions.unsatisfiable import never_satisfied

    parsed = []
    for j, text in texts:
        try:
            parsed.append(parse_constraint(text))
        except InvalidConstraintError as exc:
            checker.add(f"{path}[{j}]", str(exc))
    if parsed and len(parsed) == len(_entries(value)):
        why = never_satisfied(Constraints(tuple(parsed)))
        if why is not None:
            checker.add(path, f"can never be satisfied: {why}")
