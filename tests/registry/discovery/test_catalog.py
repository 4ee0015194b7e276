"""Wildcards on a registry with a catalog: `/v2/_catalog` of a real docker-registry, anonymous and
behind token auth, paged, and refused (`registry/discovery/catalog.py` through the client)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from aimsource.domain.patterns import parse_pattern
from aimsource.registry.client import RegistryClient
from aimsource.registry.errors import CatalogUnsupported
from aimsource.registry.settings import RegistrySettings
from tests.registry.test_client_auth import credential_of
from tests.support.registry_fixtures import PRIVATE_REPOSITORY, STANDARD_IMAGES
from tests.support.registry_server import RunningRegistry
from tests.support.serving import BackgroundServer

pytestmark = pytest.mark.registry

AIM = sorted(STANDARD_IMAGES)


@pytest.fixture
async def client() -> AsyncIterator[RegistryClient]:
    async with RegistryClient(RegistrySettings(backoff_base=0.01)) as client:
        yield client


async def test_an_anonymous_catalog_gives_the_matching_repositories(
    client: RegistryClient, anonymous_registry: RunningRegistry
) -> None:
    pattern = parse_pattern(f"{anonymous_registry.host}/amdenterpriseai/aim-*")
    listing = await client.list_repositories(pattern, credential=None)
    assert list(listing.repositories) == AIM
    assert listing.seen >= len(AIM) + 1  # the private repository is listed, not matched
    assert (listing.truncated, listing.endpoint) == (False, f"{anonymous_registry.host}/v2/_catalog")


async def test_the_catalog_is_followed_page_by_page_to_its_end(anonymous_registry: RunningRegistry) -> None:
    async with RegistryClient(RegistrySettings(page_size=1, backoff_base=0.01)) as client:
        listing = await client.list_repositories(
            parse_pattern(f"{anonymous_registry.host}/*"), credential=None
        )
    assert set(listing.repositories) >= {*AIM, PRIVATE_REPOSITORY}
    assert listing.truncated is False


async def test_the_page_cap_ends_the_walk_as_truncated(anonymous_registry: RunningRegistry) -> None:
    async with RegistryClient(RegistrySettings(page_size=1, max_pages=2, backoff_base=0.01)) as client:
        listing = await client.list_repositories(
            parse_pattern(f"{anonymous_registry.host}/*"), credential=None
        )
    assert listing.seen == 2
    assert listing.truncated is True


async def test_the_repository_cap_keeps_the_first_by_name(anonymous_registry: RunningRegistry) -> None:
    async with RegistryClient(RegistrySettings(max_repositories=1, backoff_base=0.01)) as client:
        listing = await client.list_repositories(
            parse_pattern(f"{anonymous_registry.host}/*"), credential=None
        )
    assert listing.repositories == (min(*AIM, PRIVATE_REPOSITORY),)
    assert listing.truncated is True


async def test_a_token_registry_lists_its_catalog_to_a_signed_in_user(
    client: RegistryClient, token_registry: RunningRegistry
) -> None:
    assert token_registry.token_server is not None
    token_registry.token_server.reset()
    pattern = parse_pattern(f"{token_registry.host}/private/*")
    listing = await client.list_repositories(pattern, credential=credential_of(token_registry))
    assert listing.repositories == (PRIVATE_REPOSITORY,)
    assert [r.scopes for r in token_registry.token_server.requests] == [("registry:catalog:*",)]


async def test_a_catalog_refused_to_anonymous_clients_is_catalog_unsupported(
    client: RegistryClient, token_registry: RunningRegistry
) -> None:
    pattern = parse_pattern(f"{token_registry.host}/amdenterpriseai/aim-*")
    with pytest.raises(CatalogUnsupported) as caught:
        await client.list_repositories(pattern, credential=None)
    assert str(caught.value) == (
        f"{token_registry.host} does not list its repositories (HTTP 401 on /v2/_catalog), so the wildcard "
        f"{pattern} cannot be resolved there: name the repositories instead"
    )


@pytest.mark.parametrize("status", [404, 405])
async def test_a_registry_without_a_catalog_is_catalog_unsupported(
    client: RegistryClient, status: int
) -> None:
    async def catalog(_: web.Request) -> web.Response:
        return web.json_response({"errors": [{"code": "UNSUPPORTED"}]}, status=status)

    async def base(_: web.Request) -> web.Response:
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/v2/", base)
    app.router.add_get("/v2/_catalog", catalog)
    with (
        BackgroundServer(app) as server,
        pytest.raises(CatalogUnsupported, match=f"HTTP {status} on /v2/_catalog"),
    ):
        await client.list_repositories(parse_pattern(f"{server.host}/team/*"), credential=None)
