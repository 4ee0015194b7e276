"""The alerts and the dashboard on a real Prometheus scraping a real `aimsource run`.

`aimsource run` runs as a process against the real control plane (scripts/kube-testbed, admin
kubeconfig) with leader election and the push receiver on. Two sources: a healthy one on a real
docker-registry (behind a front that adds Docker Hub's quota headers and throttles the first
listings with 429), and a failing one on a registry port where nothing listens. The registry
notifies the receiver of a push, and a sender with a wrong token is refused. Debian's `prometheus`
scrapes the operator every second with our rule file loaded.

Then every alert expression and every dashboard query runs on that Prometheus: each returns series,
with the labels the alert's annotations or the panel's legend read; each metric selector in them
returns series on its own (a misspelt metric, label or label value returns nothing); the alerts
that this scenario should trip (the failed source, the unreachable registry) are tripped, those it
should not (no leader, several leaders, degraded) are quiet. The operator's own /metrics exposition
is checked against the expressions too (names, types, labels).
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.operator_process import OperatorProcess
from tests.monitoring.exported import families_of
from tests.monitoring.monitoring_files import alerts, panels, tool, write_rule_file
from tests.monitoring.promql import annotation_labels, legend_labels, problems, selectors, split_comparison
from tests.support.docker_hub_front import docker_hub_front
from tests.support.realkube import RealKube
from tests.support.registry_server import start_registry
from tests.support.serving import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.registry]

SOURCES = "/apis/aim.eai.amd.com/v1alpha1/aimclustermodelsources"
RATE_INTERVAL = "20s"
TRIPPED = {"AimsourceSourceFailed": "source", "AimsourceRegistryErrors": "host"}
"""Alerts whose full expression (threshold included) this scenario makes true, and the label that
names the culprit."""
QUIET = ("AimsourceNoLeader", "AimsourceSeveralLeaders", "AimsourceSourceDegraded")


def dashboard_expr(expr: str) -> str:
    """A panel's query as Grafana sends it, with its variables filled in."""
    return expr.replace("$__rate_interval", RATE_INTERVAL).replace('job=~"$job"', 'job=~"aimsource"')


def source(name: str, image: str, run_id: str) -> dict[str, Any]:
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMClusterModelSource",
        "metadata": {"name": name, "labels": {"aimsource.test/run": run_id}},
        "spec": {"images": [image], "syncInterval": "1m", "maxModels": 10},
    }


def status_of(kube: RealKube, name: str) -> str | None:
    code, body = kube.request("GET", f"{SOURCES}/{name}")
    return (body.get("status") or {}).get("status") if code == 200 and isinstance(body, dict) else None


@pytest.fixture
def operator_namespace(real_kube_crds: RealKube) -> Iterator[str]:
    name = f"mon-{secrets.token_hex(4)}"
    real_kube_crds.ok(
        "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    )
    yield name
    real_kube_crds.request("DELETE", f"/api/v1/namespaces/{name}")


@pytest.mark.timeout(300)
def test_every_alert_and_panel_returns_data_on_a_real_prometheus(
    real_kube_crds: RealKube, operator_namespace: str, tmp_path: Path
) -> None:
    prometheus_binary = tool("prometheus", "prometheus")
    kube, run_id = real_kube_crds, operator_namespace
    token = secrets.token_urlsafe(24)
    kube.ok(
        "POST",
        f"/api/v1/namespaces/{operator_namespace}/secrets",
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "aimsource-webhook"},
            "data": {"token": base64.b64encode(token.encode()).decode()},
        },
    )
    webhook_port, closed_port = free_port(), free_port()
    healthy, failing = f"{run_id}-healthy", f"{run_id}-failing"
    repository = f"amd/{run_id}"
    op = OperatorProcess(
        kube.kubeconfig,
        tmp_path,
        name=run_id,
        election=True,
        extra=(
            "--namespace",
            operator_namespace,
            "--lease-name",
            f"aimsource-leader-{run_id}",
            "--webhook-port",
            str(webhook_port),
        ),
    )
    try:
        with (
            start_registry(
                notify_url=f"http://127.0.0.1:{webhook_port}/hooks/distribution/{token}"
            ) as registry,
            docker_hub_front(registry.base_url, throttle=2) as front,
        ):
            with registry.pusher() as pusher:
                pusher.push_image(repository, ["1.0.0", "1.1.0"])
            op.start()
            op.wait(lambda: "aimsource_leader 1.0" in op.metrics(), timeout=30, message="leading")
            kube.ok("POST", SOURCES, source(healthy, f"{front.host}/{repository}", run_id))
            kube.ok("POST", SOURCES, source(failing, f"127.0.0.1:{closed_port}/amd/nowhere", run_id))
            op.wait(lambda: status_of(kube, healthy) == "Ready", timeout=60, message="healthy source Ready")
            op.wait(lambda: status_of(kube, failing) == "Failed", timeout=90, message="failing source Failed")
            with registry.pusher() as pusher:  # the registry notifies the receiver
                pusher.push_image(repository, ["1.2.0"])
            refused = httpx.post(
                f"http://127.0.0.1:{webhook_port}/hooks/distribution/not-the-token",
                json={"events": []},
                timeout=5,
            )
            assert refused.status_code == 401
            op.wait(lambda: 'outcome="accepted"' in op.metrics(), timeout=30, message="the push accepted")

            exposition = op.metrics()
            with running_prometheus_for(prometheus_binary, tmp_path, op) as prometheus:
                check_everything(
                    prometheus,
                    exposition,
                    healthy=healthy,
                    failing=failing,
                    failing_host=f"127.0.0.1:{closed_port}",
                    front_host=front.host,
                )
    finally:
        op.stop()
        kube.request("DELETE", f"{SOURCES}?labelSelector=aimsource.test/run={run_id}")


