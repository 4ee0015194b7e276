"""`WWW-Authenticate` parsing: which scheme a registry wants and, for Bearer, where to get a token.

Registries send `Bearer realm="https://auth.example/token",service="registry.example",
scope="repository:org/repo:pull"`, sometimes several challenges in one header or several headers,
sometimes unquoted values, sometimes quoted values containing commas (a scope listing two actions:
`scope="repository:a:pull,push"`). A regular expression gets these wrong, so this is a small
RFC 7235 tokenizer: a challenge is a scheme token followed by `name=value` pairs (token or
quoted-string with backslash escapes) separated by commas; a bare token not followed by `=` starts
the next challenge. Token68 forms (`Negotiate abc==`) are recognised and skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from aimsource.registry.http.header_syntax import quoted_string, skip, skip_to

_SEPARATORS = ' \t,="'


@dataclass(frozen=True)
class Challenge:
    scheme: str
    """Lower-case auth scheme: "bearer", "basic", ..."""
    params: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Parameters by lower-case name, values unquoted."""

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")

    @property
    def service(self) -> str | None:
        return self.params.get("service")

    @property
    def scope(self) -> str | None:
        return self.params.get("scope")


def parse_challenges(values: Iterable[str]) -> list[Challenge]:
    """Every challenge in the given `WWW-Authenticate` header values, in order."""
    challenges: list[Challenge] = []
    for value in values:
        challenges.extend(_parse_one_header(value))
    return challenges


def preferred_challenge(challenges: Iterable[Challenge]) -> Challenge | None:
    """Bearer if offered (it keeps passwords off the registry), else Basic, else None."""
    by_scheme: dict[str, Challenge] = {}
    for challenge in challenges:
        by_scheme.setdefault(challenge.scheme, challenge)
    return by_scheme.get("bearer") or by_scheme.get("basic")


def _parse_one_header(value: str) -> list[Challenge]:
    challenges: list[Challenge] = []
    pos, end = 0, len(value)
    while pos < end:
        pos = skip(value, pos, " \t,")
        if pos >= end:
            break
        scheme, pos = _token(value, pos)
        if not scheme:
            pos += 1  # a stray separator: skip it
            continue
        params, pos = _parse_params(value, pos)
        challenges.append(Challenge(scheme=scheme.lower(), params=MappingProxyType(params)))
    return challenges


def _parse_params(value: str, pos: int) -> tuple[dict[str, str], int]:
    """`name=value` pairs after a scheme, up to the next challenge's scheme or the end."""
    params: dict[str, str] = {}
    end = len(value)
    while pos < end:
        pos = skip(value, pos, " \t")
        start = pos
        name, pos = _token(value, pos)
        after = skip(value, pos, " \t")
        if not name:
            if pos < end and value[pos] == ",":
                pos += 1  # an empty list element
                continue
            if pos < end:
                pos += 1  # junk (a stray quote or "="): skip it
                continue
            break
        if after >= end or value[after] != "=":
            if not params and (after >= end or value[after] == ","):
                return params, after  # token68 without padding: consumed, no parameters
            return params, start  # a bare word: the next challenge's scheme
        pos = skip(value, after + 1, " \t")
        if pos < end and value[pos] == "=":
            return params, skip_to(value, pos, ",")  # token68 with "=" padding
        if pos < end and value[pos] == '"':
            param, pos = quoted_string(value, pos)
        else:
            param, pos = _token(value, pos)
        params.setdefault(name.lower(), param)
        pos = skip(value, pos, " \t")
        if pos < end and value[pos] == ",":
            pos += 1
            continue
        if pos < end:
            # Something other than a comma after a value: resynchronise at the next comma.
            pos = skip_to(value, pos, ",")
    return params, pos


def _token(value: str, pos: int) -> tuple[str, int]:
    start = pos
    while pos < len(value) and value[pos] not in _SEPARATORS:
        pos += 1
    return value[start:pos], pos
