"""One sync's effects on a Kubernetes API: status writes only on change, events on change only.

The reconciler runs in the test's loop against the emulated API server (real HTTP through our
KubeClient); the registry is a double of the sync's `TagLister` port, and the model index is fed
from the API the way the watch feeds it in the operator.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from aimsource.domain.naming import model_name
from aimsource.domain.references import parse_reference
from aimsource.registry.errors import AuthenticationFailed
from tests.operator.reconciler_harness import MODELS, REPO, SOURCES, Harness, new_source
from tests.support.kubeapi import KubeAPI
from tests.support.kubeapi_refusals import refuse_creates


async def test_first_sync_writes_pending_then_the_result_and_announces_models(harness: Harness) -> None:
    new_source(harness.api)
    harness.watch()
    await harness.sync()
    assert harness.status_writes() == ["patch", "patch"]  # Pending, then Ready
    status = harness.api.get(SOURCES, "src")["status"]
    assert (status["status"], status["discoveredModels"], status["observedGeneration"]) == ("Ready", 2, 1)
    assert len(harness.api.list(MODELS)) == 2
    assert harness.events() == [("Normal", "ModelsCreated")]


async def test_a_steady_sync_writes_only_last_sync_time_and_posts_nothing(harness: Harness) -> None:
    new_source(harness.api)
    harness.watch()
    await harness.sync()
    harness.watch()
    before = harness.api.get(SOURCES, "src")["status"]

    await harness.sync()

    assert harness.status_writes() == ["patch"]
    assert [r.verb for r in harness.api.requests if r.verb in ("list", "create")] == []
    after = harness.api.get(SOURCES, "src")["status"]
    assert after["lastSyncTime"] != before["lastSyncTime"]
    assert {k: v for k, v in after.items() if k != "lastSyncTime"} == {
        k: v for k, v in before.items() if k != "lastSyncTime"
    }
    assert harness.events() == [("Normal", "ModelsCreated")]


async def test_a_new_generation_shows_progressing_during_its_sync(harness: Harness) -> None:
    new_source(harness.api)
    harness.watch()
    await harness.sync()
    harness.api.patch(SOURCES, "src", {"spec": {"images": [f"{REPO}:1.0.0"]}})
    harness.watch()
    written: list[str] = []
    original = harness.lister.list_tags

    async def spying(*args: Any, **kwargs: Any) -> Any:
        written.append(harness.api.get(SOURCES, "src")["status"]["status"])
        return await original(*args, **kwargs)

    harness.lister.list_tags = spying  # type: ignore[method-assign]
    harness.lister.manifest_digest = spying  # type: ignore[method-assign,assignment]
    await harness.sync()

    assert written == ["Progressing"]
    status = harness.api.get(SOURCES, "src")["status"]
    assert (status["status"], status["observedGeneration"]) == ("Ready", 2)


async def test_warning_only_on_the_change_into_failed(harness: Harness) -> None:
    harness.lister.errors[REPO] = AuthenticationFailed(f"authentication failed for {REPO}")
    new_source(harness.api)
    harness.watch()
    await harness.sync()
    harness.watch()
    await harness.sync()

    assert harness.api.get(SOURCES, "src")["status"]["status"] == "Failed"
    assert harness.events() == [("Warning", "SyncFailed")]
    assert harness.reconciler.table["src"].state.failures == 2
    assert 'aimsource_syncs_total{result="Failed"} 2.0' in harness.metrics.render()[0].decode()


async def test_the_watch_echo_of_a_status_write_does_not_silence_its_warning(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real API server may deliver the watch event of a status write before the write returns.
    write = harness.kube.patch_source_status

    async def write_and_echo(name: str, status: Any, **kwargs: Any) -> None:
        await write(name, status, **kwargs)
        harness.reconciler.on_source_event("MODIFIED", harness.api.get(SOURCES, name))

    monkeypatch.setattr(harness.kube, "patch_source_status", write_and_echo)
    harness.lister.errors[REPO] = AuthenticationFailed(f"authentication failed for {REPO}")
    new_source(harness.api)
    harness.watch()
    await harness.sync()

    assert harness.api.get(SOURCES, "src")["status"]["status"] == "Failed"
    assert harness.events() == [("Warning", "SyncFailed")]


async def test_an_invalid_spec_fails_without_backoff(harness: Harness) -> None:
    new_source(harness.api)
    # images and filters: what a CRD without its CEL rule admits (an older CRD, for this test)
    rt = harness.api.resource(SOURCES)
    schema = harness.api.store._schemas.pop(rt.key)
    try:
        body = harness.api.patch(SOURCES, "src", {"spec": {"filters": [{"image": REPO}]}})
        harness.reconciler.on_source_event("MODIFIED", body)
        await harness.sync()
        status = harness.api.get(SOURCES, "src")["status"]
    finally:
        harness.api.store._schemas[rt.key] = schema
    assert status["status"] == "Failed"
    assert harness.reconciler.table["src"].state.failures == 0
    assert harness.lister.calls == []


async def test_a_deleted_source_leaves_the_queue(harness: Harness) -> None:
    new_source(harness.api)
    harness.watch()
    assert "src" in harness.reconciler.queue
    harness.reconciler.on_source_event("DELETED", harness.api.get(SOURCES, "src"))
    assert "src" not in harness.reconciler.queue
    assert "src" not in harness.reconciler.table


NEWEST = model_name(parse_reference(f"{REPO}:1.1.0"))
OLDEST = model_name(parse_reference(f"{REPO}:1.0.0"))
WEBHOOK = 'admission webhook "images.policy.example.com" denied the request: registry not allowed'


async def test_a_create_refused_by_a_webhook_costs_one_model_and_is_retried(harness: Harness) -> None:
    refuse_creates(harness.api, MODELS, {NEWEST}, code=403, reason="Forbidden", message=WEBHOOK, times=1)
    new_source(harness.api)
    harness.watch()
    await harness.sync()

    assert [m["metadata"]["name"] for m in harness.api.list(MODELS)] == [OLDEST]
    status = harness.api.get(SOURCES, "src")["status"]  # written, as stored by the API (schema-pruned)
    assert (status["status"], status["discoveredModels"], status["availableModels"]) == ("Degraded", 1, 2)
    [selector] = status["selectors"]
    [refused] = selector["refused"]
    assert (refused["model"], refused["image"], refused["reason"]) == (NEWEST, f"{REPO}:1.1.0", "Forbidden")
    assert refused["message"].endswith(WEBHOOK)  # the API's words
    degraded = next(c for c in status["conditions"] if c["type"] == "Degraded")
    assert (degraded["status"], degraded["reason"]) == ("True", "ModelCreateRefused")
    assert NEWEST in degraded["message"]
    assert harness.events() == [("Normal", "ModelsCreated"), ("Warning", "SyncDegraded")]

    harness.watch()
    await harness.sync()  # no memory blocks the model: the next sync asks again, and it passes
    assert sorted(m["metadata"]["name"] for m in harness.api.list(MODELS)) == sorted([OLDEST, NEWEST])
    status = harness.api.get(SOURCES, "src")["status"]
    assert (status["status"], status["discoveredModels"]) == ("Ready", 2)
    assert "refused" not in status["selectors"][0]


async def test_a_422_for_one_model_still_writes_the_status(harness: Harness) -> None:
    invalid = f'AIMClusterModel.aim.eai.amd.com "{NEWEST}" is invalid: spec.image: Invalid value'
    refuse_creates(harness.api, MODELS, {NEWEST}, code=422, reason="Invalid", message=invalid)
    new_source(harness.api)
    harness.watch()
    await harness.sync()
    status = harness.api.get(SOURCES, "src")["status"]
    assert status["status"] == "Degraded"
    assert [(r["model"], r["reason"]) for r in status["selectors"][0]["refused"]] == [(NEWEST, "Invalid")]
    assert [m["metadata"]["name"] for m in harness.api.list(MODELS)] == [OLDEST]


def squat(api: KubeAPI, name: str, image: str) -> None:
    api.create(
        MODELS,
        {
            "apiVersion": "aim.eai.amd.com/v1alpha1",
            "kind": "AIMClusterModel",
            "metadata": {"name": name},
            "spec": {"image": image},
        },
    )


@pytest.mark.parametrize("indexed", [True, False], ids=["known-to-the-index", "found-by-the-409"])
async def test_a_squatted_name_is_reported_once_and_the_squatter_left_alone(
    harness: Harness, indexed: bool
) -> None:
    new_source(harness.api)
    harness.watch()
    squat(harness.api, NEWEST, "evil.example/org/model:1.1.0")
    if indexed:
        harness.watch()
    await harness.sync()

    squatter = harness.api.get(MODELS, NEWEST)
    assert squatter["spec"]["image"] == "evil.example/org/model:1.1.0"
    assert "labels" not in squatter["metadata"] or not squatter["metadata"]["labels"]
    status = harness.api.get(SOURCES, "src")["status"]
    assert status["status"] == "Degraded"
    assert status["selectors"][0]["conflicts"] == [
        {"model": NEWEST, "image": f"{REPO}:1.1.0", "existingImage": "evil.example/org/model:1.1.0"}
    ]
    assert harness.events() == [("Normal", "ModelsCreated"), ("Warning", "ModelNameConflict")]
    [warning] = [e for e in harness.api.list("events", namespace="default") if e["type"] == "Warning"]
    assert NEWEST in warning["message"]
    assert f"{REPO}:1.1.0" in warning["message"]
    assert "evil.example/org/model:1.1.0" in warning["message"]

    harness.watch()
    await harness.sync()  # the same conflict again: no second Warning
    harness.watch()
    await harness.sync()
    assert harness.events() == [("Normal", "ModelsCreated"), ("Warning", "ModelNameConflict")]
    assert harness.api.get(SOURCES, "src")["status"]["status"] == "Degraded"


async def test_per_source_metrics_show_status_last_success_and_interval(harness: Harness) -> None:
    new_source(harness.api, {"images": [REPO], "syncInterval": "10m"})
    harness.watch()
    text = harness.metrics.render()[0].decode()
    assert 'aimsource_source_status{source="src",status="Pending"} 1.0' in text
    assert 'aimsource_source_sync_interval_seconds{source="src"} 600.0' in text
    assert "aimsource_source_last_success_timestamp_seconds{" not in text  # never synced
    await harness.sync()
    status = harness.api.get(SOURCES, "src")["status"]
    text = harness.metrics.render()[0].decode()
    assert 'aimsource_source_status{source="src",status="Ready"} 1.0' in text
    assert 'aimsource_source_status{source="src",status="Pending"} 0.0' in text
    synced = datetime.datetime.fromisoformat(status["lastSyncTime"].replace("Z", "+00:00")).timestamp()
    from prometheus_client.parser import text_string_to_metric_families

    gauge = next(
        f
        for f in text_string_to_metric_families(text)
        if f.name == "aimsource_source_last_success_timestamp_seconds"
    )
    assert [(s.labels, s.value) for s in gauge.samples] == [({"source": "src"}, synced)]
    harness.reconciler.on_source_event("DELETED", harness.api.get(SOURCES, "src"))
    assert 'source="src"' not in harness.metrics.render()[0].decode()
