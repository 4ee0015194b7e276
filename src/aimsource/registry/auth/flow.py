"""Authentication as a generator: it yields the requests to make and receives their answers.

Modelled on httpx's `Auth.auth_flow`, so the whole conversation - anonymous try, 401 challenge, token
request, retry with the token - is plain code that a unit test drives by sending `Reply` values,
without a network; the sender (`sending.py`) runs the same generator against real registries.

Rules this flow enforces:
- A host that challenged before is remembered: we send Basic at once, or fetch a token for a new
  scope at once, instead of paying a 401 round trip per repository (Docker does the same).
- Credentials go to two places only: the registry host itself (Basic), and the token `realm` that
  this registry's own challenge named - which may be on another host (Docker Hub's auth.docker.io).
  A 401 from another host (after a redirect) is never answered with credentials.
- Tokens are cached per (registry host, scope, credential identity) until `expires_in` (60 s when
  absent) minus a margin. A cached token that is refused is dropped and replaced once; a token that
  was fresh and is still refused is an authentication failure, never a loop.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

from yarl import URL

from aimsource.domain.causes import dropping_cause
from aimsource.registry.auth.challenges import Challenge, parse_challenges, preferred_challenge
from aimsource.registry.auth.credentials import Credential
from aimsource.registry.errors import AccessRefused, AuthenticationFailed, BadResponse
from aimsource.registry.http.endpoints import netloc, same_origin, scheme_allowed
from aimsource.registry.http.messages import Outgoing, Reply
from aimsource.registry.settings import RegistrySettings

logger = logging.getLogger("aimsource.registry")

AuthFlow = Generator[Outgoing, Reply, None]
TokenKey = tuple[str, str, str]
_PRUNE_ABOVE = 1024


@dataclass(frozen=True)
class AuthScope:
    """Who asks for what: one repository on one registry, with or without a credential."""

    host: str
    """The API host (`host[:port]`) the requests go to; the key of remembered challenges."""
    registry: str
    """The registry as the user wrote it (`docker.io`), for messages."""
    repository: str
    credential: Credential | None = field(default=None, repr=False)
    resource: str = ""
    """A scope other than pulling `repository` (`registry:catalog:*` for the catalog)."""

    @property
    def scope(self) -> str:
        return self.resource or f"repository:{self.repository}:pull"

    @property
    def subject(self) -> str:
        return f"{self.registry}/{self.repository}"

    @property
    def token_key(self) -> TokenKey:
        identity = self.credential.identity if self.credential else "anonymous"
        return (self.host, self.scope, identity)


@dataclass(frozen=True)
class _Token:
    value: str = field(repr=False)
    expires_at: float


class AuthState:
    """What the flows of one client share: cached tokens and the last challenge seen per host."""

    def __init__(self, settings: RegistrySettings, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings
        self._clock = clock
        self._tokens: dict[TokenKey, _Token] = {}
        self.challenges: dict[str, Challenge] = {}

    def token(self, key: TokenKey) -> str | None:
        token = self._tokens.get(key)
        if token is None:
            return None
        if self._clock() >= token.expires_at:
            del self._tokens[key]
            return None
        return token.value

    def store_token(self, key: TokenKey, value: str, *, expires_in: float | None) -> None:
        lifetime = expires_in if expires_in is not None else self._settings.token_default_lifetime
        margin = min(self._settings.token_expiry_margin, lifetime / 2)
        now = self._clock()
        if len(self._tokens) >= _PRUNE_ABOVE:
            # Expired tokens are otherwise dropped only when looked up again: keep the cache bounded.
            self._tokens = {k: t for k, t in self._tokens.items() if t.expires_at > now}
        self._tokens[key] = _Token(value=value, expires_at=now + lifetime - margin)

    def drop_token(self, key: TokenKey) -> None:
        self._tokens.pop(key, None)


def auth_flow(
    request: Outgoing, *, scope: AuthScope, state: AuthState, settings: RegistrySettings
) -> AuthFlow:
    """Send `request` to the registry, authenticating as the registry asks; the last answer is final.

    Raises AuthenticationFailed when the registry (or its token service) refuses us for good, and
    BadResponse when a challenge or token answer is unusable.
    """
    credential = scope.credential
    known = state.challenges.get(scope.host)
    fresh_token = False
    sent_basic = False
    if known is not None and known.scheme == "bearer":
        token = state.token(scope.token_key)
        if token is None:
            token = yield from _fetch_token(known, scope=scope, state=state, settings=settings)
            fresh_token = True
        request = request.with_header("Authorization", f"Bearer {token}")
    elif known is not None and known.scheme == "basic" and credential is not None:
        request = request.with_header("Authorization", _basic(credential))
        sent_basic = True

    reply = yield request
    while reply.status == 401:
        if not same_origin(reply.url, request.url):
            return  # redirected elsewhere and refused there: not ours to answer with credentials
        challenge = preferred_challenge(parse_challenges(reply.headers.getall("www-authenticate", ())))
        if challenge is None:
            raise AuthenticationFailed(
                f"authentication failed for {scope.subject}: the registry demands authentication "
                "but offers no Bearer or Basic challenge"
            )
        state.challenges[scope.host] = challenge
        if challenge.scheme == "bearer":
            if fresh_token:
                raise _refused(scope)
            state.drop_token(scope.token_key)
            token = yield from _fetch_token(challenge, scope=scope, state=state, settings=settings)
            fresh_token = True
            request = request.with_header("Authorization", f"Bearer {token}")
        else:
            if credential is None or sent_basic:
                raise _refused(scope)
            request = request.with_header("Authorization", _basic(credential))
            sent_basic = True
        reply = yield request


def _fetch_token(
    challenge: Challenge, *, scope: AuthScope, state: AuthState, settings: RegistrySettings
) -> Generator[Outgoing, Reply, str]:
    """GET a token from the challenge's realm (Basic credentials if we have them) and cache it."""
    where = f"{scope.subject}: the registry's Bearer challenge"
    if not challenge.realm:
        raise BadResponse(f"bad response from {scope.host} for {where} names no token realm")
    try:
        realm = URL(challenge.realm)
        realm_host = realm.host
    except (TypeError, ValueError) as exc:
        raise BadResponse(f"bad response from {scope.host} for {where} has an invalid realm URL") from exc
    if realm.scheme not in ("http", "https") or not realm_host:
        raise BadResponse(f"bad response from {scope.host} for {where} has a realm that is not an HTTP URL")
    if not scheme_allowed(realm, settings):
        raise BadResponse(
            f"bad response from {scope.host} for {where} points to a plain-HTTP token service "
            f"({netloc(realm)}); refusing to send it anything"
        )
    params: dict[str, str] = {}
    if challenge.service:
        params["service"] = challenge.service
    params["scope"] = scope.scope
    outgoing = Outgoing("GET", realm.update_query(params), (("Accept", "application/json"),), "token")
    if scope.credential is not None:
        outgoing = outgoing.with_header("Authorization", _basic(scope.credential))

    reply = yield outgoing
    service = netloc(realm)
    if reply.status in (401, 403):
        who = "refused the credentials" if scope.credential else "refused an anonymous token"
        raise AuthenticationFailed(
            f"authentication failed for {scope.subject}: the token service {service} {who} "
            f"(HTTP {reply.status})" + ("" if scope.credential else "; supply credentials for this registry")
        )
    if reply.status != 200:
        raise BadResponse(
            f"bad response from token service {service} for {scope.subject}: HTTP {reply.status}"
        )
    value, expires_in = _parse_token(reply.body, service=service, subject=scope.subject)
    state.store_token(scope.token_key, value, expires_in=expires_in)
    logger.debug(
        "token for %s obtained from %s (%s, expires in %s s)",
        scope.subject,
        service,
        "with credentials" if scope.credential else "anonymous",
        "default" if expires_in is None else f"{expires_in:g}",
    )
    return value


