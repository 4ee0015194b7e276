"""The registries file re-read while the operator runs: a valid change applies between two syncs,
a bad one keeps the last good configuration, is logged once and shows in the metrics."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aimsource.operator.metrics import Metrics
from aimsource.operator.reloading import MAX_BYTES, RegistriesFile, read_registries
from aimsource.registry.client import RegistryClient
from aimsource.registry.settings import RegistrySettings
from aimsource.sync.engine import sync_source
from tests.support.faults import FaultFront
from tests.support.registry_server import RunningRegistry
from tests.sync.doubles import DictSecrets, MemoryStore, source

QWEN = "amdenterpriseai/aim-qwen-qwen3-32b"


def mirrored_to(front: FaultFront) -> str:
    return f"registries:\n  docker.io:\n    mirrors: [{front.base_url}]\n    fallback: false\n"


def metric(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


async def sync_once(client: RegistryClient) -> dict[str, object]:
    result = await sync_source(
        source({"images": [QWEN]}),
        lister=client,
        store=MemoryStore(),
        secrets=DictSecrets(),
        now=datetime.now(UTC),
        previous=None,
    )
    [selector] = result.status["selectors"]
    return dict(selector)


@pytest.mark.registry
async def test_a_reload_changes_the_mirror_between_two_syncs(
    anonymous_registry: RunningRegistry,
    make_fault_front: Callable[[RunningRegistry], FaultFront],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="aimsource.operator")
    first, second = make_fault_front(anonymous_registry), make_fault_front(anonymous_registry)
    path = tmp_path / "registries.yaml"
    path.write_text(mirrored_to(first))
    metrics = Metrics()
    settings = RegistrySettings(max_attempts=2, backoff_base=0.01)
    async with RegistryClient(settings, registries=read_registries(str(path))[1]) as client:
        watcher = RegistriesFile(
            str(path), apply=client.configure, reported=metrics.registries_reloaded, interval=0.1
        )
        assert watcher.poll() is True  # start-up: the file as it is now
        assert watcher.poll() is None  # unchanged
        assert (await sync_once(client))["endpoint"] == first.base_url

        path.write_text(mirrored_to(second))
        assert watcher.poll() is True
        assert (await sync_once(client))["endpoint"] == second.base_url
        assert metric(metrics, "aimsource_registries_reloads_total", result="applied") == 2

        # A bad change: the last good file stays in use, logged once however often it is read.
        path.write_text(mirrored_to(first) + "    mirors: []\n")
        assert [watcher.poll() for _ in range(3)] == [False, False, False]
        assert (await sync_once(client))["endpoint"] == second.base_url
        errors = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) == 1
        assert "registries.yaml:5: registries.docker.io.mirors: unknown key" in errors[0].getMessage()
        assert metric(metrics, "aimsource_registries_file_valid") == 0
        assert metric(metrics, "aimsource_registries_reloads_total", result="rejected") == 1

        path.unlink()  # a missing file is a bad change too
        assert watcher.poll() is False
        path.write_text(mirrored_to(second))  # back to the configuration in use
        assert watcher.poll() is None
        assert metric(metrics, "aimsource_registries_file_valid") == 1
        assert metric(metrics, "aimsource_registries_reloads_total", result="restored") == 1
    assert first.log.count(path="tags/list") == 1
    assert second.log.count(path="tags/list") == 2


async def test_the_watcher_polls_on_its_own(tmp_path: Path) -> None:
    import asyncio

    path = tmp_path / "registries.yaml"
    path.write_text("registries: {}\n")
    applied: list[object] = []
    watcher = RegistriesFile(str(path), apply=applied.append, reported=lambda result: None, interval=0.05)
    task = asyncio.create_task(watcher.run())
    try:
        for _ in range(100):
            if applied:
                break
            await asyncio.sleep(0.02)
    finally:
        task.cancel()
    assert len(applied) == 1


def test_unreadable_files_are_one_line_errors(tmp_path: Path) -> None:
    from aimsource.domain.registries.parsing import InvalidRegistriesError

    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (MAX_BYTES + 1))
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe")
    for path, why in ((big, "larger than"), (binary, "not UTF-8"), (tmp_path / "none.yaml", "No such file")):
        with pytest.raises(InvalidRegistriesError, match=why):
            read_registries(str(path))
