"""Watch streams on the real kube-apiserver: from a list's resourceVersion, our client sees what
changed after it, in order; a version older than the server's watch cache is `WatchExpired`."""

from __future__ import annotations

import asyncio

import pytest

from aimsource.kube import KubeClient, WatchEvent, WatchExpired
from tests.realkube.test_client import model
from tests.support.realkube import RealKube
from tests.support.realkube_fixtures import MODELS


async def test_a_watch_from_a_list_sees_what_changed_after_it(
    real_kube: RealKube, kube_client: KubeClient, run_id: str, cleanup_cluster_objects: str
) -> None:
    kept, doomed, new = f"kept-{run_id}", f"doomed-{run_id}", f"new-{run_id}"
    for name in (kept, doomed):
        real_kube.ok("POST", MODELS, model(name, run_id))
    versions: list[str] = []
    async for _ in kube_client.list_pages(MODELS, on_version=versions.append):
        pass
    assert versions, "the list reported no resourceVersion"
    assert len(set(versions)) == 1, f"the pages of one list disagree: {versions}"
    opened = asyncio.Event()
    ours: list[WatchEvent] = []

    async def read() -> None:
        async for event in kube_client.watch(MODELS, versions[0], on_open=opened.set):
            if event.object["metadata"].get("name") in (kept, doomed, new):  # other tests share the server
                ours.append(event)
                if len(ours) == 3:
                    return

    reader = asyncio.ensure_future(read())
    await asyncio.wait_for(opened.wait(), 10)
    await asyncio.to_thread(real_kube.ok, "POST", MODELS, model(new, run_id, image="org/img:2.0.0"))
    await asyncio.to_thread(
        real_kube.ok,
        "PATCH",
        f"{MODELS}/{kept}",
        {"metadata": {"labels": {"x": "y"}}},
        content_type="application/merge-patch+json",
    )
    await asyncio.to_thread(real_kube.ok, "DELETE", f"{MODELS}/{doomed}")
    await asyncio.wait_for(reader, 20)
    assert [(e.type, e.object["metadata"]["name"]) for e in ours] == [
        ("ADDED", new),
        ("MODIFIED", kept),
        ("DELETED", doomed),
    ]
    assert ours[0].object["spec"]["image"] == "org/img:2.0.0"
    numbers = [int(e.resource_version or 0) for e in ours]
    assert numbers == sorted(numbers)
    assert numbers[0] > int(versions[0])


async def test_a_version_older_than_the_watch_cache_is_expired(
    real_kube_crds: RealKube, kube_client: KubeClient
) -> None:
    """Our CRDs were made long after revision 1, so the server keeps no history that old."""

    async def drain() -> None:
        async for _ in kube_client.watch(MODELS, "1"):
            pass

    with pytest.raises(WatchExpired, match="410"):
        await asyncio.wait_for(drain(), 20)
