"""The ModelStore over the watch-fed indexes, with just-created models remembered until seen."""

from __future__ import annotations

from typing import Any

from aimsource.domain.planning import ExistingModel
from aimsource.operator.index import IndexedModelStore, existing_model


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
