"""A source paused with AMD's annotation `aim.eai.amd.com/reconciliation-paused: "true"`, end to end on
both backends: created paused, it lists nothing (the registry's own access log shows no request of
the operator), creates nothing and says so in its status; a push to its repository, notified by the
registry itself, creates nothing; removing the annotation syncs it at once, not after its 24 h
interval. The time from the removal to the models is printed (a figure, not a target)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.e2e.cluster import Cluster
from tests.e2e.operator_process import running_operator
from tests.e2e.scenario import SOURCES, models_of, source, wait_synced, webhook
from tests.support.registry_server import RunningRegistry, start_registry

PAUSED = "aim.eai.amd.com/reconciliation-paused"
OPERATOR_AGENT = "aimsource-registry/"


def paused_condition(cluster: Cluster, name: str) -> dict[str, Any] | None:
    st = (cluster.find(SOURCES, name) or {}).get("status") or {}
    return next((c for c in st.get("conditions") or [] if c.get("type") == "Paused"), None)


def operator_requests(registry: RunningRegistry, repository: str) -> list[str]:
    """The registry's access-log lines of requests the operator made for `repository`."""
    return [
        line
        for line in registry.log_text().splitlines()
        if OPERATOR_AGENT in line and f"/v2/{repository}/" in line
    ]


def test_a_paused_source_syncs_nothing_until_the_annotation_goes(
    cluster: Cluster, kubeconfig: Path, tmp_path: Path, unique: str
) -> None:
    token, port = webhook(cluster)
    repository = "amd/paused"
    with (
        running_operator(kubeconfig, tmp_path, extra=("--webhook-port", str(port))) as op,
        start_registry(notify_url=f"http://127.0.0.1:{port}/hooks/distribution/{token}") as registry,
    ):
        with registry.pusher() as pusher:
            pusher.push_image(repository, ["1.0.0"])
        body = source(unique, images=[f"{registry.host}/{repository}"], interval="24h", max_models=10)
        body["metadata"]["annotations"] = {PAUSED: "true"}
        cluster.create(SOURCES, body)

        shown = op.wait(lambda: paused_condition(cluster, unique), timeout=20, message="the Paused condition")
        assert (shown["status"], shown["reason"]) == ("True", "ReconciliationPaused")
        assert f"kubectl annotate aimclsrc {unique} {PAUSED}-" in shown["message"]
        st = cluster.get(SOURCES, unique)["status"]
        assert st["status"] == "Pending"
        assert "observedGeneration" not in st  # no generation was synced
        assert op.metric("aimsource_source_paused", source=unique) == 1

        # A push to its repository, notified by the registry: received, and ignored for this source.
        accepted = op.metric("aimsource_webhook_requests_total", provider="distribution", outcome="accepted")
        with registry.pusher() as pusher:
            pusher.push_image(repository, ["1.1.0"])
        op.wait(
            lambda: (
                op.metric("aimsource_webhook_requests_total", provider="distribution", outcome="accepted")
                > accepted
            ),
            timeout=15,
            message="the registry's notification of the push",
        )
        op.wait(lambda: "push ignored: source paused" in op.log_text(), timeout=5, message="the push ignored")
        time.sleep(1.0)  # what a push would have set off (one HEAD and a create) takes well under this
        assert models_of(cluster, unique) == {}
        assert operator_requests(registry, repository) == []
        assert paused_condition(cluster, unique) == shown  # written once: watch events wrote nothing more

        resumed_at = time.monotonic()
        cluster.patch(SOURCES, unique, {"metadata": {"annotations": {PAUSED: None}}})
        # Its interval is 24 h: models within the wait mean the resume synced it at once.
        op.wait(
            lambda: len(models_of(cluster, unique)) == 2, timeout=30, message="the models after the resume"
        )
        latency = time.monotonic() - resumed_at
        print(f"\n[{cluster.name}] resume -> both models: {latency * 1000:.0f} ms")

        st = wait_synced(cluster, op, unique, state="Ready")
        assert paused_condition(cluster, unique) is None
        assert sorted(models_of(cluster, unique).values()) == [
            f"{registry.host}/{repository}:1.0.0",
            f"{registry.host}/{repository}:1.1.0",
        ]
        assert operator_requests(registry, repository) != []  # listed only once resumed
        assert op.metric("aimsource_source_paused", source=unique) == 0
