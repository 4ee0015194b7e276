"""What the test fronts share: forwarding a request to the registry behind them, and a request log.

A front sits between the client and a real `docker-registry`; it must be transparent for whatever
it does not change (auth challenges, manifest HEADs and their digests, error bodies), and it keeps a
log of what it saw so tests can count requests and check where Authorization headers went.
"""

from __future__ import annotations

import ssl
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

# Hop-by-hop headers (RFC 9110 7.6.1) and those aiohttp recomputes; never forwarded either way.
_HOP_BY_HOP = frozenset(
    h.lower()
    for h in (
        "Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer",
        "Transfer-Encoding", "Upgrade", "Host", "Content-Length",
    )
)  # fmt: skip


@dataclass(frozen=True)
class SeenRequest:
    """One request a test server received."""

    method: str
    path: str
    query: str
    authorization: str | None = field(repr=False)
    """The raw Authorization header (None when absent). Test-only: never print it."""
    status: int | None = None
    """What the server answered (None when it dropped the connection or was cancelled)."""
    at: float = 0.0
    """`time.monotonic()` when the request arrived (set by the fault front), for pacing checks."""


class RequestLog:
    """Thread-safe list of `SeenRequest`s, written by the server thread and read by tests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[SeenRequest] = []

    def add(self, item: SeenRequest) -> None:
        with self._lock:
            self._items.append(item)

    @property
    def requests(self) -> list[SeenRequest]:
        with self._lock:
            return list(self._items)

    def count(self, *, path: str | None = None, method: str | None = None) -> int:
        """Requests whose path contains `path` (all when None) and whose method is `method`."""
        return sum(
            1
            for r in self.requests
            if (path is None or path in r.path) and (method is None or r.method == method.upper())
        )

    def per_path(self) -> Counter[str]:
        return Counter(r.path for r in self.requests)

    def authorizations(self) -> list[str | None]:
        return [r.authorization for r in self.requests]

    def reset(self) -> None:
        with self._lock:
            self._items.clear()


@dataclass(frozen=True)
class Upstream:
    """The server behind a front."""

    base_url: str
    ca_file: Path | None = None


@dataclass(frozen=True)
class Forwarded:
    status: int
    headers: CIMultiDict[str]
    body: bytes


class Forwarder:
    """Forwards requests to an upstream over one aiohttp session owned by the server's event loop.

    Register `on_startup`/`on_cleanup` on the app; redirects are not followed and bodies are not
    decompressed, so the client sees exactly what the registry said.
    """

    def __init__(self, upstream: Upstream) -> None:
        self.upstream = upstream
        self._session: aiohttp.ClientSession | None = None

    async def on_startup(self, app: web.Application) -> None:
        ctx = ssl.create_default_context(cafile=str(self.upstream.ca_file)) if self.upstream.ca_file else None
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=ctx if ctx is not None else True, limit=64),
            auto_decompress=False,
            timeout=aiohttp.ClientTimeout(total=60),
        )

    async def on_cleanup(self, app: web.Application) -> None:
        if self._session is not None:
            await self._session.close()

    async def forward(self, request: web.Request, *, path_qs: str | None = None) -> Forwarded:
        assert self._session is not None, "Forwarder.on_startup was not registered"
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        body = await request.read() if request.can_read_body else None
        try:
            async with self._session.request(
                request.method,
                self.upstream.base_url.rstrip("/") + (path_qs if path_qs is not None else request.path_qs),
                headers=headers,
                data=body,
                allow_redirects=False,
            ) as response:
                data = await response.read()
                out = CIMultiDict((k, v) for k, v in response.headers.items() if k.lower() not in _HOP_BY_HOP)
                if request.method == "HEAD" and "Content-Length" in response.headers:
                    out["Content-Length"] = response.headers["Content-Length"]
                return Forwarded(response.status, out, data)
        except aiohttp.ClientError as exc:
            # The registry behind the front is gone (stopped by a test, say): a gateway error, as a
            # real reverse proxy would answer, rather than a traceback in the server thread.
            error = f'{{"errors": [{{"code": "UNAVAILABLE", "message": "upstream: {type(exc).__name__}"}}]}}'
            return Forwarded(502, CIMultiDict({"Content-Type": "application/json"}), error.encode())


def respond(forwarded: Forwarded, *, method: str) -> web.Response:
    """The client-facing response for a forwarded one (HEAD keeps the upstream's Content-Length)."""
    if method == "HEAD":
        response = web.Response(status=forwarded.status, headers=forwarded.headers)
        return response
    return web.Response(status=forwarded.status, headers=forwarded.headers, body=forwarded.body)
