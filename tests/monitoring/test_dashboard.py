"""The Grafana dashboard and the alerts, read against the metrics the operator exports.

Names, types and labels come from the operator's own exposition (every family with a sample);
the end-to-end test (test_prometheus_e2e.py) repeats the check on a real `aimsource run`'s /metrics
and runs every query on a real Prometheus.
"""

from __future__ import annotations

import pytest

from tests.monitoring.exported import exported_families
from tests.monitoring.monitoring_files import alerts, dashboard, panels, rows
from tests.monitoring.promql import annotation_labels, legend_labels, problems, selectors


def test_the_dashboard_has_the_panels_the_platform_team_needs() -> None:
    titles = [panel["title"] for panel in panels()]
    assert titles == [
        "Sources by status",
        "Sources not Ready",
        "Time since last successful sync",
        "Syncs by result",
        "Sync duration quantiles",
        "Models created",
        "Registry requests by host and code",
        "Registry error ratio by host",
        "Retries and rate-limit waits by host",
        "Time spent in rate-limit waits",
        "Quota remaining",
        "Webhook events by provider and outcome",
        "Leader",
    ]
    assert [row["title"] for row in rows()] == ["Sources", "Syncs", "Registries", "Webhook and leadership"]
    for item in [*panels(), *rows()]:
        assert len(item.get("description", "")) > 40, f"{item['title']}: no real description"
    ids = [p["id"] for p in dashboard()["panels"]]
    assert len(ids) == len(set(ids))


def test_every_panel_query_fits_the_exported_metrics() -> None:
    families = exported_families()
    found = []
    for panel in panels():
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert selectors(target["expr"]), f"{panel['title']}: reads no aimsource metric"
            legend = legend_labels(target.get("legendFormat", ""))
            for problem in problems(target["expr"], families, wanted=legend):
                found.append(f"{panel['title']} / {target['refId']}: {problem}")
    assert found == []


def test_every_alert_fits_the_exported_metrics() -> None:
    families = exported_families()
    found = []
    for rule in alerts():
        for problem in problems(rule["expr"], families, wanted=annotation_labels(rule["annotations"])):
            found.append(f"{rule['alert']}: {problem}")
    assert found == []


@pytest.mark.parametrize(
    ("expr", "complaint"),
    [
        ("sum by (host) (rate(aimsource_registry_request_total[5m]))", "no such metric"),
        ("sum by (hostname) (rate(aimsource_registry_requests_total[5m]))", "label 'hostname'"),
        ('aimsource_source_status{state="Failed"}', "no label 'state'"),
        ("aimsource_registry_requests_total", "without rate()"),
        ("rate(aimsource_leader[5m])", "a gauge under rate()"),
        ("rate(aimsource_syncs[5m])", "exported as aimsource_syncs_total"),
        ("histogram_quantile(0.9, aimsource_sync_duration_seconds_bucket)", "buckets read without rate()"),
    ],
)
def test_the_check_catches_misspellings_and_misuse(expr: str, complaint: str) -> None:
    found = problems(expr, exported_families())
    assert any(complaint in problem for problem in found), found
