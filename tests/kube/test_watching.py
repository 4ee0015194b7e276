"""Watch streams: on the emulated API server (events, bookmarks, 410), and on a server that sends
what no API server should (a line too long, a line that is not JSON, an unknown event)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from aimsource.kube import KubeClient, KubeConfig, KubeError, WatchEvent, WatchExpired
from aimsource.kube.watching import MAX_EVENT
from tests.kube.test_client import MODELS, model
from tests.support.kubeapi import KubeAPI


async def listed_version(kube: KubeClient) -> str:
    versions: list[str] = []
    async for _ in kube.list_pages(MODELS, on_version=versions.append):
        pass
    assert versions, "the list reported no resourceVersion"
    assert len(set(versions)) == 1, f"the pages of one list disagree: {versions}"
    return versions[0]


async def take(events: AsyncIterator[WatchEvent], count: int) -> list[WatchEvent]:
    got: list[WatchEvent] = []
    async with asyncio.timeout(10):
        async for event in events:
            got.append(event)
            if len(got) == count:
                break
    return got


async def test_a_watch_from_a_list_sees_what_changed_after_it(
    kube_api: KubeAPI, kube_client: KubeClient
) -> None:
    kube_api.create("aimclustermodels", model("before"))
    kube_api.create("aimclustermodels", model("other"))
    kube_api.create("aimclustermodels", model("third"))  # the list takes two pages (page_size 2)
    version = await listed_version(kube_client)
    opened = asyncio.Event()
    events = kube_client.watch(MODELS, version, on_open=opened.set)
    reader = asyncio.ensure_future(take(events, 3))
    await asyncio.wait_for(opened.wait(), 10)
    kube_api.create("aimclustermodels", model("after", image="org/img:2.0.0"))
    kube_api.patch("aimclustermodels", "before", {"metadata": {"labels": {"x": "y"}}})
    kube_api.delete("aimclustermodels", "other")
    got = await reader
    assert [(e.type, e.object["metadata"]["name"]) for e in got] == [
        ("ADDED", "after"),
        ("MODIFIED", "before"),
        ("DELETED", "other"),
    ]
    assert got[0].object["spec"]["image"] == "org/img:2.0.0"
    versions = [int(e.resource_version or 0) for e in got]
    assert versions == sorted(versions)
    assert versions[0] > int(version)


async def test_a_version_the_server_no_longer_keeps_is_expired(
    kube_api: KubeAPI, kube_client: KubeClient
) -> None:
    version = await listed_version(kube_client)
    kube_api.store.max_log = 2
    for i in range(5):
        kube_api.create("aimclustermodels", model(f"m{i}"))
    with pytest.raises(WatchExpired, match="410"):
        await take(kube_client.watch(MODELS, version), 1)


# --- a server that breaks the protocol -------------------------------------------------------------


async def serving(lines: list[bytes]) -> tuple[web.AppRunner, str]:
    async def watch(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for line in lines:
            await response.write(line)
        return response

    app = web.Application()
    app.router.add_get(MODELS, watch)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


async def events_from(lines: list[bytes]) -> list[WatchEvent]:
    runner, url = await serving(lines)
    try:
        async with KubeClient(KubeConfig(server=url)) as kube:
            return await take(kube.watch(MODELS, "1"), 100)
    finally:
        await runner.cleanup()


def event(kind: str, obj: dict[str, Any]) -> bytes:
    import json

    return json.dumps({"type": kind, "object": obj}).encode() + b"\n"


async def test_events_split_across_chunks_and_bookmarks_are_read() -> None:
    added = event("ADDED", model("m1") | {"metadata": {"name": "m1", "resourceVersion": "7"}})
    bookmark = event("BOOKMARK", {"metadata": {"resourceVersion": "9"}})
    got = await events_from([added[:10], added[10:] + bookmark[:5], bookmark[5:], b"\n"])
    assert [(e.type, e.resource_version) for e in got] == [("ADDED", "7"), ("BOOKMARK", "9")]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([b"x" * (MAX_EVENT + 1)], "a line of over"),
        ([b"{not json\n"], "not JSON"),
        ([event("SURPRISE", {"metadata": {}})], "unknown type 'SURPRISE'"),
        ([b'{"type": "ADDED", "object": 3}\n'], "without an object"),
        ([event("ERROR", {"kind": "Status", "code": 500, "reason": "InternalError"})], "500 InternalError"),
    ],
)
async def test_a_stream_that_is_not_a_watch_fails_naming_why(lines: list[bytes], message: str) -> None:
    with pytest.raises(KubeError, match=message) as raised:
        await events_from(lines)
    assert not isinstance(raised.value, WatchExpired)


async def test_an_expired_event_in_the_stream_is_expired() -> None:
    expired = {"kind": "Status", "code": 410, "reason": "Expired", "message": "too old resource version"}
    with pytest.raises(WatchExpired, match="too old resource version"):
        await events_from([event("ERROR", expired)])
