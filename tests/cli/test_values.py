"""A bad flag or variable is a one-line error naming where it came from, with a reason per kind of value:
`cli/values.py`, through `aimsource run`'s settings."""

from __future__ import annotations

import pytest

from aimsource.cli import CliError
from tests.cli.test_run import settings


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["--min-sync-interval", "soon"], {}, "--min-sync-interval: expected a duration"),
        ([], {"AIMSOURCE_MIN_SYNC_INTERVAL": "-5s"}, "$AIMSOURCE_MIN_SYNC_INTERVAL: must not be negative"),
        (["--retry-base", "0s"], {}, "--retry-base: must be more than zero"),
        (["--workers", "0"], {}, "--workers: must be at least 1"),
        (["--max-syncs-per-host", "0"], {}, "--max-syncs-per-host: must be at least 1"),
        (["--registry-rate", "-1"], {}, "--registry-rate: must not be negative"),
        (["--metrics-port", "70000"], {}, "--metrics-port: a port is between 0 and 65535"),
        ([], {"AIMSOURCE_HEALTH_PORT": "http"}, "$AIMSOURCE_HEALTH_PORT: expected a port number"),
        (["--log-format", "xml"], {}, "--log-format: expected text or json, got 'xml'"),
        (
            [],
            {"AIMSOURCE_NO_LEADER_ELECTION": "maybe"},
            "$AIMSOURCE_NO_LEADER_ELECTION: expected true or false",
        ),
        (["--webhook-port", "8080"], {}, "--webhook-port: 8080 is also the metrics or health port"),
        (["--webhook-secret", "Bad/Name"], {}, "--webhook-secret: expected a Secret name"),
        (["--webhook-secret", "hooks..token"], {}, "--webhook-secret: expected a Secret name"),
    ],
    ids=[
        "bad-duration",
        "negative-duration-env",
        "zero-retry-base",
        "zero-workers",
        "zero-syncs-per-host",
        "negative-rate",
        "port-too-big",
        "port-not-a-number",
        "unknown-log-format",
        "not-a-boolean",
        "webhook-port-taken",
        "webhook-secret-not-a-name",
        "webhook-secret-empty-label",
    ],
)
def test_bad_value_is_a_one_line_error_naming_its_origin(
    argv: list[str], env: dict[str, str], message: str
) -> None:
    with pytest.raises(CliError) as caught:
        settings(argv, env)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)