def _parse_token(body: bytes, *, service: str, subject: str) -> tuple[str, float | None]:
    def bad(why: str) -> BadResponse:
        return BadResponse(f"bad response from token service {service} for {subject}: {why}")

    try:
        document: Any = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        # Not chained: the decode error keeps the token service's whole answer, which may hold a token.
        raise dropping_cause(bad("the answer is not valid JSON"), exc, logger) from None
    if not isinstance(document, dict):
        raise bad("the answer is not a JSON object")
    token = document.get("token") or document.get("access_token")
    if not isinstance(token, str) or not token:
        raise bad('the answer has no "token"')
    if any(ord(c) < 0x21 or ord(c) > 0x7E for c in token):
        raise bad("the token contains characters not allowed in an HTTP header")
    expires_in = document.get("expires_in")
    if isinstance(expires_in, bool) or not isinstance(expires_in, int | float) or expires_in <= 0:
        expires_in = None
    return token, (float(expires_in) if expires_in is not None else None)


def _refused(scope: AuthScope) -> AuthenticationFailed:
    if scope.resource:  # not a repository: the registry refuses what was asked of it, not a pull
        return AccessRefused(
            f"authentication failed for {scope.registry}: access to {scope.resource} refused "
            f"({'with' if scope.credential is not None else 'without'} credentials)"
        )
    if scope.credential is not None:
        return AuthenticationFailed(
            f"authentication failed for {scope.subject}: the registry refused the supplied credentials "
            "(wrong username or password, or no pull access to this repository)"
        )
    return AuthenticationFailed(
        f"authentication failed for {scope.subject}: anonymous access refused "
        f"(repository not found or access denied; supply credentials for {scope.registry})"
    )


def _basic(credential: Credential) -> str:
    raw = f"{credential.username}:{credential.password}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")
