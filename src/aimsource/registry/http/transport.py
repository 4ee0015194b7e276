"""One HTTP exchange over aiohttp (kopf's own stack): the request, its status, headers and capped body.

The session is configured for hostile answers, not convenience: no redirects (the sender follows
them by hand), no cookies, no automatic decompression (`bodies.py` inflates with a cap), header
lines capped by aiohttp's parser. Every aiohttp or socket exception is mapped here to a `Failure`
carrying one of our errors, so nothing of aiohttp leaves `aimsource.registry`.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from dataclasses import dataclass

import aiohttp

from aimsource.domain.causes import dropping_cause
from aimsource.registry.errors import BadResponse, RegistryError, TLSFailure, Unreachable
from aimsource.registry.http.bodies import (
    ACCEPT_ENCODING,
    BodyTooLarge,
    BodyUndecodable,
    content_coding,
    read_capped,
)
from aimsource.registry.http.messages import Outgoing, Reply
from aimsource.registry.http.trust import public_ca_context

logger = logging.getLogger("aimsource.registry")

_CHUNK = 64 * 1024


# Python before 3.12.8 leaks the socket under a TLS connection whose shutdown does not finish (a
# registry that never answers close_notify, a request cut by its deadline; cpython#118960). aiohttp
# then aborts such transports itself, on the Pythons its own check names (elsewhere the option
# only earns a DeprecationWarning).
CLEANUP_CLOSED_TLS: bool = getattr(aiohttp.connector, "NEEDS_CLEANUP_CLOSED", False)


class Failure(Exception):
    """A transport failure already mapped to our error; `retryable` says whether to try again.

    A plain class, not a frozen dataclass: context managers assign `__traceback__` on the way out.
    """

    def __init__(self, error: RegistryError, *, retryable: bool, plain_http_server: bool = False) -> None:
        super().__init__(str(error))
        self.error = error
        self.retryable = retryable
        self.plain_http_server = plain_http_server
        self.status: int | None = None  # the HTTP status, when one came back before the failure


def unreachable(host: str, why: str, *, retryable: bool = True) -> Failure:
    return Failure(Unreachable(f"unreachable: {host}: {why}"), retryable=retryable)


def bad_response(host: str, subject: str, why: str) -> Failure:
    return Failure(BadResponse(f"bad response from {host} for {subject}: {why}"), retryable=False)


@dataclass(frozen=True)
class Timeouts:
    connect: float
    read: float


class Transport:
    """The one aiohttp session of a client, created on first use (it needs a running loop)."""

    def __init__(self, *, ssl_context: ssl.SSLContext, user_agent: str, keepalive_per_host: int) -> None:
        self._ssl = ssl_context
        self._headers = {"User-Agent": user_agent, "Accept-Encoding": ACCEPT_ENCODING}
        self._keepalive = keepalive_per_host
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[Timeouts, aiohttp.ClientTimeout] = {}
        self._host_ssl: dict[str, ssl.SSLContext] = {}
        self._other_ssl: ssl.SSLContext | None = None

    def set_host_contexts(
        self, contexts: dict[str, ssl.SSLContext], *, default: ssl.SSLContext | None = None
    ) -> None:
        """TLS contexts for hosts (`host[:port]`) with CAs of their own (the registries file's
        `caFile`s); every other host uses `default`, or the session's context when None."""
        self._host_ssl = dict(contexts)
        self._other_ssl = default

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            # Our per-host semaphores are the real cap; a global pool limit would let one slow host
            # starve the others.
            connector = aiohttp.TCPConnector(
                ssl=self._ssl,
                limit=0,
                limit_per_host=0,
                keepalive_timeout=30,
                enable_cleanup_closed=CLEANUP_CLOSED_TLS,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers=self._headers,
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
                timeout=aiohttp.ClientTimeout(total=None),
                raise_for_status=False,
                trust_env=False,
            )
            # aiohttp silently resends an idempotent request once when a kept-alive connection drops;
            # our retries (`sending.py`) already do that, counted, paced and within the deadline.
            self._session._retry_connection = False
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def exchange(
        self, request: Outgoing, *, limit: tuple[int, int], timeouts: Timeouts, host: str, subject: str
    ) -> Reply:
        """Send `request`; read its body (none for HEAD) capped at `limit[0]` for 2xx, `limit[1]` else."""
        session = self._open()
        timeout = self._timeouts.get(timeouts)
        if timeout is None:
            # Nearly every request has the settings' own timeouts (the deadline is further away):
            # build aiohttp's object once for them rather than once per request.
            if len(self._timeouts) >= 8:
                self._timeouts.clear()
            timeout = aiohttp.ClientTimeout(total=None, connect=timeouts.connect, sock_read=timeouts.read)
            self._timeouts[timeouts] = timeout
        try:
            own = self._host_ssl.get(host, self._other_ssl) if self._host_ssl else self._other_ssl
            response = await session.request(
                request.method,
                request.url,
                headers=request.headers,
                data=request.body,
                allow_redirects=False,
                timeout=timeout,
                ssl=own if own is not None else True,
            )
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
            # Not chained (here and below): aiohttp's errors keep the request (`request_info`: its
            # Authorization header) or the connection key (the proxy's credentials).
            raise dropping_cause(map_error(exc, host=host, subject=subject), exc, logger) from None
        try:
            body = b""
            if request.method != "HEAD":
                cap = limit[0] if 200 <= response.status < 300 else limit[1]
                body = await _read_body(response, cap, host=host, subject=subject)
            reply = Reply(status=response.status, url=response.url, headers=response.headers, body=body)
        except Failure as failure:
            failure.status = response.status
            response.close()  # the rest of the body is unread: this connection cannot be reused
            raise
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            response.close()
            lost = map_error(exc, host=host, subject=subject)
            lost.status = response.status
            raise dropping_cause(lost, exc, logger) from None
        except BaseException:
            response.close()
            raise
        response.release()
        return reply


