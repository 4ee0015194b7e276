"""Wildcard filters in a sync: discovery, then each matched repository as an exact filter, with the
cap taken round-robin across repositories (`sync/discovery.py`, over doubles of the sync's ports).

AMD's first end-to-end scenario is the first test: seven `amdenterpriseai/aim-*` repositories with
tag 0.8.4, one of them `aim-base` excluded, `versions: ["0.8.4"]`, `maxModels: 5`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aimsource.registry.errors import CatalogUnsupported, Unreachable
from aimsource.sync.engine import SyncResult, sync_source
from tests.sync.doubles import DictSecrets, MemoryStore, RecordingLister, source

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
FAMILIES = ("base", "deepseek", "gemma", "llama", "mistral", "phi", "qwen")
AMD = {f"docker.io/amdenterpriseai/aim-{f}": ["0.8.4", "0.8.3", "latest"] for f in FAMILIES}


async def run(spec: dict[str, Any], lister: RecordingLister, store: MemoryStore | None = None) -> SyncResult:
    return await sync_source(
        source(spec),
        lister=lister,
        store=store or MemoryStore(),
        secrets=DictSecrets(),
        now=NOW,
        previous=None,
    )


def amd_filter(**more: Any) -> dict[str, Any]:
    return {
        "image": "amdenterpriseai/aim-*",
        "exclude": ["amdenterpriseai/aim-base"],
        "versions": ["0.8.4"],
        **more,
    }


async def test_amds_scenario_five_of_six_families_under_max_models() -> None:
    lister = RecordingLister(tags={**AMD, "docker.io/amdenterpriseai/other": ["0.8.4"]})
    store = MemoryStore()
    result = await run({"filters": [amd_filter()], "maxModels": 5}, lister, store)
    status = result.status
    assert status["status"] == "Ready"
    assert (status["discoveredModels"], status["availableModels"], status["modelsLimitReached"]) == (
        5,
        6,
        True,
    )
    limit = next(c for c in status["conditions"] if c["type"] == "MaxModelsLimitReached")
    assert (limit["status"], limit["reason"]) == ("True", "LimitReached")
    # Round-robin over the repositories in name order: the sixth family by name is the one left out.
    made = sorted(body["spec"]["image"] for body in store.models.values())
    assert made == [f"amdenterpriseai/aim-{f}:0.8.4" for f in FAMILIES[1:6]]
    for body in store.models.values():
        assert body["metadata"]["labels"]["aim.eai.amd.com/model-source"] == "src"
        assert body["metadata"]["labels"]["aim.eai.amd.com/origin"] == "auto-generated"
    # One discovery, one HEAD per matched repository and named version, no listing, nothing for aim-base.
    assert (lister.count("discover"), lister.count("head"), lister.count("list")) == (1, 6, 0)
    assert not any("aim-base" in call[1] for call in lister.calls)
    (entry,) = status["selectors"]
    assert entry["repositories"] == {"seen": 8, "matched": 6, "excluded": 1}
    assert entry["message"] == "matched 6 of 8 repositories (1 excluded) listed at the double"


async def test_the_cap_gives_every_family_its_newest_version_before_any_gets_a_second() -> None:
    tags = {f"docker.io/org/aim-{f}": ["1.0.0", "1.1.0", "1.2.0"] for f in ("a", "b", "c")}
    store = MemoryStore()
    await run({"filters": [{"image": "org/aim-*"}], "maxModels": 4}, RecordingLister(tags=tags), store)
    assert sorted(body["spec"]["image"] for body in store.models.values()) == [
        "org/aim-a:1.1.0",
        "org/aim-a:1.2.0",
        "org/aim-b:1.2.0",
        "org/aim-c:1.2.0",
    ]


async def test_the_same_listing_gives_the_same_models_on_every_run() -> None:
    tags = {f"docker.io/org/aim-{n}": ["1.0.0", "2.0.0"] for n in ("z", "m", "a", "q")}
    made = []
    for _ in range(3):
        store = MemoryStore()
        await run(
            {"filters": [{"image": "org/aim-*"}], "maxModels": 5}, RecordingLister(tags=dict(tags)), store
        )
        made.append(sorted(store.models))
    assert made[0] == made[1] == made[2]


async def test_a_wildcard_that_matches_nothing_is_ready_and_says_so() -> None:
    result = await run({"filters": [{"image": "amdenterpriseai/nothing-*"}]}, RecordingLister(tags=AMD))
    assert result.status["status"] == "Ready"
    (entry,) = result.status["selectors"]
    assert entry["message"] == "matched 0 of 7 repositories listed at the double"
    assert entry["repositories"] == {"seen": 7, "matched": 0, "excluded": 0}


async def test_a_failed_discovery_fails_the_selector_with_its_reason() -> None:
    lister = RecordingLister(
        tags=AMD,
        errors={
            "registry.example.com/team/*": CatalogUnsupported(
                "registry.example.com does not list its repositories"
            )
        },
    )
    result = await run({"filters": [{"image": "registry.example.com/team/*"}]}, lister)
    assert result.status["status"] == "Failed"
    (entry,) = result.status["selectors"]
    assert entry["error"]["reason"] == "CatalogUnsupported"
    assert "repositories" not in entry
    assert result.created == ()


async def test_one_failing_repository_does_not_fail_the_wildcard() -> None:
    lister = RecordingLister(
        tags={"docker.io/org/aim-a": ["1.0.0"], "docker.io/org/aim-b": ["1.0.0"]},
        errors={"docker.io/org/aim-b": Unreachable("unreachable: registry-1.docker.io: connection refused")},
    )
    store = MemoryStore()
    result = await run({"filters": [{"image": "org/aim-*"}]}, lister, store)
    assert result.status["status"] == "Ready"
    assert [body["spec"]["image"] for body in store.models.values()] == ["org/aim-a:1.0.0"]


async def test_every_repository_failing_fails_the_wildcard() -> None:
    failure = Unreachable("unreachable: registry-1.docker.io: connection refused")
    lister = RecordingLister(tags={"docker.io/org/aim-a": ["1.0.0"]}, errors={"docker.io/org/aim-a": failure})
    result = await run({"filters": [{"image": "org/aim-*"}]}, lister)
    assert result.status["status"] == "Failed"
    assert result.status["selectors"][0]["error"]["reason"] == "Unreachable"


async def test_excluded_repositories_may_be_patterns_and_are_never_listed() -> None:
    tags = {
        "docker.io/org/aim-base": ["1.0.0"],
        "docker.io/org/aim-base-2": ["1.0.0"],
        "docker.io/org/aim-x": ["1.0.0"],
    }
    lister = RecordingLister(tags=tags)
    result = await run({"filters": [{"image": "org/aim-*", "exclude": ["org/aim-base*"]}]}, lister)
    assert [c[1] for c in lister.calls if c[0] == "list"] == ["docker.io/org/aim-x"]
    assert result.status["selectors"][0]["repositories"] == {"seen": 3, "matched": 1, "excluded": 2}


async def test_the_repository_cap_truncates_the_selector() -> None:
    tags = {f"docker.io/org/aim-{n}": ["1.0.0"] for n in "abcde"}
    result = await run({"filters": [{"image": "org/aim-*"}]}, RecordingLister(tags=tags, max_repositories=2))
    (entry,) = result.status["selectors"]
    assert entry["truncated"] is True
    assert entry["matched"] == 2
