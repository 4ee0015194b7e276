"""Push HEADs shared between sources: one in flight per image, answers kept, the budget spent once."""

from __future__ import annotations

import asyncio

import pytest

from aimsource.domain.pushes.budgets import PushLimits
from aimsource.domain.references import parse_reference
from aimsource.registry.auth.credentials import Credential
from aimsource.registry.errors import TagNotFound
from aimsource.sync.push_heads import DIGEST_FOR, OverBudget, SharedHeads
from tests.sync.doubles import RecordingLister

REPO = "reg.example.com/org/model"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class SlowLister(RecordingLister):
    """HEADs that take a while, so that several sources ask while one is in flight."""

    async def manifest_digest(self, ref, *, credential, credentials=None):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0.05)
        return await super().manifest_digest(ref, credential=credential)


def heads(lister: RecordingLister, clock: Clock, **limits: int) -> SharedHeads:
    return SharedHeads(lister, limits=PushLimits(**limits), clock=clock)


async def test_sources_asking_at_once_share_one_head() -> None:
    lister = SlowLister(tags={REPO: ["1.0.0"]})
    shared = heads(lister, Clock())
    ref = parse_reference(f"{REPO}:1.0.0")
    digests = await asyncio.gather(*(shared.digest(ref, credential=None, source=s) for s in "abc"))
    assert len(set(digests)) == 1
    assert lister.count("head") == 1


async def test_a_digest_answers_later_sources_for_a_minute() -> None:
    lister = RecordingLister(tags={REPO: ["1.0.0"]})
    clock = Clock()
    shared = heads(lister, clock)
    ref = parse_reference(f"{REPO}:1.0.0")
    await shared.digest(ref, credential=None, source="a")
    await shared.digest(ref, credential=None, source="b")
    assert lister.count("head") == 1
    clock.now += DIGEST_FOR
    await shared.digest(ref, credential=None, source="b")
    assert lister.count("head") == 2


async def test_a_missing_tag_is_not_asked_for_again() -> None:
    lister = RecordingLister(tags={REPO: []})
    shared = heads(lister, Clock())
    ref = parse_reference(f"{REPO}:9.9.9")
    for source in ("a", "a", "b", "c"):
        with pytest.raises(TagNotFound):
            await shared.digest(ref, credential=None, source=source)
    assert lister.count("head") == 1


async def test_another_credential_is_another_head() -> None:
    lister = RecordingLister(tags={REPO: ["1.0.0"]})
    shared = heads(lister, Clock())
    ref = parse_reference(f"{REPO}:1.0.0")
    await shared.digest(ref, credential=None, source="a")
    await shared.digest(ref, credential=Credential("u", "p"), source="b")
    assert lister.count("head") == 2


async def test_past_the_budget_no_head_is_made() -> None:
    lister = RecordingLister(tags={REPO: []})
    shared = heads(lister, Clock(), heads_per_source=2)
    for tag in ("1", "2"):
        with pytest.raises(TagNotFound):
            await shared.digest(parse_reference(f"{REPO}:{tag}"), credential=None, source="a")
    with pytest.raises(OverBudget):
        await shared.digest(parse_reference(f"{REPO}:3"), credential=None, source="a")
    assert lister.count("head") == 2
    assert shared.made == 2
