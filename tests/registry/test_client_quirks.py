"""Registry quirks against a real docker-registry behind the paginating front: page sizes refused
above `n` (Quay's 413, `TOO_MANY_TAGS_REQUESTED`, a 400 naming `n`), pages followed by their `Link`
only, and Docker Hub's ratelimit headers reaching the observer under the registry's own name."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs

import pytest

from aimsource.domain.references import ImageRef
from aimsource.registry.client import RegistryClient
from aimsource.registry.errors import BadResponse
from tests.support.fronts import PaginatingFront, Refusal
from tests.support.registry_fixtures import BIG_REPOSITORY, BIG_TAGS
from tests.support.registry_server import RunningRegistry

pytestmark = pytest.mark.registry

MakeFront = Callable[..., PaginatingFront]


class Observer:
    def __init__(self) -> None:
        self.remaining: list[tuple[str, int]] = []
        self.limits: list[tuple[str, int]] = []

    def request(self, host: str, status: int | None) -> None:
        pass

    def retry(self, host: str) -> None:
        pass

    def ratelimit_remaining(self, host: str, remaining: int) -> None:
        self.remaining.append((host, remaining))

    def ratelimit_limit(self, host: str, limit: int) -> None:
        self.limits.append((host, limit))

    def ratelimit_wait(self, host: str, seconds: float) -> None:
        pass


def queries(front: PaginatingFront) -> list[dict[str, list[str]]]:
    return [parse_qs(r.query) for r in front.log.requests if r.path.endswith("/tags/list")]


@pytest.mark.parametrize("refusal", ["413", "too-many-tags", "400-n"])
async def test_a_refused_page_size_is_asked_again_with_100_and_remembered_for_the_host(
    big_registry: RunningRegistry, make_paginating_front: MakeFront, refusal: Refusal
) -> None:
    front = make_paginating_front(
        big_registry, page_size=100, max_n=100, refusal=refusal, cursor_param="next_page"
    )
    ref = ImageRef(front.host, BIG_REPOSITORY)
    async with RegistryClient() as client:
        listing = await client.list_tags(ref, credential=None)
        assert sorted(listing.tags) == sorted(BIG_TAGS)
        assert not listing.truncated
        first = queries(front)
        assert [q["n"] for q in first[:2]] == [["1000"], ["100"]]
        assert len(first) == 1 + 10  # one refused request, then ten pages of 100
        # Pages after the first come from the registry's Link only: its opaque cursor, no `last`.
        assert all("last" not in q for q in first)
        assert all("next_page" in q for q in first[2:])
        front.log.reset()
        again = await client.list_tags(ref, credential=None)
    assert sorted(again.tags) == sorted(BIG_TAGS)
    assert [q["n"] for q in queries(front)[:1]] == [["100"]]
    assert len(queries(front)) == 10  # remembered: no refused request this time


async def test_a_registry_refusing_even_100_fails_the_listing_naming_it(
    big_registry: RunningRegistry, make_paginating_front: MakeFront
) -> None:
    front = make_paginating_front(big_registry, page_size=100, max_n=50, refusal="413")
    async with RegistryClient() as client:
        with pytest.raises(BadResponse, match="HTTP 413"):
            await client.list_tags(ImageRef(front.host, BIG_REPOSITORY), credential=None)
    assert [q["n"] for q in queries(front)] == [["1000"], ["100"]]  # two tries, not a loop


async def test_docker_hub_ratelimit_headers_become_the_registrys_limit_and_remaining(
    big_registry: RunningRegistry, make_paginating_front: MakeFront
) -> None:
    front = make_paginating_front(big_registry, page_size=100, ratelimit_limit=100)
    observer = Observer()
    async with RegistryClient(observer=observer) as client:
        await client.list_tags(ImageRef(front.host, BIG_REPOSITORY), credential=None)
    requests = len(front.log.requests)
    assert observer.limits[-1] == (front.host, 100)
    assert observer.remaining[-1] == (front.host, 100 - requests)
    assert {host for host, _ in observer.remaining + observer.limits} == {front.host}
