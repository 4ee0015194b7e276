"""One request, made politely and safely: limits, timeouts, redirects, size limits and retries.

Everything between "the auth flow wants this request sent" and "here is the answer" happens here:
- the registry's concurrency slot and request budget (`limits.py`) are taken per HTTP exchange, so
  a long listing interleaves with other sources' requests instead of monopolising the registry.
  They, and the metrics, are keyed by the registry the call is for, never by the host a redirect
  or a token realm points to: those are the registry's choice, and must not add state we keep;
- connect/read timeouts, shortened to what is left of the call's deadline;
- redirects are followed by hand: an `Authorization` header never crosses to another host, and a
  redirect to plain HTTP is refused where HTTP is not allowed;
- bodies are read with a cap on their decoded size (`transport.py`, `bodies.py`);
- timeouts, connection errors, 5xx and 429 are retried with full-jitter backoff or `Retry-After`
  (`retry.py`); a wait beyond the cap or the deadline ends the call as RateLimited / Unreachable;
- on loopback and insecure hosts, a server that does not speak TLS is retried once over plain HTTP
  (`endpoints.Schemes` remembers it).
No aiohttp exception leaves this module: each is mapped to a `RegistryError` naming the host.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import replace
from datetime import UTC, datetime
from http import HTTPStatus

from multidict import CIMultiDictProxy
from yarl import URL

from aimsource.registry.errors import BadResponse, RateLimited, RegistryError, Unreachable
from aimsource.registry.http.endpoints import Schemes, netloc, redirect_allowed, same_origin, scheme_allowed
from aimsource.registry.http.limits import HostLimits
from aimsource.registry.http.messages import Outgoing, Reply
from aimsource.registry.http.retry import backoff_delay, is_retryable_status, parse_retry_after
from aimsource.registry.http.transport import Failure, Timeouts, Transport, unreachable
from aimsource.registry.observer import RegistryObserver
from aimsource.registry.settings import RegistrySettings

logger = logging.getLogger("aimsource.registry")

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Bodies of error answers are only read for their error codes: no need for megabytes.
ERROR_BODY_LIMIT = 64 * 1024


class Sender:
    def __init__(
        self,
        transport: Transport,
        *,
        settings: RegistrySettings,
        limits: HostLimits,
        schemes: Schemes,
        observer: RegistryObserver,
        rng: random.Random,
    ) -> None:
        self._transport = transport
        self._settings = settings
        self._limits = limits
        self._schemes = schemes
        self._observer = observer
        self._rng = rng
        self._timeouts = Timeouts(connect=settings.connect_timeout, read=settings.read_timeout)
        self._body_limits = {
            "tags": settings.max_tags_bytes,
            "token": settings.max_token_bytes,
            "manifest": settings.max_manifest_bytes,
        }

    def retune(self, settings: RegistrySettings) -> None:
        """Use `settings` (a reloaded registries file changes which hosts may be plain HTTP)."""
        self._settings = settings

    async def send(
        self, request: Outgoing, *, deadline: float, subject: str, registry: str, attempts: int | None = None
    ) -> Reply:
        """The final answer to `request` (any status but a retryable one), or a RegistryError.

        `registry` is the API host the call is for: the key of limits and metrics; `attempts` (1: no
        retry) replaces `max_attempts` for a request whose caller has a cheaper way on failure."""
        loop = asyncio.get_running_loop()
        settings = self._settings
        attempt = 0
        while True:
            attempt += 1
            url = self._rescheme(request.url)
            if url is not request.url:
                request = replace(request, url=url)
            retry_after: float | None = None
            try:
                reply = await self._follow_redirects(
                    request, deadline=deadline, subject=subject, key=registry
                )
            except Failure as failure:
                if not failure.retryable:
                    raise failure.error from failure
                give_up: RegistryError = failure.error
                what = str(failure.error)
            else:
                spent = _quota_spent(reply)
                if not is_retryable_status(reply.status) and not spent:
                    return reply
                retry_after = parse_retry_after(reply.headers.get("retry-after"), now=datetime.now(UTC))
                if spent:  # GitHub's 403 (or 429) once its quota is spent: wait for its reset
                    retry_after = retry_after if retry_after is not None else _reset_in(reply.headers)
                    give_up = _quota_error(reply, retry_after)
                    what = "HTTP 429"
                else:
                    give_up = _status_error(reply, retry_after=retry_after, attempts=attempt)
                    what = f"HTTP {reply.status}"

            now = loop.time()
            if retry_after is not None and (
                retry_after > settings.retry_after_cap or now + retry_after > deadline
            ):
                raise give_up
            if attempt >= (attempts or settings.max_attempts):
                raise give_up
            if retry_after is not None:
                delay = retry_after
            else:
                delay = backoff_delay(
                    attempt, base=settings.backoff_base, cap=settings.backoff_cap, rng=self._rng
                )
            if now + delay > deadline:
                raise give_up
            self._observer.retry(registry)
            if retry_after is not None or what == "HTTP 429":  # the registry throttles us
                self._observer.ratelimit_wait(registry, delay)
            logger.info(
                "retrying request to %s for %s after %s (attempt %d of %d, waiting %.2f s)",
                netloc(request.url),
                subject,
                what,
                attempt + 1,
                settings.max_attempts,
                delay,
            )
            await asyncio.sleep(delay)

    def _rescheme(self, url: URL) -> URL:
        """Apply a downgrade to plain HTTP learnt during the last attempt."""
        if url.scheme == "https" and self._schemes.base_url(netloc(url)).scheme == "http":
            return url.with_scheme("http")
        return url

    async def _follow_redirects(self, request: Outgoing, *, deadline: float, subject: str, key: str) -> Reply:
        current = request
        for _ in range(self._settings.max_redirects + 1):
            reply = await self._exchange(current, deadline=deadline, subject=subject, key=key)
            location = reply.headers.get("location")
            if reply.status not in REDIRECT_STATUSES or not location or current.body is not None:
                return reply  # a request with a body (a login) is never sent on: the body is a secret
            try:
                target = reply.url.join(URL(location, encoded=True))
                valid = bool(target.host) and target.is_absolute()
            except (ValueError, TypeError):
                valid = False
            if not valid or any(ord(c) <= 0x20 or ord(c) >= 0x7F for c in location):
                raise Failure(
                    BadResponse(f"bad response from {netloc(reply.url)} for {subject}: invalid redirect"),
                    retryable=False,
                )
            if not redirect_allowed(request.url, target):
                raise Failure(
                    BadResponse(
                        f"bad response from {netloc(reply.url)} for {subject}: redirect to "
                        f"{netloc(target)} refused (a loopback or link-local address)"
                    ),
                    retryable=False,
                )
            if not scheme_allowed(target, self._settings):
                raise Failure(
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
        raise Failure(
            BadResponse(f"bad response from {netloc(request.url)} for {subject}: too many redirects"),
            retryable=False,
        )

    async def _exchange(self, request: Outgoing, *, deadline: float, subject: str, key: str) -> Reply:
        """One HTTP request and its whole (size-limited) body."""
        try:
            return await self._exchange_once(request, deadline=deadline, subject=subject, key=key)
        except Failure as failure:
            if not (failure.plain_http_server and self._schemes.may_downgrade(request.url)):
                raise
        # Not counted as a request: no HTTP exchange took place, only a refused TLS handshake.
        logger.info("%s does not speak TLS; using plain HTTP", netloc(request.url))
        plain = replace(request, url=self._schemes.downgrade(request.url))
        return await self._exchange_once(plain, deadline=deadline, subject=subject, key=key)

    async def _exchange_once(self, request: Outgoing, *, deadline: float, subject: str, key: str) -> Reply:
        host = netloc(request.url)
        loop = asyncio.get_running_loop()
        async with self._limits.slot(key):
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise unreachable(host, "the call's deadline passed", retryable=False)
            settings = self._settings
            timeouts = self._timeouts
            if remaining < timeouts.connect or remaining < timeouts.read:
                timeouts = Timeouts(
                    connect=min(settings.connect_timeout, remaining),
                    read=min(settings.read_timeout, remaining),
                )
            limit = self._body_limits[request.purpose]
            try:
                reply = await self._transport.exchange(
                    request,
                    limit=(limit, min(limit, ERROR_BODY_LIMIT)),
                    timeouts=timeouts,
                    host=host,
                    subject=subject,
                )
            except Failure as failure:
                if failure.status is not None:
                    self._observer.request(key, failure.status)  # an answer came; its body was refused
                elif not (failure.plain_http_server and self._schemes.may_downgrade(request.url)):
                    self._observer.request(key, None)
                raise
        self._observer.request(key, reply.status)
        self._note_ratelimit(key, reply.headers)
        return reply

    def _note_ratelimit(self, key: str, headers: CIMultiDictProxy[str]) -> None:
        """Docker Hub's `ratelimit-remaining: 76;w=21600` and `ratelimit-limit: 100;w=21600` ->
        the observer gets 76 and 100, for the registry the call is for (`key`), whichever host
        (a redirect's, a token service's) sent them. The web APIs of GitHub and Docker Hub say it
        as `X-RateLimit-Remaining` / `X-RateLimit-Limit` (their `key` is the API host)."""
        remaining = _ratelimit_count(
            headers.get("ratelimit-remaining") or headers.get("x-ratelimit-remaining")
        )
        if remaining is not None:
            self._observer.ratelimit_remaining(key, remaining)
        limit = _ratelimit_count(headers.get("ratelimit-limit") or headers.get("x-ratelimit-limit"))
        if limit is not None:
            self._observer.ratelimit_limit(key, limit)


def _ratelimit_count(value: str | None) -> int | None:
    """The count of a `ratelimit-*` header (`100;w=21600` -> 100); None when absent or not a count."""
    if value is None:
        return None
    head = value.split(";", 1)[0].strip()
    return int(head) if head.isascii() and head.isdigit() and len(head) < 12 else None


def _quota_spent(reply: Reply) -> bool:
    """A refusal because an API's quota is spent: 403 or 429 with `X-RateLimit-Remaining: 0`."""
    return reply.status in (403, 429) and _ratelimit_count(reply.headers.get("x-ratelimit-remaining")) == 0


