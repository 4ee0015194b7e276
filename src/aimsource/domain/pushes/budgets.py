"""How much registry work pushes may cost: HEAD budgets per source and per registry, and the tags
found missing, remembered so that the same made-up tag is not asked for again.

A push names a tag; deciding it alone costs one manifest HEAD. Whoever holds the webhook token can
push made-up tags as fast as the receiver lets them, and each would cost a HEAD against the
registry's per-host budget, which every source's full syncs share. So:

- a tag found missing (404) is remembered for `missing_for` seconds, per image and credential: a
  push of it meanwhile costs nothing;
- each source and each registry has a token bucket of HEADs per minute; past either, the push is
  not decided alone and the source gets one full sync instead, held by the minimum interval
  between listings like any other trigger (so a flood of pushes costs at most a listing per
  source per minimum interval, and never delays other sources' scheduled syncs).

Pure bookkeeping on an injected clock; the HEADs themselves are made in `sync.push_heads`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from aimsource.domain.options import values
from aimsource.domain.options.declared import option


@dataclass(frozen=True)
class PushLimits:
    heads_per_source: int = field(
        default=6,
        metadata=option(
            "--push-heads-per-source",
            "N",
            values.positive_int,
            "manifest HEADs pushes may cost one source a minute; past it, a full sync",
            chart="webhook.pushHeadsPerSource",
        ),
    )
    """Manifest HEADs that pushes may cost one source per minute (also its burst). Default: 6."""
    heads_per_registry: int = field(
        default=30,
        metadata=option(
            "--push-heads-per-registry",
            "N",
            values.positive_int,
            "manifest HEADs pushes may cost one registry host a minute, all sources together",
            chart="webhook.pushHeadsPerRegistry",
        ),
    )
    """Manifest HEADs that pushes may cost one registry host per minute, all sources together
    (also its burst). Default: 30, a fortieth of the default request budget of a host."""
    missing_for: float = field(
        default=600.0,
        metadata=option(
            "--push-missing-for",
            "DURATION",
            values.duration,
            "how long a pushed tag found missing is not asked for again",
            chart="webhook.pushMissingFor",
        ),
    )
    """Seconds a tag found missing is remembered (a push of it meanwhile costs no request; the next
    full sync finds it if it appears). Default: 10 minutes."""
    max_remembered: int = 10_000
    """Missing tags remembered at most; the oldest is forgotten first."""


class _Buckets:
    """Token buckets by key, refilled at `per_minute` a minute up to `per_minute`, in an LRU table."""

    def __init__(self, per_minute: int, clock: Callable[[], float], max_keys: int = 10_000) -> None:
        self._size = float(per_minute)
        self._rate = per_minute / 60.0
        self._clock = clock
        self._max = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def available(self, key: str) -> float:
        now = self._clock()
        tokens, at = self._buckets.get(key, (self._size, now))
        return min(self._size, tokens + (now - at) * self._rate)

    def spend(self, key: str) -> None:
        tokens = self.available(key) - 1.0
        self._buckets.pop(key, None)
        self._buckets[key] = (tokens, self._clock())
        while len(self._buckets) > self._max:
            self._buckets.popitem(last=False)


class PushBudget:
    """The HEAD budgets and the memory of missing tags, shared by every source of the operator."""

    def __init__(self, limits: PushLimits, clock: Callable[[], float]) -> None:
        self.limits = limits
        self._clock = clock
        self._sources = _Buckets(limits.heads_per_source, clock)
        self._registries = _Buckets(limits.heads_per_registry, clock)
        self._missing: OrderedDict[str, float] = OrderedDict()  # key -> when found missing

    def take(self, *, source: str, registry: str) -> bool:
        """Whether one more HEAD may be made for `source` on `registry` now (then it is counted)."""
        if self._sources.available(source) < 1.0 or self._registries.available(registry) < 1.0:
            return False
        self._sources.spend(source)
        self._registries.spend(registry)
        return True

    def missing(self, key: str) -> bool:
        """Whether `key` (an image and a credential) was found missing within `missing_for`."""
        at = self._missing.get(key)
        if at is None:
            return False
        if self._clock() - at >= self.limits.missing_for:
            del self._missing[key]
            return False
        return True

    def found_missing(self, key: str) -> None:
        self._missing.pop(key, None)
        self._missing[key] = self._clock()
        while len(self._missing) > self.limits.max_remembered:
            self._missing.popitem(last=False)

    def __len__(self) -> int:
        """Missing tags remembered now."""
        return len(self._missing)
