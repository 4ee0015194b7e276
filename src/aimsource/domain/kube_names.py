"""Kubernetes' own name rules (DNS-1123), written once for every place that checks a name.

The spec checks a source's name and its pull secrets' names, the CLI the webhook Secret's name, and
the kube client every name it puts in a request path: all with these patterns, so a name one of them
admits is one the API server admits too.
"""

from __future__ import annotations

import re

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_LABEL = re.compile(_LABEL)
"""Lower-case letters, digits and "-", starting and ending with a letter or digit (namespaces)."""
DNS1123_SUBDOMAIN = re.compile(rf"{_LABEL}(\.{_LABEL})*")
"""Labels joined by "." (most object names: sources, models, Secrets)."""
LABEL_MAX = 63
SUBDOMAIN_MAX = 253


def is_subdomain(value: str) -> bool:
    """Whether `value` is a DNS-1123 subdomain of at most SUBDOMAIN_MAX characters."""
    return len(value) <= SUBDOMAIN_MAX and DNS1123_SUBDOMAIN.fullmatch(value) is not None


def is_label(value: str) -> bool:
    """Whether `value` is a DNS-1123 label of at most LABEL_MAX characters."""
    return len(value) <= LABEL_MAX and DNS1123_LABEL.fullmatch(value) is not None
