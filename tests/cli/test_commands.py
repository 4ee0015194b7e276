"""`aimsource.cli`: the command table and the parser built for one command line."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from aimsource.cli import COMMANDS, build_parser, main


def _choices(parser: argparse.ArgumentParser) -> set[str]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(sub.choices)


def test_without_a_command_every_command_is_known() -> None:
    assert _choices(build_parser()) == {"check", "preview", "sync", "run"} == set(COMMANDS)
    assert _choices(build_parser("--help")) == set(COMMANDS)


def test_a_command_line_that_starts_with_a_command_builds_only_its_parser() -> None:
    for name in COMMANDS:
        assert _choices(build_parser(name)) == {name}


def test_an_unknown_command_is_refused_naming_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["synk", "sources.yaml"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'synk'" in err
    for name in COMMANDS:
        assert f"'{name}'" in err


def test_sync_and_preview_do_not_load_the_operator() -> None:
    """The operator's settings bring the kube client, leases and kopf's neighbours: a tenth of the
    start-up of a command that never talks to a cluster."""
    probe = (
        "import sys\n"
        "from aimsource.cli import build_parser\n"
        "import aimsource.cli.preview, aimsource.cli.syncdir\n"
        "build_parser('sync').parse_args(['sync', 's.yaml', '--out', 'd'])\n"
        "build_parser('preview').parse_args(['preview', 's.yaml'])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[:2] in (['aimsource', 'operator'],"
        " ['aimsource', 'kube']) or m == 'kopf'))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_only_the_executable_freezes_what_start_up_made() -> None:
    """`entry_point` owns its process: the objects its imports made are frozen out of later
    collections. `main` runs inside someone else's process (these tests) and leaves its collector
    as it found it, threshold included."""
    probe = (
        "import contextlib, gc, io, sys\n"
        "from aimsource.cli import entry_point, main\n"
        "threshold = gc.get_threshold()\n"
        "def quietly(call):\n"
        "    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "        call()\n"
        "quietly(lambda: main(['sync', '--help']))\n"
        "after_main = gc.get_freeze_count()\n"
        "sys.argv = ['aimsource', 'sync', '--help']\n"
        "quietly(entry_point)\n"
        "print(after_main, gc.get_freeze_count() > 0, gc.get_threshold() == threshold)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["0", "True", "True"]


def test_the_installed_command_is_the_entry_point() -> None:
    from importlib.metadata import entry_points

    (script,) = entry_points(group="console_scripts", name="aimsource")
    assert script.value == "aimsource.cli:entry_point"
