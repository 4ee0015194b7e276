"""How the registry client behaves: timeouts, retries, limits, TLS and which hosts may be plain HTTP.

One frozen value built once by the CLI or the operator (from flags and `AIMSOURCE_*` variables) and
handed to `RegistryClient`. Every field documents its unit and default; `__post_init__` refuses
values that would make the client hang or hammer a registry (a zero timeout, no attempts at all).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from aimsource.domain.options import values
from aimsource.domain.options.declared import option

MiB = 1024 * 1024

DEFAULT_RATE = 20.0
"""Requests per second to one registry host (see `RegistrySettings.requests_per_second`)."""

BURST_SECONDS = 2.0
"""A host's token bucket holds this many seconds of its rate: `--registry-rate` promises bursts of
twice the rate, for the CLI and the operator alike."""


def burst_for(rate: float) -> int:
    """The token bucket size that goes with `rate` requests/s (at least one request)."""
    return max(1, round(rate * BURST_SECONDS))


@dataclass(frozen=True)
class RegistrySettings:
    insecure: frozenset[str] = field(
        default=frozenset(),
        metadata=option(
            "--insecure-registry",
            "HOST[:PORT]",
            values.text,
            "reach this registry over plain HTTP (loopback registries always may); repeatable",
            repeatable=True,
            chart="operator.insecureRegistries",
        ),
    )
    """Hosts (`host` or `host:port`, lower-case) that may be spoken to over plain HTTP. Loopback
    hosts (127.0.0.0/8, ::1, localhost) always may. HTTPS is tried first; it does not disable
    certificate verification."""

    ca_file: str | None = field(
        default=None,
        metadata=option(
            "--ca-file",
            "PATH",
            values.text,
            "extra CA bundle (PEM) trusted for registries",
            chart=None,  # the chart mounts it from `registryCA`
        ),
    )
    """PEM bundle of extra certificate authorities, trusted in addition to the public ones."""

    max_concurrency_per_host: int = field(
        default=4,
        metadata=option(
            "--max-concurrency-per-host",
            "N",
            values.positive_int,
            "requests in flight at once to one registry host, shared by all sources",
        ),
    )
    """Requests in flight at once to one registry host, shared by every source. Default 4."""

    requests_per_second: float = field(
        default=DEFAULT_RATE,
        metadata=option(
            "--registry-rate",
            "R",
            values.rate,
            "request budget per registry host in requests per second (bursts of twice that), "
            "shared by all sources; 0 for none",
            via="with_rate",
        ),
    )
    """Request budget per registry host (token bucket refill rate, requests/s); 0 = unlimited.
    Default 20/s: a 1,000-tag repository is 1-10 requests, so 50 repositories of one registry
    list in under half a minute without looking like a crawler."""

    request_burst: int = burst_for(DEFAULT_RATE)
    """Token bucket size per registry host: requests allowed at once after an idle period. Default
    twice the rate, 40; `with_rate` keeps it so."""

    connect_timeout: float = 10.0
    """Seconds to establish a connection, TLS handshake included. Default 10 s."""

    read_timeout: float = 30.0
    """Seconds to wait for each chunk of an answer. Default 30 s."""

    call_deadline: float = 300.0
    """Seconds one call (a whole tag listing with its pages, or one manifest check) may take,
    retries and waits included. Default 5 min."""

    max_attempts: int = 5
    """Attempts per request (first try included) on timeouts, connection errors, 5xx and 429."""

    backoff_base: float = 0.5
    """Seconds: the first retry waits up to this, doubling per attempt (full jitter)."""

    backoff_cap: float = 30.0
    """Seconds: no backoff wait is longer than this."""

    retry_after_cap: float = 60.0
    """Seconds: a `Retry-After` longer than this is not waited out; the call fails as RateLimited."""

    page_size: int = 1000
    """`n` asked for on the first tags page; later pages follow the registry's `Link` exactly."""

    max_pages: int = 100
    """Pages of one tag listing; a listing with more is reported as truncated."""

    max_tags: int = field(
        default=100_000,
        metadata=option(
            "--max-tags",
            "N",
            values.positive_int,
            "tags kept per repository listing; past it the selector is truncated",
            detail="(bounds the memory one repository costs)",
            every_command=True,
        ),
    )
    """Tags kept per listing; a repository with more is listed up to this many and reported as
    truncated. It bounds memory: 100,000 tags are about 10 MiB. Default 100,000."""

    max_repositories: int = field(
        default=1000,
        metadata=option(
            "--max-repositories",
            "N",
            values.positive_int,
            "repositories a wildcard filter (image with *) may match; past it the selector is truncated",
        ),
    )
    """Repositories kept per wildcard filter, the first by name; the rest are counted, not listed."""

    max_redirects: int = 5
    """Redirects followed per request."""

    max_tags_bytes: int = 8 * MiB
    """Largest tags page body accepted (bytes, after decompression). Default 8 MiB."""

    max_token_bytes: int = 1 * MiB
    """Largest token service answer accepted (bytes). Default 1 MiB."""

    max_manifest_bytes: int = 4 * MiB
    """Largest manifest accepted when a HEAD gives no digest and we GET to hash it. Default 4 MiB."""

    token_default_lifetime: float = 60.0
    """Seconds a token is trusted when the token service gives no `expires_in` (the spec's 60 s)."""

    token_expiry_margin: float = 10.0
    """Seconds before expiry at which a cached token is no longer used (at most half its life)."""

    user_agent: str = field(default="aimsource-registry/0.1")
    """User-Agent header sent with every request."""

    def with_rate(self, rate: float) -> RegistrySettings:
        """These settings with a budget of `rate` requests/s per host and bursts of twice that: the
        one way the CLI and the operator turn `--registry-rate` into a request budget."""
        return replace(self, requests_per_second=rate, request_burst=burst_for(rate))

    def __post_init__(self) -> None:
        positive = {
            "max_concurrency_per_host": self.max_concurrency_per_host,
            "request_burst": self.request_burst,
            "connect_timeout": self.connect_timeout,
            "read_timeout": self.read_timeout,
            "call_deadline": self.call_deadline,
            "max_attempts": self.max_attempts,
            "page_size": self.page_size,
            "max_pages": self.max_pages,
            "max_tags": self.max_tags,
            "max_repositories": self.max_repositories,
            "max_tags_bytes": self.max_tags_bytes,
            "max_token_bytes": self.max_token_bytes,
            "max_manifest_bytes": self.max_manifest_bytes,
            "token_default_lifetime": self.token_default_lifetime,
        }
        for name, value in positive.items():
            if not value > 0:
                raise ValueError(f"registry setting {name} must be positive, not {value!r}")
        non_negative = {
            "requests_per_second": self.requests_per_second,
            "backoff_base": self.backoff_base,
            "backoff_cap": self.backoff_cap,
            "retry_after_cap": self.retry_after_cap,
            "max_redirects": self.max_redirects,
            "token_expiry_margin": self.token_expiry_margin,
        }
        for name, value in non_negative.items():
            if value < 0:
                raise ValueError(f"registry setting {name} must not be negative, not {value!r}")
        object.__setattr__(self, "insecure", frozenset(h.strip().lower() for h in self.insecure))
