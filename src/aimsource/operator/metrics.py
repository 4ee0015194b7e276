"""Prometheus metrics of the operator, and the registry client's observer that feeds some of them.

The metrics live in their own `CollectorRegistry` (not the process-global one) so that several
operators in one test process do not collide, and the `/metrics` endpoint shows only ours.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest

from aimsource.domain.resources import SOURCE_STATUSES

STATUS_VALUES = SOURCE_STATUSES
"""The values every per-status gauge shows, 0 or not, so that a dashboard sees each one."""
PROGRESS_STATES = ("total", "checked", "created", "refused")
"""The `state` label of `aimsource_sync_progress_images`."""
NO_ANSWER = "none"
"""The `code` label of a registry request that got no HTTP answer (timeout, refused, TLS)."""


@dataclass(frozen=True)
class SourceFacts:
    """What the per-source gauges show of one source."""

    status: str
    """status.status of the object (Pending when it has none yet)."""
    last_success: float | None
    """Epoch seconds: the end of the last sync that ended Ready or Degraded (operator/success.py);
    None: none known."""
    interval: float
    """spec.syncInterval in seconds (the default when absent or invalid)."""
    paused: bool = False
    """Paused by the annotation `aim.eai.amd.com/reconciliation-paused: "true"`: not synced."""


class Metrics:
    """All the operator's metrics; also a `registry.RegistryObserver`."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.syncs = Counter("aimsource_syncs", "Syncs of sources, by result.", ["result"], registry=r)
        self.sync_duration = Histogram(
            "aimsource_sync_duration_seconds",
            "Duration of one sync of one source.",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
            registry=r,
        )
        self.registry_requests = Counter(
            "aimsource_registry_requests",
            "Requests to registries, by host and HTTP status code.",
            ["host", "code"],
            registry=r,
        )
        self.registry_retries = Counter(
            "aimsource_registry_retries",
            "Retried registry requests, by host.",
            ["host"],
            registry=r,
        )
        self.models_created = Counter(
            "aimsource_models_created",
            "AIMClusterModels created by the operator.",
            registry=r,
        )
        self.sources = Gauge("aimsource_sources", "Known sources, by status.", ["status"], registry=r)
        self.ratelimit_gauge = Gauge(
            "aimsource_registry_ratelimit_remaining",
            "The last ratelimit-remaining (X-RateLimit-Remaining of an API) a host announced, by host.",
            ["host"],
            registry=r,
        )
        self.ratelimit_limit_gauge = Gauge(
            "aimsource_registry_ratelimit_limit",
            "The last ratelimit-limit (X-RateLimit-Limit of an API) a host announced: requests per window.",
            ["host"],
            registry=r,
        )
        self.listing_cache_entries = Gauge(
            "aimsource_listing_cache_entries",
            "Repository listings kept to stand in for listings that fail with 429, 5xx or timeouts.",
            registry=r,
        )
        self.listing_cache_tags = Gauge(
            "aimsource_listing_cache_tags",
            "Tags in all the kept listings (the cache is bounded by this and by its entries).",
            registry=r,
        )
        self.stale_listings = Counter(
            "aimsource_stale_listings",
            "Kept listings served in place of a failed listing, by registry host.",
            ["host"],
            registry=r,
        )
        self.unchanged_listings = Counter(
            "aimsource_unchanged_listings",
            "Kept listings served because discovery said the repository had not changed: no request made.",
            ["host"],
            registry=r,
        )
        self.waiting_for_share = Gauge(
            "aimsource_syncs_waiting_for_host_share",
            "Due syncs that wait because a registry host of their source runs its share of syncs.",
            registry=r,
        )
        self.webhook_requests = Counter(
            "aimsource_webhook_requests",
            "Requests to the push-event receiver, by provider and outcome.",
            ["provider", "outcome"],
            registry=r,
        )
        self.webhook_connections_closed = Counter(
            "aimsource_webhook_connections_closed",
            "Connections to the push-event receiver closed by the receiver: a deadline passed "
            "(header_timeout, body_timeout, idle_timeout) or too many were open (over_capacity).",
            ["reason"],
            registry=r,
        )
        self.push_syncs = Counter(
            "aimsource_push_syncs",
            "Pushes decided for one source: created (incrementally), nothing to do, or full (a full "
            "sync was scheduled instead).",
            ["result"],
            registry=r,
        )
        self.contested = Gauge(
            "aimsource_sources_contested",
            "Sources whose status another controller writes (e.g. AIM's own source controller): "
            "aimsource stands down for them.",
            registry=r,
        )
        # Per source (kube-state-metrics style): alerts need "this source, for this long".
        self.source_status = Gauge(
            "aimsource_source_status",
            "1 for the status a source has now, 0 for the others; by source and status.",
            ["source", "status"],
            registry=r,
        )
        self.source_last_success = Gauge(
            "aimsource_source_last_success_timestamp_seconds",
            "When the last sync of a source that ended Ready or Degraded ended, Unix time (a sync "
            "failing on authentication is no success).",
            ["source"],
            registry=r,
        )
        self.source_interval = Gauge(
            "aimsource_source_sync_interval_seconds",
            "The sync interval of a source (spec.syncInterval), in seconds.",
            ["source"],
            registry=r,
        )
        self.source_paused = Gauge(
            "aimsource_source_paused",
            "1 while a source is paused by its annotation aim.eai.amd.com/reconciliation-paused "
            "(not synced), 0 otherwise; by source.",
            ["source"],
            registry=r,
        )
        self.leader = Gauge(
            "aimsource_leader",
            "1 while this replica holds the Lease and runs the syncs, else 0.",
            registry=r,
        )
        self.ratelimit_waits = Counter(
            "aimsource_registry_ratelimit_waits",
            "Waits a registry imposed (HTTP 429, or Retry-After on 429/503) before a retry, by host.",
            ["host"],
            registry=r,
        )
        self.ratelimit_wait_seconds = Counter(
            "aimsource_registry_ratelimit_wait_seconds",
            "Seconds spent in waits a registry imposed before a retry, by host.",
            ["host"],
            registry=r,
        )
        self.sync_progress = Gauge(
            "aimsource_sync_progress_images",
            "While a sync runs: the new images it plans to create (total), has checked, created and "
            "not created (refused); by source. Removed when the sync ends.",
            ["source", "state"],
            registry=r,
        )
        self.mirror_calls = Counter(
            "aimsource_registry_mirror_calls",
            "Calls (tag listings, manifest checks) sent to a mirror of the registries file, by "
            'registry, endpoint (the mirror URL) and outcome: "served" (it answered) or "failed" '
            "(refused, timed out or 5xx after retries: the call passed to the next endpoint).",
            ["registry", "endpoint", "outcome"],
            registry=r,
        )
        self.registries_file_valid = Gauge(
            "aimsource_registries_file_valid",
            "1 when the registries file as it is now is in use; 0 when its last change could not "
            "be read or is invalid (the last good one stays in use).",
            registry=r,
        )
        self.registries_reloads = Counter(
            "aimsource_registries_reloads",
            "Changes of the registries file, by result: applied, rejected (the last good one stays "
            "in use) or restored (the file is back to the configuration in use).",
            ["result"],
            registry=r,
        )
        self._facts: dict[str, SourceFacts] = {}
        self.registries_file_valid.set(1)
        for status in STATUS_VALUES:
            self.sources.labels(status=status).set(0)
        self.leader.set(0)

    # --- registry.RegistryObserver -------------------------------------------------------------
    def request(self, host: str, status: int | None) -> None:
        code = NO_ANSWER if status is None else str(status)
        self.registry_requests.labels(host=host, code=code).inc()

    def retry(self, host: str) -> None:
        self.registry_retries.labels(host=host).inc()

    def ratelimit_remaining(self, host: str, remaining: int) -> None:
        self.ratelimit_gauge.labels(host=host).set(remaining)

    def ratelimit_wait(self, host: str, seconds: float) -> None:
        self.ratelimit_waits.labels(host=host).inc()
        self.ratelimit_wait_seconds.labels(host=host).inc(max(seconds, 0.0))

    def ratelimit_limit(self, host: str, limit: int) -> None:
        self.ratelimit_limit_gauge.labels(host=host).set(limit)

    # --- registry.EndpointObserver -------------------------------------------------------------
    def mirror_call(self, registry: str, mirror: str, outcome: str) -> None:
        self.mirror_calls.labels(registry=registry, endpoint=mirror, outcome=outcome).inc()

    # --- operator.reloading.RegistriesFile ---------------------------------------------------
    def registries_reloaded(self, result: str) -> None:
        self.registries_file_valid.set(0 if result == "rejected" else 1)
        self.registries_reloads.labels(result=result).inc()

    # --- sync.listing_cache.ListingCacheObserver ---------------------------------------------
    def listing_cache_size(self, entries: int, tags: int) -> None:
        self.listing_cache_entries.set(entries)
        self.listing_cache_tags.set(tags)

    def stale_listing_served(self, registry: str) -> None:
        self.stale_listings.labels(host=registry).inc()

    def unchanged_listing_served(self, registry: str) -> None:
        self.unchanged_listings.labels(host=registry).inc()

    # --- the operator's own -------------------------------------------------------------------
    def sync_finished(self, result: str, seconds: float, *, created: int) -> None:
        self.syncs.labels(result=result).inc()
        self.sync_duration.observe(seconds)
        if created:
            self.models_created.inc(created)

    def set_sync_progress(self, source: str, counts: Mapping[str, int] | None) -> None:
        """The running sync's counts by state (total, checked, created, refused); None removes them."""
        for state in PROGRESS_STATES:
            if counts is None:
                _remove(self.sync_progress, source, state)
            else:
                self.sync_progress.labels(source=source, state=state).set(counts.get(state, 0))

    def webhook_request(self, provider: str, outcome: str) -> None:
        self.webhook_requests.labels(provider=provider, outcome=outcome).inc()

    def webhook_connection_closed(self, reason: str) -> None:
        self.webhook_connections_closed.labels(reason=reason).inc()

    def push_synced(self, result: str, *, created: int = 0) -> None:
        self.push_syncs.labels(result=result).inc()
        if created:
            self.models_created.inc(created)

    def set_waiting_for_share(self, count: int) -> None:
        self.waiting_for_share.set(count)

    def set_sources(self, counts: Mapping[str, int]) -> None:
        for status in {*STATUS_VALUES, *counts}:
            self.sources.labels(status=status).set(counts.get(status, 0))

    def set_contested(self, count: int) -> None:
        self.contested.set(count)

    def set_leading(self, leading: bool) -> None:
        self.leader.set(1 if leading else 0)

    def set_source_facts(self, facts: Mapping[str, SourceFacts]) -> None:
        """The per-source gauges for exactly these sources; series of the others are removed."""
        for name in [name for name in self._facts if name not in facts]:
            for status in {*STATUS_VALUES, self._facts[name].status}:
                _remove(self.source_status, name, status)
            _remove(self.source_last_success, name)
            _remove(self.source_interval, name)
            _remove(self.source_paused, name)
            del self._facts[name]
        for name, fact in facts.items():
            before = self._facts.get(name)
            if before == fact:
                continue
            if before is not None and before.status not in STATUS_VALUES and before.status != fact.status:
                _remove(self.source_status, name, before.status)
            for status in {*STATUS_VALUES, fact.status}:
                self.source_status.labels(source=name, status=status).set(1 if status == fact.status else 0)
            if fact.last_success is None:
                _remove(self.source_last_success, name)
            else:
                self.source_last_success.labels(source=name).set(fact.last_success)
            self.source_interval.labels(source=name).set(fact.interval)
            self.source_paused.labels(source=name).set(1 if fact.paused else 0)
            self._facts[name] = fact

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def _remove(metric: Gauge, *labels: str) -> None:
    with contextlib.suppress(KeyError):  # never set: nothing to remove
        metric.remove(*labels)
