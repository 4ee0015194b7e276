"""One Kubernetes API call over aiohttp (kopf's own HTTP stack): retries, timeouts, errors.

Every call has a timeout; 5xx, 429 and connection failures are retried a few
times with a short backoff that honours Retry-After (capped: the caller, not this
module, owns long waits); every failure leaves as an `aimsource.kube.errors`
type whose message names the call, never a credential. Every request says who
we are (`User-Agent: aimsource/<version>`), and every write names our field
manager, so that `managedFields` and audit logs attribute our changes to aimsource
and other tools can recognise them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json as jsonlib
import logging
import random
import socket
import ssl
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp.helpers import get_env_proxy_for_url
from yarl import URL

from aimsource import __version__
from aimsource.domain.causes import dropping_cause
from aimsource.kube.config import KubeConfig
from aimsource.kube.errors import (
    ApiStatusError,
    KubeConfigError,
    KubeError,
    ServerError,
    TLSVerificationError,
    UnreachableError,
    error_for_status,
)

log = logging.getLogger("aimsource.kube")

FIELD_MANAGER = "aimsource"
"""The `fieldManager` of every write: how managedFields and audit logs name aimsource's changes."""
USER_AGENT = f"aimsource/{__version__}"
WRITES = frozenset({"POST", "PUT", "PATCH"})
MAX_ERROR_BODY = 64 * 1024  # bytes of a streamed call's error answer read for its message
TOKEN_REREAD_SECONDS = 60.0  # projected service-account tokens rotate; kubelet refreshes them well before


@dataclass(frozen=True)
class ClientSettings:
    """Timeouts and retries of the Kubernetes client."""

    timeout: float = 10.0
    """Seconds for one request (connect, and each read of the answer)."""
    retries: int = 3
    """Extra attempts after a 5xx, 429 or connection failure."""
    backoff: float = 0.2
    """Seconds before the first retry; doubles each time, with jitter."""
    max_retry_after: float = 5.0
    """Longest Retry-After we wait for inside one call, in seconds."""
    page_size: int = 500
    """`limit` of list calls."""
    component: str = "aimsource"
    """The `source.component` / `reportingComponent` of events."""
    instance: str = socket.gethostname()
    """The `reportingInstance` of events (the pod name in a cluster)."""


# Python before 3.12.8 leaks the socket under a TLS connection whose shutdown does not finish (a
# request cancelled mid-flight, as a stopping Lease elector's is; cpython#118960). aiohttp then
# aborts such transports itself, on the Pythons its own check names (elsewhere the option only
# earns a DeprecationWarning).
CLEANUP_CLOSED_TLS: bool = getattr(aiohttp.connector, "NEEDS_CLEANUP_CLOSED", False)


