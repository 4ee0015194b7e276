"""Docker Hub's and GitHub's repository listings, for wildcards on docker.io and ghcr.io.

Neither registry has a usable `/v2/_catalog`; each lists one namespace through its own web API:
- Docker Hub: `GET /v2/namespaces/<ns>/repositories?page_size=100&ordering=name&name=<prefix>`,
  following `next` on the same host. Anonymous, it lists public repositories; with the source's
  docker.io credential it first logs in (`POST /v2/users/login`, a password or a personal access
  token) and lists the private ones too.
- GitHub: `GET /orgs/<ns>/packages?package_type=container&per_page=100`, following `Link`; on 404
  the same under `/users/<ns>/`. It needs a token: the password of the source's ghcr.io credential
  (a classic token with `read:packages`), sent only to the API host - the sender strips it from any
  redirect to another host.
A namespace the API does not know is `NamespaceNotFound`. Every request goes through the same
sender as the registry's own (limits per API host, retries honouring `Retry-After`, body caps).
Both APIs say when each repository last changed (`last_updated`, `updated_at`): kept with the
listing, so that a repository unchanged since its last listing of tags is not listed again.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from yarl import URL

from aimsource.domain.patterns import RepositoryPattern
from aimsource.domain.registries.entries import Registries
from aimsource.registry.auth.credentials import Credential
from aimsource.registry.discovery.listing import MatchCollector, RepositoryListing
from aimsource.registry.errors import AuthenticationFailed, BadResponse, CatalogUnsupported, NamespaceNotFound
from aimsource.registry.http.endpoints import netloc, same_origin
from aimsource.registry.http.messages import Outgoing, Reply
from aimsource.registry.http.sending import reason_phrase
from aimsource.registry.pages.links import next_page
from aimsource.registry.settings import RegistrySettings

Send = Callable[[Outgoing], Awaitable[Reply]]
_NO_GITHUB_NAMESPACE = "namespace not found: GitHub has no organisation or user {ns!r}"
GITHUB_TOKEN_NEEDED = (
    "GitHub's packages API lists the repositories of ghcr.io/{ns} only with a token: add a ghcr.io "
    "credential whose password is a (classic) token with read:packages to the source's "
    "imagePullSecrets"
)


async def walk_docker_hub(
    base: URL,
    pattern: RepositoryPattern,
    *,
    settings: RegistrySettings,
    send: Send,
    credential: Credential | None = None,
) -> RepositoryListing:
    """The repositories of the pattern's namespace on Docker Hub whose names it matches; logged in
    with `credential` when there is one (private repositories are listed only then)."""
    namespace = _namespace(pattern)
    headers: tuple[tuple[str, str], ...] = (("Accept", "application/json"),)
    if credential is not None and credential.username and credential.password:
        token = await docker_hub_login(base, credential, send=send)
        headers = (*headers, ("Authorization", f"Bearer {token}"))
    name_prefix = pattern.prefix[len(namespace) + 1 :]
    query = {"page_size": "100", "ordering": "name"}
    if name_prefix:
        query["name"] = name_prefix  # narrows the walk on Docker Hub's side; matching is still ours
    url = base.with_path(f"/v2/namespaces/{namespace}/repositories").with_query(query)
    found = MatchCollector(pattern, settings.max_repositories)
    endpoint = f"{netloc(base)}/v2/namespaces/{namespace}/repositories"
    for _page in range(settings.max_pages):
        reply = await send(Outgoing("GET", url, headers, "tags"))
        if reply.status == 404:
            raise NamespaceNotFound(f"namespace not found: Docker Hub has no namespace {namespace!r}")
        document = _document(reply, endpoint)
        results = document.get("results")
        if not isinstance(results, list):
            raise BadResponse(f"bad response from {endpoint}: no list of results")
        found.add(*_named(namespace, results, "last_updated"))
        following = document.get("next")
        if not following:
            return found.listing(truncated=False, endpoint=endpoint)
        if not isinstance(following, str):
            raise BadResponse(f"bad response from {endpoint}: next is not a URL")
        try:
            url = URL(following, encoded=True)
        except ValueError as exc:
            raise BadResponse(f"bad response from {endpoint}: next is not a URL") from exc
        if (
            not same_origin(url, base)
            or url.scheme != base.scheme
            or url.path != base.with_path(f"/v2/namespaces/{namespace}/repositories").path
        ):
            raise BadResponse(f"bad response from {endpoint}: next leaves {endpoint}; refusing to follow it")
    return found.listing(truncated=True, endpoint=endpoint)


async def walk_github(
    base: URL,
    pattern: RepositoryPattern,
    *,
    credential: Credential | None,
    settings: RegistrySettings,
    send: Send,
) -> RepositoryListing:
    """The container packages of the pattern's organisation (else user) whose names it matches."""
    namespace = _namespace(pattern)
    if credential is None or not credential.password:
        raise AuthenticationFailed(GITHUB_TOKEN_NEEDED.format(ns=namespace))
    headers = (
        ("Accept", "application/vnd.github+json"),
        ("Authorization", f"Bearer {credential.password}"),
        ("X-GitHub-Api-Version", "2022-11-28"),
    )
    found = MatchCollector(pattern, settings.max_repositories)
    for owner in ("orgs", "users"):
        path = f"/{owner}/{namespace}/packages"
        endpoint = f"{netloc(base)}{path}"
        url = base.with_path(path).with_query(package_type="container", per_page="100")
        for _page in range(settings.max_pages):
            reply = await send(Outgoing("GET", url, headers, "tags"))
            if reply.status == 404 and owner == "orgs" and _page == 0:
                break  # not an organisation: try the user of that name
            if reply.status == 404:
                raise NamespaceNotFound(_NO_GITHUB_NAMESPACE.format(ns=namespace))
            if reply.status in (401, 403):
                raise AuthenticationFailed(
                    f"authentication failed for {endpoint}: HTTP {reply.status}; "
                    + GITHUB_TOKEN_NEEDED.format(ns=namespace)
                )
            packages = _document(reply, endpoint, array=True)
            found.add(*_named(namespace, packages, "updated_at"))
            links = reply.headers.getall("link", ())
            try:
                following = next_page(links, current=reply.url) if links else None
            except (ValueError, TypeError) as exc:
                raise BadResponse(
                    f"bad response from {endpoint}: the next-page Link is not a valid URL"
                ) from exc
            if following is None:
                return found.listing(truncated=False, endpoint=endpoint)
            if not same_origin(following, base) or following.scheme != base.scheme or following.path != path:
                raise BadResponse(f"bad response from {endpoint}: the next-page Link leaves {endpoint}")
            url = following
        else:
            return found.listing(truncated=True, endpoint=endpoint)
    raise NamespaceNotFound(_NO_GITHUB_NAMESPACE.format(ns=namespace))


