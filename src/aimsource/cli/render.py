"""Formatting results for people (tables) and for programs (JSON, YAML)."""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TextIO

import yaml

from aimsource.domain.selection.decisions import Decisions
from aimsource.domain.selection.planning import LIMITED, NotCreated
from aimsource.domain.selection.selectors import SelectorOutcome
from aimsource.sync.engine import SyncResult


def preview_document(result: SyncResult, *, registries: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The `preview -o json` object: models to create, status, tag decisions, images left out,
    and the rate limits registries announced (`registries`, empty when none did)."""
    fields = _preview_fields(result, registries)
    return {key: list(value()) if rows else value for key, value, rows in fields}


# A field of a streamed object: (key, value, rows). When `rows` is True, `value` is a function
# giving the items of a list one by one: a preview of a 100,000-tag repository has 100,000 of them,
# which are written as they are made rather than built into one document first.
_Field = tuple[str, Any, bool]


def _preview_fields(result: SyncResult, registries: Sequence[Mapping[str, Any]] = ()) -> list[_Field]:
    plan = result.plan

    def models() -> Iterator[dict[str, Any]]:
        for c in plan.to_create if plan else ():
            yield {"name": c.name, "image": c.image, "selector": c.selector}

    def tags() -> Iterator[dict[str, Any]]:
        for image, decision, reason in _decision_rows(result):
            yield {"image": image, "decision": decision, "reason": reason}

    def not_created() -> Iterator[dict[str, Any]]:
        return map(_not_created, plan.not_created if plan else ())

    return [("models", models, True), ("status", result.status, False), ("tags", tags, True),
            ("notCreated", not_created, True),
            ("registries", [dict(r) for r in registries], False)]  # fmt: skip


def _decision_rows(result: SyncResult) -> Iterator[tuple[str, str, str]]:
    for outcome in (part for o in result.outcomes for part in (o.parts or (o,))):
        if isinstance(outcome.decisions, Decisions):
            yield from outcome.decisions.rows()
        else:
            for d in outcome.decisions:
                yield str(d.image), d.decision, d.reason


def write_preview(
    out: TextIO,
    name: str,
    result: SyncResult,
    fmt: str,
    *,
    registries: Sequence[Mapping[str, Any]] = (),
    ratelimits: Sequence[str] = (),
    cost: str | None = None,
) -> None:
    """What `aimsource preview` prints, written piece by piece (the same text as
    `preview_table`, then the `cost` line, or `dump(preview_document(...))` and a newline)."""
    if fmt == "table":
        _write_preview_table(out, name, result)
        if cost:
            out.write("\n\n" + cost)
        if ratelimits:
            out.write("\n\nRegistry rate limits:\n" + _indent("\n".join(ratelimits)))
    elif fmt == "json":
        _write_json(out, _preview_fields(result, registries))
    else:
        _write_yaml(_Trimmed(out), _preview_fields(result, registries))
    out.write("\n")


def _write_json(out: TextIO, fields: Sequence[_Field]) -> None:
    """`json.dumps({...}, indent=2)` of the fields, written item by item."""
    out.write("{")
    for position, (key, value, rows) in enumerate(fields):
        out.write(("\n  " if position == 0 else ",\n  ") + json.dumps(key) + ": ")
        if not rows:
            out.write(json.dumps(value, indent=2).replace("\n", "\n  "))
            continue
        empty = True
        for item in value():
            out.write(
                ("[\n    " if empty else ",\n    ") + json.dumps(item, indent=2).replace("\n", "\n    ")
            )
            empty = False
        out.write("[]" if empty else "\n  ]")
    out.write("\n}" if fields else "}")


def _write_yaml(out: _Trimmed, fields: Sequence[_Field]) -> None:
    """`yaml.safe_dump({...}, sort_keys=False)` of the fields, written item by item: a list in a
    block mapping is not indented, so each item dumps as a one-item list at the same column."""
    for key, value, rows in fields:
        if not rows:
            out.write(yaml.safe_dump({key: value}, sort_keys=False))
            continue
        items = iter(value())
        first = next(items, _END)
        out.write(yaml.safe_dump({key: [] if first is _END else [first]}, sort_keys=False))
        for item in items:
            out.write(yaml.safe_dump([item], sort_keys=False))


_END = object()


class _Trimmed:
    """A writer that drops the trailing newlines of what was written (as `.rstrip("\n")`)."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._pending = ""

    def write(self, text: str) -> None:
        kept = text.rstrip("\n")
        if kept:
            self._out.write(self._pending + kept)
            self._pending = text[len(kept) :]
        else:
            self._pending += text


def _not_created(entry: NotCreated) -> dict[str, Any]:
    """One image without a model: `kind` limit, conflict (with `existingImage`, the image of the
    model that holds the name) or refused (with `apiReason`, the store's word)."""
    item: dict[str, Any] = {"image": entry.candidate.image}
    if entry.kind != LIMITED:  # names are not computed past maxModels (see planning)
        item["model"] = entry.candidate.name
    item.update(kind=entry.kind, reason=entry.reason)
    if entry.existing_image is not None:
        item["existingImage"] = entry.existing_image
    if entry.api_reason is not None:
        item["apiReason"] = entry.api_reason
    return item


def dump(data: object, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(data, indent=2, sort_keys=False)
    return yaml.safe_dump(data, sort_keys=False).rstrip("\n")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers], *[[("" if v is None else str(v)) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return "\n".join(
        "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells
    )


def status_lines(name: str, status: Mapping[str, Any]) -> list[str]:
    """A source's status as a person reads it: the headline, then every condition that says something."""
    lines = [
        f"{name}: {status.get('status')} — {status.get('discoveredModels', 0)} models, "
        f"{status.get('availableModels', 0)} images available"
        + (", maxModels reached" if status.get("modelsLimitReached") else "")
    ]
    for cond in status.get("conditions", []):
        if cond.get("message"):
            lines.append(
                f"  {cond.get('type')}={cond.get('status')} ({cond.get('reason')}): {cond['message']}"
            )
    return lines


def preview_table(name: str, result: SyncResult) -> str:
    out = io.StringIO()
    _write_preview_table(out, name, result)
    return out.getvalue()


def _write_preview_table(out: TextIO, name: str, result: SyncResult) -> None:
    plan = result.plan
    out.write("\n".join(status_lines(name, result.status)))
    if plan is not None and plan.to_create:
        out.write("\n\nWould create:\n")
        rows = [[c.name, c.image, c.selector] for c in plan.to_create]
        _write_table(out, ["NAME", "IMAGE", "SELECTOR"], lambda: iter(rows))
    else:
        out.write("\n\nWould create: nothing")
    if plan is not None and plan.not_created:
        out.write("\n\nNot created:\n")
        missing = plan.not_created
        _write_table(out, ["IMAGE", "REASON"], lambda: ((n.candidate.image, n.reason) for n in missing))
    selectors = result.status.get("selectors", [])
    if selectors:
        out.write("\n\nSelectors:\n")
        headers = ["REFERENCE", "LISTED", "MATCHED", "SKIPPED", "TRUNCATED", "ERROR"]
        entries = [
            [
                s.get("reference"),
                s.get("tagsListed"),
                s.get("matched"),
                s.get("skipped"),
                "yes" if s.get("truncated") else "",
                _error_text(s.get("error")),
            ]
            for s in selectors
        ]
        if any(s.get("endpoint") for s in selectors):  # a mirror of the registries file served some
            headers.append("SERVED BY")
            for entry, s in zip(entries, selectors, strict=True):
                entry.append(s.get("endpoint") or "the registry")
        _write_table(out, headers, lambda: iter(entries))
    found = [o for o in result.outcomes if o.repositories is not None]
    if found:
        out.write("\n\nRepositories of wildcard filters:\n")
        _write_table(out, ["FILTER", "REPOSITORY", "DECISION"], lambda: _repository_rows(found))
    if any(o.decisions or o.parts for o in result.outcomes):
        out.write("\n\nTags:\n")
        _write_table(out, ["IMAGE", "DECISION", "REASON"], lambda: _decision_rows(result))


def _repository_rows(outcomes: Sequence[SelectorOutcome]) -> Iterator[tuple[str, str, str]]:
    """Each repository a wildcard matched, then what was not taken and why (pattern, cap)."""
    for outcome in outcomes:
        found = outcome.repositories
        assert found is not None
        for part in outcome.parts:
            ref = part.selector.ref
            why = "excluded" if part.selector.excluded else "matched"
            if part.failed is not None:
                why = f"matched; {part.failed.reason}: {part.failed.message}"
            yield outcome.selector.written, ref.repository if ref else "", why
        others = found.seen - found.matched - found.excluded
        if found.truncated:
            yield outcome.selector.written, "(more)", "matched past --max-repositories: not taken"
        if others > 0:
            yield outcome.selector.written, f"({others} others)", "do not match the pattern"


def _write_table(out: TextIO, headers: Sequence[str], rows: Callable[[], Iterator[Sequence[object]]]) -> None:
    """`_indent(table(headers, rows))` without holding the cells: one pass measures the columns,
    a second writes the lines."""
    widths = [len(h) for h in headers]
    for row in rows():
        for i, value in enumerate(row):
            widths[i] = max(widths[i], len(_cell(value)))
    lines = itertools.chain([headers], rows())
    for position, row in enumerate(lines):
        line = "  ".join(_cell(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
        out.write(("" if position == 0 else "\n") + _indent(line))


def _cell(value: object) -> str:
    return "" if value is None else str(value)


def _error_text(error: object) -> str:
    if isinstance(error, Mapping):
        return f"{error.get('reason')}: {error.get('message')}"
    return "" if error is None else str(error)


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())
