"""Exact-version lists (`versions: ["1.0.0", "=1.1.0", "v2.0.0"]`): resolved like pinned tags.

Such a list means "any of these" (see `Constraints.named_tags`), so listing the repository would
only be a slow way to find out which of a handful of tags exist. Each named tag gets one manifest
HEAD instead, made concurrently, which also gives the digest the model records. A 404 (TagNotFound)
means that version is not there: it is reported in the selector's `notFound`, not as an error. Any
other failure (authentication, rate limit, unreachable) fails the selector as a failed listing
would, since the selection would otherwise be incomplete without anyone noticing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from aimsource.domain.references import ImageRef
from aimsource.domain.selection.decisions import Decisions
from aimsource.domain.selection.selectors import Selector, decide_listing
from aimsource.registry.auth.credentials import Credential, CredentialStore
from aimsource.registry.errors import TagNotFound
from aimsource.sync.ports import TagLister


@dataclass(frozen=True)
class NamedVersions:
    """What the HEADs found: the decisions (found tags selected, the others not-found) and the
    digest of each found image, keyed by canonical image as the engine's `known_digests`."""

    decisions: Decisions
    found: int
    digests: dict[str, str | None]


async def resolve_named(
    selector: Selector,
    ref: ImageRef,
    tags: Sequence[str],
    *,
    lister: TagLister,
    credential: Credential | None,
    credentials: CredentialStore | None = None,
) -> NamedVersions:
    """One HEAD per named tag; raises the first RegistryError other than TagNotFound (in list
    order, once every HEAD has answered: at most 20 of them)."""
    images = [ref.with_tag(tag) for tag in tags]
    answers = await asyncio.gather(
        *(lister.manifest_digest(image, credential=credential, credentials=credentials) for image in images),
        return_exceptions=True,
    )
    found: list[str] = []
    missing: list[str] = []
    digests: dict[str, str | None] = {}
    for tag, image, answer in zip(tags, images, answers, strict=True):
        if isinstance(answer, TagNotFound):
            missing.append(tag)
        elif isinstance(answer, BaseException):  # a RegistryError fails the selector; others are bugs
            raise answer
        else:
            found.append(tag)
            digests[str(image)] = answer
    return NamedVersions(decide_listing(selector, found, missing), len(found), digests)