def running_prometheus_for(binary: str, tmp_path: Path, op: OperatorProcess) -> Any:
    from tests.monitoring.prometheus_process import running_prometheus

    rules = write_rule_file(tmp_path / "rules.yaml")
    return running_prometheus(binary, tmp_path, targets=[f"127.0.0.1:{op.metrics_port}"], rule_file=rules)


def check_everything(
    prometheus: Any, exposition: str, *, healthy: str, failing: str, failing_host: str, front_host: str
) -> None:
    families = families_of(exposition)

    # The real exposition: every expression's names, types and labels fit it.
    static = []
    for rule in alerts():
        static += [
            f"{rule['alert']}: {p}"
            for p in problems(rule["expr"], families, wanted=annotation_labels(rule["annotations"]))
        ]
    for panel in panels():
        for target in panel["targets"]:
            static += [
                f"{panel['title']}: {p}"
                for p in problems(
                    target["expr"], families, wanted=legend_labels(target.get("legendFormat", ""))
                )
            ]
    assert static == []

    # The rules loaded into Prometheus and evaluate without error.
    def rules_healthy() -> list[dict[str, Any]]:
        loaded = [r for g in prometheus.api("rules")["groups"] for r in g["rules"]]
        return loaded if len(loaded) == len(alerts()) and all(r.get("health") == "ok" for r in loaded) else []

    wait_for(rules_healthy, "every rule loaded and evaluated ok")

    checks: list[tuple[str, str, set[str]]] = []  # (what, expr, labels every series must carry)
    for rule in alerts():
        split = split_comparison(rule["expr"])
        signal = split[0] if split else rule["expr"]
        checks.append((f"alert {rule['alert']}", signal, annotation_labels(rule["annotations"])))
        if split and selectors(split[2]):
            checks.append((f"alert {rule['alert']} (threshold)", split[2], set()))
    for panel in panels():
        for target in panel["targets"]:
            checks.append(
                (
                    f"panel {panel['title']} {target['refId']}",
                    dashboard_expr(target["expr"]),
                    legend_labels(target.get("legendFormat", "")),
                )
            )
    for what, expr, _labels in list(checks):
        for selector in selectors(expr):
            checks.append((f"{what}: selector", selector.text, set()))

    def failures() -> list[str]:
        found = []
        for what, expr, labels in checks:
            series = prometheus.query(expr)
            if not series:
                found.append(f"{what}: no data for {expr}")
            for item in series:
                missing = {label for label in labels if not item["metric"].get(label)}
                if missing:
                    found.append(f"{what}: series {item['metric']} lacks {sorted(missing)}")
        return found

    wait_for(
        lambda: not failures(),
        "every alert expression and panel query returning data",
        report=failures,
        timeout=60,
    )

    # What this scenario must trip, and must not.
    by_name = {rule["alert"]: rule for rule in alerts()}
    expected = {"AimsourceSourceFailed": failing, "AimsourceRegistryErrors": failing_host}

    def culprits(name: str) -> set[str]:
        return {item["metric"][TRIPPED[name]] for item in prometheus.query(by_name[name]["expr"])}

    for name, culprit in expected.items():
        # Any series made the expressions above return data; the culprit's own series may need
        # another scrape before its rate exists (a rate needs two samples of its counter).
        wait_for(
            lambda name=name, culprit=culprit: culprit in culprits(name),
            f"{name} to name {culprit}",
            report=lambda name=name: [str(culprits(name))],
        )
        assert healthy not in culprits(name)
        assert front_host not in culprits(name)
    for name in QUIET:  # (the cluster is shared: only this test's sources count)
        series = prometheus.query(by_name[name]["expr"])
        ours = [item for item in series if item["metric"].get("source") in (None, healthy, failing)]
        assert ours == [], name
    # The failing source shows in the "Sources not Ready" table, the healthy one does not.
    (not_ready,) = [p for p in panels() if p["title"] == "Sources not Ready"]
    table = prometheus.query(dashboard_expr(not_ready["targets"][0]["expr"]))
    rows = {item["metric"]["source"] for item in table}
    assert failing in rows
    assert healthy not in rows
    # The throttling front shows as rate-limit waits and quota on its host.
    waits = prometheus.query(f'aimsource_registry_ratelimit_waits_total{{host="{front_host}"}}')
    assert waits
    assert float(waits[0]["value"][1]) >= 2
    remaining = prometheus.query(f'aimsource_registry_ratelimit_remaining{{host="{front_host}"}}')
    assert remaining
    assert float(remaining[0]["value"][1]) == 76
    quota = prometheus.query(f'aimsource_registry_ratelimit_limit{{host="{front_host}"}}')
    assert quota
    assert float(quota[0]["value"][1]) == 100


def wait_for(predicate: Any, what: str, *, report: Any = None, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            detail = "\n".join(report()) if report is not None else ""
            raise AssertionError(f"timed out waiting for {what}\n{detail}")
        time.sleep(1)
