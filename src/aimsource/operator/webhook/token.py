"""The webhook token: read from a Secret in the operator namespace (key `token`), re-read every minute.

Re-reading on a timer (rather than watching the Secret) needs no list/watch permission on secrets,
which would extend to every secret of the namespace; a rotated token takes effect within
`refresh` seconds. A failed read keeps the last good token (a transient API error must not lock
out the registries), and only a Secret that is gone or has no token clears it. Nothing of the
token is ever logged; the messages name the Secret and the key.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aimsource.kube import KubeClient, KubeError
from aimsource.kube import SecretError as KubeSecretError

log = logging.getLogger("aimsource.operator")

TOKEN_KEY = "token"
REFRESH_SECONDS = 60.0


class WebhookToken:
    def __init__(self, read: Callable[[], Awaitable[bytes]], *, refresh: float = REFRESH_SECONDS) -> None:
        """`read()` returns the Secret's `token` value or raises the kube client's errors."""
        self._read = read
        self._refresh = refresh
        self._token: bytes | None = None
        self._problem: str | None = None

    def current(self) -> bytes | None:
        return self._token

    async def load(self) -> None:
        """Read the Secret once; log a change of state (never the token)."""
        try:
            token = (await self._read()).strip()
        except KubeSecretError as exc:  # gone, forbidden, no key: no token until it is fixed
            self._set(None, str(exc))
            return
        except KubeError as exc:  # the API is unwell: keep what we had
            log.warning("webhook token not re-read", extra={"error": str(exc)})
            return
        self._set(token or None, None if token else "the webhook token is empty")

    async def run(self) -> None:
        """Re-read forever (cancelled when the operator stops)."""
        while True:
            await self.load()
            await asyncio.sleep(self._refresh)

    def _set(self, token: bytes | None, problem: str | None) -> None:
        changed = token != self._token
        self._token = token
        if problem != self._problem:
            if problem:
                log.warning("webhook token unavailable: requests are answered 503", extra={"error": problem})
            self._problem = problem
        if changed and token is not None:
            log.info("webhook token loaded")


def secret_reader(kube: KubeClient, namespace: str, name: str) -> Callable[[], Awaitable[bytes]]:
    """`WebhookToken`'s reader over the kube client."""

    async def read() -> bytes:
        return await kube.read_secret_key(namespace, name, TOKEN_KEY)

    return read
