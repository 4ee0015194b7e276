"""The push-event receiver: `POST /hooks/<provider>/<token>`, one aiohttp application.

Every request is answered in this order, so that the cheap refusals come first, nothing is read
for a caller who may not send, and a stranger cannot spend what the registries need:

1. 404 for a provider we do not read, 503 while no token could be read;
2. 401 when the path token is not the configured one (compared with `hmac.compare_digest`, so the
   time taken says nothing about how much of it was right); both 404 and 401 spend the *failed*
   budget of the client's address (a small token bucket per address, in a table of bounded size:
   the least recently seen address is forgotten first), and once it is spent they are 429;
3. 429 when the provider's own budget is spent: requests with the right token are limited per
   provider (not per address: behind an Ingress every request comes from one address), so one
   registry's noise cannot starve another's, and failed requests never touch these budgets;
4. 413 when the body is larger than 1 MiB: refused from `Content-Length` before reading, and
   counted while reading, so no more than the limit is ever buffered;
5. 401 for `ghcr` when `X-Hub-Signature-256` is not the HMAC-SHA256 of the body keyed with the token;
6. 400 when the body is not JSON or not the provider's shape (the message names the field);
7. 200 "ignored" for a notification that is not a push (a pull, a GitHub ping);
8. 503 with `Retry-After` on a standby replica (see below), else 202: the pushes are handed to the
   leader's reconciler, which syncs the covering sources incrementally.

Connections are bounded below HTTP (`connections`): deadlines for the headers, the body and idle
keep-alive, and a cap on open connections. A client that goes away mid-body is counted as
`disconnected`, with no traceback.

A standby answers 503 rather than accepting: only the leader syncs, and an event accepted and
dropped by the standby would be lost without anyone knowing. distribution retries a failed
notification until it is delivered (and, behind a Service, lands on the leader), Harbor retries a
few times, and GitHub shows the failed delivery to redeliver; whatever is still lost is found by
the next scheduled sync. The token is never logged: aiohttp's access log is off for this server,
our own line per request names the provider, the outcome and the client, not the path, and
aiohttp's own records are redacted (`redaction`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from aiohttp import web

from aimsource.domain.pushes.payloads import PARSERS, MalformedPayload, Push, parse_payload
from aimsource.operator.webhook.connections import Closed, ConnectionGuards, ConnectionLimits
from aimsource.operator.webhook.redaction import redact_server_logs

log = logging.getLogger("aimsource.operator")

MAX_BODY = 1024 * 1024
"""Bytes: the largest notification body read."""
SIGNATURE_HEADER = "X-Hub-Signature-256"
RETRY_AFTER = "10"

ACCEPTED = "accepted"
IGNORED = "ignored"
UNAUTHORIZED = "unauthorized"
TOO_LARGE = "too_large"
MALFORMED = "malformed"
RATE_LIMITED = "rate_limited"
FAILED_RATE_LIMITED = "rate_limited_failed"
UNKNOWN_PROVIDER = "unknown_provider"
NOT_LEADER = "not_leader"
NO_TOKEN = "no_token"
DISCONNECTED = "disconnected"


@dataclass(frozen=True)
class ReceiverSettings:
    rate: float = 10.0
    """Requests per second with the right token that one provider may send on average. Default: 10
    (a busy distribution registry sends one notification per pushed manifest)."""
    burst: int = 50
    """Requests with the right token one provider may send at once. Default: 50."""
    failed_rate: float = 1.0
    """Failed requests (wrong token, unknown provider) per second one client address may send on
    average before they are answered 429. Default: 1. They never spend the providers' budgets."""
    failed_burst: int = 10
    """Failed requests one client address may send at once. Default: 10."""
    max_clients: int = 4096
    """Client addresses remembered for the failed budget; the least recently seen goes first."""
    connections: ConnectionLimits = field(default_factory=ConnectionLimits)
    """Deadlines and the cap on open connections (`connections.ConnectionLimits`)."""


class ClientBuckets:
    """A token bucket per client address in a bounded table (an LRU), on a monotonic clock."""

    def __init__(self, *, rate: float, burst: int, max_clients: int, clock: Callable[[], float]) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._max = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # address -> (tokens, at)

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, client: str) -> bool:
        """Whether `client` may send one more request now."""
        now = self._clock()
        tokens, at = self._buckets.pop(client, (self._burst, now))
        tokens = min(self._burst, tokens + (now - at) * self._rate)
        allowed = tokens >= 1.0
        self._buckets[client] = (tokens - 1.0 if allowed else tokens, now)
        while len(self._buckets) > self._max:
            self._buckets.popitem(last=False)
        return allowed


def signature_ok(body: bytes, token: bytes, header: str | None) -> bool:
    """GitHub's `X-Hub-Signature-256: sha256=<hex>`, HMAC-SHA256 of the raw body keyed with the token."""
    if not header or not header.startswith("sha256="):
        return False
    expected = "sha256=" + hmac.new(token, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().encode())


