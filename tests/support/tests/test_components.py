"""tests/support/components.py: a test whose real component is missing fails and names it; under
`make unit` (AIMSOURCE_ALLOW_MISSING=1) it is skipped with the same message instead."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.components import ALLOW_MISSING

REPO = Path(__file__).resolve().parents[3]
PROBE = """
from tests.support.components import require_binary

def test_needs_a_command_that_is_not_there():
    require_binary("aimsource-no-such-command", "aimsource-no-such-package")
"""


def _run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_probe.py").write_text(PROBE)
    environ = {k: v for k, v in os.environ.items() if k != ALLOW_MISSING} | env
    environ["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rs",
            "-p",
            "no:cacheprovider",
            str(tmp_path / "test_probe.py"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environ,
        timeout=120,
        check=False,
    )


def test_a_missing_command_fails_the_test_and_names_its_package(tmp_path: Path) -> None:
    result = _run(tmp_path)
    assert result.returncode == 1, result.stdout
    assert "1 failed" in result.stdout
    assert "the command aimsource-no-such-command is missing" in result.stdout
    assert "apt-get install aimsource-no-such-package" in result.stdout


@pytest.mark.parametrize("value", ["1", "yes"])
def test_make_unit_skips_it_with_the_same_message(tmp_path: Path, value: str) -> None:
    result = _run(tmp_path, **{ALLOW_MISSING: value})
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout
    assert "the command aimsource-no-such-command is missing" in result.stdout


def test_zero_means_strict(tmp_path: Path) -> None:
    assert _run(tmp_path, **{ALLOW_MISSING: "0"}).returncode == 1
