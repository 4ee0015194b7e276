"""The ModelStore over the watch-fed indexes, with just-created models remembered until seen."""

from __future__ import annotations

import time
from typing import Any

import pytest

from aimsource.domain.selection.planning import ExistingModel
from aimsource.domain.writes import CreateRefusedError, NameTakenError
from aimsource.kube import ForbiddenError, InvalidError, ServerError, UnauthorizedError, UnreachableError
from aimsource.operator.state.index import IndexedModelStore, existing_model


def body(name: str, image: str, source: str | None = None) -> dict[str, Any]:
    labels = {"aim.eai.amd.com/model-source": source} if source else {}
    return {"metadata": {"name": name, "labels": labels}, "spec": {"image": image}}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def make(
    by_image: dict[str, list[ExistingModel]],
    by_source: dict[str, list[str]],
    *,
    exists: bool = False,
    clock: Clock | None = None,
) -> tuple[IndexedModelStore, list[dict[str, Any]]]:
    created: list[dict[str, Any]] = []

    async def create(b: dict[str, Any]) -> bool:
        created.append(b)
        return not exists

    store = IndexedModelStore(create=create, clock=clock or Clock(), grace=60.0)
    store.bind(by_image=by_image, by_source=by_source)
    return store, created


def test_existing_model_is_keyed_by_canonical_image() -> None:
    assert existing_model(body("m", "docker.io/library/ubuntu:22.04", "src")) == ExistingModel(
        name="m", image="docker.io/library/ubuntu:22.04", source="src"
    )
    assert existing_model(body("m", "ubuntu:22.04")) == ExistingModel(
        name="m", image="docker.io/library/ubuntu:22.04", source=None
    )
    assert existing_model({"metadata": {"name": "x"}, "spec": {}}) is None


def test_existing_model_keeps_the_source_digest_when_it_is_a_digest() -> None:
    """The moved-tag check compares with it; anything else an annotation holds is not kept."""
    digest = "sha256:" + "e" * 64
    model = body("m", "org/model:1.0.0", "src")
    model["metadata"]["annotations"] = {"aim.eai.amd.com/source-digest": digest}
    assert existing_model(model) == ExistingModel(
        name="m", image="docker.io/org/model:1.0.0", source="src", digest=digest
    )
    model["metadata"]["annotations"] = {"aim.eai.amd.com/source-digest": "sha256:not-hex"}
    assert existing_model(model).digest is None  # type: ignore[union-attr]
    model["metadata"]["annotations"] = ["not", "a", "map"]
    assert existing_model(model).digest is None  # type: ignore[union-attr]


def test_a_source_owned_model_is_preferred_when_several_share_an_image() -> None:
    user = ExistingModel("a-user", "r/x:1", None)
    owned = ExistingModel("z-owned", "r/x:1", "src")
    store, _ = make({"r/x:1": [user, owned]}, {"src": ["z-owned"]})
    assert store.existing()["r/x:1"] == owned
    assert dict(store.existing()) == {"r/x:1": owned}
    assert store.owned_count("src") == 1
    assert store.owned_count("other") == 0


async def test_a_just_created_model_counts_until_the_watch_shows_it() -> None:
    by_image: dict[str, list[ExistingModel]] = {}
    by_source: dict[str, list[str]] = {}
    store, created = make(by_image, by_source)
    assert await store.create(body("m1", "reg.io/x:1", "src")) is True
    assert len(created) == 1
    assert store.existing()["reg.io/x:1"].name == "m1"
    assert store.owned_count("src") == 1

    by_image["reg.io/x:1"] = [ExistingModel("m1", "reg.io/x:1", "src")]
    by_source["src"] = ["m1"]
    store.observed("reg.io/x:1")
    assert store.owned_count("src") == 1  # not counted twice

    del by_image["reg.io/x:1"], by_source["src"]  # a user deletes it
    store.observed("reg.io/x:1", deleted=True)
    assert "reg.io/x:1" not in store.existing()
    assert store.owned_count("src") == 0


