"""A long sync shows its progress: `operator/syncing/progress.py` through the reconciler, on the
emulated API server (real HTTP), with shortened timings (first patch after 0.3 s, then every 0.5 s).

The Progressing condition of a 2,000-image first sync on the real control plane is in
`tests/realkube/test_fair_share.py`."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from aimsource.operator.syncing import progress
from tests.operator.reconciler_harness import REPO, SOURCES, Harness, new_source
from tests.sync.doubles import RecordingLister

TAGS = [f"1.{i}.0" for i in range(160)]


class SlowLister(RecordingLister):
    async def manifest_digest(self, ref, *, credential, **kw):
        await asyncio.sleep(0.05)
        return await super().manifest_digest(ref, credential=credential, **kw)


async def test_a_long_sync_shows_a_progressing_condition_and_metric_then_its_result(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress, "FIRST_AFTER", 0.3)
    monkeypatch.setattr(progress, "EVERY", 0.5)
    monkeypatch.setattr(progress, "TICK", 0.1)
    h.lister = h.reconciler._lister = SlowLister(tags={REPO: TAGS})
    new_source(h.api, {"images": [REPO], "maxModels": 1000})
    h.watch()
    seen: list[dict[str, Any]] = []
    gauges: list[float] = []

    async def watch() -> None:
        while True:
            conditions = (h.api.get(SOURCES, "src").get("status") or {}).get("conditions") or []
            for condition in conditions:
                if condition["type"] == "Progressing" and condition not in seen:
                    seen.append(condition)
            value = h.metrics.registry.get_sample_value(
                "aimsource_sync_progress_images", {"source": "src", "state": "created"}
            )
            if value is not None:
                gauges.append(value)
            await asyncio.sleep(0.02)

    watcher = asyncio.create_task(watch())
    await h.sync()
    watcher.cancel()
    assert len(seen) >= 2, seen  # one patch after 0.3 s, then at most every 0.5 s (the sync takes ~1 s)
    assert len(seen) <= 3, seen
    for condition in seen:
        assert (condition["status"], condition["reason"]) == ("True", "Syncing")
        assert re.fullmatch(r"created \d+ of 160 images( \(\d+ checked\))?", condition["message"])
    created = [int(c["message"].split()[1]) for c in seen]
    assert created == sorted(created)
    assert 0 < created[0] < 160
    assert gauges
    assert max(gauges) > 0
    final = h.api.get(SOURCES, "src")["status"]
    assert final["status"] == "Ready"
    assert final["discoveredModels"] == 160
    assert "Progressing" not in [c["type"] for c in final["conditions"]]  # the result replaced it
    assert (
        h.metrics.registry.get_sample_value(
            "aimsource_sync_progress_images", {"source": "src", "state": "created"}
        )
        is None
    )


async def test_a_short_sync_writes_only_its_result(h: Harness) -> None:
    new_source(h.api)
    h.watch()
    await h.sync()
    assert len(h.status_writes()) == 2  # Pending on first sight, then the result
    assert "Progressing" not in [c["type"] for c in h.api.get(SOURCES, "src")["status"]["conditions"]]
