"""The reconciler feeds each source's registry hosts to the queue: a stalled registry's sources hold
only their share of the workers, and a source elsewhere syncs meanwhile.

Real worker pool and emulated Kubernetes API; the registry is a double of the sync's `TagLister`
port whose calls to one host never return (as against a registry that accepts and stays silent).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aimsource.domain.references import ImageRef
from aimsource.kube import KubeClient
from aimsource.operator.metrics import Metrics
from aimsource.operator.scheduling.schedule import Policy
from aimsource.operator.state.index import IndexedModelStore
from aimsource.operator.syncing.reconciler import Reconciler, run_workers
from aimsource.sync.ports import Credential, TagListing
from tests.support.kubeapi import KubeAPI
from tests.sync.doubles import RecordingLister

SOURCES = "aimclustermodelsources"
STALLED, HEALTHY = "stalled.example", "healthy.example"


class StallingLister(RecordingLister):
    """Calls to STALLED never return; the others answer from the table."""

    async def list_tags(
        self, ref: ImageRef, *, credential: Credential | None, credentials: object = None
    ) -> TagListing:
        if ref.registry == STALLED:
            self.calls.append(("list", str(ref), credential))
            await asyncio.Event().wait()
        return await super().list_tags(ref, credential=credential)


def source(name: str, image: str) -> dict[str, Any]:
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMClusterModelSource",
        "metadata": {"name": name},
        "spec": {"images": [image]},
    }


async def test_a_stalled_registry_holds_its_share_and_a_healthy_source_syncs(
    api: KubeAPI, kube: KubeClient
) -> None:
    lister = StallingLister(tags={f"{HEALTHY}/org/good": ["1.0.0"]})
    store = IndexedModelStore(create=kube.create_model, clock=time.monotonic)
    store.bind(by_image={}, by_source={})
    metrics = Metrics()
    reconciler = Reconciler(
        kube=kube,
        lister=lister,
        store=store,
        namespace="aim-system",
        metrics=metrics,
        policy=Policy(startup_spread=0),
        max_syncs_per_host=2,
    )
    for i in range(8):
        body = api.create(SOURCES, source(f"stalled-{i}", f"{STALLED}/org/m{i}"))
        reconciler.on_source_event("ADDED", body)
    pool = asyncio.create_task(run_workers(reconciler, 4))
    try:
        await asyncio.sleep(0.5)
        reconciler.on_source_event("ADDED", api.create(SOURCES, source("healthy", f"{HEALTHY}/org/good")))
        for _ in range(200):  # 10 s at most
            if (api.get(SOURCES, "healthy").get("status") or {}).get("status") == "Ready":
                break
            await asyncio.sleep(0.05)
        assert api.get(SOURCES, "healthy")["status"]["status"] == "Ready"
        assert sorted(c[1] for c in lister.calls if STALLED in c[1]) == [
            f"{STALLED}/org/m0",
            f"{STALLED}/org/m1",
        ]
        assert reconciler.queue.load(STALLED) == 2
        assert reconciler.queue.waiting == 6
        assert metrics.registry.get_sample_value("aimsource_syncs_waiting_for_host_share") == 6
    finally:
        pool.cancel()
        await asyncio.gather(pool, return_exceptions=True)
