"""Selected images compared per repository, as tags (the planner's keys without a key per image).

An image's key is `registry/repository:tag`; cut after its last ":" it is a prefix shared by one
repository's images and the tag. A compact listing (`Decisions`) gives its selected tags and one
prefix, so the planner compares tags per prefix, as sets, instead of making 100,000 keys.
"""

from __future__ import annotations

from collections.abc import Sequence

from aimsource.domain.selection.decisions import Decisions
from aimsource.domain.selection.selectors import SelectorOutcome


def split_key(key: str) -> tuple[str, str]:
    """`key` cut after its last ":" (`registry/repository:`, `tag`); their concatenation is `key`."""
    cut = key.rfind(":") + 1
    return key[:cut], key[cut:]


def compact_listing(outcome: SelectorOutcome) -> tuple[str, Sequence[str]] | None:
    """The key prefix and selected tags of a compact listing, when the tags are distinct and none
    has a ":" (so that prefix + tag splits back into them); None for any other outcome, which is
    planned key by key."""
    decisions = outcome.decisions
    if not isinstance(decisions, Decisions):
        return None
    tags = decisions.selected_tags()
    # Both hold by construction (decide_listing keeps distinct valid tags); checked at C speed.
    if ":" in "".join(tags) or len(set(tags)) != len(tags):
        return None
    return decisions.repository.key + ":", tags


def unseen_tags(seen: dict[str, set[str] | Sequence[str]], prefix: str, tags: Sequence[str]) -> Sequence[str]:
    """The distinct `tags` not seen before under `prefix`, in order; they are seen from now on."""
    earlier = seen.get(prefix)
    if earlier is None and len(tags) == 1:
        seen[prefix] = {tags[0]}
        return tags
    if earlier is None:
        seen[prefix] = tags  # made a set only if another selector lists the same repository
        return tags
    if not isinstance(earlier, set):
        earlier = seen[prefix] = set(earlier)
    fresh = [tag for tag in dict.fromkeys(tags) if tag not in earlier]
    earlier.update(fresh)
    return fresh
