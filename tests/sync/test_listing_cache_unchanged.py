"""A repository that discovery says has not changed since its kept listing began is not listed
again; walks are reused for the caller's freshness; a push makes the repository list again."""

from __future__ import annotations

from aimsource.domain.patterns import parse_pattern
from aimsource.domain.references import ImageRef
from aimsource.sync.listing_cache import UNCHANGED_MARGIN, CachingTagLister
from tests.sync.doubles import RecordingLister

REG = "reg.example.com"
PATTERN = parse_pattern(f"{REG}/team/*")
LLAMA = ImageRef(REG, "team/llama")
QWEN = ImageRef(REG, "team/qwen")


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class Served:
    def __init__(self) -> None:
        self.unchanged: list[str] = []

    def listing_cache_size(self, entries: int, tags: int) -> None:
        pass

    def stale_listing_served(self, registry: str) -> None:
        pass

    def unchanged_listing_served(self, registry: str) -> None:
        self.unchanged.append(registry)


def make() -> tuple[CachingTagLister, RecordingLister, Clock, Served]:
    clock, served = Clock(), Served()
    inner = RecordingLister(tags={LLAMA.key: ["1.0.0"], QWEN.key: ["1.0.0"]})
    inner.updated = {LLAMA.key: clock.now - 3600, QWEN.key: clock.now - 3600}
    return CachingTagLister(inner, clock=clock, observer=served), inner, clock, served


async def sync_once(lister: CachingTagLister) -> None:
    found = await lister.list_repositories(PATTERN, credential=None, fresh_for=0)
    for name in found.repositories:
        await lister.list_tags(ImageRef(REG, name), credential=None)


async def test_an_unchanged_repository_is_served_from_its_kept_listing_with_no_request() -> None:
    lister, inner, clock, served = make()
    await sync_once(lister)
    assert inner.count("list") == 2
    clock.now += 3600
    await sync_once(lister)
    assert (inner.count("discover"), inner.count("list")) == (2, 2)  # walked again, listed nothing
    assert served.unchanged == [REG, REG]
    assert lister.unchanged_served == 2


async def test_a_repository_changed_since_its_listing_began_is_listed_again() -> None:
    lister, inner, clock, _served = make()
    await sync_once(lister)
    clock.now += 3600
    inner.updated[QWEN.key] = clock.now - 60  # pushed a minute ago
    inner.tags[QWEN.key].append("1.1.0")
    await sync_once(lister)
    assert [c[1] for c in inner.calls if c[0] == "list"][-1] == str(QWEN)
    assert inner.count("list") == 3
    assert (await lister.list_tags(QWEN, credential=None)).tags == ("1.0.0", "1.1.0")


async def test_a_change_within_the_margin_before_the_listing_is_not_trusted_to_be_in_it() -> None:
    lister, inner, clock, _ = make()
    inner.updated[LLAMA.key] = clock.now - UNCHANGED_MARGIN / 2  # clocks may disagree by that much
    await sync_once(lister)
    clock.now += 3600
    await sync_once(lister)
    assert [c[1] for c in inner.calls if c[0] == "list"].count(str(LLAMA)) == 2


async def test_a_push_to_the_repository_makes_it_list_again_and_the_kept_walk_learns_it() -> None:
    lister, inner, _clock, _ = make()
    await lister.list_repositories(PATTERN, credential=None, fresh_for=3600)
    await lister.list_tags(LLAMA, credential=None)
    assert lister.learn(REG, "team/mistral") == 1
    lister.learn(REG, "team/llama")
    again = await lister.list_repositories(PATTERN, credential=None, fresh_for=3600)
    assert inner.count("discover") == 1  # the kept walk, with the pushed repository in it
    assert again.repositories == ("team/llama", "team/mistral", "team/qwen")
    await lister.list_tags(LLAMA, credential=None)
    assert inner.count("list") == 2  # pushed: not trusted to be unchanged any more


async def test_without_a_time_from_discovery_every_repository_is_listed() -> None:
    lister, inner, clock, served = make()
    inner.updated = {}
    await sync_once(lister)
    clock.now += 3600
    await sync_once(lister)
    assert inner.count("list") == 4
    assert served.unchanged == []
