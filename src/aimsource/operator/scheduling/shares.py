"""Fair workers: which due source a free worker may take, so that one registry cannot hold them all.

A sync spends most of its time waiting on registries, and a registry that accepts connections and
never answers holds the sync for minutes (read timeouts and retries, up to the call deadline). With
a plain pool, a handful of sources on such a registry would take every worker and no other source
would sync. So each registry host gets a *share*: at most `per_host` syncs touching that host run at
once. A source counts against every host its selectors name; it may start only when each of them
is below its share. Sources whose hosts are all full wait in the queue while others run.

The due sources are offered in due order (earliest first). A source that cannot start *reserves*
one slot on each of its hosts for the rest of that scan: later sources may take a slot on those
hosts only while another stays free for it. This keeps the order fair on each host, and it is what
makes starvation impossible: a waiting source's due time never changes, so it rises to be the first
waiter on each of its hosts; from then on the next slot freed on each of them is kept for it, and
running syncs always end (every registry call has a deadline).

Everything here is pure: no clock, no I/O; the queue feeds it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from aimsource.domain.errors import DomainError
from aimsource.domain.selection.selectors import build_selectors
from aimsource.domain.spec.source import parse_source


def hosts_of(body: Mapping[str, Any]) -> frozenset[str]:
    """The registry hosts a sync of this source would call: each usable selector's registry.

    Invalid specs and selectors (which make no registry call) add nothing; a source with no hosts
    never waits for a share.
    """
    try:
        source = parse_source(body)
    except (DomainError, ValueError, TypeError):
        return frozenset()
    return frozenset(
        s.ref.registry
        for s in build_selectors(source.spec)
        if s.ref is not None and s.error is None and not s.excluded
    )


class ShareScan:
    """One pass over the due sources in due order: `admit` says whether each may start now.

    `load` is how many running syncs touch each host; `per_host` the share. The scan stops at the
    first admitted source (the caller starts it and scans afresh next time).
    """

    def __init__(self, load: Mapping[str, int], per_host: int) -> None:
        self._load = load
        self._per_host = per_host
        self._reserved: set[str] = set()
        self.blocked = 0
        """How many sources this scan has refused so far (waiting for a host share)."""

    def admit(self, hosts: Iterable[str]) -> bool:
        hosts = frozenset(hosts)
        if all(self._load.get(h, 0) + (h in self._reserved) < self._per_host for h in hosts):
            return True
        # Keep this source's place on each of its hosts, the full ones and the others: a later
        # source must leave it a slot, or it could wait forever while others overtake it.
        self._reserved.update(hosts)
        self.blocked += 1
        return False
