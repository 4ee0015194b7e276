"""A tag lister over a fixed listing (`--tags-file`), for previews and GitOps runs without a registry.

It answers exactly as a registry would for what it knows: a repository missing from the listing is
"repository not found", a pinned tag missing from its repository is "tag not found".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence

from aimsource.domain.patterns import RepositoryPattern
from aimsource.domain.references import ImageRef, normalize_registry
from aimsource.registry.auth.credentials import Credential, CredentialStore
from aimsource.registry.client import TagListing
from aimsource.registry.discovery.listing import MatchCollector, RepositoryListing
from aimsource.registry.errors import RepositoryNotFound, TagNotFound


class InvalidTagsFileError(ValueError):
    """The listing does not have the documented shape; the message says where."""


def parse_tags_document(text: str, *, origin: str) -> dict[str, tuple[str, ...]]:
    """`{"<registry>/<repository>": ["tag", ...]}` with the registry always written."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidTagsFileError(f"{origin}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    except RecursionError as exc:  # json builds nested arrays recursively
        raise InvalidTagsFileError(f"{origin}: not readable JSON (nested too deeply)") from exc
    if not isinstance(data, dict):
        raise InvalidTagsFileError(f'{origin}: expected an object {{"<registry>/<repository>": [tags]}}')
    listing: dict[str, tuple[str, ...]] = {}
    for key, tags in data.items():
        if "/" not in key:
            raise InvalidTagsFileError(
                f'{origin}: key "{key}" must be "<registry>/<repository>", e.g. docker.io/library/ubuntu'
            )
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise InvalidTagsFileError(f'{origin}: "{key}" must map to a list of tag strings')
        registry, _, repository = key.partition("/")
        listing[f"{normalize_registry(registry)}/{repository}"] = tuple(tags)
    return listing


class StaticTagLister:
    """Implements the sync's `TagLister` port over an in-memory listing."""

    def __init__(self, listing: Mapping[str, Sequence[str]], *, max_repositories: int = 1000) -> None:
        self._listing = {key: tuple(tags) for key, tags in listing.items()}
        self._max_repositories = max_repositories

    async def list_tags(
        self, ref: ImageRef, *, credential: Credential | None, credentials: CredentialStore | None = None
    ) -> TagListing:
        tags = self._listing.get(ref.key)
        if tags is None:
            raise RepositoryNotFound(f"repository not found: {ref.key} (not in the tags file)")
        return TagListing(tags=tags)

    async def list_repositories(
        self,
        pattern: RepositoryPattern,
        *,
        credential: Credential | None,
        credentials: CredentialStore | None = None,
        fresh_for: float = 0.0,
    ) -> RepositoryListing:
        """The file's repositories of `pattern`'s registry stand for that registry's catalog, so a
        wildcard can be tried offline."""
        prefix = pattern.registry + "/"
        found = MatchCollector(pattern, self._max_repositories)
        found.add([key[len(prefix) :] for key in self._listing if key.startswith(prefix)])
        return found.listing(truncated=False, endpoint="the tags file")

    async def manifest_digest(
        self, ref: ImageRef, *, credential: Credential | None, credentials: CredentialStore | None = None
    ) -> str | None:
        tags = self._listing.get(ref.key)
        if tags is None:
            raise RepositoryNotFound(f"repository not found: {ref.key} (not in the tags file)")
        if ref.tag not in tags:
            raise TagNotFound(f"tag not found: {ref} (not in the tags file)")
        return None

    async def tag_digests(
        self,
        ref: ImageRef,
        tags: Collection[str],
        *,
        credential: Credential | None,
        found: Callable[[dict[str, str]], None] | None = None,
    ) -> dict[str, str]:
        """A tags file has no digests."""
        return {}
