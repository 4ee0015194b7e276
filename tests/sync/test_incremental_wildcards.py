"""Pushes to repositories a wildcard filter matches: decided with one HEAD, no walk, no listing."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from aimsource.domain.pushes.payloads import Push
from aimsource.sync.discovery import SourceRepositories
from aimsource.sync.engine import sync_source
from aimsource.sync.incremental import CREATED, FULL, NOTHING, sync_push
from tests.sync.doubles import DictSecrets, MemoryStore, RecordingLister, source

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
REG = "reg.example.com"
SPEC: dict[str, Any] = {
    "filters": [{"image": f"{REG}/team/aim-*", "versions": [">=1.0.0"], "exclude": ["team/aim-old*"]}],
    "maxModels": 50,
}


async def full(
    spec: dict[str, Any], lister: RecordingLister, store: MemoryStore, matched: SourceRepositories
):
    result = await sync_source(
        source(spec), lister=lister, store=store, secrets=DictSecrets(), now=NOW, previous=None
    )
    matched.remember("src", result.outcomes)
    return result.status


async def pushed(
    spec, lister, store, previous, repository: str, tag: str, matched: SourceRepositories | None
):
    return await sync_push(
        source(spec),
        Push(REG, repository, tag),
        lister=lister,
        store=store,
        secrets=DictSecrets(),
        previous=previous,
        owned_at_last_sync=store.owned_count("src"),
        matched=None if matched is None else matched.of("src"),
    )


def comparable(status: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in status.items() if k != "lastSyncTime"}
    body["conditions"] = [
        {k: v for k, v in c.items() if k != "lastTransitionTime"} for c in status["conditions"]
    ]
    return body


def tags() -> dict[str, list[str]]:
    return {
        f"{REG}/team/aim-llama": ["1.0.0", "1.1.0"],
        f"{REG}/team/aim-qwen": ["1.0.0"],
        f"{REG}/team/aim-old-gpt": ["1.0.0"],
        f"{REG}/team/other": ["1.0.0"],
    }


async def test_a_push_to_a_matched_repository_ends_where_a_full_sync_would():
    lister, store, matched = RecordingLister(tags=tags()), MemoryStore(), SourceRepositories()
    previous = await full(SPEC, lister, store, matched)
    assert previous["selectors"][0]["repositories"] == {"seen": 4, "matched": 2, "excluded": 1}
    lister.tags[f"{REG}/team/aim-qwen"].append("1.2.0")
    lister.calls.clear()
    twin = copy.deepcopy(store)

    result = await pushed(SPEC, lister, store, previous, "team/aim-qwen", "1.2.0", matched)

    assert result.result == CREATED, result.why
    assert [c[0] for c in lister.calls] == ["head"]  # no walk, no listing
    assert result.new_repository == ()
    expected = await full(SPEC, RecordingLister(tags=copy.deepcopy(lister.tags)), twin, SourceRepositories())
    assert comparable(result.status) == comparable(expected)
    assert sorted(store.models) == sorted(twin.models)


async def test_a_push_to_a_repository_the_source_never_saw_counts_it_as_the_next_walk_would():
    lister, store, matched = RecordingLister(tags=tags()), MemoryStore(), SourceRepositories()
    previous = await full(SPEC, lister, store, matched)
    lister.tags[f"{REG}/team/aim-mistral"] = ["2.0.0"]
    lister.calls.clear()
    twin = copy.deepcopy(store)

    result = await pushed(SPEC, lister, store, previous, "team/aim-mistral", "2.0.0", matched)

    assert result.result == CREATED, result.why
    assert [c[0] for c in lister.calls] == ["head"]
    assert result.new_repository == (0,)
    entry = result.status["selectors"][0]
    assert entry["repositories"] == {"seen": 5, "matched": 3, "excluded": 1}
    assert entry["message"].startswith("matched 3 of 5 repositories (1 excluded)")
    expected = await full(SPEC, RecordingLister(tags=copy.deepcopy(lister.tags)), twin, SourceRepositories())
    assert comparable(result.status) == comparable(expected)
    matched.learn("src", 0, "team/aim-mistral")
    assert "team/aim-mistral" in matched.of("src")[0]


async def test_a_push_to_an_excluded_or_unmatched_repository_is_nothing():
    lister, store, matched = RecordingLister(tags=tags()), MemoryStore(), SourceRepositories()
    previous = await full(SPEC, lister, store, matched)
    lister.calls.clear()
    for repository in ("team/aim-old-gpt", "team/other", "elsewhere/aim-x"):
        result = await pushed(SPEC, lister, store, previous, repository, "9.0.0", matched)
        assert (result.result, result.why) == (NOTHING, "no selector covers the repository")
    assert lister.calls == []


async def test_without_the_repositories_of_the_last_full_sync_a_wildcard_push_asks_for_one():
    lister, store, matched = RecordingLister(tags=tags()), MemoryStore(), SourceRepositories()
    previous = await full(SPEC, lister, store, matched)
    lister.calls.clear()
    result = await pushed(SPEC, lister, store, previous, "team/aim-new", "1.0.0", None)
    assert (result.result, result.why) == (
        FULL,
        "the repositories of a covering wildcard are not known since a full sync",
    )
    assert lister.calls == []


async def test_a_new_repository_of_a_wildcard_with_several_named_versions_asks_for_a_full_sync():
    spec = {"filters": [{"image": f"{REG}/team/aim-*", "versions": ["1.0.0", "1.1.0"]}], "maxModels": 50}
    lister, store, matched = RecordingLister(tags=tags()), MemoryStore(), SourceRepositories()
    previous = await full(spec, lister, store, matched)
    assert previous["status"] == "Ready"
    result = await pushed(spec, lister, store, previous, "team/aim-new", "1.0.0", matched)
    assert (result.result, result.why) == (
        FULL,
        "a new repository of a wildcard with more than one named version",
    )
