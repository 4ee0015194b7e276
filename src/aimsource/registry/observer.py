"""The metrics hook of the registry client, implemented by the operator (Prometheus) or nobody.

A Protocol so that `registry/` knows nothing of metrics libraries; calls are synchronous and cheap.
"""

from __future__ import annotations

from typing import Protocol


class RegistryObserver(Protocol):
    def request(self, host: str, status: int | None) -> None:
        """One HTTP exchange with `host` ended with `status` (None: no HTTP answer at all)."""

    def retry(self, host: str) -> None:
        """A request to `host` is about to be retried."""

    def ratelimit_remaining(self, host: str, remaining: int) -> None:
        """`host` reported how many requests remain in its window (Docker Hub's header)."""

    def ratelimit_wait(self, host: str, seconds: float) -> None:
        """`host` throttled us (429, or Retry-After): we wait `seconds` before retrying."""

    def ratelimit_limit(self, host: str, limit: int) -> None:
        """`host` reported how many requests its window allows (Docker Hub's `ratelimit-limit`)."""


class NullObserver:
    """The observer used when nobody watches."""

    def request(self, host: str, status: int | None) -> None:
        pass

    def retry(self, host: str) -> None:
        pass

    def ratelimit_remaining(self, host: str, remaining: int) -> None:
        pass

    def ratelimit_wait(self, host: str, seconds: float) -> None:
        pass

    def ratelimit_limit(self, host: str, limit: int) -> None:
        pass


class EndpointObserver(Protocol):
    def mirror_call(self, registry: str, mirror: str, outcome: str) -> None:
        """A call (a listing or a manifest check) for `registry` went to `mirror` (its URL):
        `outcome` is "served" (the mirror answered) or "failed" (it passed the call on)."""


class NullEndpointObserver:
    def mirror_call(self, registry: str, mirror: str, outcome: str) -> None:
        pass