def _reset_in(headers: CIMultiDictProxy[str]) -> float | None:
    """Seconds until `X-RateLimit-Reset` (Unix seconds) comes; None when absent or not a time."""
    at = _ratelimit_count(headers.get("x-ratelimit-reset"))
    return None if at is None else max(0.0, at - time.time())


def _quota_error(reply: Reply, retry_after: float | None) -> RegistryError:
    after = f"; its quota returns in {retry_after:.0f} s" if retry_after is not None else "; retry later"
    return RateLimited(
        f"rate limited by {netloc(reply.url)}: its API quota is spent (X-RateLimit-Remaining: 0){after}",
        retry_after=retry_after,
    )


def reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _status_error(reply: Reply, *, retry_after: float | None, attempts: int) -> RegistryError:
    host = netloc(reply.url)
    after = f"; retry after {retry_after:.0f} s" if retry_after is not None else ""
    if reply.status == 429:
        message = f"rate limited by {host}" + (after or "; retry later")
        return RateLimited(message, retry_after=retry_after)
    phrase = reason_phrase(reply.status)
    error = Unreachable(
        f"unreachable: {host}: HTTP {reply.status} {phrase} after {attempts} attempt"
        + ("s" if attempts != 1 else "")
        + after
    )
    error.answered = True  # a server error is an answer: the registry was reached
    return error
