"""Wildcards on Docker Hub and GHCR: their web APIs, spoken by fronts on loopback with the same
pagination (`next`, `Link`), refusals (404 namespace, 401, 429 with `Retry-After`) and names
(`/` inside a package name) as the real ones (`registry/discovery/apis.py` through the client)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from aimsource.domain.patterns import parse_pattern
from aimsource.domain.registries.entries import Registries
from aimsource.domain.registries.parsing import parse_registries
from aimsource.registry.auth.credentials import Credential
from aimsource.registry.client import RegistryClient
from aimsource.registry.errors import AuthenticationFailed, BadResponse, CatalogUnsupported, NamespaceNotFound
from aimsource.registry.settings import RegistrySettings
from tests.support.serving import BackgroundServer

HUB = {
    "amdenterpriseai": [f"aim-{n}" for n in ("base", "deepseek", "gemma", "llama", "mistral", "phi", "qwen")]
    + ["other", "Bad_Name"],
}
GITHUB_ORGS = {"amd-enterprise-ai": ["aim-private-a", "aim-private-b", "tools/aim-nested", "unrelated"]}
GITHUB_USERS = {"someone": ["aim-mine"]}
TOKEN = "ghp_secret_token_value"


@dataclass
class Front:
    """Docker Hub's and GitHub's listing APIs on one loopback host, recording what they were sent."""

    page: int = 3
    throttle_once: bool = False
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    server: BackgroundServer | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/v2/namespaces/{ns}/repositories", self.hub)
        app.router.add_get("/orgs/{ns}/packages", self.github)
        app.router.add_get("/users/{ns}/packages", self.github)
        return app

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    def _record(self, request: web.Request) -> None:
        self.requests.append((request.path_qs, request.headers.get("Authorization")))

    async def hub(self, request: web.Request) -> web.Response:
        self._record(request)
        if self.throttle_once:
            self.throttle_once = False
            return web.json_response({"message": "slow down"}, status=429, headers={"Retry-After": "0"})
        names = HUB.get(request.match_info["ns"])
        if names is None:
            return web.json_response({"message": "object not found"}, status=404)
        prefix = request.query.get("name", "")
        names = sorted(n for n in names if n.startswith(prefix))
        start = int(request.query.get("page", "1"))
        chunk = names[(start - 1) * self.page : start * self.page]
        more = start * self.page < len(names)
        following = str(request.url.update_query(page=str(start + 1))) if more else None
        results = [
            {"name": n, "namespace": request.match_info["ns"], "last_updated": "2026-12-01T00:00:00Z"}
            for n in chunk
        ]
        return web.json_response({"count": len(names), "next": following, "results": results})

    async def github(self, request: web.Request) -> web.Response:
        self._record(request)
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"message": "Requires authentication"}, status=401)
        table = GITHUB_ORGS if request.path.startswith("/orgs/") else GITHUB_USERS
        names = table.get(request.match_info["ns"])
        if names is None:
            return web.json_response({"message": "Not Found"}, status=404)
        start = int(request.query.get("page", "1"))
        chunk = names[(start - 1) * self.page : start * self.page]
        headers = {}
        if start * self.page < len(names):
            headers["Link"] = f'<{request.url.update_query(page=str(start + 1))}>; rel="next"'
        body = [{"name": n, "package_type": "container", "updated_at": "2026-12-01T00:00:00Z"} for n in chunk]
        return web.json_response(body, headers=headers)


@pytest.fixture
def front() -> Iterator[Front]:
    made = Front()
    with BackgroundServer(made.app()) as server:
        made.server = server
        yield made


def apis_at(url: str) -> Registries:
    """A registries file that points Docker Hub's and GHCR's discovery at `url` (as tests and
    GitHub Enterprise users do with `discoveryURL`)."""
    text = f"registries:\n  docker.io:\n    discoveryURL: {url}\n  ghcr.io:\n    discoveryURL: {url}\n"
    return parse_registries(text, origin="test")


@pytest.fixture
async def client(front: Front) -> AsyncIterator[RegistryClient]:
    async with RegistryClient(RegistrySettings(backoff_base=0.01), registries=apis_at(front.url)) as client:
        yield client


async def test_docker_hub_lists_a_namespace_by_pages_narrowed_to_the_prefix(
    client: RegistryClient, front: Front
) -> None:
    listing = await client.list_repositories(parse_pattern("amdenterpriseai/aim-*"), credential=None)
    assert listing.repositories == tuple(f"amdenterpriseai/{n}" for n in sorted(HUB["amdenterpriseai"][:7]))
    assert listing.seen == 7  # the API's `name=aim-` left the others out
    assert [path.split("?")[0] for path, _ in front.requests] == [
        "/v2/namespaces/amdenterpriseai/repositories"
    ] * 3
    assert "name=aim-" in front.requests[0][0]
    assert "page_size=100" in front.requests[0][0]
    assert all(auth is None for _, auth in front.requests)  # Docker Hub is asked anonymously


async def test_docker_hub_drops_names_that_are_not_repositories(client: RegistryClient) -> None:
    listing = await client.list_repositories(parse_pattern("amdenterpriseai/*"), credential=None)
    assert "amdenterpriseai/Bad_Name" not in listing.repositories
    assert listing.seen == len(HUB["amdenterpriseai"])


async def test_an_unknown_docker_hub_namespace_is_namespace_not_found(client: RegistryClient) -> None:
    with pytest.raises(NamespaceNotFound, match="Docker Hub has no namespace 'nobody'"):
        await client.list_repositories(parse_pattern("nobody/aim-*"), credential=None)


async def test_a_429_with_retry_after_is_waited_out(client: RegistryClient, front: Front) -> None:
    front.throttle_once = True
    listing = await client.list_repositories(parse_pattern("amdenterpriseai/aim-*"), credential=None)
    assert len(listing.repositories) == 7
    assert len(front.requests) == 4  # the refused first page, asked again, then the other two


async def test_github_lists_an_organisations_packages_with_the_token_only_on_the_api_host(
    client: RegistryClient, front: Front
) -> None:
    credential = Credential("someone", TOKEN)
    listing = await client.list_repositories(
        parse_pattern("ghcr.io/amd-enterprise-ai/aim-*"), credential=credential
    )
    assert listing.repositories == ("amd-enterprise-ai/aim-private-a", "amd-enterprise-ai/aim-private-b")
    assert listing.seen == 4
    assert {auth for _, auth in front.requests} == {f"Bearer {TOKEN}"}
    assert "package_type=container" in front.requests[0][0]


async def test_slashes_in_a_package_name_are_part_of_the_repository(client: RegistryClient) -> None:
    listing = await client.list_repositories(
        parse_pattern("ghcr.io/amd-enterprise-ai/tools/*"), credential=Credential("someone", TOKEN)
    )
    assert listing.repositories == ("amd-enterprise-ai/tools/aim-nested",)


async def test_github_falls_back_from_organisation_to_user(client: RegistryClient, front: Front) -> None:
    listing = await client.list_repositories(
        parse_pattern("ghcr.io/someone/aim-*"), credential=Credential("x", TOKEN)
    )
    assert listing.repositories == ("someone/aim-mine",)
    assert [path.split("?")[0] for path, _ in front.requests] == [
        "/orgs/someone/packages",
        "/users/someone/packages",
    ]


async def test_an_unknown_github_namespace_is_namespace_not_found(client: RegistryClient) -> None:
    with pytest.raises(NamespaceNotFound, match="GitHub has no organisation or user 'nobody'"):
        await client.list_repositories(
            parse_pattern("ghcr.io/nobody/aim-*"), credential=Credential("x", TOKEN)
        )


async def test_github_without_a_token_says_which_token_it_needs(client: RegistryClient, front: Front) -> None:
    with pytest.raises(AuthenticationFailed) as caught:
        await client.list_repositories(
            parse_pattern("ghcr.io/amd-enterprise-ai/aim-private-*"), credential=None
        )
    assert "(classic) token with read:packages" in str(caught.value)
    assert front.requests == []  # nothing is asked without a token


async def test_a_refused_github_token_is_an_authentication_failure_that_never_shows_it(
    client: RegistryClient,
) -> None:
    with pytest.raises(AuthenticationFailed, match="HTTP 401") as caught:
        await client.list_repositories(
            parse_pattern("ghcr.io/amd-enterprise-ai/aim-*"), credential=Credential("x", "wrong-token")
        )
    assert "wrong-token" not in str(caught.value)


async def test_repository_discovery_none_is_catalog_unsupported() -> None:
    registries = parse_registries("registries:\n  docker.io:\n    repositoryDiscovery: none\n", origin="test")
    async with RegistryClient(RegistrySettings(), registries=registries) as client:
        with pytest.raises(CatalogUnsupported, match=r"repositoryDiscovery: none for docker\.io"):
            await client.list_repositories(parse_pattern("org/aim-*"), credential=None)


async def test_a_next_page_on_another_host_is_refused(front: Front) -> None:
    async def elsewhere(request: web.Request) -> web.Response:
        return web.json_response(
            {"next": "http://127.0.0.2:1/v2/namespaces/x/repositories?page=2", "results": []}
        )

    app = web.Application()
    app.router.add_get("/v2/namespaces/{ns}/repositories", elsewhere)
    with BackgroundServer(app) as server:
        async with RegistryClient(RegistrySettings(), registries=apis_at(server.url)) as client:
            with pytest.raises(BadResponse, match="refusing to follow it"):
                await client.list_repositories(parse_pattern("x/aim-*"), credential=None)
