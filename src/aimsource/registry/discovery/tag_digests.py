"""Tag digests from Docker Hub's or GitHub's web API: 100 digests a request instead of one HEAD each.

A new image's model records its manifest digest, which costs one manifest HEAD per new image. The
web APIs that wildcard discovery uses (`apis`) also list a repository's tags with their digests:
- Docker Hub: `GET /v2/namespaces/<ns>/repositories/<name>/tags?page_size=100`, `results[].name`
  and `results[].digest` (the digest a HEAD with our Accept list returns), following `next` on the
  same host and path; with the source's docker.io credential after a login (`apis.docker_hub_login`,
  one request more, so that private repositories are listed too), else anonymous (a private
  repository then falls back to HEADs).
- GitHub: `GET /orgs/<ns>/packages/container/<package>/versions?per_page=100` (on a first 404 the
  same under `/users/<ns>/`), each version's `name` its digest and `metadata.container.tags` its
  tags, following `Link`; the token is the password of the source's credential for the registry,
  sent only to the API host. Without one there is no request at all.

When to ask (`worth_asking`): when a repository's new images outnumber the API pages its listing
needs, ceil(tags / 100) - so a first sync of N tags costs ceil(N / 100) requests, not N. While
walking, a page is fetched only while the pages spent exceed the wanted digests found by at most
one, so whatever the API answers, a repository costs at most two requests (three with a Docker
Hub login) more than its HEADs would have. Everything the API sends is hostile: only tags the
registry's own listing gave (and the tag grammar allows) with a digest of the OCI grammar are kept,
the first answer for a tag wins, bodies are capped by the sender, pages by `max_pages`, and a next
page elsewhere ends the walk. A failure raises a `RegistryError`; the caller then HEADs what is
still missing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable, Collection, Iterator
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

from yarl import URL

from aimsource.domain.references import ImageRef, is_valid_tag
from aimsource.domain.registries.entries import Registries
from aimsource.domain.selection.moved import is_digest
from aimsource.registry.auth.credentials import Credential
from aimsource.registry.discovery.apis import docker_hub_login
from aimsource.registry.errors import BadResponse, RepositoryNotFound
from aimsource.registry.http.endpoints import netloc, same_origin
from aimsource.registry.http.messages import Outgoing, Reply
from aimsource.registry.http.sending import reason_phrase
from aimsource.registry.pages.links import next_page
from aimsource.registry.settings import RegistrySettings

API_PAGE = 100
"""Tags (Docker Hub) or versions (GitHub) per API page: the most either API gives."""

Send = Callable[[Outgoing], Awaitable[Reply]]
Found = Callable[[dict[str, str]], None]


@dataclass(frozen=True)
class DigestApi:
    """Where one repository's tags and digests are listed, and how to ask."""

    kind: str
    """`dockerhub` or `github` (`Registries.discovery`)."""
    base: URL
    namespace: str
    name: str
    """The repository below the namespace (a GitHub package name may hold `/`)."""
    headers: tuple[tuple[str, str], ...] = ()
    login: Credential | None = field(default=None, repr=False)
    """Docker Hub: the docker.io credential to log in with first (private repositories)."""

    @property
    def endpoint(self) -> str:
        return f"{netloc(self.base)}/{self.namespace}/{self.name}"


def digest_api(ref: ImageRef, registries: Registries, credential: Credential | None) -> DigestApi | None:
    """The API that lists `ref`'s repository with digests: by the registries file's
    `repositoryDiscovery` and `discoveryURL` for the registry (Docker Hub's for docker.io, GitHub's
    for ghcr.io); None when the registry has none, or GitHub's has no token to be asked with."""
    kind = registries.discovery(ref.registry)
    url = registries.discovery_url(ref.registry)
    if kind not in ("dockerhub", "github") or url is None:
        return None
    namespace, _, name = ref.repository.partition("/")
    if not name:
        return None
    if kind == "dockerhub":
        if "/" in name:  # Docker Hub's repositories are exactly <namespace>/<name>
            return None
        login = credential if credential is not None and credential.username and credential.password else None
        return DigestApi(kind, URL(url), namespace, name, (("Accept", "application/json"),), login)
    if credential is None or not credential.password:
        return None
    headers = (
        ("Accept", "application/vnd.github+json"),
        ("Authorization", f"Bearer {credential.password}"),
        ("X-GitHub-Api-Version", "2022-11-28"),
    )
    return DigestApi(kind, URL(url), namespace, name, headers)


def api_pages(listed: int) -> int:
    """The API pages a repository of `listed` tags needs (at least one)."""
    return max(1, math.ceil(listed / API_PAGE))


def worth_asking(new: int, listed: int) -> bool:
    """Whether asking the API is expected to cost fewer requests than one HEAD per new image."""
    return new > api_pages(listed)


