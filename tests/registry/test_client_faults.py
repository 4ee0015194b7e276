"""Every fault of the fault-injecting front, and the outcome the client must reach for each.

The front sits before a real docker-registry and misbehaves only when told to; settings are shrunk
(short timeouts, tiny backoff) so that retries take milliseconds, not the production seconds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from urllib.parse import parse_qs

import pytest

from aimsource.domain.references import ImageRef
from aimsource.registry.auth.credentials import Credential
from aimsource.registry.client import RegistryClient
from aimsource.registry.errors import (
    AuthenticationFailed,
    BadResponse,
    RateLimited,
    RegistryError,
    RepositoryNotFound,
    Unreachable,
)
from aimsource.registry.settings import RegistrySettings
from tests.support.faults import Fault, FaultFront, RecordingServer
from tests.support.registry_fixtures import STANDARD_IMAGES
from tests.support.registry_server import RunningRegistry

pytestmark = pytest.mark.registry

QWEN = "amdenterpriseai/aim-qwen-qwen3-32b"
QWEN_TAGS = sorted(STANDARD_IMAGES[QWEN])
FAST = RegistrySettings(
    backoff_base=0.01,
    backoff_cap=0.05,
    connect_timeout=1.0,
    read_timeout=1.5,  # short enough for stall tests, long enough for a busy shared machine
    max_attempts=3,
    retry_after_cap=5.0,
    call_deadline=20.0,
)
CREDENTIAL = Credential("robot", "hunter2-PLUGH")


class Observer:
    def __init__(self) -> None:
        self.statuses: list[int | None] = []
        self.retries = 0
        self.throttled: list[float] = []

    def request(self, host: str, status: int | None) -> None:
        self.statuses.append(status)

    def retry(self, host: str) -> None:
        self.retries += 1

    def ratelimit_remaining(self, host: str, remaining: int) -> None:
        pass

    def ratelimit_wait(self, host: str, seconds: float) -> None:
        self.throttled.append(seconds)

    def ratelimit_limit(self, host: str, limit: int) -> None:
        pass


@pytest.fixture
def observer() -> Observer:
    return Observer()


@pytest.fixture
async def client(observer: Observer) -> AsyncIterator[RegistryClient]:
    async with RegistryClient(FAST, observer=observer) as client:
        yield client


def qwen(front: FaultFront) -> ImageRef:
    return ImageRef(front.host, QWEN)


# -- faults that go away: retried, then success ----------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "min_wait"),
    [
        pytest.param(Fault.rate_limited(retry_after=0.3), 0.3, id="429-retry-after-seconds"),
        pytest.param(Fault.rate_limited(retry_after_date_in=1.0), 0.0, id="429-retry-after-http-date"),
        pytest.param(Fault.rate_limited(), 0.0, id="429-without-retry-after"),
        pytest.param(Fault.error(500), 0.0, id="500"),
        pytest.param(Fault.error(502), 0.0, id="502"),
        pytest.param(Fault.error(503), 0.0, id="503"),
        pytest.param(Fault.stall(4.0), 1.5, id="stall-past-read-timeout"),
        pytest.param(Fault.disconnect(), 0.0, id="dropped-connection"),
    ],
)
async def test_transient_fault_is_retried_then_listing_succeeds(
    client: RegistryClient, fault_front: FaultFront, observer: Observer, fault: Fault, min_wait: float
) -> None:
    fault_front.inject(fault, path="tags/list")
    started = time.monotonic()
    listing = await client.list_tags(qwen(fault_front), credential=None)
    assert sorted(listing.tags) == QWEN_TAGS
    assert time.monotonic() - started >= min_wait
    assert fault_front.pending == 0
    assert observer.retries == 1
    # Only a registry's own throttling counts as a rate-limit wait (aimsource_registry_ratelimit_waits).
    assert len(observer.throttled) == (1 if fault.kind == "status" and fault.status == 429 else 0)
    assert all(seconds >= min_wait for seconds in observer.throttled)
    assert len(fault_front.fired) == 1
    assert [r.status for r in fault_front.log.requests if r.status == 200] == [200]  # then one success


# -- faults that last: the right error, after the right number of attempts -------------------------


@pytest.mark.parametrize(
    ("fault", "error", "message", "requests"),
    [
        pytest.param(
            Fault.rate_limited(), RateLimited, r"rate limited by {host}; retry later", 3, id="429-persistent"
        ),
        pytest.param(
            Fault.rate_limited(retry_after=3600),
            RateLimited,
            r"rate limited by {host}; retry after 3600 s",
            1,
            id="429-retry-after-beyond-cap",
        ),
        pytest.param(
            Fault.error(503),
            Unreachable,
            r"unreachable: {host}: HTTP 503 Service Unavailable after 3 attempts",
            3,
            id="503-persistent",
        ),
        pytest.param(Fault.error(500), Unreachable, r"unreachable: {host}: HTTP 500", 3, id="500-persistent"),
        pytest.param(
            Fault.error(501),
            BadResponse,
            r"bad response from {host} for .*: HTTP 501",
            1,
            id="501-not-retried",
        ),
        pytest.param(
            Fault.error(403),
            AuthenticationFailed,
            r"authentication failed for {host}/.*: access denied",
            1,
            id="403",
        ),
        pytest.param(
            Fault.error(404), RepositoryNotFound, r"repository not found: {host}/", 1, id="404-on-tags"
        ),
        pytest.param(
            Fault.stall(5.0), Unreachable, r"unreachable: {host}: timed out", 3, id="stall-persistent"
        ),
        pytest.param(
            Fault.disconnect(),
            Unreachable,
            r"unreachable: {host}: the connection was lost",
            3,
            id="disconnect-persistent",
        ),
        pytest.param(
            Fault.malformed_json(),
            BadResponse,
            r"bad response from {host} for {host}/" + QWEN + ": the tag list is not valid JSON",
            1,
            id="malformed-json",
        ),
        pytest.param(
            Fault.oversized(), BadResponse, r"the answer is larger than 8388608 bytes", 1, id="oversized-body"
        ),
    ],
)
async def test_lasting_fault_ends_in_the_right_error(
    client: RegistryClient,
    fault_front: FaultFront,
    fault: Fault,
    error: type[RegistryError],
    message: str,
    requests: int,
) -> None:
    fault_front.inject(fault, path="tags/list", times=10)
    with pytest.raises(error, match=message.format(host=fault_front.host)):
        await client.list_tags(qwen(fault_front), credential=None)
    # Counted when the front takes the fault: a stalled request is logged only once it is cancelled.
    assert len(fault_front.fired) == requests


async def test_rate_limit_reports_the_registrys_retry_after(
    client: RegistryClient, fault_front: FaultFront
) -> None:
    fault_front.inject(Fault.rate_limited(retry_after=3600), path="tags/list")
    with pytest.raises(RateLimited) as info:
        await client.list_tags(qwen(fault_front), credential=None)
    assert info.value.retry_after == 3600
    assert info.value.reason == "RateLimited"


async def test_retry_after_past_the_deadline_is_not_waited_out(fault_front: FaultFront) -> None:
    settings = RegistrySettings(retry_after_cap=60.0, call_deadline=5.0)
    async with RegistryClient(settings) as client:
        fault_front.inject(Fault.rate_limited(retry_after=10), path="tags/list")
        started = time.monotonic()
        with pytest.raises(RateLimited, match="retry after 10 s"):
            await client.list_tags(qwen(fault_front), credential=None)
    assert time.monotonic() - started < 4.0


async def test_a_stalled_registry_cannot_outlast_the_call_deadline(fault_front: FaultFront) -> None:
    settings = RegistrySettings(read_timeout=30.0, call_deadline=1.0, backoff_base=0.01)
    async with RegistryClient(settings) as client:
        fault_front.inject(Fault.stall(10.0), path="tags/list", times=10)
        started = time.monotonic()
        with pytest.raises(Unreachable, match=f"unreachable: {fault_front.host}"):
            await client.list_tags(qwen(fault_front), credential=None)
    assert time.monotonic() - started < 3.0


async def test_a_manifest_head_is_retried_like_a_listing(
    client: RegistryClient, fault_front: FaultFront
) -> None:
    fault_front.inject(Fault.error(503), path="/manifests/", method="HEAD")
    digest = await client.manifest_digest(ImageRef(fault_front.host, QWEN, "0.8.5"), credential=None)
    assert digest.startswith("sha256:")
    assert fault_front.log.count(path="/manifests/") == 2


# -- other hosts: credentials go nowhere they were not given for -----------------------------------


@pytest.fixture
async def basic_front(
    htpasswd_registry: RunningRegistry,
    make_fault_front: Callable[[RunningRegistry], FaultFront],
    client: RegistryClient,
) -> FaultFront:
    """A front before the htpasswd registry, with `client` already knowing it wants Basic."""
    front = make_fault_front(htpasswd_registry)
    await client.list_tags(ImageRef(front.host, QWEN), credential=htpasswd_credential(htpasswd_registry))
    front.clear()
    return front


def htpasswd_credential(registry: RunningRegistry) -> Credential:
    assert registry.username is not None
    assert registry.password is not None
    return Credential(registry.username, registry.password)


async def test_redirect_to_another_host_is_followed_without_credentials(
    client: RegistryClient,
    basic_front: FaultFront,
    htpasswd_registry: RunningRegistry,
    recording_server: RecordingServer,
) -> None:
    target = f"{recording_server.base_url}/v2/{QWEN}/tags/list"
    basic_front.inject(Fault.redirect_to(target), path="tags/list")
    listing = await client.list_tags(qwen(basic_front), credential=htpasswd_credential(htpasswd_registry))
    assert listing.tags == ("from-another-host",)
    assert basic_front.log.authorizations()[0] is not None  # the registry itself got them
    assert recording_server.log.count(path="tags/list") == 1
    assert recording_server.credentials_seen() == []


async def test_redirect_on_the_same_host_keeps_credentials(
    client: RegistryClient, basic_front: FaultFront, htpasswd_registry: RunningRegistry
) -> None:
    basic_front.inject(Fault.redirect_to(f"/v2/{QWEN}/tags/list?n=1000", status=302), path="tags/list")
    listing = await client.list_tags(qwen(basic_front), credential=htpasswd_credential(htpasswd_registry))
    assert sorted(listing.tags) == QWEN_TAGS
    assert [r.status for r in basic_front.log.requests] == [302, 200]
    assert all(a is not None for a in basic_front.log.authorizations())


async def test_next_page_link_to_another_host_is_refused(
    client: RegistryClient,
    basic_front: FaultFront,
    htpasswd_registry: RunningRegistry,
    recording_server: RecordingServer,
) -> None:
    basic_front.inject(
        Fault.link_to(f"{recording_server.base_url}/v2/{QWEN}/tags/list?last=x"), path="tags/list"
    )
    with pytest.raises(BadResponse, match=rf"points to http://{recording_server.host}, not this registry"):
        await client.list_tags(qwen(basic_front), credential=htpasswd_credential(htpasswd_registry))
    assert recording_server.log.requests == []


async def test_token_realm_on_another_host_gets_credentials_only_as_the_challenge_named_it(
    client: RegistryClient, fault_front: FaultFront, recording_server: RecordingServer
) -> None:
    fault_front.inject(Fault.realm_on(f"{recording_server.base_url}/token"), path="tags/list")
    listing = await client.list_tags(qwen(fault_front), credential=CREDENTIAL)
    assert sorted(listing.tags) == QWEN_TAGS
    [token_request] = recording_server.log.requests
    assert token_request.path == "/token"
    assert parse_qs(token_request.query)["scope"] == [f"repository:{QWEN}:pull"]
    assert token_request.authorization is not None
    assert token_request.authorization.startswith("Basic ")
    assert fault_front.log.authorizations() == [None, "Bearer token-from-another-host"]


async def test_token_service_redirecting_elsewhere_loses_the_credentials(
    client: RegistryClient, fault_front: FaultFront, recording_server: RecordingServer
) -> None:
    fault_front.inject(Fault.realm_on(f"{fault_front.base_url}/token"), path="tags/list")
    fault_front.inject(Fault.redirect_to(f"{recording_server.base_url}/token"), path="^/token")
    listing = await client.list_tags(qwen(fault_front), credential=CREDENTIAL)
    assert sorted(listing.tags) == QWEN_TAGS
    assert recording_server.log.count(path="/token") == 1
    assert recording_server.credentials_seen() == []
    token_hop = [r for r in fault_front.log.requests if r.path == "/token"]
    assert token_hop[0].authorization is not None  # the realm the registry named did get them


async def test_no_credential_or_token_in_logs_or_errors(
    client: RegistryClient,
    fault_front: FaultFront,
    recording_server: RecordingServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    messages: list[str] = []
    fault_front.inject(Fault.realm_on(f"{recording_server.base_url}/token"), path="tags/list")
    for fault, times in (
        (Fault.error(503), 3),
        (Fault.rate_limited(retry_after=3600), 1),
        (Fault.malformed_json(), 1),
    ):
        fault_front.inject(fault, path="tags/list", times=times)
        try:
            await client.list_tags(qwen(fault_front), credential=CREDENTIAL)
        except RegistryError as exc:
            messages.append(str(exc))
    fault_front.inject(Fault.link_to(f"{recording_server.base_url}/v2/x"), path="tags/list")
    with pytest.raises(BadResponse) as info:
        await client.list_tags(qwen(fault_front), credential=CREDENTIAL)
    messages.append(str(info.value))
    assert len(messages) == 4
    text = caplog.text + "\n".join(messages)
    assert "retrying request" in caplog.text  # the logs did capture the conversation
    for secret in ("hunter2", "PLUGH", "token-from-another-host", "cm9ib3Q6aHVudGVyMi1QTFVHSA"):
        assert secret not in text


@pytest.mark.parametrize(
    ("fault", "answered"),
    [
        pytest.param(Fault.error(503), True, id="server-error-is-an-answer"),
        pytest.param(Fault.rate_limited(retry_after=3600), True, id="rate-limit-is-an-answer"),
        pytest.param(Fault.malformed_json(), True, id="bad-body-is-an-answer"),
        pytest.param(Fault.stall(5.0), False, id="timeout-is-no-answer"),
        pytest.param(Fault.disconnect(), False, id="dropped-connection-is-no-answer"),
    ],
)
async def test_errors_say_whether_the_registry_answered(
    client: RegistryClient, fault_front: FaultFront, fault: Fault, answered: bool
) -> None:
    fault_front.inject(fault, path="tags/list", times=10)
    with pytest.raises(RegistryError) as info:
        await client.list_tags(qwen(fault_front), credential=None)
    assert info.value.answered is answered


async def test_connection_refused_is_no_answer(client: RegistryClient) -> None:
    with pytest.raises(Unreachable, match="connection refused") as info:
        await client.list_tags(ImageRef("127.0.0.1:1", "a/b"), credential=None)
    assert info.value.answered is False
