"""`aimsource run` flags and AIMSOURCE_* variables become one OperatorSettings (`cli/run.py`)."""

from __future__ import annotations

import argparse

import pytest

from aimsource.cli import CliError
from aimsource.cli.run import add_parser, settings_from_args
from aimsource.domain.durations import format_duration
from aimsource.kube.lease import LeaseSettings
from aimsource.operator.scheduling.schedule import Policy
from aimsource.operator.settings import OperatorSettings
from aimsource.registry.settings import RegistrySettings


def settings(argv: list[str], env: dict[str, str] | None = None) -> OperatorSettings:
    parser = argparse.ArgumentParser(prog="aimsource")
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["run", *argv])
    return settings_from_args(args, env or {}, default_namespace=lambda: "from-service-account")


def test_the_lease_is_in_the_operator_namespace_with_the_default_timings() -> None:
    lease = settings([]).lease
    assert lease.namespace == "from-service-account"
    assert (lease.lease_duration, lease.renew_deadline, lease.retry_period) == (15.0, 10.0, 2.0)  # client-go


@pytest.mark.parametrize(
    ("flag", "default"),
    [
        ("--max-concurrency-per-host", str(RegistrySettings.max_concurrency_per_host)),
        ("--registry-rate", f"{RegistrySettings.requests_per_second:g}"),
        ("--max-tags", str(RegistrySettings.max_tags)),
        ("--stale-listing-max-age", format_duration(OperatorSettings.stale_listing_max_age)),
        ("--min-sync-interval", format_duration(Policy.min_interval)),
        ("--workers", str(Policy.workers)),
        ("--max-syncs-per-host", str(Policy.max_syncs_per_host)),
        ("--resync-interval", format_duration(Policy.resync_interval)),
        ("--lease-name", LeaseSettings.name),
        ("--lease-duration", format_duration(LeaseSettings.lease_duration)),
        ("--competing-controller-window", format_duration(OperatorSettings.competing_controller_window)),
    ],
)
def test_help_shows_the_default_of_the_settings(
    flag: str, default: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "1000")  # argparse would break "aimsource-leader" at its hyphen
    parser = argparse.ArgumentParser(prog="aimsource")
    add_parser(parser.add_subparsers(dest="command"))
    with pytest.raises(SystemExit):
        parser.parse_args(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    own_help = text.split(f" {flag} ", 1)[1].split(" --", 1)[0]
    assert f"(default: {default})" in own_help


def test_defaults_match_the_documented_ones() -> None:
    got = settings([])
    assert got == OperatorSettings(namespace="from-service-account")
    assert got.schedule.min_interval == 30.0
    assert got.schedule.retry_base == 30.0
    assert got.stale_listing_max_age == 24 * 3600.0
    assert (got.schedule.workers, got.schedule.max_syncs_per_host) == (8, 4)
    assert got.leader_election is True
    assert got.log_format == "text"


@pytest.mark.parametrize(
    ("argv", "env", "field", "expected"),
    [
        (["--namespace", "ops"], {}, "namespace", "ops"),
        ([], {"AIMSOURCE_NAMESPACE": "ops-env"}, "namespace", "ops-env"),
        (["--namespace", "flag"], {"AIMSOURCE_NAMESPACE": "env"}, "namespace", "flag"),
        (["--min-sync-interval", "1s"], {}, "schedule.min_interval", 1.0),
        ([], {"AIMSOURCE_MIN_SYNC_INTERVAL": "1m30s"}, "schedule.min_interval", 90.0),
        (["--stale-listing-max-age", "2h"], {}, "stale_listing_max_age", 7200.0),
        ([], {"AIMSOURCE_STALE_LISTING_MAX_AGE": "0s"}, "stale_listing_max_age", 0.0),
        (["--retry-base", "500ms"], {}, "schedule.retry_base", 0.5),
        (["--max-concurrency-per-host", "9"], {}, "registry.max_concurrency_per_host", 9),
        ([], {"AIMSOURCE_MAX_CONCURRENCY_PER_HOST": "2"}, "registry.max_concurrency_per_host", 2),
        (["--metrics-port", "0"], {}, "metrics_port", 0),
        ([], {"AIMSOURCE_HEALTH_PORT": "9000"}, "health_port", 9000),
        (["--log-format", "json"], {}, "log_format", "json"),
        ([], {"AIMSOURCE_LOG_FORMAT": "json"}, "log_format", "json"),
        (["--workers", "16"], {}, "schedule.workers", 16),
        (["--max-syncs-per-host", "3"], {}, "schedule.max_syncs_per_host", 3),
        ([], {"AIMSOURCE_MAX_SYNCS_PER_HOST": "1"}, "schedule.max_syncs_per_host", 1),
        (["--registry-rate", "0"], {}, "registry.requests_per_second", 0.0),
        ([], {"AIMSOURCE_REGISTRY_RATE": "2.5"}, "registry.requests_per_second", 2.5),
        (["--ca-file", "/etc/ca.pem"], {}, "registry.ca_file", "/etc/ca.pem"),
        (["--no-leader-election"], {}, "leader_election", False),
        ([], {"AIMSOURCE_NO_LEADER_ELECTION": "true"}, "leader_election", False),
        ([], {"AIMSOURCE_NO_LEADER_ELECTION": "0"}, "leader_election", True),
        (["--lease-duration", "3s"], {}, "lease.lease_duration", 3.0),
        (["--lease-duration", "6s"], {}, "lease.renew_deadline", 4.0),
        ([], {"AIMSOURCE_LEASE_DURATION": "30s"}, "lease.retry_period", 4.0),
        (["--namespace", "ops"], {}, "lease.namespace", "ops"),
        ([], {"AIMSOURCE_LEASE_NAME": "other-leader"}, "lease.name", "other-leader"),
        (["--identity", "pod-1"], {}, "lease.identity", "pod-1"),
        (["--resync-interval", "1m"], {}, "schedule.resync_interval", 60.0),
        ([], {"AIMSOURCE_MAX_TAGS": "50"}, "registry.max_tags", 50),
        (["--webhook-port", "8082"], {}, "webhook_port", 8082),
        ([], {"AIMSOURCE_WEBHOOK_PORT": "9082"}, "webhook_port", 9082),
        ([], {}, "webhook_port", 0),
        (["--webhook-secret", "hooks"], {}, "webhook_secret", "hooks"),
        ([], {"AIMSOURCE_WEBHOOK_SECRET": "hooks-env"}, "webhook_secret", "hooks-env"),
        (
            ["--insecure-registry", "Reg.Local:5000", "--insecure-registry", "other"],
            {"AIMSOURCE_INSECURE_REGISTRY": "a.example, b.example:81"},
            "registry.insecure",
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
        "lease-renew-deadline-follows-the-duration",
        "lease-retry-period-follows-the-duration",
        "lease-in-the-operator-namespace",
        "lease-name-env",
        "identity",
        "resync-interval",
        "max-tags-env",
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
    value: object = settings(argv, env)
    for name in field.split("."):
        value = getattr(value, name)
    assert value == expected


MIRRORED = "registries:\n  docker.io:\n    mirrors: [https://mirror.corp.example]\n    fallback: false\n"


def test_registries_file_from_the_flag_or_the_variable(tmp_path: pytest.TempPathFactory) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "registries.yaml"
    path.write_text(MIRRORED)
    for found in (
        settings(["--registries", str(path)]),
        settings([], {"AIMSOURCE_REGISTRIES": str(path)}),
    ):
        assert found.registries_file == str(path)
        assert [m.host for m in found.registries.mirrors("docker.io")] == ["mirror.corp.example"]
        assert not found.registries.fallback("docker.io")
    assert settings([]).registries_file is None
    assert not settings([]).registries


def test_a_bad_registries_file_stops_the_operator_with_one_line(tmp_path: pytest.TempPathFactory) -> None:
    from pathlib import Path

    from aimsource.cli import CliError

    path = Path(str(tmp_path)) / "registries.yaml"
    path.write_text(MIRRORED + "    pageSize: lots\n")
    with pytest.raises(
        CliError, match=r"registries.yaml:5: registries.docker.io.pageSize: must be a whole number"
    ):
        settings(["--registries", str(path)])
    with pytest.raises(CliError, match="No such file"):
        settings(["--registries", str(path) + ".missing"])


@pytest.mark.parametrize(
    ("argv", "env", "field", "expected"),
    [
        ([], {}, "header_timeout", 10.0),
        ([], {}, "body_timeout", 30.0),
        ([], {}, "idle_timeout", 30.0),
        ([], {}, "max_connections", 512),
        (["--webhook-header-timeout", "2s"], {}, "header_timeout", 2.0),
        ([], {"AIMSOURCE_WEBHOOK_HEADER_TIMEOUT": "3s"}, "header_timeout", 3.0),
        (["--webhook-body-timeout", "1m"], {}, "body_timeout", 60.0),
        ([], {"AIMSOURCE_WEBHOOK_IDLE_TIMEOUT": "5s"}, "idle_timeout", 5.0),
        (["--webhook-max-connections", "64"], {}, "max_connections", 64),
        ([], {"AIMSOURCE_WEBHOOK_MAX_CONNECTIONS": "8"}, "max_connections", 8),
    ],
)
def test_the_receivers_connection_bounds_are_flags(
    argv: list[str], env: dict[str, str], field: str, expected: object
) -> None:
    assert getattr(settings(argv, env).webhook.connections, field) == expected


@pytest.mark.parametrize(
    ("argv", "env", "field", "expected"),
    [
        ([], {}, "heads_per_source", 6),
        ([], {}, "heads_per_registry", 30),
        ([], {}, "missing_for", 600.0),
        (["--push-heads-per-source", "2"], {}, "heads_per_source", 2),
        ([], {"AIMSOURCE_PUSH_HEADS_PER_REGISTRY": "100"}, "heads_per_registry", 100),
        (["--push-missing-for", "1h"], {}, "missing_for", 3600.0),
        ([], {"AIMSOURCE_PUSH_MISSING_FOR": "0s"}, "missing_for", 0.0),
    ],
)
def test_the_push_budgets_are_flags(argv: list[str], env: dict[str, str], field: str, expected: int) -> None:
    assert getattr(settings(argv, env).pushes, field) == expected


@pytest.mark.parametrize(
    ("argv", "env", "field", "expected"),
    [
        ([], {}, "sync_listing_tags", 200_000),
        ([], {}, "listing_tags", 800_000),
        (["--sync-listing-tags", "50000"], {}, "sync_listing_tags", 50_000),
        ([], {"AIMSOURCE_LISTING_TAGS": "1000000"}, "listing_tags", 1_000_000),
    ],
)
def test_the_listing_budgets_are_flags(
    argv: list[str], env: dict[str, str], field: str, expected: int
) -> None:
    assert getattr(settings(argv, env), field) == expected


@pytest.mark.parametrize("argv", [["--webhook-header-timeout", "0s"], ["--webhook-max-connections", "0"]])
def test_a_receiver_bound_of_zero_is_refused(argv: list[str]) -> None:
    with pytest.raises(CliError, match=argv[0]):
        settings(argv)
