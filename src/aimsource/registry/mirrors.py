"""Which endpoints serve a registry, in order, and what a failing mirror means for the next one.

A registry with mirrors in the registries file is read at its first mirror that answers: a mirror
that refuses the connection, times out or answers 5xx after the sender's retries (`Unreachable`)
passes the call to the next one, then to the registry itself unless `fallback: false`. Any answer
from a mirror - a 404, a 401 - is the answer: the mirror is up and speaks for the registry.

Credentials are per endpoint host: a mirror gets the source's credential for the mirror's own
`host[:port]`, never the registry's; the registry gets its own. A mirror that starts or stops
failing is logged once per change (not per request), and the endpoint observer counts calls per
mirror and outcome.
"""

from __future__ import annotations

import contextlib
import copy
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from yarl import URL

from aimsource.domain.registries.entries import Registries
from aimsource.registry.errors import RegistryError, Unreachable
from aimsource.registry.http.endpoints import Schemes, api_host
from aimsource.registry.observer import EndpointObserver

logger = logging.getLogger("aimsource.registry")

_MAX_REMEMBERED = 1024
_served: ContextVar[list[str] | None] = ContextVar("aimsource_mirrors_served", default=None)


@contextlib.contextmanager
def recording_mirrors() -> Iterator[list[str]]:
    """Collect the mirror URLs that serve the calls made inside the block, in order (tasks the
    block starts included: they copy the context, and with it the same list).

    A tag listing says which mirror served it (`TagListing.endpoint`); a manifest check returns
    only its digest, so the sync learns who answered its HEADs this way, without a wider port."""
    served: list[str] = []
    token = _served.set(served)
    try:
        yield served
    finally:
        _served.reset(token)


def note_served(mirror: str) -> None:
    served = _served.get()
    if served is not None and len(served) < 64:
        served.append(mirror)


@dataclass(frozen=True)
class Endpoint:
    host: str
    """`host[:port]` contacted: the key of credentials, limits, tokens and metrics."""
    base: URL
    mirror: str | None = None
    """The mirror's URL as configured; None for the registry itself."""


def endpoints(registry: str, registries: Registries, schemes: Schemes) -> list[Endpoint]:
    """The endpoints to try for `registry`, in order: its mirrors, then itself unless fallback is off."""
    found = [
        Endpoint(host=m.host, base=URL(m.url, encoded=True), mirror=m.url)
        for m in registries.mirrors(registry)
    ]
    if not found or registries.fallback(registry):
        host = api_host(registry)
        found.append(Endpoint(host=host, base=schemes.base_url(host)))
    return found


def passes(error: RegistryError) -> bool:
    """Whether a failure at a mirror hands the call to the next endpoint (no usable answer)."""
    return isinstance(error, Unreachable)


def answered_by_mirror(error: RegistryError, mirror: str) -> RegistryError:
    """`error` (a mirror's answer) saying which mirror gave it; same class, same fields."""
    named = copy.copy(error)
    named.args = (f"{error} (answered by mirror {mirror})",)
    return named


def exhausted(
    registry: str, failures: list[tuple[Endpoint, RegistryError]], *, fallback: bool
) -> Unreachable:
    """The error of a call whose every endpoint failed; it names each mirror tried and why."""
    tried = "; ".join(f"{ep.mirror or ep.host}: {_why(err, ep)}" for ep, err in failures)
    if fallback:
        message = f"unreachable: {registry} and every mirror of it failed: {tried}"
    else:
        message = f"unreachable: every mirror of {registry} failed and fallback is off: {tried}"
    error = Unreachable(message)
    error.answered = any(err.answered for _, err in failures)
    return error


def _why(error: RegistryError, endpoint: Endpoint) -> str:
    text = str(error)
    prefix = f"unreachable: {endpoint.host}: "
    return text[len(prefix) :] if text.startswith(prefix) else text


class MirrorHealth:
    """Remembers which mirrors failed last, to log a change once; feeds the endpoint observer."""

    def __init__(self, observer: EndpointObserver) -> None:
        self._observer = observer
        self._down: dict[tuple[str, str], bool] = {}

    def failed(
        self, registry: str, endpoint: Endpoint, error: RegistryError, *, following: Endpoint | None
    ) -> None:
        assert endpoint.mirror is not None
        self._observer.mirror_call(registry, endpoint.mirror, "failed")
        if self._remember((registry, endpoint.mirror), down=True):
            then = (
                f"using {following.mirror or following.host} instead"
                if following is not None
                else "no endpoint left"
            )
            logger.warning("mirror %s of %s fails (%s); %s", endpoint.mirror, registry, error, then)

    def served(self, registry: str, endpoint: Endpoint) -> None:
        assert endpoint.mirror is not None
        self._observer.mirror_call(registry, endpoint.mirror, "served")
        if self._remember((registry, endpoint.mirror), down=False):
            logger.info("mirror %s of %s answers again", endpoint.mirror, registry)

    def _remember(self, key: tuple[str, str], *, down: bool) -> bool:
        """Record the state; True when it changed from what was last known (unknown counts as up)."""
        before = self._down.get(key, False)
        if len(self._down) >= _MAX_REMEMBERED and key not in self._down:
            self._down.clear()
        self._down[key] = down
        return before != down
