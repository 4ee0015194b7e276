"""A small Docker-registry token service (the `realm` of a Bearer challenge), for tests.

It implements what the client must cope with on Docker Hub, GHCR and private registries: anonymous
tokens with pull access to public repositories, nothing for private ones, Basic credentials checked
(wrong ones get 401), scopes `repository:<name>:<actions>` granted by intersection. The JWTs are ES256,
signed with a key whose certificate the registry trusts (`rootcertbundle`) and identified by its
libtrust `kid`, so a real distribution 2.8 accepts them.

Every request is recorded, with the Authorization header as received, so tests can prove that
credentials went to this host and nowhere else, and count token requests to prove caching.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal, cast

import jwt
from aiohttp import web

from tests.support.serving import BackgroundServer, Served
from tests.support.tls import CertificateAuthority, SigningKey

TokenFields = Literal["both", "token", "access_token"]


@dataclass(frozen=True)
class TokenRequest:
    """One request the token server answered."""

    service: str | None
    scopes: tuple[str, ...]
    authorization: str | None = field(repr=False)
    """The raw Authorization header received (None when absent). Test-only: never print it."""
    user: str | None
    """The authenticated user, None for anonymous (or rejected) requests."""
    status: int
    granted: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(repository, actions) pairs put in the token."""


@dataclass
class TokenPolicy:
    """Who gets what. Mutable on purpose: a test may tighten it while the server runs."""

    users: dict[str, str] = field(default_factory=dict)
    """username -> password accepted in Basic auth."""
    is_private: Callable[[str], bool] = lambda repository: repository.startswith("private/")
    """Repositories that anonymous requests get no access to."""
    expires_in: int | None = 300
    """Seconds put in `expires_in` (and the JWT's exp); None omits `expires_in` (exp stays 60 s)."""
    fields: TokenFields = "both"
    """Which of `token` / `access_token` the JSON carries."""
    catalog_for_users: bool = True
    """Whether signed-in users get `registry:catalog:*` (anonymous requests never do)."""
    fail_next: list[int] = field(default_factory=list)
    """Statuses to answer, one per incoming request, before answering normally again."""


def _parse_scopes(values: Iterable[str]) -> list[tuple[str, str, tuple[str, ...]]]:
    """`repository:a/b:pull,push` -> [("repository", "a/b", ("pull", "push"))]; several per value allowed."""
    parsed = []
    for value in values:
        for item in value.split():
            kind, _, rest = item.partition(":")
            name, _, actions = rest.rpartition(":")
            if kind and name:
                parsed.append((kind, name, tuple(a for a in actions.split(",") if a)))
    return parsed


class TokenServer(Served):
    """The token service. `start()` serves it on 127.0.0.1 from a background thread."""

    def __init__(
        self,
        *,
        signing_key: SigningKey,
        service: str,
        issuer: str = "aimsource-test-issuer",
        policy: TokenPolicy | None = None,
        tls: CertificateAuthority | None = None,
        hostname: str = "127.0.0.1",
    ) -> None:
        """`hostname` is what the realm URL says: `localhost` makes the realm another host than a
        registry written `127.0.0.1:PORT` (both resolve to the loopback interface)."""
        self.signing_key = signing_key
        self.service = service
        self.issuer = issuer
        self.policy = policy or TokenPolicy()
        self.hostname = hostname
        self._lock = threading.Lock()
        self._requests: list[TokenRequest] = []
        app = web.Application()
        app.router.add_get("/token", self._handle)
        self._server = BackgroundServer(
            app, ssl_context=tls.server_context() if tls else None, name="token-server"
        )

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return f"{self.hostname}:{self._server.port}"

    @property
    def realm(self) -> str:
        """The URL the registry names in its Bearer challenge."""
        return f"{self._server.scheme}://{self.host}/token"

    # -- what tests read -------------------------------------------------------------------------

    @property
    def requests(self) -> list[TokenRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self._requests)

    def authorizations(self) -> list[str | None]:
        """Authorization headers received, in order (None for requests without one)."""
        return [r.authorization for r in self.requests]

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()

    # -- tokens ----------------------------------------------------------------------------------

    def issue(self, user: str | None, access: list[dict[str, object]], *, lifetime: int) -> str:
        """A JWT the registry accepts (also used by tests that need a token without HTTP)."""
        now = datetime.datetime.now(datetime.UTC)
        claims = {
            "iss": self.issuer,
            "sub": user or "",
            "aud": self.service,
            "exp": now + datetime.timedelta(seconds=lifetime),
            "nbf": now - datetime.timedelta(seconds=5),
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        return jwt.encode(
            claims, self.signing_key.private_key_pem, algorithm="ES256", headers={"kid": self.signing_key.kid}
        )

    def _authenticate(self, header: str | None) -> tuple[bool, str | None]:
        """(accepted, user). No header: accepted anonymously. A bad header: not accepted."""
        if header is None:
            return True, None
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return False, None
        try:
            username, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False, None
        expected = self.policy.users.get(username)
        if expected is None or expected != password:
            return False, None
        return True, username

    def _grant(
        self, user: str | None, scopes: list[tuple[str, str, tuple[str, ...]]]
    ) -> list[dict[str, object]]:
        access: list[dict[str, object]] = []
        for kind, name, actions in scopes:
            if (kind, name) == ("registry", "catalog"):
                # distribution lists its catalog to whoever holds this scope: here, signed-in users
                if user is not None and self.policy.catalog_for_users:
                    access.append({"type": "registry", "name": "catalog", "actions": ["*"]})
                continue
            if kind != "repository":
                continue
            if user is not None:
                allowed = {"pull", "push", "*"}
            elif self.policy.is_private(name):
                allowed = set()
            else:
                allowed = {"pull"}
            granted = [a for a in actions if a in allowed]
            if granted:
                access.append({"type": "repository", "name": name, "actions": granted})
        return access

    async def _handle(self, request: web.Request) -> web.Response:
        header = request.headers.get("Authorization")
        service = request.query.get("service")
        raw_scopes = tuple(request.query.getall("scope", []))

        def record(
            status: int, user: str | None = None, access: list[dict[str, object]] | None = None
        ) -> None:
            granted = tuple(
                (str(entry["name"]), tuple(str(a) for a in cast(list[str], entry["actions"])))
                for entry in access or ()
            )
            with self._lock:
                self._requests.append(
                    TokenRequest(service, raw_scopes, header, user=user, status=status, granted=granted)
                )

        with self._lock:
            forced = self.policy.fail_next.pop(0) if self.policy.fail_next else None
        if forced is not None:
            record(forced)
            return web.json_response(
                {"errors": [{"code": "UNAVAILABLE", "message": "injected"}]}, status=forced
            )
        if service != self.service:
            record(400)
            return web.json_response({"details": f"unknown service {service!r}"}, status=400)
        accepted, user = self._authenticate(header)
        if not accepted:
            record(401)
            return web.json_response(
                {"details": "incorrect username or password"},
                status=401,
                headers={"WWW-Authenticate": 'Basic realm="aimsource-test-token"'},
            )
        access = self._grant(user, _parse_scopes(raw_scopes))
        lifetime = self.policy.expires_in if self.policy.expires_in is not None else 60
        token = self.issue(user, access, lifetime=lifetime)
        body: dict[str, object] = {"issued_at": datetime.datetime.now(datetime.UTC).isoformat()}
        if self.policy.fields in ("both", "token"):
            body["token"] = token
        if self.policy.fields in ("both", "access_token"):
            body["access_token"] = token
        if self.policy.expires_in is not None:
            body["expires_in"] = self.policy.expires_in
        record(200, user, access)
        return web.json_response(body)
