"""Small doubles of the sync's own ports (never of the sync itself)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from aimsource.domain.models import existing_model
from aimsource.domain.patterns import RepositoryPattern
from aimsource.domain.references import ImageRef, canonical_image
from aimsource.domain.selection.planning import ExistingModel
from aimsource.domain.writes import CreateRefusedError, NameTakenError
from aimsource.registry.auth.credentials import Credential, CredentialStore
from aimsource.registry.client import TagListing
from aimsource.registry.discovery.listing import MatchCollector, RepositoryListing
from aimsource.registry.errors import RegistryError, RepositoryNotFound, TagNotFound
from aimsource.sync.ports import SecretError


@dataclass
class RecordingLister:
    """Tags per "registry/repository"; errors per key; records every call with its credential."""

    tags: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, RegistryError] = field(default_factory=dict)
    calls: list[tuple[str, str, Credential | None]] = field(default_factory=list)
    max_repositories: int = 1000
    updated: dict[str, float] = field(default_factory=dict)
    """When a repository ("registry/repository") last changed, as Docker Hub's or GitHub's API says."""
    api: dict[str, dict[str, str]] = field(default_factory=dict)
    """Digests by tag a web API gives per "registry/repository"; none: no API (as for most)."""

    async def list_tags(
        self, ref: ImageRef, *, credential: Credential | None, credentials: object = None
    ) -> TagListing:
        self.calls.append(("list", str(ref), credential))
        if ref.key in self.errors:
            raise self.errors[ref.key]
        if ref.key not in self.tags:
            raise RepositoryNotFound(f"repository not found: {ref.key}")
        return TagListing(tags=tuple(self.tags[ref.key]))

    async def manifest_digest(
        self, ref: ImageRef, *, credential: Credential | None, credentials: object = None
    ) -> str | None:
        self.calls.append(("head", str(ref), credential))
        if ref.key in self.errors:
            raise self.errors[ref.key]
        if ref.tag not in self.tags.get(ref.key, []):
            raise TagNotFound(f"tag not found: {ref}")
        return f"sha256:{abs(hash(str(ref))):064d}"[:71]

    async def tag_digests(
        self,
        ref: ImageRef,
        tags: Collection[str],
        *,
        credential: Credential | None,
        found: Callable[[dict[str, str]], None] | None = None,
    ) -> dict[str, str]:
        if ref.key not in self.api:
            return {}
        self.calls.append(("api", ref.key, credential))
        digests = {tag: digest for tag, digest in self.api[ref.key].items() if tag in tags}
        if found is not None and digests:
            found(digests)
        return digests

    async def list_repositories(
        self,
        pattern: RepositoryPattern,
        *,
        credential: Credential | None,
        credentials: CredentialStore | None = None,
        fresh_for: float = 0.0,
    ) -> RepositoryListing:
        """The repositories of `tags` on the pattern's registry stand for its catalog."""
        self.calls.append(("discover", str(pattern), credential))
        if pattern.key in self.errors:
            raise self.errors[pattern.key]
        found = MatchCollector(pattern, self.max_repositories)
        prefix = pattern.registry + "/"
        found.add(
            [key[len(prefix) :] for key in self.tags if key.startswith(prefix)],
            {key[len(prefix) :]: at for key, at in self.updated.items() if key.startswith(prefix)},
        )
        return found.listing(truncated=False, endpoint="the double")

    def count(self, kind: str) -> int:
        return sum(1 for c in self.calls if c[0] == kind)


@dataclass
class MemoryStore:
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Bodies by name."""
    refuse: dict[str, list[CreateRefusedError]] = field(default_factory=dict)
    """Refusals by model name, used up one per create (a webhook that says no, then yes)."""
    attempts: list[str] = field(default_factory=list)
    """Names of every create asked for, in order."""

    def existing(self) -> Mapping[str, ExistingModel]:
        models = (existing_model(body) for body in self.models.values())
        return {model.image: model for model in models if model is not None}

    def owned_count(self, source_name: str) -> int:
        return sum(1 for m in self.existing().values() if m.source == source_name)

    async def create(self, body: dict[str, Any]) -> bool:
        name = body["metadata"]["name"]
        self.attempts.append(name)
        if self.refuse.get(name):
            raise self.refuse[name].pop(0)
        if name in self.models:
            held = canonical_image(self.models[name]["spec"]["image"])
            if held != canonical_image(body["spec"]["image"]):
                raise NameTakenError(name, held)
            return False
        self.models[name] = body
        return True


@dataclass
class DictSecrets:
    secrets: dict[str, bytes] = field(default_factory=dict)

    async def read(self, name: str, *, source: str) -> bytes:
        if name not in self.secrets:
            raise SecretError(f'imagePullSecret "{name}" not found in namespace "aim-system"')
        return self.secrets[name]


def source(
    spec: dict[str, Any], *, name: str = "src", uid: str = "uid-1", generation: int = 1
) -> dict[str, Any]:
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMClusterModelSource",
        "metadata": {"name": name, "uid": uid, "generation": generation},
        "spec": spec,
    }
