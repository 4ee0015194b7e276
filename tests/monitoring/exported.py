"""The metric families the operator exports, read from its own exposition."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from aimsource.operator.metrics import Metrics, SourceFacts
from tests.monitoring.promql import Family


def families_of(exposition: str) -> dict[str, Family]:
    """Families by name as a scrape sees them (counters under their name without `_total`)."""
    parsed = list(text_string_to_metric_families(exposition))
    names = {family.name for family in parsed}
    found = {}
    for family in parsed:
        if family.name.endswith("_created") and family.name.removesuffix("_created") in names:
            continue  # prometheus_client's creation timestamps
        labels = frozenset(k for sample in family.samples for k in sample.labels if k != "le")
        found[family.name] = Family(family.name, family.type, labels)
    return found


def exercised_metrics() -> Metrics:
    """A Metrics with every family holding a sample, so that each shows its labels."""
    m = Metrics()
    m.request("registry-1.docker.io", 200)
    m.retry("registry-1.docker.io")
    m.ratelimit_remaining("registry-1.docker.io", 76)
    m.ratelimit_limit("registry-1.docker.io", 100)
    m.listing_cache_size(1, 10)
    m.stale_listing_served("registry-1.docker.io")
    m.ratelimit_wait("registry-1.docker.io", 1.0)
    m.sync_finished("Ready", 0.2, created=1)
    m.webhook_request("distribution", "accepted")
    m.push_synced("created", created=1)
    m.set_leading(True)
    m.set_source_facts({"s": SourceFacts(status="Ready", last_success=1.0, interval=60.0)})
    return m


def exported_families() -> dict[str, Family]:
    return families_of(exercised_metrics().render()[0].decode())
