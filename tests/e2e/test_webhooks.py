"""Push events end to end: Debian's docker-registry notifies `aimsource run` of a push (its
`notifications.endpoints` pointing at the webhook), and the model appears without waiting for the
source's 24 h interval, made with one manifest HEAD and no listing."""

from __future__ import annotations

import time
from pathlib import Path

from tests.e2e.cluster import Cluster
from tests.e2e.operator_process import running_operator
from tests.e2e.scenario import SOURCES, models_of, source, wait_synced, webhook
from tests.support.registry_server import start_registry


def test_a_push_notified_by_the_registry_becomes_a_model_at_once(
    cluster: Cluster, kubeconfig: Path, tmp_path: Path, unique: str
) -> None:
    token, port = webhook(cluster)
    with (
        running_operator(kubeconfig, tmp_path, extra=("--webhook-port", str(port))) as op,
        start_registry(notify_url=f"http://127.0.0.1:{port}/hooks/distribution/{token}") as registry,
    ):
        repository = "amd/llama"
        with registry.pusher() as pusher:
            pusher.push_image(repository, ["1.0.0"])
        cluster.create(
            SOURCES, source(unique, images=[f"{registry.host}/{repository}"], interval="24h", max_models=10)
        )
        first = wait_synced(cluster, op, unique, state="Ready")
        assert first["availableModels"] == 1
        listings = op.metric("aimsource_registry_requests_total", host=registry.host, code="200")

        pushed_at = time.monotonic()
        with registry.pusher() as pusher:
            pusher.push_image(repository, ["1.1.0"])
        op.wait(lambda: len(models_of(cluster, unique)) == 2, timeout=10, message="the pushed tag's model")
        latency = time.monotonic() - pushed_at

        images = sorted(models_of(cluster, unique).values())
        assert images == [f"{registry.host}/{repository}:1.0.0", f"{registry.host}/{repository}:1.1.0"]
        assert latency < 10
        assert op.metric("aimsource_push_syncs_total", result="created") == 1
        assert op.metric("aimsource_webhook_requests_total", provider="distribution", outcome="accepted") >= 1
        # One HEAD for the pushed tag, no listing: the registry saw one more answered request.
        requests = op.metric("aimsource_registry_requests_total", host=registry.host, code="200") - listings
        assert requests == 1
        after = cluster.get(SOURCES, unique)["status"]
        assert (after["availableModels"], after["discoveredModels"]) == (2, 2)
        assert after["lastSyncTime"] == first["lastSyncTime"]
        assert token not in op.log_text()
        assert "POST /hooks" not in op.log_text()


def test_a_wrong_token_from_the_registry_triggers_nothing(
    cluster: Cluster, kubeconfig: Path, tmp_path: Path, unique: str
) -> None:
    _, port = webhook(cluster, "the-right-token")
    with (
        running_operator(kubeconfig, tmp_path, extra=("--webhook-port", str(port))) as op,
        start_registry(notify_url=f"http://127.0.0.1:{port}/hooks/distribution/the-wrong-token") as registry,
    ):
        with registry.pusher() as pusher:
            pusher.push_image("amd/llama", ["1.0.0"])
        cluster.create(SOURCES, source(unique, images=[f"{registry.host}/amd/llama"], interval="24h"))
        wait_synced(cluster, op, unique, state="Ready")
        with registry.pusher() as pusher:
            pusher.push_image("amd/llama", ["1.1.0"])
        op.wait(
            lambda: (
                op.metric("aimsource_webhook_requests_total", provider="distribution", outcome="unauthorized")
                >= 1
            ),
            timeout=10,
            message="a refused notification",
        )
        assert len(models_of(cluster, unique)) == 1
        assert "the-wrong-token" not in op.log_text()
