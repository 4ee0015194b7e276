"""The model watch on the emulated API server: it keeps the index current from the start-up list,
and a version too old makes it list again (which removes what was deleted meanwhile)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from aimsource.kube import KubeClient, load_kube_config
from aimsource.operator.state.inventory import ModelInventory
from aimsource.operator.state.model_watch import ModelWatch
from aimsource.operator.state.resync import Resync
from tests.kube.test_client import model
from tests.support.kubeapi import KubeAPI


class Sources:
    """The reconciler's side of a source re-list, which these tests do not look at."""

    def begin_source_listing(self) -> None:
        pass

    def finish_source_listing(self, listed: Mapping[str, Mapping[str, Any]] | None) -> int:
        return 0


class Running:
    def __init__(self, kube: KubeClient) -> None:
        self.inventory = ModelInventory()
        self.events: list[str] = []
        self.resync = Resync(
            kube=kube,
            inventory=self.inventory,
            sources=Sources(),
            on_models_changed=lambda: None,
            interval=3600,
            crd_wait=5,
            page_size=2,
        )
        self.watch = ModelWatch(kube=kube, resync=self.resync, on_event=self.event)

    def event(self, kind: str, body: Mapping[str, Any]) -> None:
        self.events.append(f"{kind} {body['metadata']['name']}")
        self.inventory.apply(body, deleted=kind == "DELETED")


@pytest.fixture
async def running(kubeconfig: Path, tmp_path: Path) -> AsyncIterator[Running]:
    config = load_kube_config(environ={"KUBECONFIG": str(kubeconfig)}, service_account_dir=tmp_path / "no-sa")
    async with KubeClient(config) as kube:
        yield Running(kube)


@contextlib.asynccontextmanager
async def watching(state: Running) -> AsyncIterator[None]:
    task = asyncio.create_task(state.watch.run())
    try:
        await asyncio.wait_for(state.watch.watching.wait(), 10)
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def until(check: Callable[[], bool], what: str) -> None:
    for _ in range(500):  # 10 s
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"waited 10 s for {what}")


async def test_the_index_follows_creates_and_deletes_after_the_start_up_list(
    kube_api: KubeAPI, running: Running
) -> None:
    kube_api.create("aimclustermodels", model("old", image="org/img:0.9.0"))
    await running.resync.initial()
    assert set(running.inventory.names()) == {"old"}
    async with watching(running):
        kube_api.create("aimclustermodels", model("new", image="org/img:1.0.0"))
        kube_api.delete("aimclustermodels", "old")
        await until(lambda: set(running.inventory.names()) == {"new"}, "the index to follow the watch")
    assert running.events == ["ADDED new", "DELETED old"]  # nothing of the start-up list again
    assert set(running.inventory.by_image) == {"docker.io/org/img:1.0.0"}
    assert running.watch.expired == 0


async def test_an_expired_version_lists_again_and_forgets_what_was_deleted(
    kube_api: KubeAPI, running: Running
) -> None:
    kube_api.create("aimclustermodels", model("gone"))
    await running.resync.initial()
    kube_api.store.max_log = 2
    kube_api.delete("aimclustermodels", "gone")  # while nobody watched, and past what the server keeps
    for i in range(4):
        kube_api.create("aimclustermodels", model(f"m{i}", image=f"org/img:1.{i}.0"))
    async with watching(running):
        await until(lambda: running.watch.expired == 1, "the watch to expire")
        await until(lambda: set(running.inventory.names()) == {"m0", "m1", "m2", "m3"}, "a new list")
        assert running.resync.reconciles == 2  # the start-up list, and the one after the 410
        kube_api.create("aimclustermodels", model("later", image="org/img:2.0.0"))
        await until(lambda: "later" in running.inventory, "the watch from the new list")
    assert running.events == ["ADDED later"]
