"""Exact-version lists in a sync: one manifest HEAD per named version, no listing, the rest as usual."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from aimsource.domain.naming import model_name
from aimsource.domain.references import parse_reference
from aimsource.domain.writes import CreateRefusedError
from aimsource.registry.errors import AuthenticationFailed
from aimsource.sync.engine import sync_source
from aimsource.sync.static_listing import StaticTagLister
from tests.sync.doubles import DictSecrets, MemoryStore, RecordingLister, source

DIGEST = "aim.eai.amd.com/source-digest"
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
QWEN = "docker.io/amdenterpriseai/aim-qwen-qwen3-32b"
DEEPSEEK = "docker.io/amdenterpriseai/aim-deepseek-deepseek-r1"
QWEN_TAGS = ["0.8.3", "0.8.4", "0.8.5", "v0.9.0", "1.0.0", "latest"]
DEEPSEEK_TAGS = ["0.8.4", "0.8.5", "1.0.0"]


async def run(spec, lister, store=None, previous=None, explain=False):
    return await sync_source(
        source(spec),
        lister=lister,
        store=store or MemoryStore(),
        secrets=DictSecrets(),
        now=NOW,
        previous=previous,
        explain=explain,
    )


def tags_of(store: MemoryStore) -> list[str]:
    return sorted(b["spec"]["image"].rsplit(":", 1)[1] for b in store.models.values())


def name(image: str) -> str:
    return model_name(parse_reference(image))


async def test_an_exact_list_heads_each_named_version_once_and_lists_nothing():
    lister = RecordingLister(tags={QWEN: QWEN_TAGS})
    store = MemoryStore()
    result = await run(
        {"images": ["amdenterpriseai/aim-qwen-qwen3-32b"], "versions": ["0.8.4", "=0.8.5", "v0.9.0"]},
        lister,
        store,
    )
    assert lister.count("list") == 0
    assert sorted(ref for kind, ref, _ in lister.calls if kind == "head") == [
        f"{QWEN}:0.8.4", f"{QWEN}:0.8.5", f"{QWEN}:v0.9.0",
    ]  # fmt: skip
    assert tags_of(store) == ["0.8.4", "0.8.5", "v0.9.0"]
    # The HEAD's digest is the one recorded: no second HEAD at create time.
    body = store.models[name(f"{QWEN}:0.8.5")]
    assert body["metadata"]["annotations"]["aim.eai.amd.com/source-digest"].startswith("sha256:")
    assert result.status["status"] == "Ready"
    [selector] = result.status["selectors"]
    assert (selector["tagsListed"], selector["matched"], selector["created"], selector["skipped"]) == (
        3,
        3,
        3,
        0,
    )
    assert "notFound" not in selector


async def test_a_missing_named_version_is_not_found_not_an_error():
    lister = RecordingLister(tags={QWEN: QWEN_TAGS})
    store = MemoryStore()
    result = await run(
        {"images": ["amdenterpriseai/aim-qwen-qwen3-32b"], "versions": ["0.8.5", "2.0.0", "0.9.0"]},
        lister,
        store,
    )
    assert lister.count("head") == 3
    assert lister.count("list") == 0
    assert tags_of(store) == ["0.8.5"]  # "0.9.0" is tagged "v0.9.0": written as in the list, it is not there
    assert result.status["status"] == "Ready"
    [selector] = result.status["selectors"]
    assert selector["notFound"] == ["2.0.0", "0.9.0"]
    assert (selector["tagsListed"], selector["matched"]) == (1, 1)
    assert "error" not in selector
    decisions = [(d.image.tag, d.decision) for d in result.outcomes[0].decisions]
    assert decisions == [("0.8.5", "selected"), ("2.0.0", "not-found"), ("0.9.0", "not-found")]


async def test_a_failing_head_fails_the_selector():
    lister = RecordingLister(errors={QWEN: AuthenticationFailed("authentication failed for " + QWEN)})
    result = await run(
        {"images": ["amdenterpriseai/aim-qwen-qwen3-32b"], "versions": ["1.0.0", "1.1.0"]}, lister
    )
    assert lister.count("list") == 0
    assert result.status["status"] == "Failed"
    assert result.status["selectors"][0]["error"]["reason"] == "AuthenticationFailed"


async def test_a_mixed_list_keeps_and_and_lists_the_repository():
    lister = RecordingLister(tags={QWEN: QWEN_TAGS})
    store = MemoryStore()
    await run(
        {"images": ["amdenterpriseai/aim-qwen-qwen3-32b"], "versions": ["0.8.5", ">=0.8.0"]}, lister, store
    )
    assert lister.count("list") == 1
    assert tags_of(store) == ["0.8.5"]


async def test_a_filters_own_exact_list_replaces_the_global_range():
    lister = RecordingLister(tags={QWEN: QWEN_TAGS, DEEPSEEK: DEEPSEEK_TAGS})
    store = MemoryStore()
    await run(
        {
            "versions": [">=0.8.5"],
            "filters": [
                {"image": "amdenterpriseai/aim-qwen-qwen3-32b", "versions": ["0.8.3", "0.8.4"]},
                {"image": "amdenterpriseai/aim-deepseek-deepseek-r1"},
            ],
        },
        lister,
        store,
    )
    assert [c[1] for c in lister.calls if c[0] == "list"] == [DEEPSEEK]
    images = sorted(b["spec"]["image"] for b in store.models.values())
    assert images == [
        "amdenterpriseai/aim-deepseek-deepseek-r1:0.8.5",
        "amdenterpriseai/aim-deepseek-deepseek-r1:1.0.0",
        "amdenterpriseai/aim-qwen-qwen3-32b:0.8.3",
        "amdenterpriseai/aim-qwen-qwen3-32b:0.8.4",
    ]


async def test_the_cap_takes_named_versions_round_robin_newest_first():
    lister = RecordingLister(tags={QWEN: QWEN_TAGS, DEEPSEEK: DEEPSEEK_TAGS})
    store = MemoryStore()
    result = await run(
        {
            "images": ["amdenterpriseai/aim-qwen-qwen3-32b", "amdenterpriseai/aim-deepseek-deepseek-r1"],
            "versions": ["0.8.4", "0.8.5", "1.0.0"],
            "maxModels": 3,
        },
        lister,
        store,
    )
    assert [c.key for c in result.plan.to_create] == [f"{QWEN}:1.0.0", f"{DEEPSEEK}:1.0.0", f"{QWEN}:0.8.5"]
    assert result.status["modelsLimitReached"] is True
    assert result.status["availableModels"] == 6
    assert lister.count("head") == 6  # the digests of the created ones come from these HEADs
    assert lister.count("list") == 0


async def test_the_same_named_image_from_two_selectors_counts_once():
    lister = RecordingLister(tags={QWEN: QWEN_TAGS})
    store = MemoryStore()
    result = await run(
        {
            "filters": [
                {"image": "amdenterpriseai/aim-qwen-qwen3-32b", "versions": ["0.8.5"]},
                {"image": "docker.io/amdenterpriseai/aim-qwen-qwen3-32b", "versions": ["0.8.5", "0.8.4"]},
            ]
        },
        lister,
        store,
    )
    assert tags_of(store) == ["0.8.4", "0.8.5"]
    assert result.status["availableModels"] == 2


async def test_an_excluded_named_filter_makes_no_request_even_in_a_preview():
    lister = RecordingLister(tags={QWEN: QWEN_TAGS})
    spec = {
        "filters": [
            {
                "image": "amdenterpriseai/aim-qwen-qwen3-32b",
                "versions": ["0.8.5"],
                "exclude": ["amdenterpriseai/aim-qwen-qwen3-32b"],
            }
        ]
    }
    result = await run(spec, lister)
    preview = await run(spec, lister, explain=True)
    assert lister.calls == []
    assert result.status["availableModels"] == 0
    assert [(d.image.tag, d.decision) for d in preview.outcomes[0].decisions] == [("0.8.5", "excluded")]


async def test_a_named_version_whose_model_name_is_taken_is_a_conflict_and_a_refusal_costs_one_model():
    squatter = "elsewhere.example/amdenterpriseai/aim-qwen-qwen3-32b:0.8.5"
    refused = name(f"{QWEN}:0.8.4")

    class SquattedStore(MemoryStore):
        def existing(self):
            return {}  # the squatter's model is found only when creating

    store = SquattedStore(
        models={name(f"{QWEN}:0.8.5"): {"metadata": {}, "spec": {"image": squatter}}},
        refuse={refused: [CreateRefusedError("Forbidden", "denied by policy")]},
    )
    lister = RecordingLister(tags={QWEN: QWEN_TAGS})
    result = await run(
        {"images": ["amdenterpriseai/aim-qwen-qwen3-32b"], "versions": ["0.8.3", "0.8.4", "0.8.5"]},
        lister,
        store,
    )
    assert result.created == (name(f"{QWEN}:0.8.3"),)
    [selector] = result.status["selectors"]
    assert [c["existingImage"] for c in selector["conflicts"]] == [squatter]
    assert [r["model"] for r in selector["refused"]] == [refused]
    assert result.status["status"] == "Degraded"


async def test_a_never_satisfied_list_fails_the_selector_without_a_request():
    lister = RecordingLister(tags={QWEN: QWEN_TAGS})
    result = await run(
        {"images": ["amdenterpriseai/aim-qwen-qwen3-32b"], "versions": [">=2.0.0", "<1.0.0"]}, lister
    )
    assert lister.calls == []
    assert result.status["status"] == "Failed"
    error = result.status["selectors"][0]["error"]
    assert error["reason"] == "InvalidVersionConstraint"
    assert "can never be satisfied" in error["message"]


async def test_a_tags_file_resolves_named_versions_like_a_registry():
    static = StaticTagLister({QWEN: QWEN_TAGS})
    counting = RecordingLister(tags={QWEN: QWEN_TAGS})
    spec = {"images": ["amdenterpriseai/aim-qwen-qwen3-32b"], "versions": ["0.8.5", "2.0.0", "v0.9.0"]}
    from_file = await run(spec, static, explain=True)
    from_registry = await run(spec, counting, explain=True)
    assert from_file.status["selectors"] == from_registry.status["selectors"]
    assert [(d.image.tag, d.decision) for d in from_file.outcomes[0].decisions] == [
        ("v0.9.0", "selected"), ("0.8.5", "selected"), ("2.0.0", "not-found"),
    ]  # fmt: skip


# -- pushes (incremental syncs) -------------------------------------------------------------------

LLAMA = "ghcr.io/amd/llama"


async def test_a_pushed_named_version_ends_where_a_full_sync_would_and_is_no_longer_not_found():
    import copy

    from aimsource.domain.pushes.payloads import Push
    from aimsource.sync.incremental import CREATED, sync_push

    spec = {
        "filters": [
            {"image": LLAMA, "versions": ["1.0.0", "1.2.0"]},
            {"image": LLAMA, "versions": [">=1.1.0"]},
        ],
        "maxModels": 50,
    }
    lister = RecordingLister(tags={LLAMA: ["1.0.0", "1.1.0", "latest"]})
    store = MemoryStore()
    previous = (await run(spec, lister, store)).status
    assert previous["selectors"][0]["notFound"] == ["1.2.0"]
    lister.tags[LLAMA].append("1.2.0")
    lister.calls.clear()
    twin = copy.deepcopy(store)

    result = await sync_push(
        source(spec),
        Push("ghcr.io", "amd/llama", "1.2.0"),
        lister=lister,
        store=store,
        secrets=DictSecrets(),
        previous=previous,
        owned_at_last_sync=store.owned_count("src"),
    )

    assert result.result == CREATED, result.why
    assert [c[0] for c in lister.calls] == ["head"]
    expected = (await run(spec, RecordingLister(tags=copy.deepcopy(lister.tags)), twin)).status
    assert result.status is not None
    assert result.status["selectors"] == expected["selectors"]
    assert "notFound" not in result.status["selectors"][0]
    assert result.status["availableModels"] == expected["availableModels"]


async def test_a_pushed_tag_an_exact_list_does_not_name_is_nothing_and_costs_no_request():
    from aimsource.domain.pushes.payloads import Push
    from aimsource.sync.incremental import NOTHING, sync_push

    spec = {"images": [LLAMA], "versions": ["1.0.0"]}
    lister = RecordingLister(tags={LLAMA: ["1.0.0"]})
    store = MemoryStore()
    previous = (await run(spec, lister, store)).status
    lister.calls.clear()
    for tag in ("1.1.0", "v1.0.0", "latest"):
        result = await sync_push(
            source(spec),
            Push("ghcr.io", "amd/llama", tag),
            lister=lister,
            store=store,
            secrets=DictSecrets(),
            previous=previous,
            owned_at_last_sync=store.owned_count("src"),
        )
        assert (result.result, result.why) == (NOTHING, "no selector selects the tag")
    assert lister.calls == []


class DigestStore(MemoryStore):
    """Reads the digest annotation back, as the operator's index and the directory store do."""

    def existing(self):
        return {
            image: replace(m, digest=self.models[m.name]["metadata"]["annotations"].get(DIGEST))
            for image, m in super().existing().items()
        }


