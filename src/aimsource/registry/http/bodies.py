"""Reading an answer's body with a hard cap on what it may cost, compressed or not.

A registry (or a proxy before it) chooses what it sends: a 1 KB gzip stream can inflate to
gigabytes, and `Content-Encoding: gzip, gzip` multiplies that again. So the session never decodes
by itself (`auto_decompress=False`) and this module does it incrementally: every raw chunk is
counted against the cap, then inflated with `max_length` set to what is left of the cap, so no
step ever holds more than the cap plus one chunk, whatever the ratio. Only one `gzip` or `deflate`
layer is accepted (the only ones we advertise in `Accept-Encoding`); stacked or unknown encodings
are refused with an error naming them instead of being passed on as bytes nobody can parse.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Iterable

ACCEPT_ENCODING = "gzip, deflate"
"""What we ask for: the codings this module can inflate with a bounded cost."""

_GZIP_WBITS = 16 + zlib.MAX_WBITS
_ZLIB_WBITS = zlib.MAX_WBITS
_RAW_DEFLATE_WBITS = -zlib.MAX_WBITS


class BodyTooLarge(Exception):
    """The body (after decoding) is larger than the cap."""


class BodyUndecodable(Exception):
    """The body's encoding is refused or its compressed data is corrupt; the message says which."""


def content_coding(values: Iterable[str]) -> str | None:
    """The one coding of `Content-Encoding` header values (None: identity), or BodyUndecodable."""
    codings = [c.strip().lower() for value in values for c in value.split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return None
    shown = ", ".join(codings)[:80]
    if len(codings) > 1:
        raise BodyUndecodable(f"stacked content encodings ({shown}) are refused")
    coding = codings[0]
    if coding in ("gzip", "x-gzip", "deflate"):
        return coding
    printable = "".join(c if 0x20 < ord(c) < 0x7F else "?" for c in shown)
    raise BodyUndecodable(f"unknown content encoding {printable!r} (only gzip and deflate are accepted)")


class _Inflater:
    """One gzip or deflate stream, inflated at most `room` bytes at a time."""

    def __init__(self, coding: str) -> None:
        self._coding = coding
        wbits = _GZIP_WBITS if coding in ("gzip", "x-gzip") else _ZLIB_WBITS
        self._inflate = zlib.decompressobj(wbits)
        self._started = False

    def feed(self, data: bytes, *, limit: int, out: list[bytes], size: int) -> int:
        """Inflate `data` into `out`; returns the new decoded size, raising once it passes `limit`."""
        pending = data
        while pending and not self._inflate.eof:
            room = limit - size + 1  # one byte more than allowed proves "too large" without more work
            try:
                piece = self._inflate.decompress(pending, room)
            except zlib.error as exc:
                if self._coding == "deflate" and not self._started:
                    # Some servers send raw deflate (no zlib header) as "deflate": retry once raw.
                    self._inflate = zlib.decompressobj(_RAW_DEFLATE_WBITS)
                    self._started = True
                    continue
                raise BodyUndecodable(f"the {self._coding} data is corrupt") from exc
            self._started = True
            size += len(piece)
            if size > limit:
                raise BodyTooLarge
            if piece:
                out.append(piece)
            tail = self._inflate.unconsumed_tail
            if not piece and tail == pending:
                break  # no progress possible on this input: wait for more
            pending = tail
        return size

    def finish(self) -> None:
        if not self._inflate.eof:
            raise BodyUndecodable(f"the {self._coding} data ends before its end marker")


async def read_capped(chunks: AsyncIterator[bytes], *, coding: str | None, limit: int) -> bytes:
    """The decoded body from raw `chunks`; BodyTooLarge as soon as raw or decoded size passes `limit`."""
    out: list[bytes] = []
    raw = 0
    size = 0
    inflater = _Inflater(coding) if coding is not None else None
    async for chunk in chunks:
        raw += len(chunk)
        if raw > limit:
            raise BodyTooLarge
        if inflater is None:
            size = raw
            out.append(chunk)
        else:
            size = inflater.feed(chunk, limit=limit, out=out, size=size)
    if inflater is not None and raw:
        inflater.finish()
    return b"".join(out)
