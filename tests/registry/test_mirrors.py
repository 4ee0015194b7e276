"""Mirrors from the registries file, against real docker-registry processes behind recording fronts.

A source names `docker.io` (or another registry); the client lists and HEADs at the mirrors in
order and keeps the canonical names. Every mirror here is a real distribution registry, reached
through a `FaultFront` that records each request (its Authorization header and arrival time) and
fails when told to. No test here reaches the network: where the registry itself must not be
asked, `fallback: false` makes sure of it and the observer shows no request to it.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from aimsource.domain.references import ImageRef
from aimsource.domain.registries.entries import Registries
from aimsource.domain.registries.parsing import parse_registries
from aimsource.registry.auth.credentials import Credential, CredentialStore
from aimsource.registry.client import RegistryClient
from aimsource.registry.errors import RepositoryNotFound, TLSFailure, Unreachable
from aimsource.registry.settings import RegistrySettings
from tests.support.faults import Fault, FaultFront
from tests.support.registry_fixtures import STANDARD_IMAGES
from tests.support.registry_server import RunningRegistry
from tests.support.serving import free_port
from tests.support.tls import CertificateAuthority

pytestmark = pytest.mark.registry

QWEN = "amdenterpriseai/aim-qwen-qwen3-32b"
QWEN_TAGS = sorted(STANDARD_IMAGES[QWEN])
FAST = RegistrySettings(max_attempts=2, backoff_base=0.01, backoff_cap=0.05, connect_timeout=2.0)
"""Retries that end quickly: a dead mirror passes the call on after two attempts."""

FrontMaker = Callable[[RunningRegistry], FaultFront]


def registries(text: str) -> Registries:
    """The registries file as `aimsource run --registries` reads it (CA files must exist)."""
    return parse_registries(text, origin="registries.yaml", file_exists=os.path.isfile)


def dead_url() -> str:
    """A loopback port nobody listens on: the connection is refused."""
    return f"http://127.0.0.1:{free_port()}"


class Seen:
    """A `RegistryObserver` and `EndpointObserver` that keeps what it was told."""

    def __init__(self) -> None:
        self.hosts: list[str] = []
        self.mirror_calls: list[tuple[str, str, str]] = []

    def request(self, host: str, status: int | None) -> None:
        self.hosts.append(host)

    def retry(self, host: str) -> None:
        pass

    def ratelimit_remaining(self, host: str, remaining: int) -> None:
        pass

    def ratelimit_wait(self, host: str, seconds: float) -> None:
        pass

    def ratelimit_limit(self, host: str, limit: int) -> None:
        pass

    def mirror_call(self, registry: str, mirror: str, outcome: str) -> None:
        self.mirror_calls.append((registry, mirror, outcome))


def basic(credential: Credential) -> str:
    return "Basic " + base64.b64encode(f"{credential.username}:{credential.password}".encode()).decode()


def store(entries: dict[str, Credential]) -> CredentialStore:
    return CredentialStore(entries)


async def test_docker_io_is_listed_and_headed_at_a_local_mirror(
    anonymous_registry: RunningRegistry, make_fault_front: FrontMaker
) -> None:
    mirror = make_fault_front(anonymous_registry)
    config = registries(
        f"registries:\n  docker.io:\n    mirrors:\n      - url: {mirror.base_url}\n    fallback: false\n"
    )
    seen = Seen()
    async with RegistryClient(FAST, registries=config, observer=seen, endpoint_observer=seen) as client:
        listing = await client.list_tags(ImageRef("docker.io", QWEN), credential=None)
        digest = await client.manifest_digest(ImageRef("docker.io", QWEN, "0.8.5"), credential=None)
    assert sorted(listing.tags) == QWEN_TAGS
    assert listing.endpoint == mirror.base_url
    assert digest is not None
    assert digest.startswith("sha256:")
    assert mirror.log.count(path=f"/v2/{QWEN}/tags/list") == 1
    assert mirror.log.count(path=f"/v2/{QWEN}/manifests/0.8.5", method="HEAD") == 1
    assert set(seen.hosts) == {mirror.host}  # never registry-1.docker.io
    assert seen.mirror_calls == [("docker.io", mirror.base_url, "served")] * 2


async def test_a_dead_mirror_passes_the_call_to_the_next_and_is_logged_once(
    anonymous_registry: RunningRegistry, make_fault_front: FrontMaker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="aimsource.registry")
    dead = dead_url()
    live = make_fault_front(anonymous_registry)
    config = registries(
        f"registries:\n  docker.io:\n    mirrors:\n      - {dead}\n      - {live.base_url}\n"
        "    fallback: false\n"
    )
    seen = Seen()
    async with RegistryClient(FAST, registries=config, observer=seen, endpoint_observer=seen) as client:
        for _ in range(3):
            listing = await client.list_tags(ImageRef("docker.io", QWEN), credential=None)
            assert sorted(listing.tags) == QWEN_TAGS
            assert listing.endpoint == live.base_url
    failing = [r for r in caplog.records if "fails" in r.getMessage() and dead in r.getMessage()]
    assert len(failing) == 1, caplog.text  # once per change, not per request
    assert f"using {live.base_url} instead" in failing[0].getMessage()
    assert seen.mirror_calls.count(("docker.io", dead, "failed")) == 3
    assert seen.mirror_calls.count(("docker.io", live.base_url, "served")) == 3


async def test_a_mirror_answering_5xx_after_retries_passes_the_call_on(
    anonymous_registry: RunningRegistry, make_fault_front: FrontMaker
) -> None:
    failing = make_fault_front(anonymous_registry)
    live = make_fault_front(anonymous_registry)
    failing.inject(Fault.error(503), path="tags/list", times=2)  # both attempts
    config = registries(
        f"registries:\n  docker.io:\n    mirrors: [{failing.base_url}, {live.base_url}]\n"
        "    fallback: false\n"
    )
    async with RegistryClient(FAST, registries=config) as client:
        listing = await client.list_tags(ImageRef("docker.io", QWEN), credential=None)
    assert listing.endpoint == live.base_url
    assert failing.log.count(path="tags/list") == 2


async def test_fallback_false_with_every_mirror_down_names_the_mirrors_tried(
    anonymous_registry: RunningRegistry, make_fault_front: FrontMaker
) -> None:
    dead = dead_url()
    erring = make_fault_front(anonymous_registry)
    erring.inject(Fault.error(502), times=10)
    config = registries(
        f"registries:\n  docker.io:\n    mirrors: [{dead}, {erring.base_url}]\n    fallback: false\n"
    )
    seen = Seen()
    async with RegistryClient(FAST, registries=config, observer=seen) as client:
        with pytest.raises(Unreachable) as info:
            await client.list_tags(ImageRef("docker.io", QWEN), credential=None)
    message = str(info.value)
    assert "every mirror of docker.io failed and fallback is off" in message
    assert dead in message
    assert "connection refused" in message
    assert erring.base_url in message
    assert "HTTP 502" in message
    assert set(seen.hosts) <= {erring.host, dead.removeprefix("http://")}  # docker.io never asked
    assert info.value.answered  # the 502 was an answer: reached_registry for the status


async def test_with_fallback_the_registry_itself_answers_after_its_mirrors(
    anonymous_registry: RunningRegistry, make_fault_front: FrontMaker
) -> None:
    canonical = make_fault_front(anonymous_registry)
    dead = dead_url()
    config = registries(f"registries:\n  {canonical.host}:\n    mirrors: [{dead}]\n")
    async with RegistryClient(FAST, registries=config) as client:
        listing = await client.list_tags(ImageRef(canonical.host, QWEN), credential=None)
    assert sorted(listing.tags) == QWEN_TAGS
    assert listing.endpoint is None  # the registry itself: no endpoint in the status
    assert canonical.log.count(path="tags/list") == 1


async def test_a_404_from_a_mirror_is_the_answer(
    anonymous_registry: RunningRegistry, make_fault_front: FrontMaker
) -> None:
    canonical = make_fault_front(anonymous_registry)
    mirror = make_fault_front(anonymous_registry)
    config = registries(f"registries:\n  {canonical.host}:\n    mirrors: [{mirror.base_url}]\n")
    async with RegistryClient(FAST, registries=config) as client:
        with pytest.raises(RepositoryNotFound, match=f"answered by mirror {mirror.base_url}"):
            await client.list_tags(ImageRef(canonical.host, "nobody/nothing-here"), credential=None)
    assert mirror.log.count(path="tags/list") == 1
    assert canonical.log.requests == []  # not passed on: the mirror answered


async def test_the_registry_secret_never_reaches_the_mirror(
    htpasswd_registry: RunningRegistry, make_fault_front: FrontMaker
) -> None:
    mirror = make_fault_front(htpasswd_registry)
    right = Credential(htpasswd_registry.username or "", htpasswd_registry.password or "")
    canonical_secret = Credential("docker-hub-user", "docker-hub-secret-never-to-a-mirror")
    creds = store({"docker.io": canonical_secret, mirror.host: right})
    config = registries(f"registries:\n  docker.io:\n    mirrors: [{mirror.base_url}]\n    fallback: false\n")
    async with RegistryClient(FAST, registries=config) as client:
        ref = ImageRef("docker.io", QWEN)
        listing = await client.list_tags(ref, credential=creds.for_registry("docker.io"), credentials=creds)
        await client.manifest_digest(
            ref.with_tag("0.8.5"), credential=creds.for_registry("docker.io"), credentials=creds
        )
    assert sorted(listing.tags) == QWEN_TAGS
    sent = [a for a in mirror.log.authorizations() if a is not None]
    assert sent
    assert set(sent) == {basic(right)}
    assert not any("docker-hub" in base64.b64decode(a.split()[1]).decode() for a in sent)


async def test_the_mirror_secret_never_reaches_the_registry(
    htpasswd_registry: RunningRegistry, make_fault_front: FrontMaker
) -> None:
    canonical = make_fault_front(htpasswd_registry)
    mirror = make_fault_front(htpasswd_registry)
    mirror.inject(Fault.error(503), times=10)  # down: the call falls back to the registry
    right = Credential(htpasswd_registry.username or "", htpasswd_registry.password or "")
    mirror_secret = Credential("mirror-robot", "mirror-secret-never-to-the-registry")
    creds = store({canonical.host: right, mirror.host: mirror_secret})
    config = registries(f"registries:\n  {canonical.host}:\n    mirrors: [{mirror.base_url}]\n")
    async with RegistryClient(FAST, registries=config) as client:
        ref = ImageRef(canonical.host, QWEN)
        listing = await client.list_tags(
            ref, credential=creds.for_registry(canonical.host), credentials=creds
        )
    assert sorted(listing.tags) == QWEN_TAGS
    assert listing.endpoint is None
    at_registry = {a for a in canonical.log.authorizations() if a is not None}
    assert at_registry == {basic(right)}
    assert basic(mirror_secret) not in at_registry


async def test_a_mirror_without_a_secret_of_its_own_is_asked_anonymously(
    htpasswd_registry: RunningRegistry, make_fault_front: FrontMaker
) -> None:
    mirror = make_fault_front(htpasswd_registry)
    right = Credential(htpasswd_registry.username or "", htpasswd_registry.password or "")
    creds = store({"docker.io": right})  # valid at the mirror too, but it is docker.io's
    config = registries(f"registries:\n  docker.io:\n    mirrors: [{mirror.base_url}]\n    fallback: false\n")
    async with RegistryClient(FAST, registries=config) as client:
        with pytest.raises(Exception, match="answered by mirror"):
            await client.list_tags(ImageRef("docker.io", QWEN), credential=right, credentials=creds)
    assert mirror.log.authorizations() == [None]


async def test_per_registry_rate_and_concurrency_are_honoured_at_the_mirror(
    anonymous_registry: RunningRegistry, make_fault_front: FrontMaker
) -> None:
    paced = make_fault_front(anonymous_registry)
    free = make_fault_front(anonymous_registry)
    config = registries(
        "registries:\n"
        f"  docker.io:\n    mirrors: [{paced.base_url}]\n    fallback: false\n"
        "    requestsPerSecond: 4\n    maxConcurrency: 1\n"
        '  "*":\n    requestsPerSecond: 0\n'
    )
    async with RegistryClient(FAST, registries=config) as client:
        await client.list_tags(ImageRef("docker.io", QWEN), credential=None)  # learn the host
        await client.list_tags(ImageRef(free.host, QWEN), credential=None)
        await asyncio.sleep(2.1)  # the bucket (burst 8) is full again
        paced.log.reset()
        free.log.reset()
        paced.inject(Fault.stall(0.1), method="HEAD", times=20)
        free.inject(Fault.stall(0.1), method="HEAD", times=20)
        tags = [f"0.8.{i % 3 + 3}" for i in range(16)]
        started = time.monotonic()
        await asyncio.gather(
            *(client.manifest_digest(ImageRef("docker.io", QWEN, t), credential=None) for t in tags)
        )
        paced_took = time.monotonic() - started
        started = time.monotonic()
        await asyncio.gather(
            *(client.manifest_digest(ImageRef(free.host, QWEN, t), credential=None) for t in tags)
        )
        free_took = time.monotonic() - started
    arrivals = sorted(r.at for r in paced.log.requests)
    assert len(arrivals) == 16
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert min(gaps) >= 0.09  # one at a time: each waits for the 0.1 s stall before it
    assert arrivals[-1] - arrivals[0] >= (16 - 8) / 4 - 0.1  # burst of 8, then 4/s
    assert paced_took >= 2.0
    # The "*" entry (no budget, the flags' concurrency of 4) for every other registry.
    free_arrivals = sorted(r.at for r in free.log.requests)
    assert free_took < paced_took / 2
    assert free_arrivals[3] - free_arrivals[0] < 0.25  # 4 at once (one at a time would take 0.3 s)


async def test_a_ca_of_its_own_for_a_tls_mirror(
    tls_registry: RunningRegistry, registry_ca: CertificateAuthority, tmp_path: Path
) -> None:
    right = Credential(tls_registry.username or "", tls_registry.password or "")
    creds = store({tls_registry.host: right})
    ref = ImageRef("docker.io", QWEN)
    url = f"https://{tls_registry.host}"
    untrusted = registries(f"registries:\n  docker.io:\n    mirrors: [{url}]\n    fallback: false\n")
    async with RegistryClient(FAST, registries=untrusted) as client:
        with pytest.raises(TLSFailure, match="answered by mirror"):
            await client.list_tags(ref, credential=None, credentials=creds)
    trusted = registries(
        "registries:\n  docker.io:\n    mirrors:\n"
        f"      - url: {url}\n        caFile: {registry_ca.ca_file}\n    fallback: false\n"
    )
    async with RegistryClient(FAST, registries=trusted) as client:
        listing = await client.list_tags(ref, credential=None, credentials=creds)
    assert sorted(listing.tags) == QWEN_TAGS
    assert listing.endpoint == url


async def test_configure_changes_the_mirror_between_two_listings(
    anonymous_registry: RunningRegistry, make_fault_front: FrontMaker
) -> None:
    first = make_fault_front(anonymous_registry)
    second = make_fault_front(anonymous_registry)

    def to(front: FaultFront) -> Registries:
        return registries(
            f"registries:\n  docker.io:\n    mirrors: [{front.base_url}]\n    fallback: false\n"
        )

    async with RegistryClient(FAST, registries=to(first)) as client:
        one = await client.list_tags(ImageRef("docker.io", QWEN), credential=None)
        client.configure(to(second))
        two = await client.list_tags(ImageRef("docker.io", QWEN), credential=None)
    assert (one.endpoint, two.endpoint) == (first.base_url, second.base_url)
    assert first.log.count(path="tags/list") == 1
    assert second.log.count(path="tags/list") == 1


async def test_a_ca_file_that_is_not_pem_leaves_the_configuration_as_it_was(
    anonymous_registry: RunningRegistry, make_fault_front: FrontMaker, tmp_path: Path
) -> None:
    good = make_fault_front(anonymous_registry)
    not_pem = tmp_path / "ca.pem"
    not_pem.write_text("not a certificate\n")
    async with RegistryClient(
        FAST, registries=registries(f"registries:\n  docker.io:\n    mirrors: [{good.base_url}]\n")
    ) as client:
        bad = registries(
            "registries:\n  docker.io:\n    mirrors:\n"
            f"      - url: https://x.example\n        caFile: {not_pem}\n"
        )
        with pytest.raises(TLSFailure, match="not a PEM"):
            client.configure(bad)
        listing = await client.list_tags(ImageRef("docker.io", QWEN), credential=None)
    assert listing.endpoint == good.base_url
