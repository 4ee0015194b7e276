"""Scanning pieces shared by the `WWW-Authenticate` and `Link` header parsers (RFC 9110 syntax)."""

from __future__ import annotations


def quoted_string(value: str, pos: int) -> tuple[str, int]:
    """A quoted-string starting at `value[pos] == '"'`; backslash escapes the next character.

    Returns the unquoted text and the position after the closing quote (or the end of the value,
    for an unterminated string: registries are not always careful, and a lenient read is safer
    than refusing the whole header).
    """
    out: list[str] = []
    pos += 1
    while pos < len(value):
        char = value[pos]
        if char == "\\" and pos + 1 < len(value):
            out.append(value[pos + 1])
            pos += 2
            continue
        if char == '"':
            return "".join(out), pos + 1
        out.append(char)
        pos += 1
    return "".join(out), pos


def skip(value: str, pos: int, chars: str) -> int:
    """The first position at or after `pos` whose character is not in `chars`."""
    while pos < len(value) and value[pos] in chars:
        pos += 1
    return pos


def skip_to(value: str, pos: int, chars: str) -> int:
    """The first position at or after `pos` whose character is in `chars` (or the end)."""
    while pos < len(value) and value[pos] not in chars:
        pos += 1
    return pos
