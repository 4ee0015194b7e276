"""The alerts of deploy/monitoring/prometheusrule.yaml, checked and unit-tested by promtool."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import yaml

from tests.monitoring.monitoring_files import REPO, RULES_TEST, alerts, tool, write_rule_file


def test_promtool_check_rules_accepts_the_rule_file(tmp_path: Path) -> None:
    promtool = tool("promtool", "prometheus")
    rules = write_rule_file(tmp_path / "rules.yaml")
    result = subprocess.run(
        [promtool, "check", "rules", str(rules)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alerts())} rules found" in result.stdout


def test_promtool_unit_tests_of_every_alert_pass(tmp_path: Path) -> None:
    promtool = tool("promtool", "prometheus")
    write_rule_file(tmp_path / "rules.yaml")
    shutil.copy(RULES_TEST, tmp_path / "rules_test.yaml")
    result = subprocess.run(
        [promtool, "test", "rules", str(tmp_path / "rules_test.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_unit_tests_can_fail(tmp_path: Path) -> None:
    # A rule whose threshold moved must break its unit test: the expectations are not vacuous.
    promtool = tool("promtool", "prometheus")
    rules = write_rule_file(tmp_path / "rules.yaml")
    rules.write_text(rules.read_text().replace("> 0.25", "> 0.75"))
    shutil.copy(RULES_TEST, tmp_path / "rules_test.yaml")
    result = subprocess.run(
        [promtool, "test", "rules", str(tmp_path / "rules_test.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "AimsourceRegistryErrors" in result.stdout + result.stderr


def test_every_alert_is_tested_firing_and_quiet() -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for case in yaml.safe_load(RULES_TEST.read_text())["tests"]:
        for check in case.get("alert_rule_test", []):
            (firing if check.get("exp_alerts") else quiet).add(check["alertname"])
    names = {rule["alert"] for rule in alerts()}
    assert names - firing == set(), "alerts never tested firing"
    assert names - quiet == set(), "alerts never tested quiet"


def test_every_alert_has_a_runbook_section_its_annotation_links_to() -> None:
    doc = (REPO / "docs" / "monitoring.md").read_text()
    headings = set(re.findall(r"^### (Aimsource\w+)$", doc, re.MULTILINE))
    for rule in alerts():
        name = rule["alert"]
        assert name in headings, f"docs/monitoring.md has no '### {name}' runbook section"
        assert rule["annotations"]["runbook_url"].endswith(f"docs/monitoring.md#{name.lower()}")
        assert rule["labels"]["severity"] in {"info", "warning", "critical"}
        assert {"summary", "description"} <= rule["annotations"].keys()
