"""`aimsource --version` (cli/__init__.py) prints the version pip installed, which is pyproject.toml's."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest

from aimsource.cli import installed_version, main
from tests.deploy.manifests import REPO


def _pyproject_version() -> str:
    return str(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"])


def test_the_version_is_the_package_metadata_s() -> None:
    assert installed_version() == _pyproject_version()


def test_version_option_prints_it_and_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"aimsource {_pyproject_version()}\n"


def test_the_executable_answers_without_a_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "aimsource", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    expected = (0, f"aimsource {_pyproject_version()}\n", "")
    assert (result.returncode, result.stdout, result.stderr) == expected
