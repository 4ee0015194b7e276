"""Formatting results for people (tables) and for programs (JSON, YAML)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from aimsource.domain.planning import LIMITED, NotCreated
from aimsource.sync.engine import SyncResult


def preview_document(result: SyncResult, *, registries: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The `preview -o json` object: models to create, status, tag decisions, images left out,
    and the rate limits registries announced (`registries`, empty when none did)."""
    plan = result.plan
    models = [
        {"name": c.name, "image": c.image, "selector": c.selector} for c in (plan.to_create if plan else ())
    ]
    tags = [
        {"image": str(d.image), "decision": d.decision, "reason": d.reason}
        for outcome in result.outcomes
        for d in outcome.decisions
    ]
    not_created = [_not_created(n) for n in (plan.not_created if plan else ())]
    return {
        "models": models,
        "status": result.status,
        "tags": tags,
        "notCreated": not_created,
        "registries": [dict(r) for r in registries],
    }


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


def dump(data: Any, fmt: str) -> str:
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


def preview_table(name: str, result: SyncResult, *, ratelimits: Sequence[str] = ()) -> str:
    doc = preview_document(result)
    parts = ["\n".join(status_lines(name, result.status))]
    if doc["models"]:
        parts.append(
            "Would create:\n"
            + _indent(
                table(
                    ["NAME", "IMAGE", "SELECTOR"],
                    [[m["name"], m["image"], m["selector"]] for m in doc["models"]],
                )
            )
        )
    else:
        parts.append("Would create: nothing")
    if doc["notCreated"]:
        parts.append(
            "Not created:\n"
            + _indent(table(["IMAGE", "REASON"], [[n["image"], n["reason"]] for n in doc["notCreated"]]))
        )
    selectors = result.status.get("selectors", [])
    if selectors:
        parts.append(
            "Selectors:\n"
            + _indent(
                table(
                    ["REFERENCE", "LISTED", "MATCHED", "SKIPPED", "TRUNCATED", "ERROR"],
                    [
                        [
                            s.get("reference"),
                            s.get("tagsListed"),
                            s.get("matched"),
                            s.get("skipped"),
                            "yes" if s.get("truncated") else "",
                            _error_text(s.get("error")),
                        ]
                        for s in selectors
                    ],
                )
            )
        )
    if doc["tags"]:
        parts.append(
            "Tags:\n"
            + _indent(
                table(
                    ["IMAGE", "DECISION", "REASON"],
                    [[t["image"], t["decision"], t["reason"]] for t in doc["tags"]],
                )
            )
        )
    if ratelimits:
        parts.append("Registry rate limits:\n" + _indent("\n".join(ratelimits)))
    return "\n\n".join(parts)


def _error_text(error: Any) -> str:
    if isinstance(error, Mapping):
        return f"{error.get('reason')}: {error.get('message')}"
    return "" if error is None else str(error)


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())