async def _read_body(response: aiohttp.ClientResponse, limit: int, *, host: str, subject: str) -> bytes:
    def too_large() -> Failure:
        return bad_response(host, subject, f"the answer is larger than {limit} bytes")

    try:
        coding = content_coding(response.headers.getall("content-encoding", ()))
    except BodyUndecodable as exc:
        raise bad_response(host, subject, str(exc)) from exc
    declared = response.content_length
    if declared is not None and declared > limit:
        raise too_large()
    if coding is None and declared is not None:
        # The parser stops at Content-Length, so one read is bounded and avoids per-chunk work.
        return await response.read()
    try:
        return await read_capped(response.content.iter_chunked(_CHUNK), coding=coding, limit=limit)
    except BodyTooLarge as exc:
        raise too_large() from exc
    except BodyUndecodable as exc:
        raise bad_response(host, subject, str(exc)) from exc


def map_error(exc: BaseException, *, host: str, subject: str) -> Failure:
    """An aiohttp, socket or TLS exception as our error, with whether it is worth retrying."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        cert_error = exc.certificate_error
        detail = getattr(cert_error, "verify_message", None) or "certificate verification failed"
        return Failure(TLSFailure(f"TLS verification failed for {host}: {detail}"), retryable=False)
    if isinstance(exc, aiohttp.ClientConnectorSSLError | ssl.SSLError):
        cause = exc.os_error if isinstance(exc, aiohttp.ClientConnectorSSLError) else exc
        reason = getattr(cause, "reason", None) or type(cause).__name__
        return Failure(
            TLSFailure(f"TLS handshake with {host} failed: {reason}"), retryable=False, plain_http_server=True
        )
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return unreachable(host, "connection timed out")
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return unreachable(host, "timed out waiting for an answer")
    if isinstance(exc, aiohttp.ClientConnectorError):
        cause = exc.os_error
        if isinstance(cause, ConnectionResetError | BrokenPipeError):
            # Some plain-HTTP servers hang up on a TLS hello instead of answering it.
            reset = Unreachable(f"unreachable: {host}: connection reset")
            return Failure(reset, retryable=True, plain_http_server=True)
        if isinstance(cause, ConnectionRefusedError):
            return unreachable(host, "connection refused")
        if isinstance(exc, aiohttp.ClientConnectorDNSError) or isinstance(cause, socket.gaierror):
            return unreachable(host, "host name does not resolve")
        return unreachable(host, "cannot connect")
    if isinstance(exc, aiohttp.ClientResponseError):
        # aiohttp's parser refused the answer: a header line too long, too many headers, bad syntax.
        return bad_response(host, subject, "the answer is not valid HTTP (or its headers are too large)")
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError | aiohttp.ClientOSError):
        return unreachable(host, "the connection was lost")
    if isinstance(exc, ConnectionError | OSError):
        return unreachable(host, "the connection was lost")
    if isinstance(exc, aiohttp.InvalidURL | ValueError):
        return bad_response(host, subject, "the URL cannot be requested")
    return unreachable(host, f"request failed ({type(exc).__name__})", retryable=False)


def ssl_context(ca_file: str | None, *extra: str | None) -> ssl.SSLContext:
    """The public CAs plus `ca_file` (and `extra` bundles), if given: a private registry's CA adds
    to trust, not replaces it."""
    context = public_ca_context()
    for bundle in (ca_file, *extra):
        _load(context, bundle)
    return context


def _load(context: ssl.SSLContext, ca_file: str | None) -> None:
    if ca_file:
        try:
            context.load_verify_locations(cafile=ca_file)
        except ssl.SSLError as exc:
            raise TLSFailure(f"cannot load the CA bundle {ca_file}: not a PEM certificate bundle") from exc
        except OSError as exc:
            why = exc.strerror or "cannot be read"
            raise TLSFailure(f"cannot load the CA bundle {ca_file}: {why}") from exc
