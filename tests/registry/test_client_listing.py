"""Tag listings and manifest digests against a real `docker-registry` and the paginating front."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable, Iterator

import aiohttp
import pytest
from aiohttp import web

from aimsource.domain.references import ImageRef
from aimsource.registry.client import RegistryClient
from aimsource.registry.errors import RepositoryNotFound, TagNotFound
from aimsource.registry.listing import listing_at_most
from aimsource.registry.settings import RegistrySettings
from tests.support.faults import Fault, FaultFront
from tests.support.fronts import CursorParam, LinkStyle, PaginatingFront
from tests.support.images import ManifestKind, PushedImage
from tests.support.registry_fixtures import BIG_REPOSITORY, BIG_TAGS, STANDARD_IMAGES
from tests.support.registry_server import RunningRegistry
from tests.support.serving import BackgroundServer

pytestmark = pytest.mark.registry

QWEN = "amdenterpriseai/aim-qwen-qwen3-32b"
MANIFEST_KINDS: tuple[ManifestKind, ...] = ("docker", "oci", "oci-index", "docker-list")


class Observer:
    def __init__(self) -> None:
        self.statuses: list[tuple[str, int | None]] = []
        self.retries: list[str] = []
        self.remaining: list[tuple[str, int]] = []

    def request(self, host: str, status: int | None) -> None:
        self.statuses.append((host, status))

    def retry(self, host: str) -> None:
        self.retries.append(host)

    def ratelimit_remaining(self, host: str, remaining: int) -> None:
        self.remaining.append((host, remaining))

    def ratelimit_wait(self, host: str, seconds: float) -> None:
        pass

    def ratelimit_limit(self, host: str, limit: int) -> None:
        pass


@pytest.fixture
def observer() -> Observer:
    return Observer()


@pytest.fixture
async def client(observer: Observer) -> AsyncIterator[RegistryClient]:
    async with RegistryClient(RegistrySettings(backoff_base=0.01), observer=observer) as client:
        yield client


@pytest.fixture(scope="module")
def manifests(anonymous_registry: RunningRegistry) -> dict[ManifestKind, PushedImage]:
    """One image per manifest format, each in its own repository."""
    with anonymous_registry.pusher() as pusher:
        return {kind: pusher.push_image(f"listing/{kind}", "1.0.0", kind=kind) for kind in MANIFEST_KINDS}


async def test_lists_tags_anonymously(
    client: RegistryClient, anonymous_registry: RunningRegistry, observer: Observer
) -> None:
    listing = await client.list_tags(ImageRef(anonymous_registry.host, QWEN), credential=None)
    assert sorted(listing.tags) == sorted(STANDARD_IMAGES[QWEN])
    assert listing.truncated is False
    assert observer.statuses == [(anonymous_registry.host, 200)]


@pytest.mark.parametrize("cursor_param", ["last", "next_page"])
@pytest.mark.parametrize("link_style", ["relative", "absolute", "relative-bare", "absolute-bare"])
async def test_pagination_follows_links_with_the_minimum_number_of_requests(
    client: RegistryClient,
    big_registry: RunningRegistry,
    make_paginating_front: Callable[..., PaginatingFront],
    link_style: LinkStyle,
    cursor_param: CursorParam,
) -> None:
    front = make_paginating_front(big_registry, link_style=link_style, cursor_param=cursor_param)
    listing = await client.list_tags(ImageRef(front.host, BIG_REPOSITORY), credential=None)
    assert listing.tags == tuple(sorted(BIG_TAGS))
    assert listing.truncated is False
    assert front.log.count() == PaginatingFront.pages_needed(len(BIG_TAGS), front.page_size) == 10
    first = front.log.requests[0]
    assert first.query == "n=1000"


async def test_page_cap_reports_a_truncated_listing(
    observer: Observer, paginating_front: PaginatingFront
) -> None:
    async with RegistryClient(RegistrySettings(max_pages=3), observer=observer) as client:
        listing = await client.list_tags(ImageRef(paginating_front.host, BIG_REPOSITORY), credential=None)
    assert listing.truncated is True
    assert listing.tags == tuple(sorted(BIG_TAGS)[:300])
    assert paginating_front.log.count() == 3


async def test_a_listing_made_at_most_n_tags_stops_reading_there(
    client: RegistryClient, paginating_front: PaginatingFront
) -> None:
    with listing_at_most(250):
        listing = await client.list_tags(ImageRef(paginating_front.host, BIG_REPOSITORY), credential=None)
    assert listing.truncated is True
    assert listing.tags == tuple(sorted(BIG_TAGS)[:250])
    assert paginating_front.log.count() == 3  # pages of 100: the third holds the 250th tag
    whole = await client.list_tags(ImageRef(paginating_front.host, BIG_REPOSITORY), credential=None)
    assert (len(whole.tags), whole.truncated) == (len(BIG_TAGS), False)  # outside, the usual cap


async def test_tags_repeated_across_pages_are_listed_once(
    client: RegistryClient, fault_front: FaultFront
) -> None:
    # The first page links to itself once: the second page repeats every tag of the first.
    fault_front.inject(Fault.link_to(f"{fault_front.base_url}/v2/{QWEN}/tags/list?n=5"), path="tags/list")
    listing = await client.list_tags(ImageRef(fault_front.host, QWEN), credential=None)
    assert sorted(listing.tags) == sorted(STANDARD_IMAGES[QWEN])
    assert fault_front.log.count(path="tags/list") == 2


@pytest.mark.parametrize("kind", MANIFEST_KINDS)
async def test_manifest_digest_comes_from_one_head_for_every_manifest_format(
    client: RegistryClient,
    anonymous_registry: RunningRegistry,
    manifests: dict[ManifestKind, PushedImage],
    make_fault_front: Callable[[RunningRegistry], FaultFront],
    kind: ManifestKind,
) -> None:
    front = make_fault_front(anonymous_registry)
    digest = await client.manifest_digest(ImageRef(front.host, f"listing/{kind}", "1.0.0"), credential=None)
    assert digest == manifests[kind].digest
    assert [(r.method, r.status) for r in front.log.requests] == [("HEAD", 200)]


async def test_manifest_digest_of_a_standard_image_matches_the_registry(
    client: RegistryClient, anonymous_registry: RunningRegistry
) -> None:
    async with (
        aiohttp.ClientSession() as plain,
        plain.head(
            f"{anonymous_registry.base_url}/v2/{QWEN}/manifests/0.8.5",
            headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
        ) as answer,
    ):
        expected = answer.headers["Docker-Content-Digest"]
    digest = await client.manifest_digest(ImageRef(anonymous_registry.host, QWEN, "0.8.5"), credential=None)
    assert digest == expected


async def test_missing_tag_is_tag_not_found(
    client: RegistryClient, anonymous_registry: RunningRegistry
) -> None:
    ref = ImageRef(anonymous_registry.host, QWEN, "9.9.9")
    with pytest.raises(TagNotFound, match=rf"tag not found: {anonymous_registry.host}/{QWEN}:9\.9\.9"):
        await client.manifest_digest(ref, credential=None)


async def test_missing_repository_is_repository_not_found(
    client: RegistryClient, anonymous_registry: RunningRegistry
) -> None:
    ref = ImageRef(anonymous_registry.host, "nobody/nothing")
    with pytest.raises(
        RepositoryNotFound, match=rf"repository not found: {anonymous_registry.host}/nobody/nothing"
    ):
        await client.list_tags(ref, credential=None)


async def test_plain_http_loopback_registry_is_probed_once_per_client(
    client: RegistryClient, anonymous_registry: RunningRegistry, make_fault_front: Callable[..., FaultFront]
) -> None:
    # HTTPS first (it fails the handshake: the server speaks plain HTTP), then HTTP, remembered.
    front = make_fault_front(anonymous_registry)
    for _ in range(3):
        await client.list_tags(ImageRef(front.host, QWEN), credential=None)
    assert front.log.count() == 3


MANIFEST_BODY = b'{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"}'


@pytest.fixture
def digestless_registry() -> Iterator[tuple[BackgroundServer, list[str]]]:
    """A registry stand-in whose manifest HEAD carries no Docker-Content-Digest (some mirrors do
    this); it records the methods it was asked with."""
    methods: list[str] = []

    async def manifest(request: web.Request) -> web.Response:
        methods.append(request.method)
        headers = {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}
        return web.Response(body=b"" if request.method == "HEAD" else MANIFEST_BODY, headers=headers)

    app = web.Application()
    app.router.add_route("*", "/v2/{name:.*}/manifests/{reference}", manifest)
    with BackgroundServer(app, name="digestless-registry") as server:
        yield server, methods


async def test_head_without_digest_falls_back_to_get_and_hashes_the_manifest(
    client: RegistryClient, digestless_registry: tuple[BackgroundServer, list[str]]
) -> None:
    server, methods = digestless_registry
    digest = await client.manifest_digest(ImageRef(server.host, "org/repo", "1.0.0"), credential=None)
    assert digest == "sha256:" + hashlib.sha256(MANIFEST_BODY).hexdigest()
    assert methods == ["HEAD", "GET"]


@pytest.fixture
def small_pages_registry() -> Iterator[tuple[BackgroundServer, list[str]]]:
    """A registry stand-in that refuses `n` above 100 (as some registries do) and records queries."""
    queries: list[str] = []

    async def tags(request: web.Request) -> web.Response:
        queries.append(request.query_string)
        if int(request.query.get("n", "100")) > 100:
            error = {"code": "PAGINATION_NUMBER_INVALID", "message": "n must be at most 100"}
            return web.json_response({"errors": [error]}, status=400)
        return web.json_response({"name": "org/repo", "tags": ["1.0.0", "1.1.0"]})

    app = web.Application()
    app.router.add_get("/v2/{name:.*}/tags/list", tags)
    with BackgroundServer(app, name="small-pages-registry") as server:
        yield server, queries


async def test_registry_refusing_n_1000_is_asked_again_with_100_and_remembered(
    client: RegistryClient, small_pages_registry: tuple[BackgroundServer, list[str]]
) -> None:
    server, queries = small_pages_registry
    listing = await client.list_tags(ImageRef(server.host, "org/repo"), credential=None)
    assert listing.tags == ("1.0.0", "1.1.0")
    assert queries == ["n=1000", "n=100"]
    await client.list_tags(ImageRef(server.host, "org/other"), credential=None)
    assert queries == ["n=1000", "n=100", "n=100"]  # the host's page size is remembered
