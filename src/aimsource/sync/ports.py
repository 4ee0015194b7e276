"""The ports through which one sync talks to the outside.

A sync runs against a cluster (the operator), a directory (`aimsource sync --out`) or a test double;
each of those provides these three small interfaces, so the sync itself never knows which.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any, Protocol

from aimsource.domain.patterns import RepositoryPattern
from aimsource.domain.references import ImageRef
from aimsource.domain.selection.planning import ExistingModel
from aimsource.registry.auth.credentials import Credential, CredentialStore
from aimsource.registry.client import TagListing
from aimsource.registry.discovery.listing import RepositoryListing


class TagLister(Protocol):
    """Reads a registry: raises `aimsource.registry.errors.RegistryError` subclasses.

    `credential` is the source's credential for `ref`'s registry; `credentials` all of the
    source's, from which a lister that reads a mirror takes the mirror host's (never `credential`)."""

    async def list_tags(
        self, ref: ImageRef, *, credential: Credential | None, credentials: CredentialStore | None = None
    ) -> TagListing: ...

    async def manifest_digest(
        self, ref: ImageRef, *, credential: Credential | None, credentials: CredentialStore | None = None
    ) -> str | None:
        """The manifest digest of a pinned image; None when the lister cannot know it."""
        ...

    async def tag_digests(
        self,
        ref: ImageRef,
        tags: Collection[str],
        *,
        credential: Credential | None,
        found: Callable[[dict[str, str]], None] | None = None,
    ) -> dict[str, str]:
        """Digests of some of `tags` of `ref`'s repository from its registry's web API (Docker Hub's,
        GitHub's), handed to `found` as they come; {} when there is none. Never for a mirror."""
        ...

    async def list_repositories(
        self,
        pattern: RepositoryPattern,
        *,
        credential: Credential | None,
        credentials: CredentialStore | None = None,
        fresh_for: float = 0.0,
    ) -> RepositoryListing:
        """The repositories of `pattern`'s registry it matches (a wildcard filter's discovery).

        A lister that keeps walks may answer with one younger than `fresh_for` seconds."""
        ...


class ModelStore(Protocol):
    """Knows which models exist and creates new ones; never updates or deletes."""

    def existing(self) -> Mapping[str, ExistingModel]:
        """Existing models by canonical image. Served from memory: no I/O per sync."""
        ...

    def owned_count(self, source_name: str) -> int:
        """How many models carry this source's label, matched or not."""
        ...

    async def create(self, body: dict[str, Any]) -> bool:
        """Creates a model; False when a model of that name and the same image already existed.

        Raises `aimsource.domain.writes.NameTakenError` when the name belongs to a model of
        another image, `CreateRefusedError` when the store refuses this one model; anything else
        it raises fails the whole sync.
        """
        ...


class SecretError(Exception):
    """A pull secret that cannot be used. The message names the secret, never its content."""

    reason = "PullSecretError"


class SecretReader(Protocol):
    async def read(self, name: str, *, source: str) -> bytes:
        """The `.dockerconfigjson` content of the named secret, for the named source.

        Raises SecretError when it cannot be used, including when the secret does not allow
        that source (its `ALLOWED_SOURCES_ANNOTATION`, see `domain.resources`).
        """
        ...
