"""How the operator is configured: one frozen value built by `aimsource run` from flags and env.

Everything the operator's parts need to know about their environment lives here so that each
part takes the one value it needs and tests can build a settings object without a command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from aimsource.registry.settings import RegistrySettings
from aimsource.sync.listing_cache import DEFAULT_MAX_AGE, DEFAULT_MAX_ENTRIES, DEFAULT_MAX_TAGS

LogFormat = Literal["text", "json"]
DEFAULT_NAMESPACE = "aim-system"


@dataclass(frozen=True)
class OperatorSettings:
    namespace: str = DEFAULT_NAMESPACE
    """The operator namespace: where pull secrets are read and the Lease lives.
    Default: the service account's namespace, else ``aim-system``."""

    insecure_registries: frozenset[str] = frozenset()
    """Registry hosts (``host[:port]``) reached over plain HTTP. Default: none (loopback is always
    allowed by the registry client)."""

    ca_file: str | None = None
    """A PEM bundle of extra certificate authorities trusted for registries. Default: none."""

    max_concurrency_per_host: int = 4
    """Concurrent requests to one registry host, shared by all sources. Default: 4."""

    registry_rate: float = RegistrySettings.requests_per_second
    """Requests per second to one registry host, shared by all sources (a token bucket; bursts of
    twice that); 0 removes the budget. Default: the registry client's, 20."""

    max_tags: int = RegistrySettings.max_tags
    """Tags kept per listing of one repository; past it the selector is ``truncated``. It bounds the
    memory one repository can cost. Default: the registry client's, 100,000."""

    stale_listing_max_age: float = DEFAULT_MAX_AGE
    """Seconds: how old the last good listing of a repository may be to stand in for a listing
    that fails with 429, 5xx, a timeout or an unreachable host (the selector is then ``stale``, the
    source ``Degraded`` with reason ``StaleListing``); 0 keeps no listings. Default: 24 h."""

    listing_cache_max_entries: int = DEFAULT_MAX_ENTRIES
    """Repository listings kept for that, least recently used dropped first. Default: 1,000."""

    listing_cache_max_tags: int = DEFAULT_MAX_TAGS
    """Tags kept in all those listings (it bounds their memory). Default: 200,000."""

    min_sync_interval: float = 30.0
    """Seconds: the least time between two listings of one source, whatever triggers them.
    Default: 30."""

    retry_base: float = 30.0
    """Seconds: the first backoff after a failed sync; doubled after each further failure and
    capped at the source's syncInterval. Default: 30."""

    startup_spread: float = 10.0
    """Seconds: at start-up, sources whose last sync is overdue are spread over this window so
    that they do not all list at once. Default: 10."""

    workers: int = 8
    """How many syncs run at the same time (the size of the worker pool). Default: 8."""

    max_syncs_per_host: int = 4
    """How many syncs touching one registry host run at the same time: a host's share of the
    workers. A source counts against each host its selectors name and starts only when all of
    them are below their share, so a registry that stalls or throttles holds at most this many
    workers and the others keep syncing sources on other registries (docs/rate-limits.md). At
    least ``workers`` turns the shares off. Default: 4, half the default pool, and as many as the
    requests in flight to one host (``max_concurrency_per_host``), so that an installation on a
    single registry syncs as many sources at once as before the shares existed."""

    metrics_port: int = 8080
    """TCP port of the Prometheus ``/metrics`` endpoint; 0 disables it. Default: 8080."""

    health_port: int = 8081
    """TCP port of ``/healthz`` and ``/readyz``; 0 disables it. Default: 8081."""

    webhook_port: int = 0
    """TCP port of the push-event receiver (``POST /hooks/<provider>/<token>``); 0 disables it.
    Default: 0 (off)."""

    webhook_secret: str = "aimsource-webhook"
    """Name of the Secret in the operator namespace whose key ``token`` is the webhook token; it is
    re-read every minute. Default: ``aimsource-webhook``."""

    listen_host: str = "0.0.0.0"  # a pod's probes and scrapes come from outside
    """Address the metrics, health and webhook servers bind to. Default: all interfaces."""

    log_format: LogFormat = "text"
    """``text`` for people, ``json`` (one object per line) for log collectors. Default: text."""

    log_level: str = "INFO"
    """Level of the operator's own loggers (kopf's are kept at WARNING). Default: INFO."""

    leader_election: bool = True
    """Whether replicas elect a leader through a Lease; only the leader syncs. Default: on."""

    lease_name: str = "aimsource-leader"
    """Name of the coordination.k8s.io/v1 Lease in the operator namespace. Default:
    ``aimsource-leader``."""

    lease_duration: float = 15.0
    """Seconds a leader's Lease stays valid without renewal; a standby takes over within about
    this long after the leader dies. Default: 15."""

    identity: str = ""
    """This replica's name in the Lease; empty means ``<hostname>-<pid>``. Default: empty."""