class ApiTransport:
    """The HTTP side of `KubeClient`: one aiohttp session, opened on first use, closed by `aclose`."""

    def __init__(self, config: KubeConfig, settings: ClientSettings | None = None) -> None:
        self.config = config
        self.settings = settings or ClientSettings()
        self._token: str | None = config.token
        self._token_read_at = -1e9
        try:
            self._ssl: ssl.SSLContext | bool = config.ssl_context()
        except (OSError, ssl.SSLError, ValueError) as e:
            raise KubeConfigError(
                f"cannot load the TLS certificates of {config.origin or config.server}:"
                f" {type(e).__name__}: {getattr(e, 'strerror', None) or e}"
            ) from e
        basic = config.basic_auth()
        self._basic = aiohttp.BasicAuth(*basic).encode() if basic else None
        self._base = config.server.rstrip("/")
        # Proxies from the environment (HTTPS_PROXY / NO_PROXY), as kubectl honours them; resolved once,
        # not per request, and without aiohttp's trust_env, which would also send ~/.netrc passwords.
        self._proxy: URL | None = None
        self._proxy_auth: aiohttp.BasicAuth | None = None
        with contextlib.suppress(LookupError, ValueError):
            self._proxy, self._proxy_auth = get_env_proxy_for_url(URL(self._base))
        self._session: aiohttp.ClientSession | None = None

    async def aclose(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    def _http(self) -> aiohttp.ClientSession:
        # Created on first use, inside the running loop (aiohttp sessions belong to one loop).
        if self._session is None or self._session.closed:
            t = self.settings.timeout
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=self._ssl, enable_cleanup_closed=CLEANUP_CLOSED_TLS),
                timeout=aiohttp.ClientTimeout(total=None, connect=t, sock_connect=t, sock_read=t),
                headers={"Accept": "application/json", "User-Agent": USER_AGENT},
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: object = None,
        params: Mapping[str, str] | None = None,
        content_type: str | None = None,
    ) -> dict[str, Any]:
        """One API call with retries; the decoded JSON answer, or a KubeError.

        `path` must be built from escaped segments (`aimsource.kube.names`); it is sent as is.
        """
        attempt = 0
        while True:
            try:
                return await self._once(method, path, json=json, params=params, content_type=content_type)
            except (ServerError, UnreachableError) as e:
                if attempt >= self.settings.retries:
                    raise
                delay = self.settings.backoff * (2**attempt) * (0.5 + random.random())
                if isinstance(e, ServerError) and e.retry_after is not None:
                    delay = min(max(e.retry_after, 0.0), self.settings.max_retry_after)
                attempt += 1
                await asyncio.sleep(delay)

    def _query(self, method: str, params: Mapping[str, str] | None) -> dict[str, str]:
        query = dict(params or {})
        if method in WRITES:
            query.setdefault("fieldManager", FIELD_MANAGER)
        if method == "POST":  # unknown fields are an error, not a warning the API server drops them with
            query.setdefault("fieldValidation", "Strict")
        return query

    def _headers(self, content_type: str | None) -> dict[str, str]:
        headers = {}
        token = self._bearer_token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        elif self._basic:
            headers["Authorization"] = self._basic
        if content_type:
            headers["Content-Type"] = content_type
        return headers

    async def _once(
        self,
        method: str,
        path: str,
        *,
        json: object,
        params: Mapping[str, str] | None,
        content_type: str | None,
    ) -> dict[str, Any]:
        headers = self._headers(content_type if json is None else content_type or "application/json")
        data = None if json is None else jsonlib.dumps(json).encode()
        url = URL(self._base + path, encoded=True)  # already escaped; yarl must not re-encode or normalise
        query = self._query(method, params)
        what = f"{method} {path}"
        try:
            async with self._http().request(
                method,
                url.update_query(query) if query else url,
                data=data,
                headers=headers,
                allow_redirects=False,
                proxy=self._proxy,
                proxy_auth=self._proxy_auth,
            ) as response:
                body = await response.read()
                status, reason = response.status, response.reason or ""
                retry_after = response.headers.get("Retry-After", "")
        except TimeoutError as e:
            raise UnreachableError(f"Kubernetes API at {self.config.server} timed out on {what}") from e
        except aiohttp.ClientError as e:
            raise self._failure(e, what) from None
        if status < 400:
            try:
                decoded = jsonlib.loads(body)
            except ValueError as e:
                # Not chained: the decode error keeps the whole body, which may be a Secret.
                bad = KubeError(f"Kubernetes API answered {what} with a body that is not JSON")
                raise dropping_cause(bad, e, log) from None
            return decoded if isinstance(decoded, dict) else {"value": decoded}
        raise _error(status, reason, body, retry_after, what)

    def _failure(self, e: aiohttp.ClientError, what: str) -> KubeError:
        """Our error for an aiohttp one, to be raised `from None`: aiohttp's errors keep the request
        (`request_info`: its Authorization header) or the connection key (the proxy's credentials)."""
        if _certificate_refused(e):  # retrying cannot help; the message says why
            refused = TLSVerificationError(
                f"Kubernetes API at {self.config.server}: TLS certificate"
                f" verification failed on {what} (check the certificate"
                " authority)"
            )
            return dropping_cause(refused, e, log)
        lost = UnreachableError(
            f"Kubernetes API at {self.config.server} unreachable on {what}: {type(e).__name__}"
        )
        return dropping_cause(lost, e, log)

    async def stream_lines(
        self,
        path: str,
        *,
        params: Mapping[str, str],
        read_timeout: float,
        max_line: int,
        on_open: Callable[[], None] = lambda: None,
    ) -> AsyncIterator[bytes]:
        """A streamed GET (a watch), one line at a time, without the newline; no retries (the caller
        starts again from where it got to). `on_open` is called once the server has accepted the
        call. `read_timeout`: longest silence, in seconds; a line longer than `max_line` bytes ends
        the stream with a KubeError, so memory stays bounded."""
        what = f"GET {path} (streamed)"
        url = URL(self._base + path, encoded=True).update_query(params)
        t = self.settings.timeout
        timeout = aiohttp.ClientTimeout(total=None, connect=t, sock_connect=t, sock_read=read_timeout)
        try:
            async with self._http().get(
                url,
                headers=self._headers(None),
                timeout=timeout,
                allow_redirects=False,
                proxy=self._proxy,
                proxy_auth=self._proxy_auth,
            ) as response:
                if response.status >= 400:
                    body = await response.content.read(MAX_ERROR_BODY)
                    retry_after = response.headers.get("Retry-After", "")
                    raise _error(response.status, response.reason or "", body, retry_after, what)
                on_open()
                pending = bytearray()
                async for chunk in response.content.iter_any():
                    pending += chunk
                    if b"\n" in chunk:
                        *lines, pending = pending.split(b"\n")
                        for line in lines:
                            _check_line(line, max_line, what)
                            if line.strip():
                                yield bytes(line)
                    _check_line(pending, max_line, what)
        except TimeoutError as e:
            raise UnreachableError(f"Kubernetes API at {self.config.server} was silent on {what}") from e
        except aiohttp.ClientError as e:
            raise self._failure(e, what) from None

    def _bearer_token(self) -> str | None:
        if self.config.token_file and time.monotonic() - self._token_read_at > TOKEN_REREAD_SECONDS:
            try:
                with open(self.config.token_file) as f:
                    self._token = f.read().strip()
            except OSError as e:
                raise KubeError(f"cannot read the service account token {self.config.token_file}") from e
            self._token_read_at = time.monotonic()
        return self._token


def _check_line(line: bytes | bytearray, max_line: int, what: str) -> None:
    if len(line) > max_line:
        raise KubeError(f"Kubernetes API answered {what} with a line of over {max_line} bytes")


def _certificate_refused(e: aiohttp.ClientError) -> bool:
    if isinstance(e, aiohttp.ClientConnectorCertificateError):
        return True
    return isinstance(e, aiohttp.ClientSSLError) and "CERTIFICATE_VERIFY_FAILED" in str(e)


def _error(status: int, phrase: str, body: bytes, retry_after: str, what: str) -> ApiStatusError:
    reason, message = None, None
    try:
        decoded = jsonlib.loads(body)
        if isinstance(decoded, dict):
            reason, message = decoded.get("reason"), decoded.get("message")
    except ValueError:
        pass
    text = f"{what}: {status} {reason or phrase}"
    if message:
        text += f": {message}"
    error = error_for_status(status, reason if isinstance(reason, str) else None, text[:1000])
    with contextlib.suppress(ValueError):  # an HTTP date instead of seconds: use our own backoff
        error.retry_after = float(retry_after)
    return error
