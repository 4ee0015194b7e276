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
from typing import Literal

from aimsource.domain.pushes.budgets import PushLimits
from aimsource.kube.config import DEFAULT_OPERATOR_NAMESPACE
from aimsource.kube.lease import LeaseSettings
from aimsource.operator.coexistence.contests import DEFAULT_WINDOW
from aimsource.operator.scheduling.schedule import Policy
from aimsource.operator.webhook.receiver import ReceiverSettings
from aimsource.registry.settings import RegistrySettings
from aimsource.sync.listing_budget import DEFAULT_PER_PROCESS, DEFAULT_PER_SYNC
from aimsource.sync.listing_cache import DEFAULT_MAX_AGE, DEFAULT_MAX_ENTRIES, DEFAULT_MAX_TAGS

LogFormat = Literal["text", "json"]


@dataclass(frozen=True)
class OperatorSettings:
    namespace: str = DEFAULT_OPERATOR_NAMESPACE
    """The operator namespace: where pull secrets are read and the Lease lives.
    Default: the service account's namespace, else ``aim-system``."""

    registry: RegistrySettings = field(default_factory=RegistrySettings)
    """The registry client: plain-HTTP hosts, extra CAs, requests in flight and the request budget
    per host (shared by all sources; its burst is twice the rate, `RegistrySettings.with_rate`),
    tags kept per listing."""

    lease: LeaseSettings = field(default_factory=LeaseSettings)
    """Leader election: the Lease's name, this replica's identity and the timings. The Lease lives
    in the operator namespace: ``lease.namespace`` is always ``namespace``."""

    schedule: Policy = field(default_factory=Policy)
    """When sources sync (minimum interval, retry backoff, start-up spread), how many at once
    (workers, per-host shares) and how often the indexes are reconciled."""

    stale_listing_max_age: float = DEFAULT_MAX_AGE
    """Seconds: how old the last good listing of a repository may be to stand in for a listing
    that fails with 429, 5xx, a timeout or an unreachable host (the selector is then ``stale``, the
    source ``Degraded`` with reason ``StaleListing``); 0 keeps no listings."""

    listing_cache_max_entries: int = DEFAULT_MAX_ENTRIES
    """Repository listings kept for that, least recently used dropped first."""

    listing_cache_max_tags: int = DEFAULT_MAX_TAGS
    """Tags kept in all those listings (it bounds their memory)."""

    sync_listing_tags: int = DEFAULT_PER_SYNC
    """Tags one sync's listings may hold together (never less than one listing's ``--max-tags``):
    past it a listing is cut (``truncated``) and further repositories are not listed."""

    listing_tags: int = DEFAULT_PER_PROCESS
    """Tags all syncs' listings may hold together: a sync reserves its share before listing and
    waits while others hold it, so running syncs at once cannot multiply the memory of listings."""

    metrics_port: int = 8080
    """TCP port of the Prometheus ``/metrics`` endpoint; 0 disables it."""

    health_port: int = 8081
    """TCP port of ``/healthz`` and ``/readyz``; 0 disables it."""

    webhook_port: int = 0
    """TCP port of the push-event receiver (``POST /hooks/<provider>/<token>``); 0 (the default)
    disables it."""

    webhook: ReceiverSettings = field(default_factory=ReceiverSettings)
    """The receiver's budgets (per provider once authenticated, per address for failed requests)
    and its connections' deadlines and cap (``webhook.connections``)."""

    pushes: PushLimits = field(default_factory=PushLimits)
    """What pushes may cost a registry: manifest HEADs per source and per registry host a minute,
    and how long a tag found missing is remembered (``domain.pushes.budgets``)."""

    webhook_secret: str = "aimsource-webhook"
    """Name of the Secret in the operator namespace whose key ``token`` is the webhook token; it is
    re-read every minute."""

    listen_host: str = "0.0.0.0"  # a pod's probes and scrapes come from outside
    """Address the metrics, health and webhook servers bind to (all interfaces by default)."""

    log_format: LogFormat = "text"
    """``text`` for people, ``json`` (one object per line) for log collectors."""

    log_level: str = "INFO"
    """Level of the operator's own loggers (kopf's are kept at WARNING)."""

    leader_election: bool = True
    """Whether replicas elect a leader through the Lease; only the leader syncs."""

    crd_wait: float = 120.0
    """Seconds the operator waits at start-up for its CRDs to be served before it exits with an
    error naming the missing one."""

    competing_controller_window: float = DEFAULT_WINDOW
    """Seconds another field manager's writes to a source's status must have stopped before
    aimsource manages that source again; for each source the window is at least twice its
    ``syncInterval``, because AIM's own source controller writes the status once per interval."""

    contend_with_other_controllers: bool = False
    """Sync sources whatever other controller also writes their status (the behaviour before
    detection existed). Off by default: aimsource stands down for a source another controller
    manages."""

    def __post_init__(self) -> None:
        if self.lease.namespace != self.namespace:
            object.__setattr__(self, "lease", replace(self.lease, namespace=self.namespace))
