"""`aimsource run`: the operator. Flags, each also readable from an `AIMSOURCE_*` variable.

A flag given on the command line wins over its variable, which wins over the default. The values
are checked here (by the parsers of `cli.values`) and turned into one `OperatorSettings`; bad
values are one-line errors that name the flag (or variable) and the value. The defaults the help
texts show are read from the settings objects, where each is written once.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aimsource.cli import CliError, values
from aimsource.cli.bounds import BOUND_OPTIONS, connection_limits, push_limits
from aimsource.cli.registry_options import registry_settings
from aimsource.cli.values import show_duration
from aimsource.kube.config import DEFAULT_OPERATOR_NAMESPACE
from aimsource.kube.lease import LeaseSettings
from aimsource.operator.scheduling.schedule import Policy
from aimsource.operator.settings import OperatorSettings
from aimsource.operator.webhook.receiver import ReceiverSettings
from aimsource.registry.settings import RegistrySettings


@dataclass(frozen=True)
class _Option:
    flag: str
    dest: str
    env: str
    help: str
    metavar: str
    parse: values.Parser[Any]


_OPTIONS = (
    _Option(
        "--namespace",
        "namespace",
        "AIMSOURCE_NAMESPACE",
        "operator namespace: pull secrets and the Lease live here "
        f"(default: the service account's namespace, else {DEFAULT_OPERATOR_NAMESPACE})",
        "NAME",
        values.text,
    ),
    _Option(
        "--ca-file",
        "ca_file",
        "AIMSOURCE_CA_FILE",
        "extra CA bundle (PEM) trusted for registries",
        "PATH",
        values.text,
    ),
    _Option(
        "--max-concurrency-per-host",
        "max_concurrency_per_host",
        "AIMSOURCE_MAX_CONCURRENCY_PER_HOST",
        f"concurrent requests to one registry host (default: {RegistrySettings.max_concurrency_per_host})",
        "N",
        values.positive_int,
    ),
    _Option(
        "--registry-rate",
        "registry_rate",
        "AIMSOURCE_REGISTRY_RATE",
        "requests per second to one registry host, all sources together; 0: no budget "
        f"(default: {RegistrySettings.requests_per_second:g})",
        "N",
        values.rate,
    ),
    _Option(
        "--max-tags",
        "max_tags",
        "AIMSOURCE_MAX_TAGS",
        "tags kept per repository listing; past it the selector is truncated "
        f"(default: {RegistrySettings.max_tags})",
        "N",
        values.positive_int,
    ),
    _Option(
        "--stale-listing-max-age",
        "stale_listing_max_age",
        "AIMSOURCE_STALE_LISTING_MAX_AGE",
        "how old a kept listing may be to stand in for one failing with 429, 5xx or a timeout; "
        f"0s keeps none (default: {show_duration(OperatorSettings.stale_listing_max_age)})",
        "DURATION",
        values.duration,
    ),
    _Option(
        "--min-sync-interval",
        "min_sync_interval",
        "AIMSOURCE_MIN_SYNC_INTERVAL",
        f"least time between two listings of one source (default: {show_duration(Policy.min_interval)})",
        "DURATION",
        values.duration,
    ),
    _Option(
        "--retry-base",
        "retry_base",
        "AIMSOURCE_RETRY_BASE",
        "first backoff after a failed sync, doubled each time, capped at syncInterval "
        f"(default: {show_duration(Policy.retry_base)})",
        "DURATION",
        values.positive_duration,
    ),
    _Option(
        "--startup-spread",
        "startup_spread",
        "AIMSOURCE_STARTUP_SPREAD",
        "window over which overdue sources are spread at start-up "
        f"(default: {show_duration(Policy.startup_spread)})",
        "DURATION",
        values.duration,
    ),
    _Option(
        "--workers",
        "workers",
        "AIMSOURCE_WORKERS",
        f"syncs running at once (default: {Policy.workers})",
        "N",
        values.positive_int,
    ),
    _Option(
        "--max-syncs-per-host",
        "max_syncs_per_host",
        "AIMSOURCE_MAX_SYNCS_PER_HOST",
        "syncs touching one registry host at once, its share of the workers "
        f"(default: {Policy.max_syncs_per_host})",
        "N",
        values.positive_int,
    ),
    _Option(
        "--metrics-port",
        "metrics_port",
        "AIMSOURCE_METRICS_PORT",
        f"port of /metrics; 0 disables (default: {OperatorSettings.metrics_port})",
        "PORT",
        values.port,
    ),
    _Option(
        "--health-port",
        "health_port",
        "AIMSOURCE_HEALTH_PORT",
        f"port of /healthz and /readyz; 0 disables (default: {OperatorSettings.health_port})",
        "PORT",
        values.port,
    ),
    _Option(
        "--webhook-port",
        "webhook_port",
        "AIMSOURCE_WEBHOOK_PORT",
        "port of the push-event receiver POST /hooks/<provider>/<token>; 0 disables "
        f"(default: {OperatorSettings.webhook_port})",
        "PORT",
        values.port,
    ),
    _Option(
        "--webhook-secret",
        "webhook_secret",
        "AIMSOURCE_WEBHOOK_SECRET",
        "Secret in the operator namespace whose key `token` is the webhook token "
        f"(default: {OperatorSettings.webhook_secret})",
        "NAME",
        values.secret_name,
    ),
    _Option(
        "--listen-host",
        "listen_host",
        "AIMSOURCE_LISTEN_HOST",
        f"address of the metrics and health servers (default: {OperatorSettings.listen_host})",
        "ADDR",
        values.text,
    ),
    _Option(
        "--log-format",
        "log_format",
        "AIMSOURCE_LOG_FORMAT",
        f"text or json (default: {OperatorSettings.log_format})",
        "FORMAT",
        values.log_format,
    ),
    _Option(
        "--log-level",
        "log_level",
        "AIMSOURCE_LOG_LEVEL",
        f"DEBUG, INFO, WARNING... (default: {OperatorSettings.log_level})",
        "LEVEL",
        values.log_level,
    ),
    _Option(
        "--lease-name",
        "lease_name",
        "AIMSOURCE_LEASE_NAME",
        f"name of the leader-election Lease (default: {LeaseSettings.name})",
        "NAME",
        values.text,
    ),
    _Option(
        "--lease-duration",
        "lease_duration",
        "AIMSOURCE_LEASE_DURATION",
        "how long a Lease stays valid without renewal "
        f"(default: {show_duration(LeaseSettings.lease_duration)})",
        "DURATION",
        values.positive_duration,
    ),
    _Option(
        "--resync-interval",
        "resync_interval",
        "AIMSOURCE_RESYNC_INTERVAL",
        "time between reconciles of the model index and source table with paged lists "
        f"(default: {show_duration(Policy.resync_interval)})",
        "DURATION",
        values.positive_duration,
    ),
    _Option(
        "--crd-wait",
        "crd_wait",
        "AIMSOURCE_CRD_WAIT",
        "how long start-up waits for the CRDs to be served before failing "
        f"(default: {show_duration(OperatorSettings.crd_wait)})",
        "DURATION",
        values.duration,
    ),
    _Option(
        "--competing-controller-window",
        "competing_controller_window",
        "AIMSOURCE_COMPETING_CONTROLLER_WINDOW",
        "how long another controller's status writes must have stopped before aimsource takes a "
        "source back; at least twice the source's syncInterval "
        f"(default: {show_duration(OperatorSettings.competing_controller_window)})",
        "DURATION",
        values.positive_duration,
    ),
    _Option(
        "--identity",
        "identity",
        "AIMSOURCE_IDENTITY",
        "this replica's name in the Lease (default: hostname-pid)",
        "NAME",
        values.text,
    ),
    *(_Option(*row) for row in BOUND_OPTIONS),
)
_INSECURE_ENV = "AIMSOURCE_INSECURE_REGISTRY"
_NO_ELECTION_ENV = "AIMSOURCE_NO_LEADER_ELECTION"
_CONTEND_ENV = "AIMSOURCE_CONTEND_WITH_OTHER_CONTROLLERS"


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

    def value(dest: str) -> Any:
        """The flag's value, else its variable's (an empty variable is unset); None: the default."""
        opt = options[dest]
        flag = getattr(args, dest, None)
        if flag is not None:
            return values.read(opt.parse, str(flag), opt.flag)
        text = env.get(opt.env)
        return values.read(opt.parse, text, f"${opt.env}") if text else None

    def given(**fields: Any) -> dict[str, Any]:
        """The fields that a flag or variable set; the others keep their defaults."""
        return {name: v for name, v in fields.items() if v is not None}

    namespace = value("namespace")
    if namespace is None:
        namespace = default_namespace() if default_namespace is not None else _service_account_namespace()
    registry = registry_settings(
        insecure=[
            *(getattr(args, "insecure_registry", None) or ()),
            *values.comma_list(env.get(_INSECURE_ENV, "")),
        ],
        ca_file=value("ca_file"),
        max_concurrency_per_host=value("max_concurrency_per_host"),
        rate=value("registry_rate"),
        max_tags=value("max_tags"),
    )
    lease = LeaseSettings(**given(name=value("lease_name"), identity=value("identity")))
    if (lease_duration := value("lease_duration")) is not None:
        lease = lease.lasting(lease_duration)
    schedule = Policy(
        **given(
            min_interval=value("min_sync_interval"),
            retry_base=value("retry_base"),
            startup_spread=value("startup_spread"),
            workers=value("workers"),
            max_syncs_per_host=value("max_syncs_per_host"),
            resync_interval=value("resync_interval"),
        )
    )
    operator = given(
        stale_listing_max_age=value("stale_listing_max_age"),
        metrics_port=value("metrics_port"),
        health_port=value("health_port"),
        webhook_port=value("webhook_port"),
        webhook_secret=value("webhook_secret"),
        listen_host=value("listen_host"),
        log_format=value("log_format"),
        log_level=value("log_level"),
        crd_wait=value("crd_wait"),
        competing_controller_window=value("competing_controller_window"),
        sync_listing_tags=value("sync_listing_tags"),
        listing_tags=value("listing_tags"),
    )
    no_election = bool(getattr(args, "no_leader_election", None)) or values.read(
        values.boolean, env.get(_NO_ELECTION_ENV, ""), f"${_NO_ELECTION_ENV}"
    )
    contend = bool(getattr(args, "contend_with_other_controllers", None)) or values.read(
        values.boolean, env.get(_CONTEND_ENV, ""), f"${_CONTEND_ENV}"
    )
    settings = OperatorSettings(
        namespace=namespace,
        registry=registry,
        lease=lease,
        schedule=schedule,
        webhook=ReceiverSettings(connections=connection_limits(value)),
        pushes=push_limits(value),
        leader_election=not no_election,
        contend_with_other_controllers=contend,
        **operator,
    )
    _check_webhook_port(settings)
    return settings


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


def _check_webhook_port(settings: OperatorSettings) -> None:
    port = settings.webhook_port
    if port and port in (settings.metrics_port, settings.health_port):
        raise CliError(f"--webhook-port: {port} is also the metrics or health port; give it its own")