class Receiver:
    """The request handler and what it needs: the token, leadership, where pushes go, metrics."""

    def __init__(
        self,
        *,
        token: Callable[[], bytes | None],
        leading: Callable[[], bool],
        on_pushes: Callable[[Sequence[Push]], int],
        count: Callable[[str, str], None],
        settings: ReceiverSettings = ReceiverSettings(),
        clock: Callable[[], float] = time.monotonic,
        on_connection_closed: Callable[[Closed], None] = lambda _: None,
    ) -> None:
        """`token()` is the current token (None while unreadable); `on_pushes` hands pushes to the
        reconciler and returns how many sources they concern; `count(provider, outcome)` counts;
        `on_connection_closed(reason)` counts connections closed by a deadline or the cap."""
        self._token = token
        self._leading = leading
        self._on_pushes = on_pushes
        self._count = count
        self._providers = ClientBuckets(
            rate=settings.rate, burst=settings.burst, max_clients=len(PARSERS), clock=clock
        )
        self._failed = ClientBuckets(
            rate=settings.failed_rate,
            burst=settings.failed_burst,
            max_clients=settings.max_clients,
            clock=clock,
        )
        self.guards = ConnectionGuards(settings.connections, on_closed=on_connection_closed)
        """The connections' deadlines and cap: serve the app with `start_endpoints(guarded=...)`."""

    def app(self) -> web.Application:
        redact_server_logs(self._token)
        app = web.Application(client_max_size=MAX_BODY, middlewares=[self.guards.middleware])
        app.router.add_post("/hooks/{provider}/{token}", self.handle)
        app.router.add_post("/hooks/{provider}", self.handle)  # no token: 401, not 404
        app.router.add_post("/hooks/{provider}/", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        provider = request.match_info["provider"]
        client = request.remote or "unknown"
        label = provider if provider in PARSERS else "unknown"
        status, outcome, text = await self._answer(request, provider, client)
        self._count(label, outcome)
        level = logging.INFO if outcome in (ACCEPTED, IGNORED) else logging.WARNING
        if outcome == FAILED_RATE_LIMITED:
            level = logging.DEBUG  # a flood of strangers must not flood the log: the metric counts them
        log.log(
            level,
            "webhook request",
            extra={"provider": label, "outcome": outcome, "client": client, "code": status},
        )
        headers = {"Retry-After": RETRY_AFTER} if status in (429, 503) else None
        return web.Response(status=status, text=text + "\n", headers=headers)

    async def _answer(self, request: web.Request, provider: str, client: str) -> tuple[int, str, str]:
        if provider not in PARSERS:
            return self._failure(client, 404, UNKNOWN_PROVIDER, "unknown provider")
        token = self._token()
        if token is None:
            return 503, NO_TOKEN, "the webhook token is not available"
        given = request.match_info.get("token", "").encode()
        if not hmac.compare_digest(given, token):
            return self._failure(client, 401, UNAUTHORIZED, "unauthorized")
        if not self._providers.take(provider):
            return 429, RATE_LIMITED, "too many requests"
        try:
            body = await _read_limited(request)
        except ConnectionError:  # the client went away (or a deadline closed it) mid-body
            return 400, DISCONNECTED, "disconnected"
        if body is None:
            return 413, TOO_LARGE, f"body larger than {MAX_BODY} bytes"
        if provider == "ghcr" and not signature_ok(body, token, request.headers.get(SIGNATURE_HEADER)):
            return 401, UNAUTHORIZED, f"missing or wrong {SIGNATURE_HEADER}"
        try:
            pushes = parse_payload(provider, json.loads(body))
        except (ValueError, RecursionError) as exc:  # JSONDecodeError and MalformedPayload are ValueErrors
            message = str(exc) if isinstance(exc, MalformedPayload) else "the body is not JSON"
            return 400, MALFORMED, message
        if not pushes:
            return 200, IGNORED, "not a push: ignored"
        if not self._leading():
            return 503, NOT_LEADER, "not the leader: retry"
        sources = self._on_pushes(pushes)
        log.info(
            "push received",
            extra={"provider": provider, "pushes": ", ".join(map(str, pushes[:5])), "sources": sources},
        )
        return 202, ACCEPTED, f"accepted: {len(pushes)} pushes for {sources} sources"

    def _failure(self, client: str, status: int, outcome: str, text: str) -> tuple[int, str, str]:
        """A refusal before authentication, answered 429 once the address's failed budget is spent."""
        if self._failed.take(client):
            return status, outcome, text
        return 429, FAILED_RATE_LIMITED, "too many failed requests"


async def _read_limited(request: web.Request) -> bytes | None:
    """The body, or None when it is (or turns out to be) larger than MAX_BODY."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        return None
    body = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > MAX_BODY:
            return None
    return bytes(body)
