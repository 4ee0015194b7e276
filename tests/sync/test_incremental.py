"""Incremental syncs: one pushed tag decided with one HEAD, ending where a full sync would end."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from aimsource.domain.pushes.payloads import Push
from aimsource.registry.errors import Unreachable
from aimsource.sync.engine import sync_source
from aimsource.sync.incremental import CREATED, FULL, NOTHING, sync_push
from tests.sync.doubles import DictSecrets, MemoryStore, RecordingLister, source

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
REPO = "ghcr.io/amd/llama"
OTHER = "ghcr.io/amd/mistral"


def push(tag: str | None, repo: str = REPO) -> Push:
    registry, _, repository = repo.partition("/")
    return Push(registry, repository, tag)


async def full(
    spec: dict[str, Any], lister: RecordingLister, store: MemoryStore, **kw: Any
) -> dict[str, Any]:
    result = await sync_source(
        source(spec, **kw), lister=lister, store=store, secrets=DictSecrets(), now=NOW, previous=None
    )
    return result.status


async def incremental(
    spec: dict[str, Any],
    lister: RecordingLister,
    store: MemoryStore,
    previous: dict[str, Any],
    tag: str | None,
    *,
    repo: str = REPO,
    owned: int | None = None,
    **kw: Any,
):
    return await sync_push(
        source(spec, **kw),
        push(tag, repo),
        lister=lister,
        store=store,
        secrets=DictSecrets(),
        previous=previous,
        owned_at_last_sync=store.owned_count(kw.get("name", "src")) if owned is None else owned,
    )


def comparable(status: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in status.items() if k != "lastSyncTime"}
    body["conditions"] = [
        {k: v for k, v in c.items() if k != "lastTransitionTime"} for c in status["conditions"]
    ]
    return body


SPECS = {
    "one-filter": {"filters": [{"image": REPO, "versions": [">=1.0.0"]}], "registry": "ghcr.io"},
    "two-filters-same-repo": {
        "filters": [{"image": REPO, "versions": ["<2.0.0"]}, {"image": REPO, "versions": [">=1.1.0"]}],
    },
    "two-repos": {"filters": [{"image": REPO}, {"image": OTHER}], "maxModels": 50},
    "images-list-unpinned": {"images": [REPO, f"{OTHER}:1.0.0"]},
}


@pytest.mark.parametrize("spec", SPECS.values(), ids=SPECS.keys())
async def test_a_pushed_tag_ends_where_a_full_sync_would_with_one_head_and_no_listing(spec):
    lister = RecordingLister(tags={REPO: ["1.0.0", "1.1.0", "latest"], OTHER: ["1.0.0"]})
    store = MemoryStore()
    previous = await full(spec, lister, store)
    assert previous["status"] == "Ready"
    lister.tags[REPO].append("1.2.0")
    lister.calls.clear()
    twin = copy.deepcopy(store)

    result = await incremental(spec, lister, store, previous, "1.2.0")

    assert result.result == CREATED, result.why
    assert [c[0] for c in lister.calls] == ["head"]
    expected = await full(spec, RecordingLister(tags=copy.deepcopy(lister.tags)), twin)
    assert comparable(result.status) == comparable(expected)
    assert sorted(store.models) == sorted(twin.models)
    assert "lastSyncTime" not in result.status or result.status["lastSyncTime"] == previous["lastSyncTime"]


async def test_a_tag_no_selector_selects_costs_no_request_and_changes_nothing():
    spec = SPECS["one-filter"]
    lister = RecordingLister(tags={REPO: ["1.0.0"]})
    store = MemoryStore()
    previous = await full(spec, lister, store)
    lister.calls.clear()
    for tag in ("0.9.0", "nightly", "sha256-abc.sig"):
        result = await incremental(spec, lister, store, previous, tag)
        assert (result.result, result.why) == (NOTHING, "no selector selects the tag")
    assert lister.calls == []


async def test_a_push_to_a_repository_no_selector_covers_is_nothing():
    spec = SPECS["one-filter"]
    store = MemoryStore()
    result = await incremental(spec, RecordingLister(), store, {}, "1.0.0", repo="ghcr.io/amd/other")
    assert (result.result, result.why) == (NOTHING, "no selector covers the repository")


async def test_an_excluded_repository_is_not_covered():
    spec = {"filters": [{"image": REPO, "exclude": ["amd/llama"]}]}
    result = await incremental(spec, RecordingLister(), MemoryStore(), {}, "1.0.0")
    assert result.result == NOTHING


async def test_docker_hub_aliases_are_the_same_repository():
    spec = {"images": ["ubuntu"], "maxModels": 10}
    key = "docker.io/library/ubuntu"
    lister = RecordingLister(tags={key: ["24.04"]})
    store = MemoryStore()
    previous = await full(spec, lister, store)
    lister.tags[key].append("26.04")
    result = await sync_push(
        source(spec),
        Push("docker.io", "library/ubuntu", "26.04"),
        lister=lister,
        store=store,
        secrets=DictSecrets(),
        previous=previous,
        owned_at_last_sync=1,
    )
    assert result.result == CREATED
    assert store.existing()["docker.io/library/ubuntu:26.04"].source == "src"


async def test_an_image_that_has_a_model_already_is_nothing_and_costs_no_request():
    spec = SPECS["one-filter"]
    lister = RecordingLister(tags={REPO: ["1.0.0"]})
    store = MemoryStore()
    previous = await full(spec, lister, store)
    lister.calls.clear()
    result = await incremental(spec, lister, store, previous, "1.0.0")
    assert (result.result, lister.calls) == (NOTHING, [])


async def test_a_push_without_a_tag_asks_for_a_full_sync():
    result = await incremental(SPECS["one-filter"], RecordingLister(), MemoryStore(), {}, None)
    assert (result.result, result.why) == (FULL, "the push names no tag")


@pytest.mark.parametrize(
    ("max_models", "tags", "why"),
    [
        (3, ["1.0.0", "1.1.0"], "the push would take the last free model slot"),
        (2, ["1.0.0", "1.1.0", "1.1.1"], "the model limit was reached"),
    ],
    ids=["last-slot", "limit-reached"],
)
async def test_the_cap_decides_by_a_full_sync_when_the_last_slots_are_at_stake(max_models, tags, why):
    spec = {"filters": [{"image": REPO}], "maxModels": max_models}
    lister = RecordingLister(tags={REPO: tags})
    store = MemoryStore()
    previous = await full(spec, lister, store)
    lister.tags[REPO].append("2.0.0")
    lister.calls.clear()
    result = await incremental(spec, lister, store, previous, "2.0.0")
    assert (result.result, result.why) == (FULL, why)
    assert lister.calls == []


async def test_a_source_whose_models_changed_since_the_last_sync_gets_a_full_sync():
    spec = SPECS["one-filter"]
    lister = RecordingLister(tags={REPO: ["1.0.0", "1.1.0"]})
    store = MemoryStore()
    previous = await full(spec, lister, store)
    owned_then = store.owned_count("src")
    store.models.pop(next(iter(store.models)))  # a user deleted one
    lister.tags[REPO].append("1.2.0")
    result = await incremental(spec, lister, store, previous, "1.2.0", owned=owned_then)
    assert (result.result, result.why) == (FULL, "the source's models changed since the last sync")


async def test_unknown_owned_count_after_a_restart_gets_a_full_sync():
    spec = SPECS["one-filter"]
    lister = RecordingLister(tags={REPO: ["1.0.0"]})
    store = MemoryStore()
    previous = await full(spec, lister, store)
    lister.tags[REPO].append("1.2.0")
    result = await sync_push(
        source(spec),
        push("1.2.0"),
        lister=lister,
        store=store,
        secrets=DictSecrets(),
        previous=previous,
        owned_at_last_sync=None,
    )
    assert result.result == FULL


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda s: s.update(status="Degraded"), "the last sync was not Ready"),
        (lambda s: s.update(observedGeneration=7), "the spec changed since the last sync"),
        (lambda s: s["selectors"][0].update(truncated=True), "a covering listing was truncated"),
        (lambda s: s["selectors"].pop(), "the status does not list every selector"),
    ],
    ids=["not-ready", "other-generation", "truncated", "selectors-missing"],
)
async def test_an_unsettled_last_sync_gets_a_full_sync(change, why):
    spec = SPECS["one-filter"]
    lister = RecordingLister(tags={REPO: ["1.0.0"]})
    store = MemoryStore()
    previous = await full(spec, lister, store)
    change(previous)
    result = await incremental(spec, lister, store, previous, "1.2.0")
    assert (result.result, result.why) == (FULL, why)


async def test_a_name_conflict_is_left_to_the_full_sync_which_reports_it():
    spec = SPECS["one-filter"]
    lister = RecordingLister(tags={REPO: ["1.0.0"]})
    store = MemoryStore()
    previous = await full(spec, lister, store)
    lister.tags[REPO].append("1.2.0")
    probe = MemoryStore()
    await full({"images": [f"{REPO}:1.2.0"]}, lister, probe, name="probe")
    (name,) = probe.models
    store.models[name] = {"metadata": {"name": name, "labels": {}}, "spec": {"image": "ghcr.io/x/y:1"}}
    result = await incremental(spec, lister, store, previous, "1.2.0", owned=store.owned_count("src"))
    assert (result.result, result.why) == (FULL, "the plan is not one plain create")


async def test_a_tag_gone_before_the_head_is_nothing_and_a_failed_head_asks_for_a_full_sync():
    spec = SPECS["one-filter"]
    lister = RecordingLister(tags={REPO: ["1.0.0"]})
    store = MemoryStore()
    previous = await full(spec, lister, store)
    gone = await incremental(spec, lister, store, previous, "1.2.0")
    assert (gone.result, gone.why) == (NOTHING, "the tag does not exist (any more)")
    lister.errors[REPO] = Unreachable("unreachable: ghcr.io")
    failed = await incremental(spec, lister, store, previous, "1.2.0")
    assert (failed.result, failed.why) == (FULL, "the manifest HEAD failed")
    assert store.owned_count("src") == 1
