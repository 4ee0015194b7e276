"""A flood of pushes of made-up tags, end to end: `aimsource run` as a process, a real registry,
two sources covering the pushed repository and a third on another repository of the same registry.

1,000 pushes arrive over 50 seconds, ten per notification (fewer than the 64 pending pushes past
which a source gets a full sync anyway); each names a tag that does not exist. What the
registry sees is counted by the operator (`aimsource_registry_requests_total`) and printed
(`pytest -s`): the push budgets, the shared HEADs and the memory of missing tags keep it to a few
requests, and the third source's scheduled syncs go on.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from aimsource.operator.scheduling.sources import parse_time
from tests.e2e.cluster import Cluster
from tests.e2e.operator_process import OperatorProcess, running_operator
from tests.e2e.scenario import SOURCES, source, wait_synced, webhook
from tests.support.registry_server import start_registry


def registry_requests(op: OperatorProcess, host: str) -> float:
    total = 0.0
    for line in op.metrics().splitlines():
        if line.startswith("aimsource_registry_requests_total{") and f'host="{host}"' in line:
            total += float(line.rpartition(" ")[2])
    return total


@pytest.mark.timeout(180)  # a minute of pushes and their aftermath, after three sources settle
@pytest.mark.emulator_only  # it counts registry requests; which API server the operator uses does not matter
def test_a_thousand_pushes_of_made_up_tags_cost_a_few_requests(
    cluster: Cluster, kubeconfig: Path, tmp_path: Path, unique: str
) -> None:
    token, port = webhook(cluster)
    with (
        running_operator(
            kubeconfig, tmp_path, extra=("--webhook-port", str(port), "--min-sync-interval", "30s")
        ) as op,
        start_registry() as registry,
    ):
        with registry.pusher() as pusher:
            pusher.push_image("amd/llama", ["1.0.0"])
            pusher.push_image("amd/other", ["1.0.0"])
        image = f"{registry.host}/amd/llama"
        for name in (f"{unique}-a", f"{unique}-b"):
            cluster.create(SOURCES, source(name, images=[image], interval="24h", max_models=100))
        cluster.create(
            SOURCES,
            source(f"{unique}-c", images=[f"{registry.host}/amd/other"], interval="1m", max_models=100),
        )
        for name in ("a", "b", "c"):
            wait_synced(cluster, op, f"{unique}-{name}", state="Ready")
        first_c = cluster.get(SOURCES, f"{unique}-c")["status"]["lastSyncTime"]
        time.sleep(2.0)  # the syncs' requests are counted
        before = registry_requests(op, registry.host)

        started = time.monotonic()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            for batch in range(100):
                events = [
                    {
                        "action": "push",
                        "target": {
                            "repository": "amd/llama",
                            "tag": f"9.{batch}.{i}",
                            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                            "digest": "sha256:" + "0" * 64,
                        },
                        "request": {"host": registry.host},
                    }
                    for i in range(10)
                ]
                answer = client.post(f"/hooks/distribution/{token}", json={"events": events})
                assert answer.status_code == 202, answer.text
                time.sleep(max(0.0, started + 0.5 * (batch + 1) - time.monotonic()))
        spent = registry_requests(op, registry.host) - before
        flood = time.monotonic() - started
        decided = sum(
            op.metric("aimsource_push_syncs_total", result=r) for r in ("created", "nothing", "full")
        )
        c_next = wait_synced(cluster, op, f"{unique}-c", after=first_c, timeout=60)["lastSyncTime"]
        gap = (parse_time(c_next) or 0.0) - (parse_time(first_c) or 0.0)
        print(
            f"\n1,000 pushes of made-up tags over {flood:.0f} s (10 a notification) to a repository 2"
            f" sources cover: {spent:.0f} registry requests meanwhile (the third source's included);"
            f" {decided:.0f} push decisions; the third source (1m) synced again {gap:.0f} s after"
        )
        # Per covering source: its HEAD budget (6 a minute, burst 6), one full sync per minimum
        # interval (30 s) of a couple of requests; the HEADs of one tag are shared. Without the
        # bounds it was one HEAD per push and source: 2,000.
        assert spent <= 2 * (2 * 6 + 2 * 2) + 4
        assert gap <= 60 + 15  # its interval and jitter: the pushes did not delay it
        assert op.running
