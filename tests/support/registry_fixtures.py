"""Pytest fixtures for real registries and the fronts, shared by every test package that needs them.

A plugin listed in the root conftest's `pytest_plugins`: tests ask for the fixtures by name and
never import them (the constants, STANDARD_IMAGES and the like, are imported as usual).

Registries are session-scoped (one process per mode, started on first use) and come pre-loaded
with `STANDARD_IMAGES`; tests that need more push into their own repository names so that they do
not disturb each other. Fronts and the recording server are cheap threads: one per test.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.components import missing
from tests.support.faults import FaultFront, RecordingServer
from tests.support.fronts import PaginatingFront
from tests.support.images import numbered_tags
from tests.support.proxying import Upstream
from tests.support.registry_server import RunningRegistry, registry_binary, start_registry
from tests.support.tls import CertificateAuthority, make_certificate_authority
from tests.support.token_server import TokenPolicy

__all__ = ["BIG_REPOSITORY", "BIG_TAGS", "PRIVATE_REPOSITORY", "STANDARD_IMAGES"]

STANDARD_IMAGES: dict[str, tuple[str, ...]] = {
    "amdenterpriseai/aim-qwen-qwen3-32b": ("0.8.3", "0.8.4", "0.8.5", "0.9.0-rc1", "latest"),
    "amdenterpriseai/aim-deepseek-deepseek-r1": ("0.8.4", "0.8.5", "1.0.0", "dev"),
}
"""Pushed into every registry fixture (docker schema 2 manifests, AIM labels)."""

PRIVATE_REPOSITORY = "private/aim-secret-model"
"""Also pushed everywhere, with tag `1.0.0`; in token mode anonymous tokens get no access to it."""

BIG_REPOSITORY = "amdenterpriseai/aim-many-tags"
BIG_TAGS: tuple[str, ...] = tuple(numbered_tags(1000))
"""1,000 SemVer tags in `BIG_REPOSITORY` of `big_registry` (one manifest under every tag)."""


def _require_binary() -> None:
    if registry_binary() is None:
        missing("docker-registry (CNCF distribution 2.8)", "apt-get install docker-registry")


def _seed(registry: RunningRegistry) -> None:
    with registry.pusher() as pusher:
        for repository, tags in STANDARD_IMAGES.items():
            pusher.push_image(repository, tags)
        pusher.push_image(PRIVATE_REPOSITORY, "1.0.0")


@contextlib.contextmanager
def _seeded(tmp: Path, mode: Any, **kwargs: Any) -> Iterator[RunningRegistry]:
    _require_binary()
    with start_registry(mode, workdir=tmp, **kwargs) as registry:
        _seed(registry)
        yield registry


@pytest.fixture(scope="session")
def registry_ca(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    """One throw-away CA for every TLS server of the session (`.ca_file` is the bundle to trust)."""
    return make_certificate_authority(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="session")
def anonymous_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    """Plain HTTP, no auth."""
    with _seeded(tmp_path_factory.mktemp("registry-anonymous"), "anonymous") as registry:
        yield registry


@pytest.fixture(scope="session")
def htpasswd_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    """Plain HTTP, Basic auth (`.username`/`.password`, `.docker_config()`)."""
    with _seeded(tmp_path_factory.mktemp("registry-htpasswd"), "htpasswd") as registry:
        yield registry


@pytest.fixture(scope="session")
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    """Plain HTTP, Bearer challenge to `.token_server` (on another port). Anonymous tokens pull
    public repositories; `PRIVATE_REPOSITORY` needs the credentials. Tests that change
    `.token_server.policy` must restore it."""
    with _seeded(tmp_path_factory.mktemp("registry-token"), "token", token_policy=TokenPolicy()) as registry:
        yield registry


@pytest.fixture(scope="session")
def tls_registry(
    tmp_path_factory: pytest.TempPathFactory, registry_ca: CertificateAuthority
) -> Iterator[RunningRegistry]:
    """HTTPS with a certificate from `registry_ca` (verify with `.ca_file`), Basic auth."""
    with _seeded(tmp_path_factory.mktemp("registry-tls"), "htpasswd", tls=registry_ca) as registry:
        yield registry


@pytest.fixture(scope="session")
def tls_token_registry(
    tmp_path_factory: pytest.TempPathFactory, registry_ca: CertificateAuthority
) -> Iterator[RunningRegistry]:
    """HTTPS registry and HTTPS token server (both from `registry_ca`), realm written `localhost`
    while the registry is `127.0.0.1`: the realm is on another host, as on Docker Hub."""
    with _seeded(
        tmp_path_factory.mktemp("registry-tls-token"), "token", tls=registry_ca, token_hostname="localhost"
    ) as registry:
        yield registry


@pytest.fixture(scope="session")
def big_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    """Anonymous HTTP registry with `STANDARD_IMAGES` plus `BIG_REPOSITORY` holding `BIG_TAGS`."""
    with _seeded(tmp_path_factory.mktemp("registry-big"), "anonymous") as registry:
        with registry.pusher() as pusher:
            pusher.push_image(BIG_REPOSITORY, BIG_TAGS)
        yield registry


@pytest.fixture
def make_paginating_front() -> Iterator[Callable[..., PaginatingFront]]:
    """`make_paginating_front(registry, page_size=100, link_style="relative", cursor_param="last")`
    -> a started `PaginatingFront` in front of a `RunningRegistry`, stopped after the test."""
    fronts: list[PaginatingFront] = []

    def make(registry: RunningRegistry, **kwargs: Any) -> PaginatingFront:
        front = PaginatingFront(Upstream(registry.base_url, registry.ca_file), **kwargs).start()
        fronts.append(front)
        return front

    yield make
    for front in fronts:
        front.stop()


@pytest.fixture
def paginating_front(
    big_registry: RunningRegistry, make_paginating_front: Callable[..., PaginatingFront]
) -> PaginatingFront:
    """Docker Hub-like pages of 100 in front of `big_registry`."""
    return make_paginating_front(big_registry)


@pytest.fixture
def make_fault_front() -> Iterator[Callable[[RunningRegistry | PaginatingFront], FaultFront]]:
    """`make_fault_front(registry_or_front)` -> a started `FaultFront` forwarding to it."""
    fronts: list[FaultFront] = []

    def make(upstream: RunningRegistry | PaginatingFront) -> FaultFront:
        if isinstance(upstream, RunningRegistry):
            front = FaultFront(Upstream(upstream.base_url, upstream.ca_file))
        else:
            front = FaultFront(Upstream(upstream.base_url))
        fronts.append(front.start())
        return front

    yield make
    for front in fronts:
        front.stop()


@pytest.fixture
def fault_front(
    anonymous_registry: RunningRegistry,
    make_fault_front: Callable[[RunningRegistry | PaginatingFront], FaultFront],
) -> FaultFront:
    """A `FaultFront` before `anonymous_registry`, no fault armed."""
    return make_fault_front(anonymous_registry)


@pytest.fixture
def recording_server() -> Iterator[RecordingServer]:
    """ "Another host" on its own port that records every Authorization header it receives."""
    with RecordingServer() as server:
        yield server
