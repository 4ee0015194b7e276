"""The operator's model index: events, and reconciles against a paged LIST in which events win."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from aimsource.operator.state.inventory import ModelInventory


def model(name: str, image: str, source: str | None = "src") -> dict[str, Any]:
    labels = {"aim.eai.amd.com/model-source": source} if source else {}
    return {"metadata": {"name": name, "labels": labels}, "spec": {"image": image}}


async def pages(*chunks: list[dict[str, Any]], during: Any = None) -> AsyncIterator[list[dict[str, Any]]]:
    for i, chunk in enumerate(chunks):
        yield chunk
        if i == 0 and during is not None:
            during()


async def test_a_model_deleted_while_the_watch_was_away_leaves_the_index() -> None:
    inventory = ModelInventory()
    inventory.apply(model("a", "ghcr.io/org/m:1"), deleted=False)
    inventory.apply(model("b", "ghcr.io/org/m:2"), deleted=False)
    result = await inventory.reconcile(pages([model("a", "ghcr.io/org/m:1")]))
    assert (result.listed, result.added, result.removed) == (1, 0, 1)
    assert set(inventory.names()) == {"a"}
    assert set(inventory.by_image) == {"ghcr.io/org/m:1"}
    assert inventory.by_source == {"src": {"a"}}


async def test_a_model_the_watch_missed_is_added_from_the_list() -> None:
    inventory = ModelInventory()
    listing = pages([model("a", "ghcr.io/org/m:1")], [model("u", "ghcr.io/o/x:1", None)])
    result = await inventory.reconcile(listing)
    assert (result.listed, result.added, result.removed) == (2, 2, 0)
    assert inventory.by_source == {"src": {"a"}}
    assert len(inventory.by_image) == 2


async def test_events_during_the_list_win_over_it() -> None:
    inventory = ModelInventory()
    inventory.apply(model("a", "ghcr.io/org/m:1"), deleted=False)

    def meanwhile() -> None:
        inventory.apply(model("a", "ghcr.io/org/m:1"), deleted=True)  # deleted after its page was read
        inventory.apply(model("c", "ghcr.io/org/m:3"), deleted=False)  # created after its page

    await inventory.reconcile(pages([model("a", "ghcr.io/org/m:1")], [], during=meanwhile))
    assert set(inventory.names()) == {"c"}
    assert inventory.by_source == {"src": {"c"}}


async def test_a_failed_list_leaves_the_index_as_it_was() -> None:
    inventory = ModelInventory()
    inventory.apply(model("a", "ghcr.io/org/m:1"), deleted=False)

    async def broken() -> AsyncIterator[list[dict[str, Any]]]:
        yield []
        raise OSError("connection reset")

    with pytest.raises(OSError, match="connection reset"):
        await inventory.reconcile(broken())
    assert set(inventory.names()) == {"a"}
    inventory.apply(model("b", "ghcr.io/org/m:2"), deleted=False)  # events still apply afterwards
    assert set(inventory.names()) == {"a", "b"}
