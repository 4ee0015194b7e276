"""How text is written into a status: messages made safe and bounded (times: `domain.times`).

Shared by the parts of the status (`status_verdict`, `status_conditions`, `status_selectors`): every
message passes through `clean`, a last redaction of anything shaped like a credential (although
the registry layer never puts one in its messages) and a bound on its length.
"""

from __future__ import annotations

import re

MAX_MESSAGE_LENGTH = 1024
MAX_LISTED = 20
"""Entries in the selectors' `conflicts`, and in their `refused`, for the whole source."""
MAX_REASON_LENGTH = 64
MAX_REFUSAL_LENGTH = 256
MAX_TAG_LENGTH = 128

_URL_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")
_AUTH_VALUE = re.compile(r"(?i)\b(basic|bearer)\s+[A-Za-z0-9._~+/=-]{8,}")


def clean(message: str, limit: int = MAX_MESSAGE_LENGTH, *, keep_end: bool = False) -> str:
    """Redact credential-shaped text and bound the length, so a status stays readable and safe.

    With `keep_end`, the middle is cut instead of the end: an API server's refusal names the
    object first and gives its verdict last (kube-apiserver: `... is forbidden: ValidatingAdmission
    Policy 'p' with binding 'b' denied request: <the policy's message>`), and the verdict is the
    part a reader needs."""
    text = _AUTH_VALUE.sub(lambda m: f"{m.group(1)} ***", _URL_USERINFO.sub("***@", message))
    if len(text) > limit and keep_end:
        head = limit // 4
        text = text[:head] + " ... " + text[len(text) - (limit - head - 5) :]
    elif len(text) > limit:
        text = text[: limit - 3] + "..."
    return text
