"""One request, made politely and safely: limits, timeouts, redirects, size limits and retries.

Everything between "the auth flow wants this request sent" and "here is the answer" happens here:
- the host's concurrency slot and request budget (`limits.py`) are taken per HTTP exchange, so a
  long listing interleaves with other sources' requests instead of monopolising the host;
- connect/read timeouts, shortened to what is left of the call's deadline;
- redirects are followed by hand (httpx's `follow_redirects` is off): an `Authorization` header
  never crosses to another host, and a redirect to plain HTTP is refused where HTTP is not allowed;
- bodies are read while counting, and abandoned as soon as they exceed the limit for their purpose;
- timeouts, connection errors, 5xx and 429 are retried with full-jitter backoff or `Retry-After`
  (`retry.py`); a wait beyond the cap or the deadline ends the call as RateLimited / Unreachable;
- on loopback and insecure hosts, a server that does not speak TLS is retried once over plain HTTP
  (`endpoints.Schemes` remembers it).
No httpx exception leaves this module: each is mapped to a `RegistryError` naming the host.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import ssl
from dataclasses import replace
from datetime import UTC, datetime

import httpx

from aimsource.registry.endpoints import Schemes, netloc, same_origin, scheme_allowed
from aimsource.registry.errors import BadResponse, RateLimited, RegistryError, TLSFailure, Unreachable
from aimsource.registry.limits import HostLimits
from aimsource.registry.messages import Outgoing, Reply
from aimsource.registry.observer import RegistryObserver
from aimsource.registry.retry import backoff_delay, is_retryable_status, parse_retry_after
from aimsource.registry.settings import RegistrySettings

logger = logging.getLogger("aimsource.registry")

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Bodies of error answers are only read for their error codes: no need for megabytes.
ERROR_BODY_LIMIT = 64 * 1024


class _Failure(Exception):
    """A transport failure already mapped to our error; `retryable` says whether to try again.

    A plain class, not a frozen dataclass: context managers assign `__traceback__` on the way out.
    """

    def __init__(self, error: RegistryError, *, retryable: bool, plain_http_server: bool = False) -> None:
        super().__init__(str(error))
        self.error = error
        self.retryable = retryable
        self.plain_http_server = plain_http_server


def _unreachable(host: str, why: str, *, retryable: bool = True) -> _Failure:
    return _Failure(Unreachable(f"unreachable: {host}: {why}"), retryable=retryable)


class Sender:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        settings: RegistrySettings,
        limits: HostLimits,
        schemes: Schemes,
        observer: RegistryObserver,
        rng: random.Random,
    ) -> None:
        self._http = http
        self._settings = settings
        self._limits = limits
        self._schemes = schemes
        self._observer = observer
        self._rng = rng

    async def send(self, request: Outgoing, *, deadline: float, subject: str) -> Reply:
        """The final answer to `request` (any status but a retryable one), or a RegistryError."""
        loop = asyncio.get_running_loop()
        settings = self._settings
        attempt = 0
        while True:
            attempt += 1
            request = replace(request, url=self._rescheme(request.url))
            retry_after: float | None = None
            try:
                reply = await self._follow_redirects(request, deadline=deadline, subject=subject)
            except _Failure as failure:
                if not failure.retryable:
                    raise failure.error from None
                give_up: RegistryError = failure.error
                what = str(failure.error)
            else:
                if not is_retryable_status(reply.status):
                    return reply
                retry_after = parse_retry_after(reply.headers.get("retry-after"), now=datetime.now(UTC))
                give_up = _status_error(reply, retry_after=retry_after, attempts=attempt)
                what = f"HTTP {reply.status}"

            host = netloc(request.url)
            now = loop.time()
            if retry_after is not None and (
                retry_after > settings.retry_after_cap or now + retry_after > deadline
            ):
                raise give_up
            if attempt >= settings.max_attempts:
                raise give_up
            if retry_after is not None:
                delay = retry_after
            else:
                delay = backoff_delay(
                    attempt, base=settings.backoff_base, cap=settings.backoff_cap, rng=self._rng
                )
            if now + delay > deadline:
                raise give_up
            self._observer.retry(host)
            logger.info(
                "retrying request to %s for %s after %s (attempt %d of %d, waiting %.2f s)",
                host,
                subject,
                what,
                attempt + 1,
                settings.max_attempts,
                delay,
            )
            await asyncio.sleep(delay)

    def _rescheme(self, url: httpx.URL) -> httpx.URL:
        """Apply a downgrade to plain HTTP learnt during the last attempt."""
        if url.scheme == "https" and self._schemes.base_url(netloc(url)).scheme == "http":
            return url.copy_with(scheme="http")
        return url

    async def _follow_redirects(self, request: Outgoing, *, deadline: float, subject: str) -> Reply:
        current = request
        for _ in range(self._settings.max_redirects + 1):
            reply = await self._exchange(current, deadline=deadline, subject=subject)
            location = reply.headers.get("location")
            if reply.status not in REDIRECT_STATUSES or not location:
                return reply
            try:
                target = reply.url.join(location)
            except httpx.InvalidURL:
                raise _Failure(
                    BadResponse(f"bad response from {netloc(reply.url)} for {subject}: invalid redirect"),
                    retryable=False,
                ) from None
            if not scheme_allowed(target, self._settings):
                raise _Failure(
                    BadResponse(
                        f"bad response from {netloc(reply.url)} for {subject}: redirect to "
                        f"{target.scheme}://{netloc(target)} refused (only HTTPS is allowed there)"
                    ),
                    retryable=False,
                )
            downgraded = reply.url.scheme == "https" and target.scheme != "https"
            if downgraded or not same_origin(target, reply.url):
                # Credentials belong to the host they were given for: never forward them.
                current = current.without_header("Authorization")
            method = "GET" if reply.status == 303 and current.method != "HEAD" else current.method
            current = replace(current, url=target, method=method)
        raise _Failure(
            BadResponse(f"bad response from {netloc(request.url)} for {subject}: too many redirects"),
            retryable=False,
        )

    async def _exchange(self, request: Outgoing, *, deadline: float, subject: str) -> Reply:
        """One HTTP request and its whole (size-limited) body."""
        try:
            return await self._exchange_once(request, deadline=deadline, subject=subject)
        except _Failure as failure:
            if not (failure.plain_http_server and self._schemes.may_downgrade(request.url)):
                raise
        # Not counted as a request: no HTTP exchange took place, only a refused TLS handshake.
        logger.info("%s does not speak TLS; using plain HTTP", netloc(request.url))
        plain = replace(request, url=self._schemes.downgrade(request.url))
        return await self._exchange_once(plain, deadline=deadline, subject=subject)

    async def _exchange_once(self, request: Outgoing, *, deadline: float, subject: str) -> Reply:
        host = netloc(request.url)
        loop = asyncio.get_running_loop()
        async with self._limits.slot(host):
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise _unreachable(host, "the call's deadline passed", retryable=False)
            settings = self._settings
            timeout = httpx.Timeout(
                connect=min(settings.connect_timeout, remaining),
                read=min(settings.read_timeout, remaining),
                write=min(settings.read_timeout, remaining),
                pool=min(settings.connect_timeout, remaining),
            )
            try:
                built = self._http.build_request(
                    request.method, request.url, headers=list(request.headers), timeout=timeout
                )
                response = await self._http.send(built, stream=True)
            except httpx.HTTPError as exc:
                failure = _map_transport_error(exc, host=host, subject=subject)
                if not (failure.plain_http_server and self._schemes.may_downgrade(request.url)):
                    self._observer.request(host, None)
                raise failure from None
            try:
                self._observer.request(host, response.status_code)
                self._note_ratelimit(host, response.headers)
                body = b""
                if request.method != "HEAD" and response.status_code not in REDIRECT_STATUSES:
                    limit = self._body_limit(request, response.status_code)
                    body = await _read_limited(response, limit=limit, host=host, subject=subject)
            except httpx.HTTPError as exc:
                raise _map_transport_error(exc, host=host, subject=subject) from None
            finally:
                await response.aclose()
        return Reply(status=response.status_code, url=response.url, headers=response.headers, body=body)

    def _body_limit(self, request: Outgoing, status: int) -> int:
        settings = self._settings
        limit = {
            "tags": settings.max_tags_bytes,
            "token": settings.max_token_bytes,
            "manifest": settings.max_manifest_bytes,
        }[request.purpose]
        return limit if 200 <= status < 300 else min(limit, ERROR_BODY_LIMIT)

    def _note_ratelimit(self, host: str, headers: httpx.Headers) -> None:
        """Docker Hub's `ratelimit-remaining: 100;w=21600` -> observer gets 100."""
        value = headers.get("ratelimit-remaining")
        if value is None:
            return
        head = value.split(";", 1)[0].strip()
        if head.isdigit():
            self._observer.ratelimit_remaining(host, int(head))


