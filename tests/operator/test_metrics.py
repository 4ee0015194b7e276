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
