"""A source whose status another controller writes: the sync stands down, says so once, and takes
the source back after the window. Against the emulated API server, as in test_reconciler.py.

The emulator keeps no managedFields, so the watched object is given the entries a real API server
records (tests/realkube/test_competing_controller.py plays the same story on a real one).
"""

from __future__ import annotations

import datetime
from typing import Any

from aimsource.operator.coexistence.contests import Contests
from tests.operator.reconciler_harness import MODELS, SOURCES, Harness, new_source

AIM = "aim-cluster-model-source-controller"


def stamp(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def deliver(h: Harness, *writers: tuple[str, float]) -> None:
    """The watch delivers the stored source with a status write recorded for each (manager, time)."""
    h.watch()
    body: dict[str, Any] = h.api.get(SOURCES, "src")
    body["metadata"]["managedFields"] = [
        {
            "manager": "kubectl-create",
            "operation": "Update",
            "time": stamp(h.clock.now - 7200),
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:spec": {}},
        },
        *(
            {
                "manager": manager,
                "operation": "Update",
                "subresource": "status",
                "time": stamp(when),
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:status": {"f:status": {}}},
            }
            for manager, when in writers
        ),
    ]
    h.reconciler.on_source_event("MODIFIED", body)


def competing_events(h: Harness) -> list[dict[str, Any]]:
    return [e for e in h.api.list("events", namespace="default") if e["reason"] == "CompetingController"]


def contested_gauge(h: Harness) -> float:
    value = h.metrics.registry.get_sample_value("aimsource_sources_contested")
    assert value is not None
    return value


async def test_a_contested_source_gets_no_listing_no_models_no_status_and_one_warning(h: Harness) -> None:
    new_source(h.api, {"images": ["reg.example.com/org/model"], "syncInterval": "1m"})
    deliver(h, (AIM, h.clock.now + 50))  # h.sync() moves the clock 60 s on: 10 s before the sync
    await h.sync()
    assert h.status_writes() == []
    assert h.api.count("create", MODELS) == 0
    assert h.lister.calls == []
    events = competing_events(h)
    assert len(events) == 1
    assert events[0]["type"] == "Warning"
    assert f'"{AIM}"' in events[0]["message"]
    assert events[0]["involvedObject"]["name"] == "src"
    assert contested_gauge(h) == 1
    # Later syncs of the same contest stay silent.
    deliver(h, (AIM, h.clock.now + 30))
    await h.sync()
    await h.sync()
    assert h.status_writes() == []
    assert h.lister.calls == []
    assert len(competing_events(h)) == 1


async def test_the_source_is_synced_again_once_the_other_controller_stopped_for_the_window(
    h: Harness,
) -> None:
    new_source(h.api, {"images": ["reg.example.com/org/model"], "syncInterval": "1m"})
    last_write = h.clock.now + 60 - 580  # 580 s before the sync: its claim lapses 20 s after it
    deliver(h, (AIM, last_write))
    await h.sync()
    assert h.lister.calls == []
    # Checked again when the claim lapses (window: the 10 min floor > 2 x 1m), before the interval.
    h.reconciler.on_source_event("MODIFIED", h.reconciler.table["src"].body)
    assert h.reconciler.queue.due("src") == last_write + 600
    h.clock.now = last_write + 600  # h.sync() adds 60 s: past the window
    await h.sync()
    assert h.lister.count("list") == 1
    assert h.api.count("create", MODELS) == 2
    assert h.status_writes()
    assert h.api.get(SOURCES, "src")["status"]["status"] == "Ready"
    assert contested_gauge(h) == 0
    assert len(competing_events(h)) == 1


async def test_our_own_status_writes_never_make_us_stand_down(h: Harness) -> None:
    new_source(h.api)
    deliver(h, ("aimsource", h.clock.now + 55))
    await h.sync()
    assert h.api.count("create", MODELS) == 2
    assert h.api.get(SOURCES, "src")["status"]["status"] == "Ready"
    assert competing_events(h) == []
    assert contested_gauge(h) == 0


async def test_contending_syncs_as_before(h: Harness) -> None:
    h.reconciler.contests = Contests(
        ours="aimsource", window=600.0, enabled=False, on_count=h.metrics.set_contested
    )
    new_source(h.api)
    deliver(h, (AIM, h.clock.now + 55))
    await h.sync()
    assert h.api.count("create", MODELS) == 2
    assert h.api.get(SOURCES, "src")["status"]["status"] == "Ready"
    assert competing_events(h) == []


async def test_a_controller_that_appears_during_the_sync_gets_no_status_from_it(h: Harness) -> None:
    new_source(h.api, {"images": ["reg.example.com/org/model"]})
    h.watch()
    original = h.lister.list_tags

    async def listing(*args: Any, **kwargs: Any) -> Any:
        # AIM's controller writes the status while we list; the watch delivers it at once.
        deliver(h, (AIM, h.clock.now))
        return await original(*args, **kwargs)

    h.lister.list_tags = listing  # type: ignore[method-assign]
    await h.sync()
    # Pending was written before the listing; nothing after it.
    assert h.status_writes() == ["patch"]
    assert h.api.get(SOURCES, "src")["status"]["status"] == "Pending"
    assert len(competing_events(h)) == 1
    assert contested_gauge(h) == 1
    await h.sync()
    assert len(competing_events(h)) == 1


async def test_a_new_competitor_on_the_watch_is_handled_at_once_a_known_one_is_not(h: Harness) -> None:
    new_source(h.api, {"images": ["reg.example.com/org/model"], "syncInterval": "1m"})
    h.watch()
    await h.sync()
    assert h.api.get(SOURCES, "src")["status"]["status"] == "Ready"
    # AIM's controller writes the status (and its lastSyncTime, which would push the interval back).
    h.clock.now += 5
    deliver(h, (AIM, h.clock.now))
    assert h.reconciler.queue.due("src") == h.clock.now
    assert h.reconciler.why["src"] == "another controller writes the status"
    await h.reconciler.sync_one("src")
    assert len(competing_events(h)) == 1
    # Its next write is the same contest: scheduled as usual, not at once.
    h.clock.now += 5
    deliver(h, (AIM, h.clock.now))
    assert h.reconciler.queue.due("src") > h.clock.now