async def docker_hub_login(base: URL, credential: Credential, *, send: Send) -> str:
    """A Docker Hub API token for `credential` (`POST /v2/users/login`; a personal access token
    works as the password). The answer's token goes only into this walk's requests."""
    login = base.with_path("/v2/users/login")
    endpoint = f"{netloc(base)}/v2/users/login"
    body = json.dumps({"username": credential.username, "password": credential.password}).encode()
    headers = (("Content-Type", "application/json"), ("Accept", "application/json"))
    reply = await send(Outgoing("POST", login, headers, "token", body=body))
    if reply.status in (401, 403):
        raise AuthenticationFailed(
            f"authentication failed for {endpoint}: HTTP {reply.status}; Docker Hub refused the docker.io "
            "credential of the source's pull secrets (with two-factor authentication on, use a personal "
            "access token as the password)"
        )
    document = _document(reply, endpoint)
    token = document.get("token")
    # It goes into a header: visible ASCII only, and a bound on its size.
    if not isinstance(token, str) or not 0 < len(token) <= 16384 or not all(" " < c < "\x7f" for c in token):
        raise BadResponse(f"bad response from {endpoint}: no usable token")
    return token


def discovery_of(pattern: RepositoryPattern, registries: Registries) -> tuple[str, URL | None]:
    """How the pattern's registry lists its repositories (`repositoryDiscovery` in the registries
    file, else by host) and the API's base URL; None for the registry's own catalog."""
    kind = registries.discovery(pattern.registry)
    if kind == "none":
        raise CatalogUnsupported(
            f"the registries file sets repositoryDiscovery: none for {pattern.registry}, so the wildcard "
            f"{pattern} cannot be resolved there: name the repositories instead"
        )
    url = registries.discovery_url(pattern.registry)
    if kind in ("dockerhub", "github") and url is not None:
        return kind, URL(url)
    return kind, None


async def walk_api(
    base: URL,
    pattern: RepositoryPattern,
    *,
    kind: str,
    credential: Credential | None,
    settings: RegistrySettings,
    send: Send,
) -> RepositoryListing:
    """Docker Hub's or GitHub's walk, by `kind` (`discovery_of`)."""
    if kind == "dockerhub":
        return await walk_docker_hub(base, pattern, settings=settings, send=send, credential=credential)
    return await walk_github(base, pattern, credential=credential, settings=settings, send=send)


def _namespace(pattern: RepositoryPattern) -> str:
    namespace = pattern.namespace
    if namespace is None:  # parse_pattern refuses these for docker.io and ghcr.io
        raise ValueError(f"{pattern} names no namespace")
    return namespace


def _named(namespace: str, items: list[Any], updated_field: str) -> tuple[list[str], dict[str, float]]:
    """`<namespace>/<name>` of each item with a string name (`MatchCollector` checks the grammar),
    and when each last changed, where `updated_field` holds a time with a zone."""
    names: list[str] = []
    updated: dict[str, float] = {}
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            name = f"{namespace}/{item['name']}"
            names.append(name)
            at = api_time(item.get(updated_field))
            if at is not None:
                updated[name] = at
    return names, updated


def api_time(value: object) -> float | None:
    """An API's ISO 8601 time (`2026-03-01T12:00:00.123456Z`) as Unix seconds; None for anything
    else, including a time without a zone (its instant is unknown)."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return None
    return at.timestamp() if at.tzinfo is not None else None


def _document(reply: Reply, endpoint: str, *, array: bool = False) -> Any:
    if not 200 <= reply.status < 300:
        raise BadResponse(f"bad response from {endpoint}: HTTP {reply.status} {reason_phrase(reply.status)}")
    try:
        document: Any = json.loads(reply.body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise BadResponse(f"bad response from {endpoint}: not valid JSON") from exc
    if not isinstance(document, list if array else dict):
        raise BadResponse(f"bad response from {endpoint}: not a JSON {'array' if array else 'object'}")
    return document
