"""The registry client's own exceptions: the only errors that leave `aimsource.registry`.

Every failure of a registry conversation - a refused connection, a TLS handshake, a 401, a 429, a
garbled JSON body - is mapped here, so callers (the sync engine, the CLI) never see an aiohttp
exception and can copy `reason` straight into `SelectorError.reason`. Messages are meant to be shown
to users as they are: they name the registry, the repository and what to do, and never contain a
credential, a token or a byte of a `.dockerconfigjson` document.

    RegistryError
    ├── AuthenticationFailed   401/403, token service refusals
    │   └── AccessRefused      a fresh token, still refused (the catalog's scope, say)
    ├── RepositoryNotFound     404 on a tag listing
    ├── TagNotFound            404 on a manifest
    ├── CatalogUnsupported     a registry that refuses to list its repositories (/v2/_catalog)
    ├── NamespaceNotFound      404 for a namespace from Docker Hub's or GitHub's API
    ├── RateLimited            429 that we may not wait out (retry_after in seconds, when known)
    ├── Unreachable            connection errors, timeouts, 5xx after retries, the call deadline
    ├── TLSFailure             certificate verification or handshake failures
    └── BadResponse            malformed or oversized bodies, links or redirects we refuse to follow
"""

from __future__ import annotations

from typing import ClassVar


class RegistryError(Exception):
    """Base of every registry failure; `str(error)` is safe to show (no credentials)."""

    reason: ClassVar[str] = "RegistryError"

    answered: bool = True
    """Whether the registry gave an HTTP answer at all (even a 401 or a 503): what the sync records
    as `reached_registry`. False for connection failures, timeouts and TLS failures."""

    @property
    def message(self) -> str:
        return str(self)


class AuthenticationFailed(RegistryError):
    """The registry or its token service refused us (or demands credentials we do not have)."""

    reason = "AuthenticationFailed"


class AccessRefused(AuthenticationFailed):
    """A fresh token was issued, and the registry still refused the scope it was for: the caller
    may know better what that means (a catalog that is not offered to us)."""


class RepositoryNotFound(RegistryError):
    """The registry says the repository does not exist."""

    reason = "RepositoryNotFound"


class TagNotFound(RegistryError):
    """The registry has no manifest for the pinned tag."""

    reason = "TagNotFound"


class CatalogUnsupported(RegistryError):
    """The registry will not list its repositories (401/403/404/405 on `/v2/_catalog`): a wildcard
    cannot be resolved there, repositories must be named."""

    reason = "CatalogUnsupported"


class NamespaceNotFound(RegistryError):
    """Docker Hub's or GitHub's API says the namespace (organisation or user) does not exist."""

    reason = "NamespaceNotFound"


class RateLimited(RegistryError):
    """The registry throttles us for longer than we may wait; `retry_after` in seconds, if known."""

    reason = "RateLimited"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unreachable(RegistryError):
    """No usable answer: connection refused or reset, timeouts, server errors after retries."""

    reason = "Unreachable"
    answered = False  # except after server errors: sending.py sets it on those


class TLSFailure(RegistryError):
    """The TLS handshake failed: an untrusted or mismatching certificate, or a broken handshake."""

    reason = "TLSError"
    answered = False


class BadResponse(RegistryError):
    """The registry answered something we cannot or will not use."""

    reason = "BadResponse"
