"""The Prometheus exposition of the operator's metrics."""

from __future__ import annotations

from aimsource.operator.metrics import Metrics


def exposition(metrics: Metrics) -> str:
    body, content_type = metrics.render()
    assert content_type.startswith("text/plain")
    return body.decode()


def test_every_metric_is_exposed_with_its_labels() -> None:
    m = Metrics()
    m.sync_finished("Ready", 0.3, created=2)
    m.sync_finished("Failed", 1.2, created=0)
    m.request("registry.local:5000", 200)
    m.request("registry.local:5000", None)
    m.retry("registry.local:5000")
    m.ratelimit_remaining("docker.io", 97)
    m.set_sources({"Ready": 3, "Failed": 1})
    text = exposition(m)
    for line in [
        'aimsource_syncs_total{result="Ready"} 1.0',
        'aimsource_syncs_total{result="Failed"} 1.0',
        "aimsource_sync_duration_seconds_count 2.0",
        'aimsource_registry_requests_total{code="200",host="registry.local:5000"} 1.0',
        'aimsource_registry_requests_total{code="none",host="registry.local:5000"} 1.0',
        'aimsource_registry_retries_total{host="registry.local:5000"} 1.0',
        "aimsource_models_created_total 2.0",
        'aimsource_sources{status="Ready"} 3.0',
        'aimsource_sources{status="Pending"} 0.0',
        'aimsource_registry_ratelimit_remaining{host="docker.io"} 97.0',
    ]:
        assert line in text


def test_two_operators_in_one_process_do_not_share_metrics() -> None:
    a, b = Metrics(), Metrics()
    a.sync_finished("Ready", 0.1, created=1)
    assert "aimsource_models_created_total 0.0" in exposition(b)


def test_per_source_gauges_follow_the_sources_and_forget_deleted_ones() -> None:
    from aimsource.operator.metrics import SourceFacts

    m = Metrics()
    m.set_source_facts(
        {
            "good": SourceFacts(status="Ready", last_success=1_700_000_000.0, interval=3600.0),
            "bad": SourceFacts(status="Failed", last_success=None, interval=600.0),
        }
    )
    text = exposition(m)
    for line in [
        'aimsource_source_status{source="good",status="Ready"} 1.0',
        'aimsource_source_status{source="good",status="Failed"} 0.0',
        'aimsource_source_status{source="bad",status="Failed"} 1.0',
        'aimsource_source_last_success_timestamp_seconds{source="good"} 1.7e+09',
        'aimsource_source_sync_interval_seconds{source="bad"} 600.0',
    ]:
        assert line in text
    assert 'aimsource_source_last_success_timestamp_seconds{source="bad"}' not in text  # never succeeded

    m.set_source_facts({"good": SourceFacts(status="Degraded", last_success=1_700_000_100.0, interval=60.0)})
    text = exposition(m)
    assert 'source="bad"' not in text  # deleted: its series are gone, not frozen
    assert 'aimsource_source_status{source="good",status="Degraded"} 1.0' in text
    assert 'aimsource_source_status{source="good",status="Ready"} 0.0' in text
    assert 'aimsource_source_sync_interval_seconds{source="good"} 60.0' in text


def test_leader_and_ratelimit_waits() -> None:
    m = Metrics()
    assert "aimsource_leader 0.0" in exposition(m)
    m.set_leading(True)
    m.ratelimit_wait("docker.io", 2.5)
    m.ratelimit_wait("docker.io", 0.5)
    text = exposition(m)
    assert "aimsource_leader 1.0" in text
    assert 'aimsource_registry_ratelimit_waits_total{host="docker.io"} 2.0' in text
    assert 'aimsource_registry_ratelimit_wait_seconds_total{host="docker.io"} 3.0' in text
    m.set_leading(False)
    assert "aimsource_leader 0.0" in exposition(m)


def test_a_paused_source_is_visible_per_source() -> None:
    from aimsource.operator.metrics import SourceFacts

    m = Metrics()
    m.set_source_facts(
        {
            "held": SourceFacts(status="Ready", last_success=None, interval=60.0, paused=True),
            "live": SourceFacts(status="Ready", last_success=None, interval=60.0),
        }
    )
    text = exposition(m)
    assert 'aimsource_source_paused{source="held"} 1.0' in text
    assert 'aimsource_source_paused{source="live"} 0.0' in text
    m.set_source_facts({"live": SourceFacts(status="Ready", last_success=None, interval=60.0)})
    assert 'aimsource_source_paused{source="held"}' not in exposition(m)
