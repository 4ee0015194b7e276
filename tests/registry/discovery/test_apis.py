"""Wildcards on Docker Hub and GHCR: their web APIs, spoken by fronts on loopback with the same
pagination (`next`, `Link`), refusals (404 namespace, 401, 429 with `Retry-After`) and names
(`/` inside a package name) as the real ones (`registry/discovery/apis.py` through the client)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from aiohttp import web

from aimsource.cli.ratelimits import RateLimitRecorder
from aimsource.domain.patterns import parse_pattern
from aimsource.domain.registries.entries import Registries
from aimsource.domain.registries.parsing import parse_registries
from aimsource.registry.auth.credentials import Credential
from aimsource.registry.client import RegistryClient
from aimsource.registry.discovery.apis import api_time
from aimsource.registry.errors import (
    AuthenticationFailed,
    BadResponse,
    CatalogUnsupported,
    NamespaceNotFound,
    RateLimited,
)
from aimsource.registry.settings import RegistrySettings
from tests.support.serving import BackgroundServer

HUB = {
    "amdenterpriseai": [f"aim-{n}" for n in ("base", "deepseek", "gemma", "llama", "mistral", "phi", "qwen")]
    + ["other", "Bad_Name"],
}
GITHUB_ORGS = {"amd-enterprise-ai": ["aim-private-a", "aim-private-b", "tools/aim-nested", "unrelated"]}
GITHUB_USERS = {"someone": ["aim-mine"]}
TOKEN = "ghp_secret_token_value"
HUB_PRIVATE = {"amdenterpriseai": ["aim-private"]}
HUB_USER, HUB_PASSWORD, HUB_JWT = "amduser", "dckr_pat_secret_value", "hub.jwt.value"


@dataclass
class Front:
    """Docker Hub's and GitHub's listing APIs on one loopback host, recording what they were sent."""

    page: int = 3
    throttle_once: bool = False
    redirect_login: bool = False
    quota_resets_in: float | None = None
    """The next GitHub answer is a 403 with its quota spent, back in that many seconds."""
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    logins: list[dict[str, str]] = field(default_factory=list)
    server: BackgroundServer | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/v2/namespaces/{ns}/repositories", self.hub)
        app.router.add_post("/v2/users/login", self.hub_login)
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
        if request.headers.get("Authorization") == f"Bearer {HUB_JWT}":
            names = names + HUB_PRIVATE.get(request.match_info["ns"], [])
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

    async def hub_login(self, request: web.Request) -> web.Response:
        self._record(request)
        self.logins.append(await request.json())
        if self.redirect_login:
            raise web.HTTPTemporaryRedirect("http://127.0.0.2:9/v2/users/login")
        if self.logins[-1] != {"username": HUB_USER, "password": HUB_PASSWORD}:
            return web.json_response({"detail": "Incorrect authentication credentials"}, status=401)
        return web.json_response({"token": HUB_JWT})

    async def github(self, request: web.Request) -> web.Response:
        self._record(request)
        if self.quota_resets_in is not None:
            reset = str(int(time.time() + self.quota_resets_in + 0.999))
            self.quota_resets_in = None
            spent = {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
            return web.json_response({"message": "API rate limit exceeded"}, status=403, headers=spent)
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
        headers.update({"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": str(4999 - start)})
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


async def test_docker_hub_with_the_sources_docker_io_credential_logs_in_and_lists_private_repositories(
    client: RegistryClient, front: Front
) -> None:
    pattern = parse_pattern("amdenterpriseai/aim-*")
    anonymous = await client.list_repositories(pattern, credential=None)
    assert "amdenterpriseai/aim-private" not in anonymous.repositories
    front.requests.clear()

    listing = await client.list_repositories(pattern, credential=Credential(HUB_USER, HUB_PASSWORD))

    assert "amdenterpriseai/aim-private" in listing.repositories
    assert front.logins[-1] == {"username": HUB_USER, "password": HUB_PASSWORD}
    assert front.requests[0] == ("/v2/users/login", None)
    assert all(auth == f"Bearer {HUB_JWT}" for path, auth in front.requests[1:])
    assert len(front.requests) > 2  # the login, then every page with its token


async def test_a_refused_docker_hub_login_fails_naming_the_credential_never_its_secret(
    client: RegistryClient, front: Front
) -> None:
    with pytest.raises(AuthenticationFailed) as caught:
        await client.list_repositories(
            parse_pattern("amdenterpriseai/aim-*"), credential=Credential(HUB_USER, "wrong-password")
        )
    assert "personal access token" in str(caught.value)
    assert "wrong-password" not in str(caught.value)
    assert HUB_USER not in str(caught.value)
    assert [path for path, _ in front.requests] == ["/v2/users/login"]  # no page asked without the token


async def test_a_docker_hub_login_is_never_redirected_with_its_credentials(
    client: RegistryClient, front: Front
) -> None:
    front.redirect_login = True
    with pytest.raises(BadResponse) as caught:
        await client.list_repositories(
            parse_pattern("amdenterpriseai/aim-*"), credential=Credential(HUB_USER, HUB_PASSWORD)
        )
    assert "307" in str(caught.value)
    assert HUB_PASSWORD not in str(caught.value)
    assert len(front.logins) == 1


async def test_the_apis_say_when_each_repository_last_changed(client: RegistryClient) -> None:
    hub = await client.list_repositories(parse_pattern("amdenterpriseai/aim-*"), credential=None)
    github = await client.list_repositories(
        parse_pattern("ghcr.io/amd-enterprise-ai/aim-*"), credential=Credential("u", TOKEN)
    )
    when = datetime(2026, 12, 1, tzinfo=UTC).timestamp()
    assert hub.updated
    assert set(hub.updated) == set(hub.repositories)
    assert set(hub.updated.values()) == {when}
    assert github.updated
    assert set(github.updated.values()) == {when}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-12-01T00:00:00Z", datetime(2026, 12, 1, tzinfo=UTC).timestamp()),
        ("2026-12-01T01:00:00.123456+01:00", datetime(2026, 12, 1, 0, 0, 0, 123456, tzinfo=UTC).timestamp()),
        ("2026-12-01T00:00:00", None),  # no zone: the instant is unknown
        ("yesterday", None),
        ("2026-12-01T00:00:00Z" + " " * 100, None),
        (1764547200, None),
        (None, None),
    ],
)
def test_api_times_are_read_only_when_they_name_an_instant(value: object, expected: float | None) -> None:
    assert api_time(value) == expected


async def test_githubs_spent_quota_is_waited_for_until_its_reset_and_its_counts_are_reported(
    front: Front,
) -> None:
    recorder = RateLimitRecorder()
    settings = RegistrySettings(backoff_base=0.01)
    async with RegistryClient(settings, registries=apis_at(front.url), observer=recorder) as client:
        front.quota_resets_in = 1.0
        started = time.monotonic()
        listing = await client.list_repositories(
            parse_pattern("ghcr.io/amd-enterprise-ai/aim-*"), credential=Credential("u", TOKEN)
        )
    assert listing.repositories  # the walk went on after the reset
    assert time.monotonic() - started >= 0.9  # it waited for the reset rather than hammering
    host = front.url.split("://", 1)[1]
    assert recorder.hosts[host].limit == 5000
    assert recorder.hosts[host].remaining is not None
    assert 4990 < recorder.hosts[host].remaining < 5000


async def test_a_quota_back_only_in_an_hour_is_rate_limited_not_an_authentication_failure(
    client: RegistryClient, front: Front
) -> None:
    front.quota_resets_in = 3600
    with pytest.raises(RateLimited) as caught:
        await client.list_repositories(
            parse_pattern("ghcr.io/amd-enterprise-ai/aim-*"), credential=Credential("u", TOKEN)
        )
    assert "quota is spent" in str(caught.value)
    assert TOKEN not in str(caught.value)
    assert caught.value.retry_after is not None
    assert caught.value.retry_after > 3000
