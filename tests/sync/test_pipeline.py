"""Check and create as one step: `sync/pipeline.py`, through `sync_source` over the ports' doubles.

The refusals, conflicts and the stop after server errors are in `test_engine.py` (unchanged by the
pipeline); a 2,000-image first sync on the real control plane is in `tests/realkube/test_fair_share.py`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from aimsource.registry.http.fairness import asker
from aimsource.sync.engine import Pace, Tally, sync_source
from tests.sync.doubles import DictSecrets, MemoryStore, RecordingLister, source

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
REPO = "docker.io/amdenterpriseai/aim-qwen-qwen3-32b"
TAGS = [f"1.{i}.0" for i in range(40)]


class SlowLister(RecordingLister):
    """Each HEAD takes `delay` seconds; records how many run at once and who asked."""

    def __init__(self, delay: float, **kw) -> None:
        super().__init__(**kw)
        self.delay = delay
        self.in_flight = 0
        self.most = 0
        self.askers: set[tuple[str, str]] = set()

    async def manifest_digest(self, ref, *, credential, **kw):
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        self.askers.add(asker())
        try:
            await asyncio.sleep(self.delay)
            return await super().manifest_digest(ref, credential=credential, **kw)
        finally:
            self.in_flight -= 1


class WatchedStore(MemoryStore):
    """Notes when each create happens, and how many run at once."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.delay = delay
        self.times: list[float] = []
        self.in_flight = 0
        self.most = 0

    async def create(self, body):
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            self.times.append(asyncio.get_running_loop().time())
            return await super().create(body)
        finally:
            self.in_flight -= 1


async def run(lister, store, *, name="src", pace=None, tally=None):
    return await sync_source(
        source({"images": [REPO.removeprefix("docker.io/")]}, name=name),
        lister=lister,
        store=store,
        secrets=DictSecrets(),
        now=NOW,
        previous=None,
        pace=pace,
        tally=tally,
    )


@pytest.mark.looptime
async def test_models_appear_as_they_are_checked_with_bounded_checks_in_flight() -> None:
    loop = asyncio.get_running_loop()
    lister = SlowLister(1.0, tags={REPO: TAGS})
    store = WatchedStore()
    tally = Tally()
    started = loop.time()
    result = await run(lister, store, pace=Pace(concurrency=4), tally=tally)
    assert len(result.created) == 40
    assert lister.most == 4  # never more than the pace's checks waiting on the registry
    assert store.times[0] - started == pytest.approx(1.0)  # the first model after one check, not forty
    assert store.times[-1] - started == pytest.approx(10.0)
    assert (tally.total, tally.checked, tally.created, tally.refused) == (40, 40, 40, 0)
    assert result.status["status"] == "Ready"


@pytest.mark.looptime
async def test_the_checks_are_the_sources_party_in_its_selectors_lane() -> None:
    lister = SlowLister(0.1, tags={REPO: TAGS[:3]})
    await run(lister, WatchedStore(), name="big")
    assert lister.askers == {("big", "amdenterpriseai/aim-qwen-qwen3-32b")}


@pytest.mark.looptime
async def test_a_shared_bound_caps_the_creates_in_flight_of_all_syncs_together() -> None:
    shared = asyncio.Semaphore(3)
    stores = [WatchedStore(delay=0.5) for _ in range(2)]
    lister = SlowLister(0.01, tags={REPO: TAGS[:20]})
    most = 0

    async def watch() -> None:
        nonlocal most
        while True:
            most = max(most, sum(s.in_flight for s in stores))
            await asyncio.sleep(0.05)

    watcher = asyncio.create_task(watch())
    results = await asyncio.gather(
        *(
            run(lister, store, name=f"s{i}", pace=Pace(concurrency=8, shared=shared))
            for i, store in enumerate(stores)
        )
    )
    watcher.cancel()
    assert [len(r.created) for r in results] == [20, 20]  # each its own store: no race between them
    assert most == 3


@pytest.mark.looptime
async def test_a_store_failure_mid_pipeline_fails_the_sync_and_stops_the_other_steps() -> None:
    class FailingStore(WatchedStore):
        async def create(self, body):
            if len(self.times) >= 5:
                raise ConnectionError("API unreachable")
            return await super().create(body)

    lister = SlowLister(0.1, tags={REPO: TAGS})
    store = FailingStore()
    with pytest.raises(ConnectionError):
        await run(lister, store)
    await asyncio.sleep(5)
    assert lister.in_flight == 0  # the other workers were cancelled, not left running
    assert len(store.models) <= 8  # the steps in flight when the API went away, no more