async def _read_limited(response: httpx.Response, *, limit: int, host: str, subject: str) -> bytes:
    def too_large() -> _Failure:
        return _Failure(
            BadResponse(f"bad response from {host} for {subject}: the answer is larger than {limit} bytes"),
            retryable=False,
        )

    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _status_error(reply: Reply, *, retry_after: float | None, attempts: int) -> RegistryError:
    host = netloc(reply.url)
    after = f"; retry after {retry_after:.0f} s" if retry_after is not None else ""
    if reply.status == 429:
        message = f"rate limited by {host}" + (after or "; retry later")
        return RateLimited(message, retry_after=retry_after)
    phrase = httpx.codes.get_reason_phrase(reply.status)
    error = Unreachable(
        f"unreachable: {host}: HTTP {reply.status} {phrase} after {attempts} attempt"
        + ("s" if attempts != 1 else "")
        + after
    )
    error.answered = True  # a server error is an answer: the registry was reached
    return error


def _causes(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _map_transport_error(exc: httpx.HTTPError, *, host: str, subject: str) -> _Failure:
    causes = _causes(exc)
    for cause in causes:
        if isinstance(cause, ssl.SSLCertVerificationError):
            detail = cause.verify_message or "certificate verification failed"
            return _Failure(TLSFailure(f"TLS verification failed for {host}: {detail}"), retryable=False)
    if isinstance(exc, httpx.ConnectTimeout):
        return _unreachable(host, "connection timed out")
    if isinstance(exc, httpx.TimeoutException):
        return _unreachable(host, "timed out waiting for an answer")
    if isinstance(exc, httpx.ConnectError):
        for cause in causes:
            if isinstance(cause, ssl.SSLError):
                reason = cause.reason or type(cause).__name__
                return _Failure(
                    TLSFailure(f"TLS handshake with {host} failed: {reason}"),
                    retryable=False,
                    plain_http_server=True,
                )
            if isinstance(cause, ConnectionResetError | BrokenPipeError):
                # Some plain-HTTP servers hang up on a TLS hello instead of answering it.
                reset = Unreachable(f"unreachable: {host}: connection reset")
                return _Failure(reset, retryable=True, plain_http_server=True)
            if isinstance(cause, ConnectionRefusedError):
                return _unreachable(host, "connection refused")
            if isinstance(cause, socket.gaierror):
                return _unreachable(host, "host name does not resolve")
        return _unreachable(host, "cannot connect")
    if isinstance(exc, httpx.RemoteProtocolError | httpx.NetworkError):
        return _unreachable(host, "the connection was lost")
    if isinstance(exc, httpx.DecodingError):
        why = "the body cannot be decoded"
        return _Failure(BadResponse(f"bad response from {host} for {subject}: {why}"), retryable=False)
    return _unreachable(host, f"request failed ({type(exc).__name__})", retryable=False)