async def walk_tag_digests(
    api: DigestApi,
    wanted: Collection[str],
    *,
    settings: RegistrySettings,
    send: Send,
    found: Found | None = None,
) -> dict[str, str]:
    """The digests of the `wanted` tags the API lists, page by page (each page's also handed to
    `found` as soon as it is read); stops once all are found or when going on would cost more
    than the HEADs it saves."""
    digests: dict[str, str] = {}
    pages = 0
    if api.login is not None:  # one request more, for the private repositories of the namespace
        token = await docker_hub_login(api.base, api.login, send=send)
        api = replace(api, headers=(*api.headers, ("Authorization", f"Bearer {token}")))
    for url, path in _starts(api):
        while pages < settings.max_pages and len(digests) < len(wanted) and pages - len(digests) <= 1:
            reply = await send(Outgoing("GET", url, api.headers, "tags"))
            pages += 1
            if reply.status == 404 and path.startswith("/orgs/") and pages == 1:
                break  # not an organisation: the user of that name
            document = _document(reply, api)
            page: dict[str, str] = {}
            for tag, digest in _entries(api.kind, document):
                if (
                    tag in wanted
                    and tag not in digests
                    and tag not in page
                    and is_valid_tag(tag)
                    and is_digest(digest)
                ):
                    page[tag] = digest  # the first answer for a tag wins, on this page as on the others
            digests.update(page)
            if page and found is not None:
                found(page)
            following = _following(api, reply, document)
            if following is None:
                return digests
            if (
                not same_origin(following, url)
                or following.scheme != url.scheme
                or following.path != url.path
            ):
                raise BadResponse(f"bad response from {api.endpoint}: the next page leaves it; not followed")
            url = following
        else:
            return digests
    return digests


def _starts(api: DigestApi) -> Iterator[tuple[URL, str]]:
    if api.kind == "dockerhub":
        path = f"/v2/namespaces/{api.namespace}/repositories/{api.name}/tags"
        yield api.base.with_path(path).with_query(page_size=str(API_PAGE)), path
        return
    package = quote(api.name, safe="")
    for owner in ("orgs", "users"):
        path = f"/{owner}/{api.namespace}/packages/container/{package}/versions"
        yield api.base.with_path(path, encoded=True).with_query(per_page=str(API_PAGE)), path


def _document(reply: Reply, api: DigestApi) -> Any:
    if reply.status == 404:
        raise RepositoryNotFound(f"repository not found: {api.endpoint} (its tags API)")
    if not 200 <= reply.status < 300:
        raise BadResponse(
            f"bad response from {api.endpoint}: HTTP {reply.status} {reason_phrase(reply.status)}"
        )
    try:
        document: Any = json.loads(reply.body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise BadResponse(f"bad response from {api.endpoint}: not valid JSON") from exc
    if not isinstance(document, list if api.kind == "github" else dict):
        raise BadResponse(f"bad response from {api.endpoint}: not the JSON its API sends")
    return document


def _entries(kind: str, document: Any) -> Iterator[tuple[str, str]]:
    """(tag, digest) pairs of two strings as sent: anything of another shape is skipped."""
    pairs: Iterator[tuple[object, object]]
    if kind == "dockerhub":
        results = document.get("results")
        items = results if isinstance(results, list) else ()
        pairs = ((i.get("name"), i.get("digest")) for i in items if isinstance(i, dict))
    else:
        pairs = ((tag, version.get("name")) for version in document for tag in _version_tags(version))
    return ((tag, digest) for tag, digest in pairs if isinstance(tag, str) and isinstance(digest, str))


def _version_tags(version: object) -> list[object]:
    """`metadata.container.tags` of a GitHub package version; [] for anything else."""
    metadata = version.get("metadata") if isinstance(version, dict) else None
    container = metadata.get("container") if isinstance(metadata, dict) else None
    tags = container.get("tags") if isinstance(container, dict) else None
    return tags if isinstance(tags, list) else []


def _following(api: DigestApi, reply: Reply, document: Any) -> URL | None:
    if api.kind == "dockerhub":
        following = document.get("next")
        if not following:
            return None
        if not isinstance(following, str):
            raise BadResponse(f"bad response from {api.endpoint}: next is not a URL")
        try:
            return URL(following, encoded=True)
        except ValueError as exc:
            raise BadResponse(f"bad response from {api.endpoint}: next is not a URL") from exc
    links = reply.headers.getall("link", ())
    try:
        return next_page(links, current=reply.url) if links else None
    except (ValueError, TypeError) as exc:
        raise BadResponse(f"bad response from {api.endpoint}: the next-page Link is not a valid URL") from exc