async def test_a_named_version_whose_tag_moved_is_reported_and_its_model_left_alone():
    lister = RecordingLister(tags={QWEN: QWEN_TAGS})
    store = DigestStore()
    spec = {"images": ["amdenterpriseai/aim-qwen-qwen3-32b"], "versions": ["0.8.4", "0.8.5"]}
    first = await run(spec, lister, store)
    model = store.models[name(f"{QWEN}:0.8.5")]
    recorded = model["metadata"]["annotations"][DIGEST]
    moved_to = "sha256:" + "e" * 64
    assert recorded != moved_to

    class MovedLister(RecordingLister):
        async def manifest_digest(self, ref, *, credential, credentials=None):
            digest = await super().manifest_digest(ref, credential=credential, credentials=credentials)
            return moved_to if ref.tag == "0.8.5" else digest

    again = await run(spec, MovedLister(tags={QWEN: QWEN_TAGS}), store, previous=first.status)
    [selector] = again.status["selectors"]
    assert selector["moved"] == [
        {
            "model": name(f"{QWEN}:0.8.5"),
            "image": f"{QWEN}:0.8.5",
            "recordedDigest": recorded,
            "currentDigest": moved_to,
        }
    ]
    assert (
        store.models[name(f"{QWEN}:0.8.5")]["metadata"]["annotations"]["aim.eai.amd.com/source-digest"]
        == recorded
    )
