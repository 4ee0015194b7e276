"""Run a small aiohttp application on 127.0.0.1 in a background thread with its own event loop.

The token server and the fronts are aiohttp apps. Running each in its own thread lets the same
object serve a session-scoped pytest fixture (outside any test's event loop), a plain script
(`scripts/demo.py`, the benchmark) and separate processes (the CLI, the operator) that reach it over
TCP, with one start/stop API. Their counters are plain Python objects read from the caller's thread.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from types import TracebackType
from typing import Self

from aiohttp import web

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (for servers that take a port number)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


class BackgroundServer:
    """An aiohttp `Application` served on 127.0.0.1 from a daemon thread.

    `start()` returns once the socket listens; `stop()` cancels in-flight handlers (a stalled
    response must not keep a test waiting) and joins the thread. Also a context manager.
    """

    def __init__(
        self,
        app: web.Application,
        *,
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
        name: str = "server",
    ) -> None:
        self._app = app
        self._requested_port = port
        self._ssl_context = ssl_context
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.port = 0

    @property
    def scheme(self) -> str:
        return "https" if self._ssl_context is not None else "http"

    @property
    def host(self) -> str:
        """`127.0.0.1:PORT` — the registry host as a client writes it."""
        return f"{LOOPBACK}:{self.port}"

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. `http://127.0.0.1:40123`."""
        return f"{self.scheme}://{self.host}"

    def start(self) -> Self:
        if self._thread is not None:
            raise RuntimeError(f"{self._name} already started")
        self._thread = threading.Thread(target=self._main, name=f"aimsource-test-{self._name}", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout=10):
            raise RuntimeError(f"{self._name} did not start within 10 s")
        if self._error is not None:
            raise RuntimeError(f"{self._name} failed to start: {self._error!r}") from self._error
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if loop.is_running():
            loop.call_soon_threadsafe(self._stop_event.set)
        thread.join(timeout=10)
        self._thread = None
        self._loop = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _serve(self) -> None:
        self._stop_event = asyncio.Event()
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((LOOPBACK, self._requested_port))
            self.port = sock.getsockname()[1]
            # handler_cancellation: a client that gives up on a stalled response ends its handler.
            runner = web.AppRunner(
                self._app, handler_cancellation=True, shutdown_timeout=0.5, access_log=None
            )
            await runner.setup()
            site = web.SockSite(runner, sock, ssl_context=self._ssl_context)
            await site.start()
            self._runner = runner
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._stop_event.wait()
        finally:
            await runner.cleanup()


class Served:
    """The lifecycle every test server shares: start/stop, a context manager, host and base URL.

    Subclasses keep their `BackgroundServer` in `_server`; those that answer under a host name of
    their own (a token realm on "another host") override `host` and `base_url`.
    """

    _server: BackgroundServer

    def start(self) -> Self:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def host(self) -> str:
        """`127.0.0.1:PORT`: the registry host to write in image references."""
        return self._server.host

    @property
    def base_url(self) -> str:
        return self._server.url
