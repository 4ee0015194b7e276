"""Just enough PromQL reading to check our alert and panel expressions against an exposition.

Not a parser: our expressions are written in a plain style (metric selectors with quoted matchers,
`by (...)` groupings, counters only under rate/increase), and these helpers read that style. They
find the metrics an expression uses, with the labels it filters and groups by, and split an alert
into its signal and its threshold.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

SELECTOR = re.compile(r"\b(aimsource_[a-z_]+)\b(\{[^}]*\})?")
MATCHER = re.compile(r'(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"')
GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")
LEGEND = re.compile(r"\{\{\s*(\w+)\s*\}\}")
ANNOTATION_LABEL = re.compile(r"\$labels\.(\w+)")
TARGET_LABELS = frozenset({"job", "instance"})
"""Labels Prometheus adds to every scraped series."""


@dataclass(frozen=True)
class Family:
    """A metric family as the exposition describes it."""

    name: str
    type: str
    labels: frozenset[str]


@dataclass(frozen=True)
class Selector:
    name: str
    matchers: dict[str, tuple[str, str]]
    text: str
    position: int


def selectors(expr: str) -> list[Selector]:
    found = []
    for match in SELECTOR.finditer(expr):
        matchers = {m.group(1): (m.group(2), m.group(3)) for m in MATCHER.finditer(match.group(2) or "")}
        found.append(Selector(match.group(1), matchers, match.group(0), match.start()))
    return found


def grouping_labels(expr: str) -> set[str]:
    return {label.strip() for group in GROUPING.findall(expr) for label in group.split(",") if label.strip()}


def legend_labels(legend: str) -> set[str]:
    return set(LEGEND.findall(legend))


def annotation_labels(annotations: Mapping[str, str]) -> set[str]:
    return {label for text in annotations.values() for label in ANNOTATION_LABEL.findall(text)}


def split_comparison(expr: str) -> tuple[str, str, str] | None:
    """(signal, operator, threshold) at the last comparison outside brackets and quotes, if any."""
    depth, quoted, last = 0, False, None
    i = 0
    while i < len(expr):
        char = expr[i]
        if char == '"':
            quoted = not quoted
        elif not quoted and char in "([{":
            depth += 1
        elif not quoted and char in ")]}":
            depth -= 1
        elif not quoted and depth == 0:
            two = expr[i : i + 2]
            if two in ("==", "!=", ">=", "<="):
                last = (i, two)
                i += 2
                continue
            if char in "<>":
                last = (i, char)
        i += 1
    if last is None:
        return None
    at, op = last
    return expr[:at].strip(), op, expr[at + len(op) :].strip()


def family_of(name: str, families: Mapping[str, Family]) -> tuple[Family | None, str]:
    """The family a series name belongs to, and which part of it the name is."""
    for suffix, part in (("_total", "counter"), ("_bucket", "bucket"), ("_count", "count"), ("_sum", "sum")):
        if name.endswith(suffix) and name.removesuffix(suffix) in families:
            return families[name.removesuffix(suffix)], part
    return families.get(name), "sample"


def problems(expr: str, families: Mapping[str, Family], *, wanted: Iterable[str] = ()) -> list[str]:
    """What in `expr` does not fit the exported metrics; `wanted` are labels the user of the result
    (a legend, an alert's annotations) reads, which the expression must keep."""
    found: list[str] = []
    known: set[str] = set(TARGET_LABELS)
    for selector in selectors(expr):
        family, part = family_of(selector.name, families)
        if family is None:
            found.append(f"{selector.name}: no such metric is exported")
            continue
        known |= family.labels | ({"le"} if part == "bucket" else set())
        before = expr[: selector.position].rstrip()
        under_rate = before.endswith(("rate(", "increase("))
        if family.type == "counter" and part != "counter":
            found.append(f"{selector.name}: the counter {family.name} is exported as {family.name}_total")
        if family.type == "counter" and not under_rate:
            found.append(f"{selector.name}: a counter read without rate() or increase()")
        if family.type == "gauge" and under_rate:
            found.append(f"{selector.name}: a gauge under rate() or increase()")
        if family.type == "histogram" and part == "bucket" and not under_rate:
            found.append(f"{selector.name}: histogram buckets read without rate()")
        if family.type == "histogram" and part == "sample":
            found.append(f"{selector.name}: a histogram has only _bucket, _count and _sum series")
        for label in selector.matchers:
            if label not in family.labels | TARGET_LABELS | ({"le"} if part == "bucket" else set()):
                found.append(f"{selector.text}: {family.name} has no label {label!r}")
    for label in grouping_labels(expr) | set(wanted):
        if label not in known:
            found.append(f"label {label!r} is on none of the metrics the expression reads")
    return found
