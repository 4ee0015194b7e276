"""Authentication against real registries: htpasswd (Basic), token (Bearer) and TLS.

The registries are Debian's docker-registry (distribution 2.8) started by tests/support; the token
service signs JWTs the registry verifies. Nothing here is a double of the client.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from aimsource.domain.references import ImageRef
from aimsource.registry.auth.credentials import Credential, parse_docker_config
from aimsource.registry.client import RegistryClient
from aimsource.registry.errors import AuthenticationFailed, TLSFailure
from aimsource.registry.settings import RegistrySettings
from tests.support.faults import FaultFront
from tests.support.fronts import PaginatingFront
from tests.support.registry_fixtures import PRIVATE_REPOSITORY, STANDARD_IMAGES
from tests.support.registry_server import RunningRegistry

pytestmark = pytest.mark.registry

QWEN = "amdenterpriseai/aim-qwen-qwen3-32b"
QWEN_TAGS = sorted(STANDARD_IMAGES[QWEN])


def credential_of(registry: RunningRegistry) -> Credential:
    """The registry's credentials, the way the operator gets them: from a .dockerconfigjson."""
    store = parse_docker_config(json.dumps(registry.docker_config()), origin="test")
    found = store.for_registry(registry.host)
    assert found is not None
    return found


def wrong_credential(registry: RunningRegistry) -> Credential:
    assert registry.username is not None
    return Credential(registry.username, "wrong-password-QUUX")


@pytest.fixture
async def client() -> AsyncIterator[RegistryClient]:
    async with RegistryClient(RegistrySettings(backoff_base=0.01)) as client:
        yield client


def assert_no_secret(text: str, registry: RunningRegistry) -> None:
    assert registry.password is not None
    assert registry.password not in text
    assert "QUUX" not in text
    encoded = base64.b64encode(f"{registry.username}:{registry.password}".encode()).decode()
    assert encoded not in text
    assert "Bearer ey" not in text  # no JWT


# -- htpasswd (Basic) ----------------------------------------------------------------------------


async def test_basic_credentials_list_tags(
    client: RegistryClient, htpasswd_registry: RunningRegistry
) -> None:
    ref = ImageRef(htpasswd_registry.host, QWEN)
    listing = await client.list_tags(ref, credential=credential_of(htpasswd_registry))
    assert sorted(listing.tags) == QWEN_TAGS


async def test_basic_registry_without_credentials_is_an_authentication_failure(
    client: RegistryClient, htpasswd_registry: RunningRegistry
) -> None:
    with pytest.raises(AuthenticationFailed, match="anonymous access refused") as info:
        await client.list_tags(ImageRef(htpasswd_registry.host, QWEN), credential=None)
    assert info.value.reason == "AuthenticationFailed"


async def test_wrong_basic_credentials_fail_without_showing_them(
    client: RegistryClient, htpasswd_registry: RunningRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthenticationFailed, match="refused the supplied credentials") as info:
        await client.list_tags(
            ImageRef(htpasswd_registry.host, QWEN), credential=wrong_credential(htpasswd_registry)
        )
    assert_no_secret(str(info.value), htpasswd_registry)
    assert_no_secret(caplog.text, htpasswd_registry)


async def test_basic_host_gets_credentials_at_once_after_the_first_challenge(
    client: RegistryClient,
    htpasswd_registry: RunningRegistry,
    make_fault_front: Callable[[RunningRegistry], FaultFront],
) -> None:
    front = make_fault_front(htpasswd_registry)
    credential = credential_of(htpasswd_registry)
    await client.list_tags(ImageRef(front.host, QWEN), credential=credential)
    await client.manifest_digest(ImageRef(front.host, QWEN, "0.8.5"), credential=credential)
    assert [r.status for r in front.log.requests] == [401, 200, 200]


# -- token (Bearer) ------------------------------------------------------------------------------


async def test_anonymous_token_lists_a_public_repository(
    client: RegistryClient, token_registry: RunningRegistry
) -> None:
    assert token_registry.token_server is not None
    token_registry.token_server.reset()
    listing = await client.list_tags(ImageRef(token_registry.host, QWEN), credential=None)
    assert sorted(listing.tags) == QWEN_TAGS
    [token_request] = token_registry.token_server.requests
    assert token_request.user is None
    assert token_request.scopes == (f"repository:{QWEN}:pull",)
    assert token_request.authorization is None


async def test_credentials_get_a_token_for_a_private_repository(
    client: RegistryClient, token_registry: RunningRegistry
) -> None:
    listing = await client.list_tags(
        ImageRef(token_registry.host, PRIVATE_REPOSITORY), credential=credential_of(token_registry)
    )
    assert listing.tags == ("1.0.0",)


async def test_private_repository_without_credentials_fails_after_one_token(
    client: RegistryClient, token_registry: RunningRegistry
) -> None:
    assert token_registry.token_server is not None
    token_registry.token_server.reset()
    with pytest.raises(AuthenticationFailed, match="repository not found or access denied"):
        await client.list_tags(ImageRef(token_registry.host, PRIVATE_REPOSITORY), credential=None)
    assert token_registry.token_server.request_count == 1  # a refused fresh token is final: no loop


async def test_wrong_credentials_are_refused_by_the_token_service(
    client: RegistryClient, token_registry: RunningRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthenticationFailed, match=r"token service .* refused the credentials") as info:
        await client.list_tags(
            ImageRef(token_registry.host, QWEN), credential=wrong_credential(token_registry)
        )
    assert_no_secret(str(info.value), token_registry)
    assert_no_secret(caplog.text, token_registry)


