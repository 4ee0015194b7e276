"""`--competing-controller-window` and `--contend-with-other-controllers`, and their variables."""

from __future__ import annotations

import pytest

from aimsource.cli import CliError
from tests.cli.test_run import settings


def test_defaults_stand_down_after_a_ten_minute_floor() -> None:
    got = settings([])
    assert got.competing_controller_window == 600.0
    assert got.contend_with_other_controllers is False


@pytest.mark.parametrize(
    ("argv", "env", "window", "contend"),
    [
        (["--competing-controller-window", "2h"], {}, 7200.0, False),
        ([], {"AIMSOURCE_COMPETING_CONTROLLER_WINDOW": "90s"}, 90.0, False),
        (
            ["--competing-controller-window", "5s"],
            {"AIMSOURCE_COMPETING_CONTROLLER_WINDOW": "1h"},
            5.0,
            False,
        ),
        (["--contend-with-other-controllers"], {}, 600.0, True),
        ([], {"AIMSOURCE_CONTEND_WITH_OTHER_CONTROLLERS": "true"}, 600.0, True),
        ([], {"AIMSOURCE_CONTEND_WITH_OTHER_CONTROLLERS": "off"}, 600.0, False),
    ],
)
def test_flag_or_variable(argv: list[str], env: dict[str, str], window: float, contend: bool) -> None:
    got = settings(argv, env)
    assert (got.competing_controller_window, got.contend_with_other_controllers) == (window, contend)


@pytest.mark.parametrize(
    ("argv", "env", "named"),
    [
        (["--competing-controller-window", "0s"], {}, "--competing-controller-window"),
        (["--competing-controller-window", "soon"], {}, "--competing-controller-window"),
        (
            [],
            {"AIMSOURCE_CONTEND_WITH_OTHER_CONTROLLERS": "maybe"},
            "$AIMSOURCE_CONTEND_WITH_OTHER_CONTROLLERS",
        ),
    ],
)
def test_bad_values_name_their_origin(argv: list[str], env: dict[str, str], named: str) -> None:
    with pytest.raises(CliError, match=named.replace("$", r"\$")):
        settings(argv, env)
