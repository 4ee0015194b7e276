"""The monitoring bundle's files, read the way the tests need them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from tests.support.components import require_binary

REPO = Path(__file__).resolve().parents[2]
MONITORING = REPO / "deploy" / "monitoring"
RULE_OBJECT = MONITORING / "prometheusrule.yaml"
DASHBOARD = MONITORING / "dashboard.json"
RULES_TEST = Path(__file__).with_name("rules_test.yaml")


def rule_groups() -> list[dict[str, Any]]:
    """spec.groups of the PrometheusRule: a Prometheus rule file as it stands."""
    groups: list[dict[str, Any]] = yaml.safe_load(RULE_OBJECT.read_text())["spec"]["groups"]
    return groups


def alerts() -> list[dict[str, Any]]:
    return [rule for group in rule_groups() for rule in group["rules"] if "alert" in rule]


def write_rule_file(path: Path) -> Path:
    path.write_text(yaml.safe_dump({"groups": rule_groups()}, sort_keys=False))
    return path


def dashboard() -> dict[str, Any]:
    board: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return board


def panels() -> list[dict[str, Any]]:
    """Every panel that shows data (rows are only headings)."""
    return [p for p in dashboard()["panels"] if p.get("type") != "row"]


def rows() -> list[dict[str, Any]]:
    return [p for p in dashboard()["panels"] if p.get("type") == "row"]


def tool(name: str, package: str) -> str:
    return require_binary(name, package)
