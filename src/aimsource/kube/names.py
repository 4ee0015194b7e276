"""Object names and namespaces as they may appear in an API path: checked, then escaped.

A name comes from user input (a source's `imagePullSecrets[].name`, a setting) and becomes a
path segment; `../../kube-system/secrets/regcred` must never reach the API as a path into
another namespace. So every segment is checked against the API server's own naming rules
first (a clear error, no request), and percent-escaped as well, so that even a rule we got
wrong cannot turn one segment into several.
"""

from __future__ import annotations

from urllib.parse import quote

from aimsource.domain.kube_names import LABEL_MAX, SUBDOMAIN_MAX, is_label, is_subdomain
from aimsource.kube.errors import KubeError


class InvalidNameError(KubeError):
    """A name or namespace that the API server would refuse; nothing was sent."""

    reason = "InvalidName"


def _shown(value: str) -> str:
    return repr(value if len(value) <= 80 else value[:80] + "...")


def check_name(value: str, what: str = "name") -> str:
    """`value` when it is a DNS-1123 subdomain (what most object names must be), else InvalidNameError."""
    if not isinstance(value, str) or not is_subdomain(value):
        raise InvalidNameError(
            f"{what} {_shown(str(value))} is not a valid Kubernetes name: it must be a DNS-1123 subdomain"
            f" (lower-case letters, digits, '-' and '.', starting and ending with a letter or digit,"
            f" at most {SUBDOMAIN_MAX} characters)"
        )
    return value


def check_namespace(value: str) -> str:
    """`value` when it is a DNS-1123 label (what namespaces must be), else InvalidNameError."""
    if not isinstance(value, str) or not is_label(value):
        raise InvalidNameError(
            f"namespace {_shown(str(value))} is not a valid Kubernetes namespace: it must be a DNS-1123"
            f" label (lower-case letters, digits and '-', at most {LABEL_MAX} characters)"
        )
    return value


def name_segment(value: str, what: str = "name") -> str:
    """A checked name as one escaped path segment."""
    return quote(check_name(value, what), safe="")


def namespace_segment(value: str) -> str:
    """A checked namespace as one escaped path segment."""
    return quote(check_namespace(value), safe="")
