"""The `Link` header of a tags page: where the next page is, taken exactly as the registry wrote it.

Registries paginate `tags/list` with `Link: </v2/repo/tags/list?last=x&n=100>; rel="next"`, but
not all of them write it by the book: some send absolute URLs, some omit the angle brackets, some
quote `rel` and some do not. We accept all of these and never rebuild the URL ourselves - the query
is an opaque cursor (Docker Hub's is not `last=<tag>`), so it is resolved against the page's own URL
and sent back byte for byte. A next page on another host is refused by the caller: a registry has
no business sending our credentials elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from yarl import URL

from aimsource.registry.http.header_syntax import quoted_string, skip_to


@dataclass(frozen=True)
class Link:
    target: str
    """The URL reference as written (relative or absolute), without the angle brackets."""
    rels: frozenset[str]
    """Lower-case relation types of the `rel` parameter (it may list several, space separated)."""


def parse_link_header(value: str) -> list[Link]:
    """All link-values of one `Link` header value; unparseable pieces are skipped."""
    links: list[Link] = []
    pos, end = 0, len(value)
    while pos < end:
        while pos < end and value[pos] in " \t,":
            pos += 1
        if pos >= end:
            break
        if value[pos] == "<":
            close = value.find(">", pos + 1)
            if close < 0:
                break
            target = value[pos + 1 : close].strip()
            pos = close + 1
        else:
            stop = skip_to(value, pos, ";,")
            target = value[pos:stop].strip()
            pos = stop
        params, pos = _parse_params(value, pos)
        rels = frozenset(r.lower() for r in params.get("rel", "").split())
        if target:
            links.append(Link(target=target, rels=rels))
    return links


# The form nearly every registry sends, `<target>; rel="next"`: matched whole, it parses to exactly
# what `parse_link_header` would make of it (one link, rel "next"), without its per-character scan.
_PLAIN_NEXT = re.compile(r'[ \t,]*<([^>]*)>[ \t]*;[ \t]*rel[ \t]*=[ \t]*"next"[ \t]*')
_NOT_IN_URL = re.compile(r"[^\x21-\x7e]")  # controls, space, DEL and anything beyond ASCII


def next_page(headers: Iterable[str], *, current: URL) -> URL | None:
    """The absolute URL of the `rel="next"` link among `headers`, resolved against `current`.

    The target is taken as already encoded, so its query goes back byte for byte. Raises ValueError
    when it is not a URL we could send (control characters, spaces, no host after resolution)."""
    for header in headers:
        plain = _PLAIN_NEXT.fullmatch(header)
        targets = [plain[1].strip()] if plain is not None else []
        if not any(targets):  # not that form, or an empty target (which the full parser skips)
            targets = [link.target for link in parse_link_header(header) if "next" in link.rels]
        for target in targets[:1]:
            if _NOT_IN_URL.search(target):
                raise ValueError("the next-page link contains characters not allowed in a URL")
            resolved = current.join(URL(target, encoded=True))
            if not resolved.host:
                raise ValueError("the next-page link has no host")
            return resolved
    return None


def _parse_params(value: str, pos: int) -> tuple[dict[str, str], int]:
    """`; name=value; name="quoted, value"` up to the next comma that ends the link-value."""
    params: dict[str, str] = {}
    end = len(value)
    while pos < end:
        while pos < end and value[pos] in " \t":
            pos += 1
        if pos >= end or value[pos] == ",":
            break
        if value[pos] != ";":
            # Garbage after the target: skip to the next link-value.
            pos = skip_to(value, pos, ",")
            break
        pos += 1
        stop = skip_to(value, pos, "=;,")
        name = value[pos:stop].strip().lower()
        pos = stop
        param_value = ""
        if pos < end and value[pos] == "=":
            pos += 1
            while pos < end and value[pos] in " \t":
                pos += 1
            if pos < end and value[pos] == '"':
                param_value, pos = quoted_string(value, pos)
            else:
                stop = skip_to(value, pos, ";,")
                param_value = value[pos:stop].strip()
                pos = stop
        if name and name not in params:
            params[name] = param_value
    return params, pos
