"""`aimsource run`: the operator. Flags, each also readable from an `AIMSOURCE_*` variable.

A flag given on the command line wins over its variable, which wins over the default. The values
are checked here and turned into one `OperatorSettings`; bad values are one-line errors that name
the flag (or variable) and the value.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from aimsource.cli import CliError
from aimsource.domain.durations import InvalidDurationError, parse_duration
from aimsource.operator.settings import OperatorSettings

T = TypeVar("T")


@dataclass(frozen=True)
class _Option:
    flag: str
    dest: str
    env: str
    help: str
    metavar: str | None = None


_OPTIONS = (
    _Option(
        "--namespace",
        "namespace",
        "AIMSOURCE_NAMESPACE",
        "operator namespace: pull secrets and the Lease live here "
        "(default: the service account's namespace, else aim-system)",
        "NAME",
    ),
    _Option(
        "--ca-file", "ca_file", "AIMSOURCE_CA_FILE", "extra CA bundle (PEM) trusted for registries", "PATH"
    ),
    _Option(
        "--max-concurrency-per-host",
        "max_concurrency_per_host",
        "AIMSOURCE_MAX_CONCURRENCY_PER_HOST",
        "concurrent requests to one registry host (default: 4)",
        "N",
    ),
    _Option(
        "--registry-rate",
        "registry_rate",
        "AIMSOURCE_REGISTRY_RATE",
        "requests per second to one registry host, all sources together; 0: no budget (default: 20)",
        "N",
    ),
    _Option(
        "--max-tags",
        "max_tags",
        "AIMSOURCE_MAX_TAGS",
        "tags kept per repository listing; past it the selector is truncated (default: 100000)",
        "N",
    ),
    _Option(
        "--stale-listing-max-age",
        "stale_listing_max_age",
        "AIMSOURCE_STALE_LISTING_MAX_AGE",
        "how old a kept listing may be to stand in for one failing with 429, 5xx or a timeout; "
        "0s keeps none (default: 24h)",
        "DURATION",
    ),
    _Option(
        "--min-sync-interval",
        "min_sync_interval",
        "AIMSOURCE_MIN_SYNC_INTERVAL",
        "least time between two listings of one source (default: 30s)",
        "DURATION",
    ),
    _Option(
        "--retry-base",
        "retry_base",
        "AIMSOURCE_RETRY_BASE",
        "first backoff after a failed sync, doubled each time, capped at syncInterval (default: 30s)",
        "DURATION",
    ),
    _Option(
        "--startup-spread",
        "startup_spread",
        "AIMSOURCE_STARTUP_SPREAD",
        "window over which overdue sources are spread at start-up (default: 10s)",
        "DURATION",
    ),
    _Option("--workers", "workers", "AIMSOURCE_WORKERS", "syncs running at once (default: 8)", "N"),
    _Option(
        "--max-syncs-per-host",
        "max_syncs_per_host",
        "AIMSOURCE_MAX_SYNCS_PER_HOST",
        "syncs touching one registry host at once, its share of the workers (default: 4)",
        "N",
    ),
    _Option(
        "--metrics-port",
        "metrics_port",
        "AIMSOURCE_METRICS_PORT",
        "port of /metrics; 0 disables (default: 8080)",
        "PORT",
    ),
    _Option(
        "--health-port",
        "health_port",
        "AIMSOURCE_HEALTH_PORT",
        "port of /healthz and /readyz; 0 disables (default: 8081)",
        "PORT",
    ),
    _Option(
        "--webhook-port",
        "webhook_port",
        "AIMSOURCE_WEBHOOK_PORT",
        "port of the push-event receiver POST /hooks/<provider>/<token>; 0 disables (default: 0)",
        "PORT",
    ),
    _Option(
        "--webhook-secret",
        "webhook_secret",
        "AIMSOURCE_WEBHOOK_SECRET",
        "Secret in the operator namespace whose key `token` is the webhook token "
        "(default: aimsource-webhook)",
        "NAME",
    ),
    _Option(
        "--listen-host",
        "listen_host",
        "AIMSOURCE_LISTEN_HOST",
        "address of the metrics and health servers (default: 0.0.0.0)",
        "ADDR",
    ),
    _Option("--log-format", "log_format", "AIMSOURCE_LOG_FORMAT", "text or json (default: text)", "FORMAT"),
    _Option(
        "--log-level", "log_level", "AIMSOURCE_LOG_LEVEL", "DEBUG, INFO, WARNING... (default: INFO)", "LEVEL"
    ),
    _Option(
        "--lease-name",
        "lease_name",
        "AIMSOURCE_LEASE_NAME",
        "name of the leader-election Lease (default: aimsource-leader)",
        "NAME",
    ),
    _Option(
        "--lease-duration",
        "lease_duration",
        "AIMSOURCE_LEASE_DURATION",
        "how long a Lease stays valid without renewal (default: 20s)",
        "DURATION",
    ),
    _Option(
        "--resync-interval",
        "resync_interval",
        "AIMSOURCE_RESYNC_INTERVAL",
        "time between reconciles of the model index and source table with paged lists (default: 10m)",
        "DURATION",
    ),
    _Option(
        "--crd-wait",
        "crd_wait",
        "AIMSOURCE_CRD_WAIT",
        "how long start-up waits for the CRDs to be served before failing (default: 2m)",
        "DURATION",
    ),
    _Option(
        "--competing-controller-window",
        "competing_controller_window",
        "AIMSOURCE_COMPETING_CONTROLLER_WINDOW",
        "how long another controller's status writes must have stopped before aimsource takes a "
        "source back; at least twice the source's syncInterval (default: 10m)",
        "DURATION",
    ),
    _Option(
        "--identity",
        "identity",
        "AIMSOURCE_IDENTITY",
        "this replica's name in the Lease (default: hostname-pid)",
        "NAME",
    ),
)
_INSECURE_ENV = "AIMSOURCE_INSECURE_REGISTRY"
_NO_ELECTION_ENV = "AIMSOURCE_NO_LEADER_ELECTION"
_CONTEND_ENV = "AIMSOURCE_CONTEND_WITH_OTHER_CONTROLLERS"
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "run",
        help="run the operator",
        description="Run the operator: watch AIMClusterModelSources and create AIMClusterModels. "
        "Every flag can also be set through the AIMSOURCE_* variable named in its help.",
    )
    for opt in _OPTIONS:
        p.add_argument(opt.flag, dest=opt.dest, metavar=opt.metavar, help=f"{opt.help} [${opt.env}]")
    p.add_argument(
        "--insecure-registry",
        dest="insecure_registry",
        metavar="HOST[:PORT]",
        action="append",
        default=[],
        help=f"reach this registry over plain HTTP; repeatable [${_INSECURE_ENV}, comma-separated]",
    )
    p.add_argument(
        "--no-leader-election",
        dest="no_leader_election",
        action="store_true",
        default=None,
        help=f"sync without electing a leader (one replica only) [${_NO_ELECTION_ENV}=true]",
    )
    p.add_argument(
        "--contend-with-other-controllers",
        dest="contend_with_other_controllers",
        action="store_true",
        default=None,
        help="sync every source even when another controller (AIM's operator) writes its status; "
        f"off: aimsource stands down for such sources [${_CONTEND_ENV}=true]",
    )
    p.set_defaults(handler=run)


def settings_from_args(
    args: argparse.Namespace,
    env: Mapping[str, str],
    *,
    default_namespace: Callable[[], str] | None = None,
) -> OperatorSettings:
    """Flags, then `AIMSOURCE_*` variables, then defaults; raises CliError naming a bad value."""
    options = {opt.dest: opt for opt in _OPTIONS}
    defaults = OperatorSettings()

    def raw(dest: str) -> tuple[str | None, str]:
        opt = options[dest]
        value = getattr(args, dest, None)
        if value is not None:
            return str(value), opt.flag
        return env.get(opt.env) or None, f"${opt.env}"

    def pick(dest: str, convert: Callable[[str, str], T], default: T) -> T:
        value, origin = raw(dest)
        return default if value is None else convert(value, origin)

    namespace, _ = raw("namespace")
    if namespace is None:
        namespace = default_namespace() if default_namespace is not None else _service_account_namespace()
    insecure = [*(getattr(args, "insecure_registry", None) or ()), *_split(env.get(_INSECURE_ENV, ""))]
    no_election = bool(getattr(args, "no_leader_election", None)) or _boolean(
        env.get(_NO_ELECTION_ENV, ""), f"${_NO_ELECTION_ENV}"
    )
    contend = bool(getattr(args, "contend_with_other_controllers", None)) or _boolean(
        env.get(_CONTEND_ENV, ""), f"${_CONTEND_ENV}"
    )
    metrics = pick("metrics_port", _port, defaults.metrics_port)
    health = pick("health_port", _port, defaults.health_port)
    return OperatorSettings(
        namespace=namespace,
        insecure_registries=frozenset(h.strip().lower() for h in insecure if h.strip()),
        ca_file=pick("ca_file", lambda v, _: v, defaults.ca_file),
        max_concurrency_per_host=pick(
            "max_concurrency_per_host", _positive_int, defaults.max_concurrency_per_host
        ),
        registry_rate=pick("registry_rate", _rate, defaults.registry_rate),
        max_tags=pick("max_tags", _positive_int, defaults.max_tags),
        stale_listing_max_age=pick("stale_listing_max_age", _duration, defaults.stale_listing_max_age),
        min_sync_interval=pick("min_sync_interval", _duration, defaults.min_sync_interval),
        retry_base=pick("retry_base", _positive_duration, defaults.retry_base),
        startup_spread=pick("startup_spread", _duration, defaults.startup_spread),
        workers=pick("workers", _positive_int, defaults.workers),
        max_syncs_per_host=pick("max_syncs_per_host", _positive_int, defaults.max_syncs_per_host),
        metrics_port=metrics,
        health_port=health,
        webhook_port=_webhook_port(pick("webhook_port", _port, defaults.webhook_port), metrics, health),
        webhook_secret=pick("webhook_secret", _secret_name, defaults.webhook_secret),
        listen_host=pick("listen_host", lambda v, _: v, defaults.listen_host),
        log_format=pick("log_format", _log_format, defaults.log_format),
        log_level=pick("log_level", _log_level, defaults.log_level),
        leader_election=not no_election,
        lease_name=pick("lease_name", lambda v, _: v, defaults.lease_name),
        lease_duration=pick("lease_duration", _positive_duration, defaults.lease_duration),
        resync_interval=pick("resync_interval", _positive_duration, defaults.resync_interval),
        crd_wait=pick("crd_wait", _duration, defaults.crd_wait),
        identity=pick("identity", lambda v, _: v, defaults.identity),
        competing_controller_window=pick(
            "competing_controller_window", _positive_duration, defaults.competing_controller_window
        ),
        contend_with_other_controllers=contend,
    )


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args, os.environ)
    from aimsource.operator.main import OperatorStartError, run_operator

    try:
        return run_operator(settings)
    except OperatorStartError as exc:
        raise CliError(str(exc), code=1) from exc


def _service_account_namespace() -> str:
    from aimsource.kube import operator_namespace

    return operator_namespace()


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _boolean(value: str, origin: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise CliError(f"{origin}: expected true or false, got {value!r}")


def _positive_int(value: str, origin: str) -> int:
    try:
        number = int(value)
    except ValueError as exc:
        raise CliError(f"{origin}: expected a whole number, got {value!r}") from exc
    if number < 1:
        raise CliError(f"{origin}: must be at least 1, got {value!r}")
    return number


def _rate(value: str, origin: str) -> float:
    try:
        number = float(value)
    except ValueError as exc:
        raise CliError(f"{origin}: expected a number of requests per second, got {value!r}") from exc
    if not number >= 0:
        raise CliError(f"{origin}: must not be negative, got {value!r}")
    return number


def _port(value: str, origin: str) -> int:
    try:
        number = int(value)
    except ValueError as exc:
        raise CliError(f"{origin}: expected a port number, got {value!r}") from exc
    if not 0 <= number <= 65535:
        raise CliError(f"{origin}: a port is between 0 and 65535, got {value!r}")
    return number


def _webhook_port(port: int, metrics: int, health: int) -> int:
    if port and port in (metrics, health):
        raise CliError(f"--webhook-port: {port} is also the metrics or health port; give it its own")
    return port


def _secret_name(value: str, origin: str) -> str:
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?", value):
        raise CliError(
            f"{origin}: expected a Secret name (lower-case letters, digits, '-' and '.'), got {value!r}"
        )
    return value


def _duration(value: str, origin: str) -> float:
    try:
        seconds = parse_duration(value)
    except InvalidDurationError as exc:
        raise CliError(f"{origin}: expected a duration such as 30s, 1m or 1h30m, got {value!r}") from exc
    if seconds < 0:
        raise CliError(f"{origin}: must not be negative, got {value!r}")
    return seconds


def _positive_duration(value: str, origin: str) -> float:
    seconds = _duration(value, origin)
    if seconds <= 0:
        raise CliError(f"{origin}: must be more than zero, got {value!r}")
    return seconds


def _log_format(value: str, origin: str) -> Any:
    if value not in ("text", "json"):
        raise CliError(f"{origin}: expected text or json, got {value!r}")
    return value


def _log_level(value: str, origin: str) -> str:
    level = value.upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise CliError(f"{origin}: expected DEBUG, INFO, WARNING, ERROR or CRITICAL, got {value!r}")
    return level
