"""How the operator is configured: one frozen value built by `aimsource run` from flags and env.

Everything the operator's parts need to know about their environment lives here so that each
part takes the one value it needs and tests can build a settings object without a command line.
The parts with settings of their own are nested, and each default is written once, where the
part is: `registry` (`registry.settings.RegistrySettings`), `lease` (`kube.lease.LeaseSettings`),
`schedule` (`operator.scheduling.schedule.Policy`) and `webhook`
(`operator.webhook.receiver.ReceiverSettings`); the fields below are the operator's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from aimsource.domain.options import values
from aimsource.domain.options.declared import option
from aimsource.domain.options.values import LogFormat
from aimsource.domain.pushes.budgets import PushLimits
from aimsource.domain.registries.entries import NO_REGISTRIES, REGISTRIES_HELP, Registries
from aimsource.kube.config import DEFAULT_OPERATOR_NAMESPACE
from aimsource.kube.lease import LeaseSettings
from aimsource.operator.coexistence.contests import DEFAULT_WINDOW
from aimsource.operator.scheduling.schedule import Policy
from aimsource.operator.webhook.receiver import ReceiverSettings
from aimsource.registry.settings import RegistrySettings
from aimsource.sync.listing_budget import DEFAULT_PER_PROCESS, DEFAULT_PER_SYNC
from aimsource.sync.listing_cache import DEFAULT_MAX_AGE, DEFAULT_MAX_ENTRIES, DEFAULT_MAX_TAGS


@dataclass(frozen=True)
class OperatorSettings:
    namespace: str = field(
        default=DEFAULT_OPERATOR_NAMESPACE,
        metadata=option(
            "--namespace",
            "NAME",
            values.text,
            "operator namespace: pull secrets and the Lease live here",
            default_text=f"the service account's namespace, else {DEFAULT_OPERATOR_NAMESPACE}",
            chart=None,  # the release namespace
        ),
    )
    """The operator namespace: where pull secrets are read and the Lease lives.
    Default: the service account's namespace, else ``aim-system``."""

    registry: RegistrySettings = field(default_factory=RegistrySettings)
    """The registry client: plain-HTTP hosts, extra CAs, requests in flight and the request budget
    per host (shared by all sources; its burst is twice the rate, `RegistrySettings.with_rate`),
    tags kept per listing."""

    registries_file: str | None = field(
        default=None,
        metadata=option(
            "--registries",
            "FILE",
            values.text,
            REGISTRIES_HELP,
            detail="; checked at start-up (a bad file stops it with a one-line error), then read again "
            "every 5 s: a valid change applies without a restart, a bad one keeps the last good file "
            "(logged once, `aimsource_registries_file_valid` 0). See [registries.md](registries.md)",
            chart=None,  # deploy/ and the chart pass it as an argument, with the file they mount
        ),
    )
    """The registries file (mirrors and per-registry settings, docs/registries.md); re-read every
    `registries_poll` seconds while the operator runs. None: no file, the flags apply to every
    registry."""

    registries: Registries = NO_REGISTRIES
    """What `registries_file` said at start-up (checked before the operator starts)."""

    registries_poll: float = 5.0
    """Seconds between two reads of `registries_file`."""

    lease: LeaseSettings = field(default_factory=LeaseSettings)
    """Leader election: the Lease's name, this replica's identity and the timings. The Lease lives
    in the operator namespace: ``lease.namespace`` is always ``namespace``."""

    schedule: Policy = field(default_factory=Policy)
    """When sources sync (minimum interval, retry backoff, start-up spread), how many at once
    (workers, per-host shares) and how often the indexes are reconciled."""

    stale_listing_max_age: float = field(
        default=DEFAULT_MAX_AGE,
        metadata=option(
            "--stale-listing-max-age",
            "DURATION",
            values.duration,
            "how old a kept listing may be to stand in for one failing with 429, 5xx or a timeout; "
            "0s keeps none",
            detail="(the selector is then `stale`, the source `Degraded` with reason `StaleListing`; "
            "[rate-limits.md](rate-limits.md#cached-listings-when-a-registry-throttles))",
        ),
    )
    """Seconds: how old the last good listing of a repository may be to stand in for a listing
    that fails with 429, 5xx, a timeout or an unreachable host (the selector is then ``stale``, the
    source ``Degraded`` with reason ``StaleListing``); 0 keeps no listings."""

    listing_cache_max_entries: int = DEFAULT_MAX_ENTRIES
    """Repository listings kept for that, least recently used dropped first."""

    listing_cache_max_tags: int = DEFAULT_MAX_TAGS
    """Tags kept in all those listings (it bounds their memory)."""

    sync_listing_tags: int = field(
        default=DEFAULT_PER_SYNC,
        metadata=option(
            "--sync-listing-tags",
            "N",
            values.positive_int,
            "tags one sync's listings may hold together (at least --max-tags); past it listings are "
            "cut and marked truncated",
        ),
    )
    """Tags one sync's listings may hold together (never less than one listing's ``--max-tags``):
    past it a listing is cut (``truncated``) and further repositories are not listed."""

    listing_tags: int = field(
        default=DEFAULT_PER_PROCESS,
        metadata=option(
            "--listing-tags",
            "N",
            values.positive_int,
            "tags all syncs' listings may hold together; past it a sync waits before listing",
        ),
    )
    """Tags all syncs' listings may hold together: a sync reserves its share before listing and
    waits while others hold it, so running syncs at once cannot multiply the memory of listings."""

    metrics_port: int = field(
        default=8080,
        metadata=option("--metrics-port", "PORT", values.port, "port of /metrics; 0 disables"),
    )
    """TCP port of the Prometheus ``/metrics`` endpoint; 0 disables it."""

    health_port: int = field(
        default=8081,
        metadata=option("--health-port", "PORT", values.port, "port of /healthz and /readyz; 0 disables"),
    )
    """TCP port of ``/healthz`` and ``/readyz``; 0 disables it."""

    webhook_port: int = field(
        default=0,
        metadata=option(
            "--webhook-port",
            "PORT",
            values.port,
            "port of the push-event receiver POST /hooks/<provider>/<token>; 0 disables",
            detail="([webhooks.md](webhooks.md)); must differ from the metrics and health ports",
            chart=None,  # `webhook.port`
        ),
    )
    """TCP port of the push-event receiver (``POST /hooks/<provider>/<token>``); 0 (the default)
    disables it."""

    webhook_secret: str = field(
        default="aimsource-webhook",
        metadata=option(
            "--webhook-secret",
            "NAME",
            values.secret_name,
            "Secret in the operator namespace whose key `token` is the webhook token",
            detail="; re-read every minute",
            chart=None,  # `webhook.secret`
        ),
    )
    """Name of the Secret in the operator namespace whose key ``token`` is the webhook token; it is
    re-read every minute."""

    webhook: ReceiverSettings = field(default_factory=ReceiverSettings)
    """The receiver's budgets (per provider once authenticated, per address for failed requests)
    and its connections' deadlines and cap (``webhook.connections``)."""

    pushes: PushLimits = field(default_factory=PushLimits)
    """What pushes may cost a registry: manifest HEADs per source and per registry host a minute,
    and how long a tag found missing is remembered (``domain.pushes.budgets``)."""

    listen_host: str = field(
        default="0.0.0.0",  # a pod's probes and scrapes come from outside
        metadata=option(
            "--listen-host", "ADDR", values.text, "address of the metrics, health and webhook servers"
        ),
    )
    """Address the metrics, health and webhook servers bind to (all interfaces by default)."""

    log_format: LogFormat = field(
        default="text",
        metadata=option(
            "--log-format", "FORMAT", values.log_format, "log format: text, or json for one object per line"
        ),
    )
    """``text`` for people, ``json`` (one object per line) for log collectors."""

    log_level: str = field(
        default="INFO",
        metadata=option(
            "--log-level",
            "LEVEL",
            values.log_level,
            "level of the operator's own logs: DEBUG, INFO, WARNING... (kopf's stay at WARNING)",
        ),
    )
    """Level of the operator's own loggers (kopf's are kept at WARNING)."""

    leader_election: bool = field(
        default=True,
        metadata=option(
            "--no-leader-election",
            None,
            values.boolean,
            "sync without electing a leader (one replica only)",
            switch=True,
            inverts=True,
            chart="operator.leaderElection",
            chart_help="elect a leader with a Lease; false only with replicaCount 1",
        ),
    )
    """Whether replicas elect a leader through the Lease; only the leader syncs."""

    crd_wait: float = field(
        default=120.0,
        metadata=option(
            "--crd-wait",
            "DURATION",
            values.duration,
            "how long start-up waits for the CRDs to be served before failing",
            detail="; then the operator exits non-zero naming the missing CRD",
        ),
    )
    """Seconds the operator waits at start-up for its CRDs to be served before it exits with an
    error naming the missing one."""

    competing_controller_window: float = field(
        default=DEFAULT_WINDOW,
        metadata=option(
            "--competing-controller-window",
            "DURATION",
            values.positive_duration,
            "how long another controller's status writes must have stopped before aimsource takes a "
            "source back; at least twice the source's syncInterval",
            detail="([install.md](install.md#on-a-cluster-that-runs-aims-operator))",
        ),
    )
    """Seconds another field manager's writes to a source's status must have stopped before
    aimsource manages that source again; for each source the window is at least twice its
    ``syncInterval``, because AIM's own source controller writes the status once per interval."""

    contend_with_other_controllers: bool = field(
        default=False,
        metadata=option(
            "--contend-with-other-controllers",
            None,
            values.boolean,
            "sync every source even when another controller (AIM's operator) writes its status; "
            "off: aimsource stands down for such sources",
            detail="([install.md](install.md#on-a-cluster-that-runs-aims-operator))",
            switch=True,
        ),
    )
    """Sync sources whatever other controller also writes their status (the behaviour before
    detection existed). Off by default: aimsource stands down for a source another controller
    manages."""

    def __post_init__(self) -> None:
        if self.lease.namespace != self.namespace:
            object.__setattr__(self, "lease", replace(self.lease, namespace=self.namespace))