async def test_tokens_are_cached_per_scope_and_credential(
    client: RegistryClient, token_registry: RunningRegistry
) -> None:
    server = token_registry.token_server
    assert server is not None
    server.reset()
    credential = credential_of(token_registry)
    deepseek = "amdenterpriseai/aim-deepseek-deepseek-r1"
    await client.list_tags(ImageRef(token_registry.host, QWEN), credential=None)
    await client.list_tags(ImageRef(token_registry.host, QWEN), credential=None)  # cached
    await client.manifest_digest(ImageRef(token_registry.host, QWEN, "0.8.5"), credential=None)  # cached
    await client.list_tags(ImageRef(token_registry.host, QWEN), credential=credential)  # other identity
    await client.list_tags(ImageRef(token_registry.host, deepseek), credential=None)  # other scope
    assert [(r.user, r.scopes) for r in server.requests] == [
        (None, (f"repository:{QWEN}:pull",)),
        (token_registry.username, (f"repository:{QWEN}:pull",)),
        (None, (f"repository:{deepseek}:pull",)),
    ]


async def test_token_without_expires_in_uses_the_default_lifetime(token_registry: RunningRegistry) -> None:
    server = token_registry.token_server
    assert server is not None
    server.reset()
    server.policy.expires_in = None
    try:
        settings = RegistrySettings(token_default_lifetime=2.0, token_expiry_margin=0.0)
        async with RegistryClient(settings) as client:
            ref = ImageRef(token_registry.host, QWEN)
            await client.list_tags(ref, credential=None)
            await client.list_tags(ref, credential=None)
            assert server.request_count == 1
            await asyncio.sleep(2.1)
            await client.list_tags(ref, credential=None)
            assert server.request_count == 2
    finally:
        server.policy.expires_in = 300


async def test_paginated_token_listing_makes_the_minimum_number_of_requests(
    client: RegistryClient,
    token_registry: RunningRegistry,
    make_paginating_front: Callable[..., PaginatingFront],
) -> None:
    assert token_registry.token_server is not None
    token_registry.token_server.reset()
    front = make_paginating_front(token_registry, page_size=2)
    listing = await client.list_tags(ImageRef(front.host, QWEN), credential=None)
    assert listing.tags == tuple(QWEN_TAGS)
    # One 401 to learn the challenge, then three pages with one token.
    assert [r.status for r in front.log.requests] == [401, 200, 200, 200]
    assert token_registry.token_server.request_count == 1


# -- TLS -----------------------------------------------------------------------------------------


async def test_tls_registry_is_verified_with_the_configured_ca(tls_registry: RunningRegistry) -> None:
    assert tls_registry.ca_file is not None
    async with RegistryClient(RegistrySettings(ca_file=str(tls_registry.ca_file))) as client:
        listing = await client.list_tags(
            ImageRef(tls_registry.host, QWEN), credential=credential_of(tls_registry)
        )
    assert sorted(listing.tags) == QWEN_TAGS


async def test_tls_registry_without_its_ca_is_a_tls_failure(
    client: RegistryClient, tls_registry: RunningRegistry
) -> None:
    with pytest.raises(TLSFailure, match=f"TLS verification failed for {tls_registry.host}") as info:
        await client.list_tags(ImageRef(tls_registry.host, QWEN), credential=credential_of(tls_registry))
    assert info.value.reason == "TLSError"


async def test_token_realm_on_another_host_name_gets_the_credentials_it_was_named_for(
    tls_token_registry: RunningRegistry,
) -> None:
    server = tls_token_registry.token_server
    assert server is not None
    assert tls_token_registry.ca_file is not None
    assert server.host.startswith("localhost:")  # the realm is not the registry's 127.0.0.1
    server.reset()
    async with RegistryClient(RegistrySettings(ca_file=str(tls_token_registry.ca_file))) as client:
        listing = await client.list_tags(
            ImageRef(tls_token_registry.host, PRIVATE_REPOSITORY),
            credential=credential_of(tls_token_registry),
        )
    assert listing.tags == ("1.0.0",)
    assert [r.user for r in server.requests] == [tls_token_registry.username]


def test_unreadable_ca_bundle_is_a_tls_failure(tmp_path: Path) -> None:
    with pytest.raises(TLSFailure, match="cannot load the CA bundle"):
        RegistryClient(RegistrySettings(ca_file=str(tmp_path / "missing.pem")))
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    with pytest.raises(TLSFailure, match="not a PEM certificate bundle"):
        RegistryClient(RegistrySettings(ca_file=str(garbage)))


async def test_concurrent_first_calls_pay_one_challenge_and_one_token_per_scope(
    token_registry: RunningRegistry, make_fault_front: Callable[[RunningRegistry], FaultFront]
) -> None:
    assert token_registry.token_server is not None
    token_registry.token_server.reset()
    front = make_fault_front(token_registry)
    deepseek = "amdenterpriseai/aim-deepseek-deepseek-r1"
    async with RegistryClient() as client:
        listings = await asyncio.gather(
            *(client.list_tags(ImageRef(front.host, repo), credential=None) for repo in (QWEN, deepseek) * 3)
        )
    expected = [QWEN_TAGS, sorted(STANDARD_IMAGES[deepseek])]
    assert [sorted(listing.tags) for listing in listings[:2]] == expected
    statuses = [r.status for r in front.log.requests]
    assert statuses.count(401) == 1
    assert statuses.count(200) == 6
    assert sorted(r.scopes[0] for r in token_registry.token_server.requests) == [
        f"repository:{deepseek}:pull",
        f"repository:{QWEN}:pull",
    ]
