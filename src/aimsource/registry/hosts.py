"""What the registries file means for each host the client talks to: budget, page size, TLS, HTTP.

The client keys its limits, page sizes, TLS contexts and plain-HTTP permissions by the host it
contacts. This module turns a `Registries` value and the flags' `RegistrySettings` into those
per-host tables, with the precedence of `domain.registries.entries`: a registry's own entry, else
the `"*"` entry, else the flag, else the default. A mirror takes the settings of the entry listing
it (each mirror with a budget of its own), unless the file has an entry keyed by the mirror's host.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field, replace

from yarl import URL

from aimsource.domain.registries.entries import WILDCARD, Registries, RegistryEntry
from aimsource.registry.http.endpoints import api_host, netloc
from aimsource.registry.http.limits import Budget
from aimsource.registry.http.transport import ssl_context
from aimsource.registry.settings import RegistrySettings, burst_for


@dataclass(frozen=True)
class HostTables:
    settings: RegistrySettings
    """The flags' settings with the file's plain-HTTP hosts added (and its `insecure: false` removed)."""
    default_budget: Budget
    budgets: dict[str, Budget] = field(default_factory=dict)
    default_page_size: int = 1000
    page_sizes: dict[str, int] = field(default_factory=dict)
    default_ca: str | None = None
    """The CA bundle trusted for every host: the `"*"` entry's `caFile`, else `--ca-file`."""
    own_cas: dict[str, str] = field(default_factory=dict)
    """Hosts with a CA bundle of their own (trusted in addition to `default_ca`)."""

    def contexts(self) -> tuple[dict[str, ssl.SSLContext], ssl.SSLContext | None]:
        """TLS contexts per host with a CA of its own, and for the others (None: the session's).
        Reads the CA files: raises `TLSFailure` naming one that is not a PEM bundle."""
        default = ssl_context(self.default_ca) if self.default_ca != self.settings.ca_file else None
        own = {host: ssl_context(self.default_ca, ca) for host, ca in self.own_cas.items()}
        return own, default


def host_tables(settings: RegistrySettings, registries: Registries) -> HostTables:
    wildcard = registries.wildcard
    default = _budget(settings, wildcard, None)
    tables = HostTables(
        settings=settings,
        default_budget=default,
        default_page_size=wildcard.page_size or settings.page_size,
        default_ca=wildcard.ca_file or settings.ca_file,
    )
    plain = set(settings.insecure)
    for key, entry in registries.entries.items():
        if key == WILDCARD:
            continue
        host = api_host(key)
        tables.budgets[host] = _budget(settings, wildcard, entry)
        if entry.page_size is not None:
            tables.page_sizes[host] = entry.page_size
        if entry.ca_file is not None:
            tables.own_cas[host] = entry.ca_file
        if entry.insecure is True:
            plain.add(host)
        elif entry.insecure is False:
            plain.discard(host)
        for mirror in entry.mirrors:
            own = registries.own(mirror.host)
            if own is not None or mirror.host not in tables.budgets:  # else: the first entry naming it
                tables.budgets[mirror.host] = _budget(settings, wildcard, own or entry)
            size = (own.page_size if own is not None else None) or entry.page_size
            if size is not None:
                tables.page_sizes.setdefault(mirror.host, size)
            if mirror.ca_file is not None:
                tables.own_cas[mirror.host] = mirror.ca_file
            if mirror.plain_http:
                plain.add(mirror.host)
    _cap_github_apis(tables, registries)
    return replace(tables, settings=replace(settings, insecure=frozenset(plain)))


GITHUB_API_CONCURRENCY = 4
"""Requests in flight at once to a GitHub API host: GitHub asks clients not to make concurrent
requests, and counts them against a secondary rate limit."""


def _cap_github_apis(tables: HostTables, registries: Registries) -> None:
    """The API host of every registry discovered through GitHub's packages API (ghcr.io's
    api.github.com, or a GitHub Enterprise host) gets at most `GITHUB_API_CONCURRENCY` requests
    in flight, unless the registries file sets `maxConcurrency` for that host."""
    for registry in {"ghcr.io", *registries.entries}:
        url = registries.discovery_url(registry) if registry != WILDCARD else None
        if url is None or registries.discovery(registry) != "github":
            continue
        host = netloc(URL(url))
        own = registries.own(host)
        if own is not None and own.max_concurrency is not None:
            continue
        budget = tables.budgets.get(host, tables.default_budget)
        if budget.concurrency > GITHUB_API_CONCURRENCY:
            tables.budgets[host] = replace(budget, concurrency=GITHUB_API_CONCURRENCY)


def _budget(settings: RegistrySettings, wildcard: RegistryEntry, entry: RegistryEntry | None) -> Budget:
    rate = entry.requests_per_second if entry is not None else None
    if rate is None:
        rate = wildcard.requests_per_second
    burst = settings.request_burst if rate is None else burst_for(rate)
    concurrency = entry.max_concurrency if entry is not None else None
    if concurrency is None:
        concurrency = wildcard.max_concurrency or settings.max_concurrency_per_host
    return Budget(
        concurrency=concurrency,
        rate=settings.requests_per_second if rate is None else rate,
        burst=burst,
    )
