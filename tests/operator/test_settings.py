"""`aimsource run` flags and AIMSOURCE_* variables become one OperatorSettings."""

from __future__ import annotations

import argparse

import pytest

from aimsource.cli import CliError
from aimsource.cli.run import add_parser, settings_from_args
from aimsource.operator.settings import OperatorSettings


def settings(argv: list[str], env: dict[str, str] | None = None) -> OperatorSettings:
    parser = argparse.ArgumentParser(prog="aimsource")
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["run", *argv])
    return settings_from_args(args, env or {}, default_namespace=lambda: "from-service-account")


def test_defaults_match_the_documented_ones() -> None:
    got = settings([])
    assert got == OperatorSettings(namespace="from-service-account")
    assert got.min_sync_interval == 30.0
    assert got.retry_base == 30.0
    assert got.stale_listing_max_age == 24 * 3600.0
    assert (got.workers, got.max_syncs_per_host) == (8, 4)
    assert got.leader_election is True
    assert got.log_format == "text"


@pytest.mark.parametrize(
    ("argv", "env", "field", "expected"),
    [
        (["--namespace", "ops"], {}, "namespace", "ops"),
        ([], {"AIMSOURCE_NAMESPACE": "ops-env"}, "namespace", "ops-env"),
        (["--namespace", "flag"], {"AIMSOURCE_NAMESPACE": "env"}, "namespace", "flag"),
        (["--min-sync-interval", "1s"], {}, "min_sync_interval", 1.0),
        ([], {"AIMSOURCE_MIN_SYNC_INTERVAL": "1m30s"}, "min_sync_interval", 90.0),
        (["--stale-listing-max-age", "2h"], {}, "stale_listing_max_age", 7200.0),
        ([], {"AIMSOURCE_STALE_LISTING_MAX_AGE": "0s"}, "stale_listing_max_age", 0.0),
        (["--retry-base", "500ms"], {}, "retry_base", 0.5),
        (["--max-concurrency-per-host", "9"], {}, "max_concurrency_per_host", 9),
        ([], {"AIMSOURCE_MAX_CONCURRENCY_PER_HOST": "2"}, "max_concurrency_per_host", 2),
        (["--metrics-port", "0"], {}, "metrics_port", 0),
        ([], {"AIMSOURCE_HEALTH_PORT": "9000"}, "health_port", 9000),
        (["--log-format", "json"], {}, "log_format", "json"),
        ([], {"AIMSOURCE_LOG_FORMAT": "json"}, "log_format", "json"),
        (["--workers", "16"], {}, "workers", 16),
        (["--max-syncs-per-host", "3"], {}, "max_syncs_per_host", 3),
        ([], {"AIMSOURCE_MAX_SYNCS_PER_HOST": "1"}, "max_syncs_per_host", 1),
        (["--registry-rate", "0"], {}, "registry_rate", 0.0),
        ([], {"AIMSOURCE_REGISTRY_RATE": "2.5"}, "registry_rate", 2.5),
        (["--ca-file", "/etc/ca.pem"], {}, "ca_file", "/etc/ca.pem"),
        (["--no-leader-election"], {}, "leader_election", False),
        ([], {"AIMSOURCE_NO_LEADER_ELECTION": "true"}, "leader_election", False),
        ([], {"AIMSOURCE_NO_LEADER_ELECTION": "0"}, "leader_election", True),
        (["--lease-duration", "3s"], {}, "lease_duration", 3.0),
        (["--webhook-port", "8082"], {}, "webhook_port", 8082),
        ([], {"AIMSOURCE_WEBHOOK_PORT": "9082"}, "webhook_port", 9082),
        ([], {}, "webhook_port", 0),
        (["--webhook-secret", "hooks"], {}, "webhook_secret", "hooks"),
        ([], {"AIMSOURCE_WEBHOOK_SECRET": "hooks-env"}, "webhook_secret", "hooks-env"),
        (
            ["--insecure-registry", "Reg.Local:5000", "--insecure-registry", "other"],
            {"AIMSOURCE_INSECURE_REGISTRY": "a.example, b.example:81"},
            "insecure_registries",
            frozenset({"reg.local:5000", "other", "a.example", "b.example:81"}),
        ),
    ],
    ids=[
        "namespace-flag",
        "namespace-env",
        "flag-beats-env",
        "min-interval-flag",
        "min-interval-env",
        "stale-listing-max-age-flag",
        "stale-listing-max-age-env-zero-keeps-none",
        "retry-base-ms",
        "concurrency-flag",
        "concurrency-env",
        "metrics-port-zero-disables",
        "health-port-env",
        "log-json-flag",
        "log-json-env",
        "workers",
        "syncs-per-host-flag",
        "syncs-per-host-env",
        "registry-rate-zero-removes-the-budget",
        "registry-rate-env",
        "ca-file",
        "no-election-flag",
        "no-election-env",
        "election-env-false",
        "lease-duration",
        "webhook-port-flag",
        "webhook-port-env",
        "webhook-off-by-default",
        "webhook-secret-flag",
        "webhook-secret-env",
        "insecure-flags-and-env-merge",
    ],
)
def test_flag_or_variable_sets_the_field(
    argv: list[str], env: dict[str, str], field: str, expected: object
) -> None:
    assert getattr(settings(argv, env), field) == expected


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
    ],
)
def test_bad_value_is_a_one_line_error_naming_its_origin(
    argv: list[str], env: dict[str, str], message: str
) -> None:
    with pytest.raises(CliError) as caught:
        settings(argv, env)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)
