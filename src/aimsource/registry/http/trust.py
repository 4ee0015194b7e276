"""The public certificate authorities that a registry's TLS certificate is checked against.

Reading the CA bundle is about 20 ms of OpenSSL work that runs without the GIL. `warm_up` starts
it in a thread, so that it overlaps with the imports of a command line (a twentieth of a short
`aimsource sync`), and `public_ca_context` hands over what it built when a client needs it. Without
a warm-up, `public_ca_context` builds the context itself, as before.
"""

from __future__ import annotations

import ssl
import threading
from concurrent.futures import Future

import certifi

_lock = threading.Lock()
_warm: Future[ssl.SSLContext] | None = None


def warm_up() -> None:
    """Start building a context for the next `public_ca_context` call, in a daemon thread."""
    global _warm
    with _lock:
        if _warm is not None:
            return
        future: Future[ssl.SSLContext] = Future()
        _warm = future

    def build() -> None:
        try:
            future.set_result(_build())
        except BaseException as exc:  # handed over to whoever takes the context, and raised there
            future.set_exception(exc)

    threading.Thread(target=build, name="aimsource-trust-store", daemon=True).start()


def public_ca_context() -> ssl.SSLContext:
    """A new client context trusting the public CAs (certifi's bundle), verifying certificates and
    host names. Each call gets its own: the caller may add CAs to it."""
    global _warm
    with _lock:
        future, _warm = _warm, None
    if future is not None:
        try:
            return future.result()
        except (OSError, ssl.SSLError):
            pass  # built again below, so that the error is raised in the caller's thread
    return _build()


def _build() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=certifi.where())
