"""Registry credentials from `.dockerconfigjson` documents (pull secrets, ~/.docker/config.json).

The document is `{"auths": {KEY: {"auth": base64("user:password")} | {"username", "password"}}}`.
KEY is whatever `docker login` or a human wrote: `ghcr.io`, `https://ghcr.io`, `ghcr.io/v2/`, and
for Docker Hub the historical `https://index.docker.io/v1/` or any of its aliases. Keys are reduced
to the registry as `ImageRef.registry` writes it (lower-case `host[:port]`, Docker Hub as
`docker.io`), so a lookup by reference always finds the entry. When two keys name the same registry,
the first one in the document wins, as in Docker.

`identitytoken` (an OAuth2 refresh token written by some `docker login` flows) and `registrytoken`
are ignored: the token flow here is the distribution spec's GET with Basic credentials, and an entry
that carries only an identity token gives no credential rather than a wrong one. Credential helpers
(`credsStore`, `credHelpers`) are ignored too: a pull secret cannot run programs.

Errors name the origin (the secret or file) and the entry's position, never content: a malformed
document may hold a password in any field.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from aimsource.domain.causes import dropping_cause
from aimsource.domain.references import normalize_registry

logger = logging.getLogger("aimsource.registry")

_Fail = Callable[[str], "InvalidDockerConfigError"]
_HOST_PORT = re.compile(r"(?:[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?")


@dataclass(frozen=True)
class Credential:
    """A username and password (or token used as one) for Basic authentication."""

    username: str
    password: str = field(repr=False)

    @property
    def identity(self) -> str:
        """An opaque key that tells credentials apart in caches without holding the password."""
        digest = hashlib.sha256(f"{self.username}\0{self.password}".encode()).hexdigest()
        return digest[:32]


class InvalidDockerConfigError(Exception):
    """A `.dockerconfigjson` document we cannot use; the message names the origin, never content."""


@dataclass(frozen=True)
class CredentialStore:
    """Credentials by registry (`ImageRef.registry` spelling)."""

    entries: Mapping[str, Credential] = field(default_factory=lambda: MappingProxyType({}), repr=False)

    def for_registry(self, registry: str) -> Credential | None:
        return self.entries.get(normalize_registry(registry))

    def merged(self, other: CredentialStore) -> CredentialStore:
        """Both stores' credentials; where both know a registry, `self` wins."""
        combined = dict(other.entries)
        combined.update(self.entries)
        return CredentialStore(MappingProxyType(combined))

    def __repr__(self) -> str:
        return f"CredentialStore(registries={sorted(self.entries)!r})"


EMPTY_CREDENTIALS = CredentialStore()


def registry_of_key(key: str) -> str | None:
    """The registry a config key names, or None when the key is not a registry address.

    "https://index.docker.io/v1/" -> "docker.io"; "https://ghcr.io" -> "ghcr.io";
    "localhost:5000/v2/" -> "localhost:5000".
    """
    text = key.strip().lower()
    if "://" in text:
        scheme, _, text = text.partition("://")
        if scheme not in ("http", "https"):
            return None
    host = text.split("/", 1)[0]
    if not host or _HOST_PORT.fullmatch(host) is None:
        return None
    return normalize_registry(host)


def parse_docker_config(raw: bytes | str, *, origin: str) -> CredentialStore:
    """Parse a `.dockerconfigjson` document; raises InvalidDockerConfigError naming `origin`.

    A document without `auths` (a config.json that only configures credential helpers) is empty,
    not an error. Entries whose key is not a registry address are skipped.
    """

    def fail(why: str) -> InvalidDockerConfigError:
        return InvalidDockerConfigError(f"invalid .dockerconfigjson in {origin}: {why}")

    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        document = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        # Not chained: the decode error keeps the whole document, credentials and all (`doc`,
        # `object`), and its position points into it.
        raise dropping_cause(fail("not valid JSON"), exc, logger) from None
    except RecursionError as exc:
        raise fail("nested too deeply") from exc
    if not isinstance(document, dict):
        raise fail("the document is not a JSON object")
    auths = document.get("auths")
    if auths is None:
        return EMPTY_CREDENTIALS
    if not isinstance(auths, dict):
        raise fail('"auths" is not an object')

    entries: dict[str, Credential] = {}
    for position, (key, entry) in enumerate(auths.items(), start=1):
        registry = registry_of_key(key)
        where = f"auths entry #{position}" + (f" ({registry})" if registry else "")
        if not isinstance(entry, dict):
            raise fail(f"{where} is not an object")

        def fail_entry(why: str, where: str = where) -> InvalidDockerConfigError:
            return fail(f"{where}: {why}")

        credential = _credential(entry, fail=fail_entry)
        if registry is None or credential is None or registry in entries:
            continue
        entries[registry] = credential
    return CredentialStore(MappingProxyType(entries))


def _credential(entry: Mapping[str, Any], *, fail: _Fail) -> Credential | None:
    """The credential of one `auths` entry: `auth` wins over `username`/`password`, as in Docker."""
    auth = entry.get("auth")
    if auth is not None and not isinstance(auth, str):
        raise fail('"auth" is not a string')
    if auth:
        try:
            decoded = base64.b64decode(auth.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError) as exc:
            # Not chained: a UnicodeDecodeError keeps the decoded "username:password" bytes.
            raise dropping_cause(fail('"auth" is not base64 of "username:password"'), exc, logger) from None
        username, colon, password = decoded.partition(":")
        if not colon or not username:
            raise fail('"auth" does not decode to "username:password"')
        return Credential(username=username, password=password)
    user = entry.get("username")
    secret = entry.get("password")
    if user is None and secret is None:
        return None  # identitytoken-only or empty entry: no usable credential
    if not isinstance(user, str) or not isinstance(secret, str):
        raise fail('"username" and "password" must both be strings')
    if not user:
        raise fail('"username" is empty')
    return Credential(username=user, password=secret)