@pytest.mark.parametrize("added_seen_first", [True, False], ids=["added-before-create-returned", "folded"])
async def test_a_just_created_model_deleted_before_its_event_was_seen_is_forgotten(
    added_seen_first: bool,
) -> None:
    # ADDED before `create` returned (or folded into the DELETED), then DELETED: never recreated
    # for the whole grace period otherwise.
    by_image: dict[str, list[ExistingModel]] = {}
    store, _ = make(by_image, {})
    if added_seen_first:
        store.observed("reg.io/x:1")  # the index showed it and dropped it again: nothing to keep
    assert await store.create(body("m1", "reg.io/x:1", "src")) is True
    store.observed("reg.io/x:1", deleted=True)
    assert "reg.io/x:1" not in store.existing()
    assert store.owned_count("src") == 0


async def test_deleting_another_model_of_the_image_keeps_the_just_created_one() -> None:
    by_image = {"reg.io/x:1": [ExistingModel("users", "reg.io/x:1", None)]}
    store, _ = make(by_image, {})
    assert await store.create(body("m1", "reg.io/x:1", "src")) is True
    by_image["reg.io/x:1"] = [ExistingModel("m1", "reg.io/x:1", "src")]  # ours, shown; the user's gone
    store.observed("reg.io/x:1", deleted=True)
    assert store.existing()["reg.io/x:1"].name == "m1"


def test_the_snapshot_follows_index_changes() -> None:
    by_image: dict[str, list[ExistingModel]] = {"r/x:1": [ExistingModel("m1", "r/x:1", "src")]}
    store, _ = make(by_image, {"src": ["m1"]})
    assert set(store.existing()) == {"r/x:1"}
    by_image["r/x:2"] = [ExistingModel("m2", "r/x:2", None)]
    store.observed("r/x:2")
    assert set(store.existing()) == {"r/x:1", "r/x:2"}
    del by_image["r/x:1"]
    store.observed("r/x:1", deleted=True)
    assert set(store.existing()) == {"r/x:2"}


async def test_a_created_model_never_seen_is_forgotten_after_the_grace_period() -> None:
    clock = Clock()
    store, _ = make({}, {}, clock=clock)
    await store.create(body("m1", "reg.io/x:1", "src"))
    clock.now = 61.0
    assert "reg.io/x:1" not in store.existing()
    assert store.owned_count("src") == 0


async def test_already_existing_model_is_remembered_as_existing() -> None:
    store, _ = make({}, {}, exists=True)
    assert await store.create(body("m1", "reg.io/x:1", "src")) is False
    assert "reg.io/x:1" in store.existing()
    # Someone else made it (another source racing us, or a person): it is not ours.
    assert store.existing()["reg.io/x:1"].source is None
    assert store.owned_count("src") == 0


async def test_a_race_lost_to_another_source_keeps_that_sources_record() -> None:
    outcomes = iter([True, False])

    async def create(b: dict[str, Any]) -> bool:
        return next(outcomes)

    store = IndexedModelStore(create=create, clock=Clock(), grace=60.0)
    store.bind(by_image={}, by_source={})
    assert await store.create(body("m1", "reg.io/x:1", "a")) is True
    assert await store.create(body("m1", "reg.io/x:1", "b")) is False
    assert store.owned_count("a") == 1
    assert store.owned_count("b") == 0
    assert store.existing()["reg.io/x:1"].source == "a"


def refusing(error: Exception, *, ride_out: float = 0.0) -> IndexedModelStore:
    async def create(b: dict[str, Any]) -> bool:
        raise error

    store = IndexedModelStore(create=create, clock=Clock(), grace=60.0, ride_out=ride_out)
    store.bind(by_image={}, by_source={})
    return store


@pytest.mark.parametrize(
    ("error", "reason", "transient"),
    [
        (
            ForbiddenError(
                'POST /apis/x/aimclustermodels: 403 Forbidden: admission webhook "p" denied the request: no',
                status=403,
                api_reason="Forbidden",
            ),
            "Forbidden",
            False,
        ),
        (
            InvalidError(
                "POST /apis/x/aimclustermodels: 422 Invalid: spec.image: Invalid value",
                status=422,
                api_reason="Invalid",
            ),
            "Invalid",
            False,
        ),
        (
            ServerError(
                "POST /apis/x/aimclustermodels: 500 InternalError: failed calling webhook",
                status=500,
                api_reason="InternalError",
            ),
            "InternalError",
            True,
        ),
        (ServerError("POST /apis/x/aimclustermodels: 502 Bad Gateway", status=502), "ServerError", True),
    ],
    ids=["webhook-403", "invalid-422", "webhook-down-500", "bare-502"],
)
async def test_an_api_answer_refusing_one_model_is_that_models_refusal(
    error: Exception, reason: str, transient: bool
) -> None:
    store = refusing(error)
    with pytest.raises(CreateRefusedError) as caught:
        await store.create(body("m1", "reg.io/x:1", "src"))
    assert (caught.value.reason, caught.value.transient) == (reason, transient)
    assert not caught.value.message.startswith("POST ")  # the API's words, not our request line
    assert caught.value.message in str(error)
    assert store.existing() == {}  # nothing remembered: the next sync tries again
    assert store.owned_count("src") == 0


