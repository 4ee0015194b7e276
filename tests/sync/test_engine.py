"""The sync engine, end to end over doubles of its ports."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from aimsource.domain.writes import CreateRefusedError
from aimsource.registry.errors import AuthenticationFailed, Unreachable
from aimsource.sync.engine import sync_source
from tests.sync.doubles import DictSecrets, MemoryStore, RecordingLister, source

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
QWEN = "docker.io/amdenterpriseai/aim-qwen-qwen3-32b"
DEEPSEEK = "docker.io/amdenterpriseai/aim-deepseek-deepseek-r1"


async def run(spec, lister, store=None, secrets=None, previous=None, **kw):
    return await sync_source(
        source(spec, **kw),
        lister=lister,
        store=store or MemoryStore(),
        secrets=secrets or DictSecrets(),
        now=NOW,
        previous=previous,
    )


async def test_pinned_images_become_models_with_the_digest_from_one_head_each():
    lister = RecordingLister(tags={QWEN: ["0.8.5"], DEEPSEEK: ["0.8.5"]})
    store = MemoryStore()
    result = await run(
        {
            "images": [
                "amdenterpriseai/aim-qwen-qwen3-32b:0.8.5",
                "amdenterpriseai/aim-deepseek-deepseek-r1:0.8.5",
            ]
        },
        lister,
        store,
    )
    assert result.status["status"] == "Ready"
    assert "amdenterpriseai-aim-qwen-qwen3-32b-0-8-5-72f726" in result.created
    assert len(store.models) == 2
    assert lister.count("head") == 2
    assert lister.count("list") == 0
    body = store.models["amdenterpriseai-aim-qwen-qwen3-32b-0-8-5-72f726"]
    assert body["spec"]["image"] == "amdenterpriseai/aim-qwen-qwen3-32b:0.8.5"
    assert body["metadata"]["annotations"]["aim.eai.amd.com/source-digest"].startswith("sha256:")
    assert result.status["discoveredModels"] == 2
    assert result.status["availableModels"] == 2


async def test_unpinned_selector_lists_once_and_heads_only_what_it_creates():
    lister = RecordingLister(tags={QWEN: ["0.8.3", "0.8.4", "0.8.5", "0.9.0-rc1", "latest"]})
    store = MemoryStore()
    result = await run(
        {"images": ["amdenterpriseai/aim-qwen-qwen3-32b"], "versions": [">=0.8.4"]}, lister, store
    )
    assert lister.count("list") == 1
    assert lister.count("head") == 3
    images = sorted(b["spec"]["image"] for b in store.models.values())
    assert images == [f"amdenterpriseai/aim-qwen-qwen3-32b:{t}" for t in ("0.8.4", "0.8.5", "0.9.0-rc1")]
    selector = result.status["selectors"][0]
    assert selector["tagsListed"] == 5
    assert selector["matched"] == 3
    assert selector["skipped"] == 1


async def test_one_failing_selector_degrades_and_the_others_still_create():
    lister = RecordingLister(tags={QWEN: ["0.8.5"]}, errors={DEEPSEEK: Unreachable("unreachable: docker.io")})
    store = MemoryStore()
    result = await run(
        {
            "filters": [
                {"image": "amdenterpriseai/aim-qwen-qwen3-32b"},
                {"image": "amdenterpriseai/aim-deepseek-deepseek-r1"},
            ]
        },
        lister,
        store,
    )
    assert result.status["status"] == "Degraded"
    assert len(store.models) == 1
    assert result.outcomes[1].error is not None
    assert result.outcomes[1].error.reason == "Unreachable"
    messages = " ".join(c["message"] for c in result.status["conditions"])
    assert "aim-deepseek-deepseek-r1" in messages


async def test_every_selector_failing_is_failed_and_creates_nothing():
    lister = RecordingLister(errors={QWEN: AuthenticationFailed("authentication failed for " + QWEN)})
    store = MemoryStore()
    result = await run({"images": ["amdenterpriseai/aim-qwen-qwen3-32b"]}, lister, store)
    assert result.status["status"] == "Failed"
    assert store.models == {}


async def test_invalid_spec_fails_without_touching_the_registry():
    lister = RecordingLister(tags={QWEN: ["1.0.0"]})
    result = await run(
        {
            "images": ["amdenterpriseai/aim-qwen-qwen3-32b"],
            "filters": [{"image": "amdenterpriseai/aim-qwen-qwen3-32b"}],
        },
        lister,
    )
    assert result.status["status"] == "Failed"
    assert result.plan is None
    assert lister.calls == []


async def test_missing_pull_secret_fails_the_selectors_and_names_the_secret():
    lister = RecordingLister(tags={QWEN: ["1.0.0"]})
    result = await run(
        {"images": ["amdenterpriseai/aim-qwen-qwen3-32b"], "imagePullSecrets": [{"name": "ghcr-secret"}]},
        lister,
    )
    assert result.status["status"] == "Failed"
    assert lister.calls == []
    error = result.outcomes[0].error
    assert error is not None
    assert error.reason == "PullSecretError"
    assert "ghcr-secret" in error.message


async def test_secret_credentials_go_to_their_registry_only():
    auth = base64.b64encode(b"robot:s3cret-pass").decode()
    config = json.dumps({"auths": {"ghcr.io": {"auth": auth}}}).encode()
    lister = RecordingLister(tags={"ghcr.io/org/private": ["1.0.0"], QWEN: ["1.0.0"]})
    result = await run(
        {
            "images": ["ghcr.io/org/private:1.0.0", "amdenterpriseai/aim-qwen-qwen3-32b:1.0.0"],
            "imagePullSecrets": [{"name": "creds"}],
        },
        lister,
        secrets=DictSecrets({"creds": config}),
    )
    assert result.status["status"] == "Ready"
    by_image = {c[1]: c[2] for c in lister.calls}
    ghcr = by_image["ghcr.io/org/private:1.0.0"]
    assert ghcr is not None
    assert ghcr.username == "robot"
    assert by_image[QWEN + ":1.0.0"] is None
    assert "s3cret-pass" not in json.dumps(result.status)


async def test_an_image_that_already_has_a_model_is_not_created_again():
    lister = RecordingLister(tags={QWEN: ["0.8.5"]})
    store = MemoryStore(
        {
            "hand-made": {
                "metadata": {"name": "hand-made"},
                "spec": {"image": "docker.io/amdenterpriseai/aim-qwen-qwen3-32b:0.8.5"},
            }
        }
    )
    result = await run({"images": ["amdenterpriseai/aim-qwen-qwen3-32b:0.8.5"]}, lister, store)
    assert result.created == ()
    assert list(store.models) == ["hand-made"]
    assert result.status["discoveredModels"] == 1
    assert result.status["status"] == "Ready"


async def test_max_models_caps_creation_and_reports_the_rest():
    lister = RecordingLister(tags={QWEN: [f"1.0.{i}" for i in range(5)]})
    store = MemoryStore()
    result = await run({"images": ["amdenterpriseai/aim-qwen-qwen3-32b"], "maxModels": 2}, lister, store)
    assert len(store.models) == 2
    assert sorted(b["spec"]["image"].rsplit(":", 1)[1] for b in store.models.values()) == ["1.0.3", "1.0.4"]
    assert result.status["modelsLimitReached"] is True
    assert result.status["availableModels"] == 5
    assert result.status["discoveredModels"] == 2
    assert result.plan is not None
    assert len(result.plan.not_created) == 3


async def test_second_sync_creates_nothing_new():
    lister = RecordingLister(tags={QWEN: ["0.8.4", "0.8.5"]})
    store = MemoryStore()
    first = await run({"images": ["amdenterpriseai/aim-qwen-qwen3-32b"]}, lister, store)
    second = await run(
        {"images": ["amdenterpriseai/aim-qwen-qwen3-32b"]}, lister, store, previous=first.status
    )
    assert len(first.created) == 2
    assert second.created == ()
    assert second.status["discoveredModels"] == 2


class RacingStore(MemoryStore):
    """Someone else creates every model between the plan and our create (a 409 for us)."""

    async def create(self, body):
        other = {
            **body,
            "metadata": {**body["metadata"], "labels": {"aim.eai.amd.com/model-source": "other"}},
        }
        self.models[body["metadata"]["name"]] = other
        return False


async def test_a_create_that_meets_an_existing_model_counts_it_as_someone_elses():
    lister = RecordingLister(tags={QWEN: ["0.8.5"]})
    result = await run({"images": ["amdenterpriseai/aim-qwen-qwen3-32b:0.8.5"]}, lister, RacingStore())
    assert result.created == ()
    assert result.status["status"] == "Ready"
    assert result.status["discoveredModels"] == 1
    assert result.status["selectors"][0]["created"] == 1
    assert result.plan is not None
    assert result.plan.to_create == ()
    assert result.plan.foreign == 1


async def test_an_excluded_repository_costs_no_registry_request():
    lister = RecordingLister(tags={QWEN: ["1.0.0"]})
    result = await run(
        {
            "filters": [
                {
                    "image": "amdenterpriseai/aim-qwen-qwen3-32b",
                    "exclude": ["amdenterpriseai/aim-qwen-qwen3-32b"],
                }
            ]
        },
        lister,
    )
    assert lister.calls == []
    assert result.status["status"] == "Ready"
    assert result.status["availableModels"] == 0


QWEN_IMAGES = {"images": ["amdenterpriseai/aim-qwen-qwen3-32b"]}
WEBHOOK = 'admission webhook "images.policy.example.com" denied the request: registry not allowed'


def qwen_name(tag):
    from aimsource.domain.naming import model_name
    from aimsource.domain.references import parse_reference

    return model_name(parse_reference(f"{QWEN}:{tag}"))


@pytest.mark.parametrize(
    ("api_reason", "message"),
    [("Forbidden", WEBHOOK), ("Invalid", 'AIMClusterModel "x" is invalid: spec.image: Invalid value')],
)
async def test_a_refused_create_costs_that_model_only_and_the_next_sync_tries_it_again(api_reason, message):
    lister = RecordingLister(tags={QWEN: ["0.8.3", "0.8.4", "0.8.5"]})
    refused_name = qwen_name("0.8.4")
    store = MemoryStore(refuse={refused_name: [CreateRefusedError(api_reason, message)]})
    first = await run(QWEN_IMAGES, lister, store)
    assert sorted(first.created) == sorted([qwen_name("0.8.5"), qwen_name("0.8.3")])
    assert set(store.models) == {qwen_name("0.8.5"), qwen_name("0.8.3")}
    status = first.status
    assert (status["status"], status["discoveredModels"], status["availableModels"]) == ("Degraded", 2, 3)
    degraded = next(c for c in status["conditions"] if c["type"] == "Degraded")
    assert (degraded["status"], degraded["reason"]) == ("True", "ModelCreateRefused")
    assert refused_name in degraded["message"]
    assert f"refused ({api_reason}): {message}" in degraded["message"]
    [selector] = status["selectors"]
    assert selector["refused"] == [
        {"model": refused_name, "image": f"{QWEN}:0.8.4", "reason": api_reason, "message": message}
    ]
    [missed] = first.plan.not_created
    assert (missed.kind, missed.api_reason, missed.candidate.name) == ("refused", api_reason, refused_name)

    second = await run(QWEN_IMAGES, lister, store, previous=first.status)
    assert second.created == (refused_name,)
    assert store.attempts.count(refused_name) == 2
    assert second.status["status"] == "Ready"
    assert "refused" not in second.status["selectors"][0]
    assert second.status["discoveredModels"] == 3


async def test_a_name_found_taken_by_another_image_at_create_is_a_conflict():
    """The index did not know the model yet (it was made after the plan): the create finds it."""
    squatter = "r5139637.evil.example/amdenterpriseai/aim-qwen-qwen3-32b:0.8.5"

    class SquattedStore(MemoryStore):
        def existing(self):
            return {}  # the watch has not delivered the squatter's model yet

    store = SquattedStore(models={qwen_name("0.8.5"): {"metadata": {}, "spec": {"image": squatter}}})
    lister = RecordingLister(tags={QWEN: ["0.8.4", "0.8.5"]})
    result = await run(QWEN_IMAGES, lister, store)
    assert qwen_name("0.8.5") == "amdenterpriseai-aim-qwen-qwen3-32b-0-8-5-72f726"  # the squatter's too
    assert result.created == (qwen_name("0.8.4"),)
    assert store.models[qwen_name("0.8.5")]["spec"]["image"] == squatter  # left alone
    assert result.status["status"] == "Degraded"
    assert result.status["selectors"][0]["conflicts"] == [
        {"model": qwen_name("0.8.5"), "image": f"{QWEN}:0.8.5", "existingImage": squatter}
    ]
    assert result.status["discoveredModels"] == 1
    reasons = [c["reason"] for c in result.status["conditions"] if c["type"] == "Degraded"]
    assert reasons == ["ModelNameConflict"]


async def test_repeated_server_errors_stop_the_creates_of_this_sync_not_the_status():
    tags = [f"1.{i}.0" for i in range(6)]
    lister = RecordingLister(tags={QWEN: tags})
    outage = {
        qwen_name(t): [CreateRefusedError("InternalError", "webhook unavailable", transient=True)]
        for t in tags
    }
    store = MemoryStore(refuse=outage)
    result = await run(QWEN_IMAGES, lister, store)
    assert result.created == ()
    assert len(store.attempts) == 3  # then the rest wait for the next sync
    refused = result.status["selectors"][0]["refused"]
    assert [r["reason"] for r in refused] == ["InternalError"] * 3 + ["NotAttempted"] * 3
    assert result.status["status"] == "Degraded"
    # No memory blocks a retry: the next sync tries all six again (in this double each name is
    # refused once, so the first three now succeed and the other three get their one refusal).
    again = await run(QWEN_IMAGES, lister, store, previous=result.status)
    assert len(again.created) == 3
    assert len(store.attempts) == 9
    third = await run(QWEN_IMAGES, lister, store, previous=again.status)
    assert len(third.created) == 3
    assert third.status["status"] == "Ready"


async def test_a_failure_of_the_whole_store_still_fails_the_sync():
    class DownStore(MemoryStore):
        async def create(self, body):
            raise ConnectionError("API unreachable")

    lister = RecordingLister(tags={QWEN: ["0.8.5"]})
    with pytest.raises(ConnectionError):
        await run(QWEN_IMAGES, lister, DownStore())
