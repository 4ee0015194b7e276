"""A registry that accepts connections and never answers: the worst a broken proxy can do.

A plain TCP listener on 127.0.0.1 whose thread accepts every connection and then holds it open,
reading nothing and writing nothing, until the server stops. A client sees its connect succeed and
then waits for a TLS handshake or an HTTP answer that never comes, until its own timeouts fire.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
from typing import Self


class SilentServer:
    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self._listener.setblocking(False)
        self.port: int = self._listener.getsockname()[1]
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="silent-server", daemon=True)
        self.accepted = 0
        """Connections accepted so far."""

    @property
    def host(self) -> str:
        """`127.0.0.1:<port>`, as a source's registry."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in self._held:
            with contextlib.suppress(OSError):
                conn.close()
        self._listener.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _accept(self) -> None:
        with selectors.DefaultSelector() as sel:
            sel.register(self._listener, selectors.EVENT_READ)
            while not self._stop.is_set():
                if not sel.select(timeout=0.1):
                    continue
                with contextlib.suppress(BlockingIOError, OSError):
                    conn, _ = self._listener.accept()
                    self._held.append(conn)  # held open, never read from, never written to
                    self.accepted += 1
