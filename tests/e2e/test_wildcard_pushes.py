"""Pushes to repositories a wildcard matches, end to end: Debian's docker-registry notifies
`aimsource run`, and the pushed tag - in a repository the source knows, or in one it has never
seen - becomes a model with one manifest HEAD, no catalog walk and no listing; the status counts
the new repository as the next walk would."""

from __future__ import annotations

import time
from pathlib import Path

from tests.e2e.cluster import Cluster
from tests.e2e.operator_process import running_operator
from tests.e2e.scenario import SOURCES, models_of, source, wait_synced, webhook
from tests.support.registry_server import start_registry


def test_a_push_to_a_repository_a_wildcard_matches_is_a_model_at_once(
    cluster: Cluster, kubeconfig: Path, tmp_path: Path, unique: str
) -> None:
    token, port = webhook(cluster)
    with (
        running_operator(kubeconfig, tmp_path, extra=("--webhook-port", str(port))) as op,
        start_registry(notify_url=f"http://127.0.0.1:{port}/hooks/distribution/{token}") as registry,
    ):
        with registry.pusher() as pusher:
            pusher.push_image("team/aim-llama", ["1.0.0"])
            pusher.push_image("team/aim-qwen", ["1.0.0"])
            pusher.push_image("team/other", ["1.0.0"])
        wildcard = {"image": f"{registry.host}/team/aim-*", "versions": [">=1.0.0"]}
        cluster.create(SOURCES, source(unique, filters=[wildcard], interval="24h", max_models=10))
        first = wait_synced(cluster, op, unique, state="Ready")
        assert first["selectors"][0]["repositories"] == {"seen": 3, "matched": 2, "excluded": 0}
        assert first["discoveredModels"] == 2
        before = op.metric("aimsource_registry_requests_total", host=registry.host, code="200")

        pushed_at = time.monotonic()
        with registry.pusher() as pusher:
            pusher.push_image("team/aim-mistral", ["1.0.0"])  # a repository the source never saw
        op.wait(
            lambda: len(models_of(cluster, unique)) == 3, timeout=10, message="the new repository's model"
        )
        latency = time.monotonic() - pushed_at
        with registry.pusher() as pusher:
            pusher.push_image("team/aim-llama", ["1.1.0"])  # a repository it knows
            pusher.push_image("team/other", ["2.0.0"])  # one its pattern does not match
        op.wait(
            lambda: len(models_of(cluster, unique)) == 4, timeout=10, message="the known repository's model"
        )

        assert sorted(models_of(cluster, unique).values()) == [
            f"{registry.host}/team/aim-llama:1.0.0",
            f"{registry.host}/team/aim-llama:1.1.0",
            f"{registry.host}/team/aim-mistral:1.0.0",
            f"{registry.host}/team/aim-qwen:1.0.0",
        ]
        assert op.metric("aimsource_push_syncs_total", result="created") == 2
        # One HEAD per pushed tag the wildcard covers; no catalog page, no tags page.
        after = op.metric("aimsource_registry_requests_total", host=registry.host, code="200")
        assert after - before == 2
        status = cluster.get(SOURCES, unique)["status"]
        assert status["selectors"][0]["repositories"] == {"seen": 4, "matched": 3, "excluded": 0}
        assert status["selectors"][0]["message"].startswith("matched 3 of 4 repositories")
        assert (status["availableModels"], status["discoveredModels"]) == (4, 4)
        assert status["lastSyncTime"] == first["lastSyncTime"]
        print(f"\nwildcard push -> model in {latency:.2f} s")
