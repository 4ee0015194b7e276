"""Connection bounds of the push-event receiver: deadlines per phase and a cap on open connections.

aiohttp keeps a connection open for as long as its client likes while the request line and the
headers trickle in (it has no header deadline), and for an hour between requests by default. A
stranger needs no token to hold connections, so each connection here is watched by a guard:

- **headers**: from the first byte of a request (or the accept) until its handler starts, at most
  `header_timeout`;
- **body**: from the handler's start until it returns (reading the body included), at most
  `body_timeout`;
- **idle**: between a response and the next request's first byte, at most `idle_timeout` (aiohttp's
  own keep-alive timeout is set to the same value).

When a deadline passes the connection is aborted (its file descriptor and buffers go at once).
Beyond `max_connections` open connections a new one is closed as soon as it is accepted. Each
closing is counted by reason (`on_closed`), so an attack shows in the metrics.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web
from aiohttp.web_server import Server

from aimsource.domain.options import values
from aimsource.domain.options.declared import option

Phase = Literal["headers", "body", "idle"]
Closed = Literal["header_timeout", "body_timeout", "idle_timeout", "over_capacity"]


@dataclass(frozen=True)
class ConnectionLimits:
    header_timeout: float = field(
        default=10.0,
        metadata=option(
            "--webhook-header-timeout",
            "DURATION",
            values.positive_duration,
            "time a client of the push-event receiver has for a request line and its headers",
            chart="webhook.headerTimeout",
        ),
    )
    """Seconds a client has to send a request line and its headers (from the request's first byte,
    or from the connection's accept). Default: 10."""
    body_timeout: float = field(
        default=30.0,
        metadata=option(
            "--webhook-body-timeout",
            "DURATION",
            values.positive_duration,
            "time a request to the receiver has once its headers are in: body and answer",
            chart="webhook.bodyTimeout",
        ),
    )
    """Seconds a request may take once its headers are in: reading the body (at most 1 MiB) and
    answering. Default: 30."""
    idle_timeout: float = field(
        default=30.0,
        metadata=option(
            "--webhook-idle-timeout",
            "DURATION",
            values.positive_duration,
            "time an idle keep-alive connection to the receiver stays open",
            chart="webhook.idleTimeout",
        ),
    )
    """Seconds an idle keep-alive connection stays open after a response. Default: 30."""
    max_connections: int = field(
        default=512,
        metadata=option(
            "--webhook-max-connections",
            "N",
            values.positive_int,
            "connections open to the receiver at once; beyond, new ones are closed at once",
            chart="webhook.maxConnections",
        ),
    )
    """Connections open at once; beyond it a new connection is closed as soon as it is accepted.
    Default: 512 (each costs a file descriptor and some 10 KiB of buffers)."""


class ConnectionGuards:
    """The open connections of one server and their deadlines."""

    def __init__(self, limits: ConnectionLimits, *, on_closed: Callable[[Closed], None]) -> None:
        self.limits = limits
        self._on_closed = on_closed
        self._open: dict[asyncio.BaseTransport, _Guarded] = {}

    def __len__(self) -> int:
        return len(self._open)

    @property
    def keepalive_timeout(self) -> float:
        return self.limits.idle_timeout + 1.0  # a backstop: the guard closes (and counts) first

    def site(self, runner: web.BaseRunner, host: str, port: int) -> web.BaseSite:
        return GuardedSite(runner, host, port, self)

    def factory(self, server: Server) -> Callable[[], asyncio.Protocol]:
        """A protocol factory for `loop.create_server` wrapping aiohttp's `server`."""

        def make() -> asyncio.Protocol:
            if len(self._open) >= self.limits.max_connections:
                return _Refused(self)
            return _Guarded(self, server())

        return make

    @web.middleware
    async def middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Moves the connection to the body phase while the handler runs, to idle after it."""
        guard = self._open.get(request.transport) if request.transport is not None else None
        if guard is not None:
            guard.enter("body")
        try:
            return await handler(request)
        finally:
            if guard is not None:
                guard.enter("idle")

    def closed(self, reason: Closed) -> None:
        self._on_closed(reason)


class _Refused(asyncio.Protocol):
    def __init__(self, guards: ConnectionGuards) -> None:
        self._guards = guards

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.abort()  # type: ignore[attr-defined]  # a Transport: create_server gives one
        self._guards.closed("over_capacity")


class _Guarded(asyncio.Protocol):
    """aiohttp's protocol, with a deadline per phase; asyncio calls these, aiohttp does the rest."""

    def __init__(self, guards: ConnectionGuards, inner: Any) -> None:
        self._guards = guards
        self._inner = inner
        self._transport: asyncio.Transport | None = None
        self._phase: Phase = "headers"
        self._timer: asyncio.TimerHandle | None = None

    def enter(self, phase: Phase) -> None:
        self._phase = phase
        limits = self._guards.limits
        seconds = {
            "headers": limits.header_timeout,
            "body": limits.body_timeout,
            "idle": limits.idle_timeout,
        }[phase]
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(seconds, self._expired, phase)

    def _expired(self, phase: Phase) -> None:
        self._timer = None
        if self._transport is not None and not self._transport.is_closing():
            self._guards.closed(f"{'header' if phase == 'headers' else phase}_timeout")  # type: ignore[arg-type]
            self._transport.abort()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]  # create_server gives a Transport
        self._guards._open[transport] = self
        self.enter("headers")
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._phase == "idle":
            self.enter("headers")
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()  # type: ignore[no-any-return]

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._transport is not None:
            self._guards._open.pop(self._transport, None)
        self._inner.connection_lost(exc)


class GuardedSite(web.BaseSite):
    """`web.TCPSite` whose connections are guarded; stopped with its runner like any site."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, guards: ConnectionGuards) -> None:
        super().__init__(runner)
        self._host = host
        self._port = port
        self._guards = guards

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None
        self._server = await asyncio.get_running_loop().create_server(
            self._guards.factory(server), self._host, self._port, backlog=self._backlog, reuse_address=True
        )
