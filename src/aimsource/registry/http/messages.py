"""The two values the auth flow and the sender pass between them: a request to make, an answer got.

They are our own small frozen types rather than aiohttp's request and response because the sender
reads every body itself (size limits enforced while streaming) and the auth flow must be testable
by feeding it answers built in one line. Headers that may carry a secret are kept out of `repr`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

_NO_HEADERS: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict())

Purpose = Literal["tags", "manifest", "token"]
"""What a request is for; it decides the body size limit of its answer."""


@dataclass(frozen=True)
class Outgoing:
    method: str
    url: URL
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    purpose: Purpose = "tags"
    body: bytes | None = field(default=None, repr=False)
    """What a POST sends (Docker Hub's login: it holds a credential, so it is never redirected)."""

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    def with_header(self, name: str, value: str) -> Outgoing:
        return replace(self, headers=(*self.without_header(name).headers, (name, value)))

    def without_header(self, name: str) -> Outgoing:
        lowered = name.lower()
        return replace(self, headers=tuple((k, v) for k, v in self.headers if k.lower() != lowered))


@dataclass(frozen=True)
class Reply:
    status: int
    url: URL
    """The URL that answered: after redirects, not the one first asked."""
    headers: CIMultiDictProxy[str] = field(default_factory=lambda: _NO_HEADERS, repr=False)
    body: bytes = field(default=b"", repr=False)
