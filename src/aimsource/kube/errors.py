"""Errors of the Kubernetes boundary: every failure of the API leaves this package as one of these.

The tree, so callers can tell "won't get better" from "try again":

    KubeError                    anything that went wrong talking to the API (message safe to show)
    ├── KubeConfigError          no usable kubeconfig / service account
    ├── SecretError              an imagePullSecret is missing, of the wrong type, malformed, or not
    │                            allowed for the source (its ALLOWED_SOURCES_ANNOTATION, domain.resources)
    ├── InvalidNameError         a name or namespace the API would refuse: nothing was sent (kube.names)
    ├── SourceGoneError          a guarded status write found its source deleted or recreated (new uid)
    ├── ApiStatusError           the API answered with an error Status (`status`, `api_reason`)
    │   ├── UnauthorizedError    401: the credentials were refused
    │   ├── ForbiddenError       403: RBAC does not allow it
    │   ├── NotFoundError        404
    │   ├── ConflictError        409 Conflict: a stale resourceVersion (re-read and retry, or give up)
    │   ├── AlreadyExistsError   409 AlreadyExists: a create found the name taken
    │   ├── InvalidError         422: the API rejected the object
    │   └── ServerError          5xx / 429 after the retries ran out (transient)
    ├── UnreachableError         no HTTP answer: connection refused, reset, timeout (transient)
    └── TLSVerificationError     the server's certificate is not trusted (configuration; not retried)

Messages name the object and say what is wrong; they come from the API's Status
messages or from our own words, never from secret content or credentials.
"""

from __future__ import annotations


class KubeError(Exception):
    """Base of every error raised by aimsource.kube; `str(e)` is safe to log and to show."""

    reason: str = "KubeError"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class KubeConfigError(KubeError):
    reason = "KubeConfigError"


class SecretError(KubeError):
    """A pull secret that cannot be used; the message names the secret and its namespace."""

    reason = "PullSecretError"


class SourceGoneError(KubeError):
    """The source a status write was for no longer exists: deleted, or recreated under its name."""

    reason = "SourceGone"


class UnreachableError(KubeError):
    reason = "Unreachable"


class TLSVerificationError(KubeError):
    reason = "TLSError"


class ApiStatusError(KubeError):
    """The API server answered with an error; `api_reason` is the Status reason (`NotFound`, ...)."""

    reason = "ApiError"

    def __init__(self, message: str, *, status: int, api_reason: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.api_reason = api_reason or ""
        self.retry_after: float | None = None  # seconds, from a Retry-After header


class UnauthorizedError(ApiStatusError):
    reason = "Unauthorized"


class ForbiddenError(ApiStatusError):
    reason = "Forbidden"


class NotFoundError(ApiStatusError):
    reason = "NotFound"


class ConflictError(ApiStatusError):
    reason = "Conflict"


class AlreadyExistsError(ApiStatusError):
    reason = "AlreadyExists"


class InvalidError(ApiStatusError):
    reason = "Invalid"


class ServerError(ApiStatusError):
    reason = "ServerError"


def error_for_status(status: int, api_reason: str | None, message: str) -> ApiStatusError:
    """Map an HTTP status (and the Status reason, which splits 409) to our error type."""
    cls: type[ApiStatusError]
    if status == 401:
        cls = UnauthorizedError
    elif status == 403:
        cls = ForbiddenError
    elif status == 404:
        cls = NotFoundError
    elif status == 409:
        cls = AlreadyExistsError if api_reason == "AlreadyExists" else ConflictError
    elif status == 422:
        cls = InvalidError
    elif status >= 500 or status == 429:
        cls = ServerError
    else:
        cls = ApiStatusError
    return cls(message, status=status, api_reason=api_reason)
