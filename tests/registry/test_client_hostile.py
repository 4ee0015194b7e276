"""A hostile registry (or a broken proxy) against the client: bombs, floods, loops and garbage.

The fault front sits before a real docker-registry and sends, when told, what an attacker would:
compressed bombs, unknown and stacked encodings, endless or looping next links, links into another
repository, digests that are not digests and headers too large to hold. Each must end in a bounded
listing or a clear error naming the registry - never in unbounded memory or unchecked data.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from aimsource.domain.references import ImageRef
from aimsource.registry.client import RegistryClient
from aimsource.registry.errors import BadResponse
from aimsource.registry.settings import RegistrySettings
from tests.support.faults import Fault, FaultFront, RecordingServer
from tests.support.registry_fixtures import STANDARD_IMAGES

pytestmark = pytest.mark.registry

QWEN = "amdenterpriseai/aim-qwen-qwen3-32b"
QWEN_TAGS = sorted(STANDARD_IMAGES[QWEN])
SETTINGS = RegistrySettings(max_attempts=1, call_deadline=30.0)


class Observer:
    def __init__(self) -> None:
        self.hosts: list[str] = []

    def request(self, host: str, status: int | None) -> None:
        self.hosts.append(host)

    def retry(self, host: str) -> None:
        self.hosts.append(host)

    def ratelimit_remaining(self, host: str, remaining: int) -> None:
        self.hosts.append(host)

    def ratelimit_wait(self, host: str, seconds: float) -> None:
        self.hosts.append(host)

    def ratelimit_limit(self, host: str, limit: int) -> None:
        self.hosts.append(host)


@pytest.fixture
def observer() -> Observer:
    return Observer()


@pytest.fixture
async def client(observer: Observer) -> AsyncIterator[RegistryClient]:
    async with RegistryClient(SETTINGS, observer=observer) as client:
        yield client


def qwen(front: FaultFront) -> ImageRef:
    return ImageRef(front.host, QWEN)


# -- 1. bounded bodies -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        pytest.param(Fault.gzip_bomb(), r"the answer is larger than 8388608 bytes", id="gzip-bomb"),
        pytest.param(
            Fault.gzip_bomb(layers=2), r"stacked content encodings \(gzip, gzip\) are refused", id="gzip-gzip"
        ),
        pytest.param(Fault.unknown_encoding("br"), r"unknown content encoding 'br'", id="brotli"),
        pytest.param(
            Fault.unknown_encoding("compress"), r"unknown content encoding 'compress'", id="compress"
        ),
    ],
)
async def test_compressed_answers_are_capped_or_refused_naming_the_host(
    client: RegistryClient, fault_front: FaultFront, fault: Fault, message: str
) -> None:
    fault_front.inject(fault, path="tags/list")
    with pytest.raises(BadResponse, match=rf"bad response from {fault_front.host} for .*: {message}"):
        await client.list_tags(qwen(fault_front), credential=None)


async def test_a_gzipped_page_within_the_cap_is_inflated(fault_front: FaultFront) -> None:
    async with RegistryClient(RegistrySettings(max_tags_bytes=64 * 1024 * 1024)) as client:
        fault_front.inject(Fault.gzip_bomb(16 * 1024 * 1024), path="tags/list")
        listing = await client.list_tags(qwen(fault_front), credential=None)
    assert listing.tags == ("1.0.0",)


async def test_headers_too_large_are_a_bad_response(client: RegistryClient, fault_front: FaultFront) -> None:
    fault_front.inject(Fault.huge_header(), path="tags/list")
    with pytest.raises(BadResponse, match=rf"{fault_front.host} .*headers are too large"):
        await client.list_tags(qwen(fault_front), credential=None)


# -- 2. bounded listings -----------------------------------------------------------------------------


async def test_the_tag_cap_truncates_a_listing_and_stops_reading(fault_front: FaultFront) -> None:
    async with RegistryClient(RegistrySettings(max_tags=250)) as client:
        fault_front.inject(Fault.pages(100), path="tags/list", times=1000)
        listing = await client.list_tags(qwen(fault_front), credential=None)
    assert listing.truncated
    assert len(listing.tags) == 250
    assert listing.tags[:2] == ("1.0.0", "1.1.0")
    assert fault_front.log.count(path=f"/v2/{QWEN}/tags/list") == 3


async def test_endless_distinct_next_links_end_at_the_page_cap(fault_front: FaultFront) -> None:
    async with RegistryClient(RegistrySettings(max_pages=7)) as client:
        fault_front.inject(Fault.pages(10), path="tags/list", times=1000)
        listing = await client.list_tags(qwen(fault_front), credential=None)
    assert listing.truncated
    assert len(listing.tags) == 70
    assert fault_front.log.count(path=f"/v2/{QWEN}/tags/list") == 7


async def test_a_next_link_seen_before_ends_the_listing(
    client: RegistryClient, fault_front: FaultFront
) -> None:
    fault_front.inject(Fault.link_back(), path="tags/list", times=5)
    listing = await client.list_tags(qwen(fault_front), credential=None)
    assert sorted(listing.tags) == QWEN_TAGS
    assert not listing.truncated
    assert fault_front.log.count(path=f"/v2/{QWEN}/tags/list") == 1


# -- 3. digests are digests --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "digest",
    [
        pytest.param("sha256:" + "a" * 7000, id="long"),
        pytest.param("sha256:" + "A" * 64, id="upper-case-hex"),
        pytest.param("md5:" + "a" * 32, id="other-algorithm"),
        pytest.param("sha512:" + "a" * 64, id="sha512-too-short"),
        pytest.param("garbage", id="garbage"),
    ],
)
async def test_a_digest_that_is_not_one_is_no_digest(
    client: RegistryClient, fault_front: FaultFront, digest: str, caplog: pytest.LogCaptureFixture
) -> None:
    fault_front.inject(Fault.digest(digest), path="manifests", times=2)
    ref = ImageRef(fault_front.host, QWEN, "0.8.5")
    with caplog.at_level(logging.WARNING, logger="aimsource.registry"):
        assert await client.manifest_digest(ref, credential=None) is None
        assert await client.manifest_digest(ref, credential=None) is None
    warnings = [r for r in caplog.records if "Docker-Content-Digest" in r.getMessage()]
    assert len(warnings) == 1  # once per registry and repository, not per model
    assert digest not in warnings[0].getMessage()


@pytest.mark.parametrize(
    "digest",
    [
        pytest.param("sha256:" + "0123456789abcdef" * 4, id="sha256"),
        pytest.param("sha512:" + "f" * 128, id="sha512"),
    ],
)
async def test_sha256_and_sha512_digests_are_kept(
    client: RegistryClient, fault_front: FaultFront, digest: str
) -> None:
    fault_front.inject(Fault.digest(digest), path="manifests")
    assert await client.manifest_digest(ImageRef(fault_front.host, QWEN, "0.8.5"), credential=None) == digest


# -- 4. pages stay in their repository ---------------------------------------------------------------


@pytest.mark.parametrize(
    "link",
    [
        pytest.param("/v2/amdenterpriseai/aim-other/tags/list?last=x", id="other-repository"),
        pytest.param(f"/v2/{QWEN}/manifests/0.8.5", id="other-endpoint"),
        pytest.param(f"/v2/{QWEN}/tags/list/../../aim-other/tags/list?last=x", id="dot-segments"),
        pytest.param(f"/v2/{QWEN}%2Ftags/list?last=x", id="encoded-slash"),
    ],
)
async def test_a_next_link_outside_the_repository_is_an_error_naming_it(
    client: RegistryClient, fault_front: FaultFront, link: str
) -> None:
    fault_front.inject(Fault.link_to(link), path="tags/list")
    with pytest.raises(
        BadResponse, match=rf"{fault_front.host} .*next-page Link .* leaves /v2/{QWEN}/tags/list"
    ):
        await client.list_tags(qwen(fault_front), credential=None)
    assert fault_front.log.count() == 1


async def test_a_huge_next_link_is_named_truncated(client: RegistryClient, fault_front: FaultFront) -> None:
    fault_front.inject(Fault.link_to("/v2/other/tags/list?last=" + "x" * 5000), path="tags/list")
    with pytest.raises(BadResponse) as raised:
        await client.list_tags(qwen(fault_front), credential=None)
    assert "/v2/other/tags/list?last=xxx" in str(raised.value)
    assert len(str(raised.value)) < 400


# -- 9. bounded host state ---------------------------------------------------------------------------


async def test_redirect_and_token_hosts_add_no_metric_series(
    client: RegistryClient, observer: Observer, fault_front: FaultFront, recording_server: RecordingServer
) -> None:
    fault_front.inject(
        Fault.redirect_to(f"{recording_server.base_url}/v2/{QWEN}/tags/list"), path="tags/list"
    )
    await client.list_tags(qwen(fault_front), credential=None)
    fault_front.inject(Fault.realm_on(f"{recording_server.base_url}/token"), path="manifests")
    await client.manifest_digest(ImageRef(fault_front.host, QWEN, "0.8.5"), credential=None)
    assert recording_server.log.count() == 2  # the redirect and the token request did reach it
    assert set(observer.hosts) == {fault_front.host}