@pytest.mark.parametrize(
    "error",
    [
        UnreachableError("Kubernetes API at https://x unreachable on POST"),
        UnauthorizedError("POST x: 401 Unauthorized", status=401, api_reason="Unauthorized"),
    ],
    ids=["unreachable", "unauthorized"],
)
async def test_no_answer_or_bad_credentials_stay_a_failure_of_the_sync(error: Exception) -> None:
    with pytest.raises(type(error)):
        await refusing(error).create(body("m1", "reg.io/x:1", "src"))


async def test_an_api_server_that_answers_again_soon_gets_the_create_again() -> None:
    """A blip shorter than the ride-out costs the creates its length, not a failed sync (retried
    30 s after it started): measured in tests/realkube/test_resume.py."""
    attempts: list[float] = []

    async def create(b: dict[str, Any]) -> bool:
        attempts.append(time.monotonic())
        if len(attempts) < 3:
            raise UnreachableError("Kubernetes API at https://x unreachable on POST")
        return True

    store = IndexedModelStore(create=create, clock=Clock(), grace=60.0, ride_out=5.0)
    store.bind(by_image={}, by_source={})
    assert await store.create(body("m1", "reg.io/x:1", "src")) is True
    assert len(attempts) == 3
    assert attempts[1] - attempts[0] >= 0.5  # paused between tries: not a busy loop
    assert store.owned_count("src") == 1


async def test_an_api_server_away_longer_than_the_ride_out_fails_the_sync() -> None:
    started = time.monotonic()
    with pytest.raises(UnreachableError):
        await refusing(UnreachableError("unreachable"), ride_out=1.0).create(body("m1", "reg.io/x:1", "src"))
    assert 0.5 <= time.monotonic() - started < 1.5
    with pytest.raises(UnauthorizedError):  # an answer refusing us is not waited out
        await refusing(UnauthorizedError("401", status=401), ride_out=60.0).create(
            body("m1", "reg.io/x:1", "src")
        )


async def test_a_409_for_a_name_the_index_shows_with_another_image_is_a_conflict() -> None:
    squatter = ExistingModel("m1", "evil.io/x:1", None)
    store, _ = make({"evil.io/x:1": [squatter]}, {}, exists=True)
    with pytest.raises(NameTakenError) as caught:
        await store.create(body("m1", "reg.io/x:1", "src"))
    assert (caught.value.name, caught.value.existing_image) == ("m1", "evil.io/x:1")
    assert "reg.io/x:1" not in store.existing()


async def test_a_409_for_a_name_the_index_does_not_show_yet_reads_the_holder() -> None:
    reads: list[str] = []

    async def create(b: dict[str, Any]) -> bool:
        return False

    async def read_image(name: str) -> str | None:
        reads.append(name)
        return "evil.io/x:1"

    store = IndexedModelStore(create=create, clock=Clock(), read_image=read_image)
    store.bind(by_image={}, by_source={})
    with pytest.raises(NameTakenError):
        await store.create(body("m1", "reg.io/x:1", "src"))
    assert reads == ["m1"]


async def test_a_409_whose_holder_has_our_image_is_someone_elses_model() -> None:
    async def create(b: dict[str, Any]) -> bool:
        return False

    async def read_image(name: str) -> str | None:
        return "reg.io/x:1"

    store = IndexedModelStore(create=create, clock=Clock(), read_image=read_image)
    store.bind(by_image={}, by_source={})
    assert await store.create(body("m1", "reg.io/x:1", "src")) is False
    assert store.existing()["reg.io/x:1"].source is None
