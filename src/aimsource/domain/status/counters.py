"""Counters: how many models a source has, how many images it could have, and whether the cap hit.

From the plan when the sync got one; from the previous status when it did not (an invalid spec
plans nothing, and its counters must not drop to zero because of a typo).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aimsource.domain.selection.planning import Plan


@dataclass(frozen=True)
class Counters:
    discovered: int
    """Models of the selected images: created by this source, or found existing."""
    available: int
    """Distinct images the selectors match."""
    limit_reached: bool
    owned: int | None
    """Models the source owns after this sync; None when nothing was planned."""
    capped: int
    """Selected images left without a model because of `maxModels` (0 when the limit was not reached)."""


def count(plan: Plan | None, created: int, previous: Mapping[str, Any]) -> Counters:
    """`created` is how many of `plan.to_create` were created."""
    if plan is None:
        return Counters(
            discovered=int(previous.get("discoveredModels", 0)),
            available=int(previous.get("availableModels", 0)),
            limit_reached=bool(previous.get("modelsLimitReached", False)),
            owned=None,
            capped=0,
        )
    return Counters(
        discovered=plan.owned_before + created + plan.foreign,
        available=plan.available,
        limit_reached=plan.limit_reached,
        owned=plan.owned_before + created,
        capped=plan.capped if plan.limit_reached else 0,  # read only when needed: it may count
    )
