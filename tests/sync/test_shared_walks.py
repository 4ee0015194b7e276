"""Sources with the same wildcard share one walk: joined while it runs, reused for a short while,
never across credentials, never kept when it failed (`sync/shared_walks.py`)."""

from __future__ import annotations

import asyncio

import pytest

from aimsource.domain.patterns import parse_pattern
from aimsource.registry.auth.credentials import Credential, CredentialStore
from aimsource.registry.discovery.listing import RepositoryListing
from aimsource.registry.errors import Unreachable
from aimsource.sync.shared_walks import SharedWalks

PATTERN = parse_pattern("registry.example.com/team/*")
LISTING = RepositoryListing(("team/a",), seen=3)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_concurrent_syncs_with_the_same_wildcard_join_one_walk() -> None:
    walks = SharedWalks()
    release = asyncio.Event()
    started = 0

    async def start() -> RepositoryListing:
        nonlocal started
        started += 1
        await release.wait()
        return LISTING

    waiting = [asyncio.create_task(walks.walk(PATTERN, None, None, start)) for _ in range(20)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiting) == [LISTING] * 20
    assert (started, walks.walks) == (1, 1)


async def test_a_finished_walk_is_reused_only_for_a_while() -> None:
    clock = Clock()
    walks = SharedWalks(reuse_for=30, clock=clock)

    async def start() -> RepositoryListing:
        return LISTING

    await walks.walk(PATTERN, None, None, start)
    clock.now = 29
    await walks.walk(PATTERN, None, None, start)
    assert walks.walks == 1
    clock.now = 31
    await walks.walk(PATTERN, None, None, start)
    assert walks.walks == 2


async def test_walks_are_never_shared_across_credentials() -> None:
    walks = SharedWalks()

    async def start() -> RepositoryListing:
        return LISTING

    alice, bob = Credential("alice", "a-secret"), Credential("bob", "b-secret")
    mirror = CredentialStore({"mirror.example.com": alice})
    for credential, credentials in [(None, None), (alice, None), (bob, None), (None, mirror)]:
        await walks.walk(PATTERN, credential, credentials, start)
    assert walks.walks == 4


async def test_a_failed_walk_fails_everyone_waiting_and_is_not_kept() -> None:
    walks = SharedWalks()
    release = asyncio.Event()

    async def failing() -> RepositoryListing:
        await release.wait()
        raise Unreachable("unreachable: registry.example.com: connection refused")

    first = asyncio.create_task(walks.walk(PATTERN, None, None, failing))
    await asyncio.sleep(0)
    joined = asyncio.create_task(walks.walk(PATTERN, None, None, failing))
    await asyncio.sleep(0)
    release.set()
    for task in (first, joined):
        with pytest.raises(Unreachable):
            await task

    async def start() -> RepositoryListing:
        return LISTING

    assert await walks.walk(PATTERN, None, None, start) == LISTING
    assert walks.walks == 2
