"""What registries said about their rate limits during one CLI run (Docker Hub's headers).

The registry client reports `ratelimit-limit` / `ratelimit-remaining` to its observer, keyed by the
registry the call was for; `aimsource preview` records them here and shows them, so that a user
sees the allowance left before a sync spends it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class RateLimit:
    limit: int | None = None
    remaining: int | None = None


class RateLimitRecorder:
    """A `registry.RegistryObserver` that keeps the last announced values per registry host."""

    MAX_HOSTS = 64  # one run names few registries; a bound all the same

    def __init__(self) -> None:
        self.hosts: dict[str, RateLimit] = {}
        self.requests = 0
        """Registry requests made (answered or not), for `preview`'s cost line."""

    def request(self, host: str, status: int | None) -> None:
        self.requests += 1

    def retry(self, host: str) -> None:
        pass

    def ratelimit_wait(self, host: str, seconds: float) -> None:
        pass

    def ratelimit_remaining(self, host: str, remaining: int) -> None:
        entry = self._entry(host)
        if entry is not None:
            entry.remaining = remaining

    def ratelimit_limit(self, host: str, limit: int) -> None:
        entry = self._entry(host)
        if entry is not None:
            entry.limit = limit

    def _entry(self, host: str) -> RateLimit | None:
        if host not in self.hosts and len(self.hosts) >= self.MAX_HOSTS:
            return None
        return self.hosts.setdefault(host, RateLimit())

    def document(self) -> list[dict[str, Any]]:
        """The `registries` of `preview -o json|yaml`: one entry per registry that announced a limit."""
        return [
            {"registry": host, "ratelimitLimit": r.limit, "ratelimitRemaining": r.remaining}
            for host, r in sorted(self.hosts.items())
        ]

    def lines(self) -> list[str]:
        """The table footer: `registry-1.docker.io: 76 of 100 requests left in its window`."""
        out = []
        for host, r in sorted(self.hosts.items()):
            left = "?" if r.remaining is None else str(r.remaining)
            of = f" of {r.limit}" if r.limit is not None else ""
            out.append(f"{host}: {left}{of} requests left in the registry's rate-limit window")
        return out


def cost_line(requests: int, new_images: int, *, from_file: bool) -> str:
    """`preview`'s cost line: what this preview asked of registries, and what a sync would.

    A first sync makes the preview's requests (the preview runs it against an empty cluster): the
    listings, and one manifest HEAD per new image for the digest recorded on its model, or fewer
    where a registry's web API gives 100 digests a request (`sync.digests`); later syncs never
    check an image that has a model again."""
    made = "none (tags from a file)" if from_file else f"{requests:,}"
    heads = f"{new_images:,} manifest HEAD{'' if new_images == 1 else 's'}"
    return (
        f"Registry requests: {made}. A first sync makes the listings plus {heads}, one per new image "
        "(fewer where Docker Hub's or GitHub's API gives digests, 100 a request); an image with a model "
        "is never checked again."
    )
