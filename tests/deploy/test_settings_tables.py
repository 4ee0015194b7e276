"""Each setting is declared once (on its settings field); every table of settings is made from it.

scripts/settings-tables writes docs/cli.md's flag tables, the comments of the chart's `operator:`
values and docs/helm.md's values table; these tests fail when a file is not what it makes, and
when the chart's values or its Deployment template disagree with the declarations.
"""

from __future__ import annotations

import re
import subprocess
import sys

import yaml

from aimsource.cli import build_parser
from aimsource.domain.options.declared import declared_options
from aimsource.operator.settings import OperatorSettings
from tests.deploy.helm import CHART, REPO

SCRIPT = REPO / "scripts" / "settings-tables"
DECLARED = list(declared_options(OperatorSettings))
VALUES = yaml.safe_load((CHART / "values.yaml").read_text())
TEMPLATE = (CHART / "templates" / "deployment.yaml").read_text()


def _passed() -> dict[str, str]:
    """Variable -> the template text that sets it: an `optionalEnv` include, or an env entry with the
    line before it (its condition) and the line after (its value)."""
    lines = TEMPLATE.splitlines()
    found = dict(re.findall(r'"name" "(AIMSOURCE_\w+)" "value" ((?:\$op|\.Values\.\w+)\.\w+)', TEMPLATE))
    for at, line in enumerate(lines):
        if named := re.match(r"\s*- name: (AIMSOURCE_\w+)$", line):
            found[named[1]] = lines[at - 1] + lines[at + 1]
    return found


def test_every_generated_file_is_what_the_script_makes() -> None:
    out = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, check=False, timeout=60
    )
    assert out.returncode == 0, out.stderr


def test_the_declarations_are_read() -> None:
    flags = [item.option.flag for item in DECLARED]
    assert len(flags) >= 25, flags
    assert len(set(flags)) == len(flags), "two settings declare the same flag"
    assert "--registry-rate" in flags
    assert "--lease-duration" in flags


def test_the_chart_has_a_value_for_every_declared_chart_key_and_no_other() -> None:
    declared = {key for item in DECLARED if (key := item.option.chart_key) is not None}
    assert {f"operator.{key}" for key in VALUES["operator"]} == {
        k for k in declared if k.startswith("operator.")
    }
    for key in declared:
        section, name = key.split(".")
        assert name in VALUES[section], f"the chart has no value {key}"


def test_the_template_passes_each_chart_value_to_its_own_variable() -> None:
    passed = _passed()
    for item in DECLARED:
        key = item.option.chart_key
        if key is None:
            continue
        section, name = key.split(".")
        written = f"$op.{name}" if section == "operator" else f".Values.{section}.{name}"
        assert item.option.env in passed, f"the template never sets {item.option.env} ({key})"
        assert written in passed[item.option.env], f"{item.option.env} is not set from {key}"


def test_run_help_names_every_flag_and_variable() -> None:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    shown = sub.choices["run"].format_help().replace("\n", " ")
    for item in DECLARED:
        assert item.option.flag in shown
        assert f"${item.option.env}" in re.sub(r"\s+", "", shown), item.option.env
