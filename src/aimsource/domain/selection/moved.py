"""Tags that moved: a pinned image whose tag now points at another manifest than its model records.

Every sync makes a manifest `HEAD` for each pinned image anyway (it proves the image exists), and
for each version named by a list of exact versions (`versions: ["1.0.0", "1.1.0"]`). The
digest it returns is compared here with the `DIGEST_ANNOTATION` (domain.resources) of the
image's existing model, the digest seen when the model was made. A difference means someone pushed
another image under the same tag. Models are append-only, so nothing is changed: the move is
reported (the selector's `moved` in the status, one Warning event per new move) for a person to
decide. Pure: the sync hands in what it learnt.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aimsource.domain.selection.planning import ExistingModel
from aimsource.domain.selection.selectors import SelectorOutcome, named_tags

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}")


def is_digest(value: object) -> bool:
    """Whether `value` is a digest a registry may compute (OCI image spec): nothing else is ever
    compared or copied into a status, whatever an annotation was edited to hold."""
    return isinstance(value, str) and _DIGEST.fullmatch(value) is not None


@dataclass(frozen=True)
class MovedTag:
    selector_index: int
    model: str
    """The name of the existing model (left unchanged)."""
    image: str
    """The canonical image, `registry/repository:tag`."""
    recorded: str
    """The digest on the model: what the tag pointed at when the model was made."""
    current: str
    """The digest the registry gives for the tag now."""


def find_moved(
    outcomes: Sequence[SelectorOutcome],
    digests: Mapping[str, str | None],
    existing: Mapping[str, ExistingModel],
) -> tuple[MovedTag, ...]:
    """The pinned images of synced selectors whose current digest differs from their model's.

    `digests` holds the digests this sync's HEADs returned, by canonical image; an image without
    a digest on either side (an older model, a registry sending none) is not judged. Each image
    is reported once, for the first selector in spec order that names it.
    """
    moved: list[MovedTag] = []
    seen: set[str] = set()
    for outcome in sorted(outcomes, key=lambda o: o.selector.index):
        for key in _headed(outcome):
            if key in seen:
                continue
            seen.add(key)
            current = digests.get(key)
            model = existing.get(key)
            recorded = model.digest if model is not None else None
            if model is None or recorded is None or current is None:
                continue
            if is_digest(recorded) and is_digest(current) and recorded != current:
                moved.append(MovedTag(outcome.selector.index, model.name, key, recorded, current))
    return tuple(moved)


def _headed(outcome: SelectorOutcome) -> list[str]:
    """The images a synced selector checked with a HEAD: a pinned image, or the named versions
    found by a list of exact versions (resolved like pinned tags); none for a listing."""
    ref = outcome.selector.ref
    if outcome.failed is not None or ref is None:
        return []
    if ref.tag is not None:
        return [str(ref)]
    return list(outcome.selected_keys()) if named_tags(outcome.selector) is not None else []
