"""A paginating front for distribution 2.8, which returns every tag of a repository in one answer.

Docker Hub, GHCR and Harbor paginate `tags/list`, and the client must follow their `Link` headers
exactly as given. This front serves a real registry's tags in Docker Hub-like pages: at most
`page_size` per page (a smaller `n` is honoured), an opaque cursor (the client cannot compute the next
page itself, it must follow the link), and a `Link: <...>; rel="next"` header in one of the styles
seen in the wild. It can also refuse a page size above `max_n` the way Quay (413), Docker's
`TOO_MANY_TAGS_REQUESTED` or a registry's 400 naming `n` do, and send Docker Hub's
`ratelimit-limit` / `ratelimit-remaining` headers on every answer. Everything else (auth
challenges, manifest HEADs, pushes) passes through unchanged, and every request is counted, so a
benchmark can compare requests made with the minimum.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import bisect
import json
import time
from typing import Literal
from urllib.parse import urlencode

from aiohttp import web

from tests.support.proxying import Forwarder, RequestLog, SeenRequest, Upstream, respond
from tests.support.serving import BackgroundServer, Served

LinkStyle = Literal["relative", "absolute", "relative-bare", "absolute-bare"]
"""`relative`: `</v2/r/tags/list?n=100&last=X>; rel="next"` (Docker Hub, distribution 3);
`absolute`: `<http://host/v2/...>; rel="next"` (some Harbor and Quay versions);
`*-bare`: the URL without angle brackets, which some registries send and clients must tolerate."""

Refusal = Literal["413", "too-many-tags", "400-n"]
"""How a page size above `max_n` is refused: Quay's bare 413, the distribution error code
`TOO_MANY_TAGS_REQUESTED` (with 400), or a 400 whose error message names `n`."""

CursorParam = Literal["last", "next_page"]
"""Where the opaque cursor goes: `last` (Docker's name) or a registry-specific token parameter."""


def encode_cursor(tag: str) -> str:
    return base64.urlsafe_b64encode(b"after:" + tag.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        return None
    return raw[len(b"after:") :].decode() if raw.startswith(b"after:") else None


class PaginatingFront(Served):
    """An HTTP server on 127.0.0.1 in front of `upstream`, paginating `/v2/<repo>/tags/list`."""

    def __init__(
        self,
        upstream: Upstream | str,
        *,
        page_size: int = 100,
        link_style: LinkStyle = "relative",
        cursor_param: CursorParam = "last",
        cache_seconds: float = 0.0,
        latency: float = 0.0,
        max_n: int | None = None,
        refusal: Refusal = "413",
        ratelimit_limit: int | None = None,
    ) -> None:
        """`cache_seconds` > 0 keeps each repository's full upstream listing (per Authorization
        header) that long, so that the front, not the registry's storage, sets the cost of a page:
        for benchmarks. Tests keep 0, so that a tag pushed is listed at once. `latency` (seconds) is
        added to every answer, as a registry across a network would: on loopback a sequential client
        pays nothing for round trips, which hides what concurrency and fewer requests buy.
        `max_n`: a tags request asking for more is refused as `refusal` says. `ratelimit_limit`:
        every answer carries `ratelimit-limit: <limit>;w=21600` and `ratelimit-remaining` counting
        down by one per request."""
        self.upstream = upstream if isinstance(upstream, Upstream) else Upstream(upstream)
        self.page_size = page_size
        self.link_style: LinkStyle = link_style
        self.cursor_param: CursorParam = cursor_param
        self.cache_seconds = cache_seconds
        self.latency = latency
        self.max_n = max_n
        self.refusal: Refusal = refusal
        self.ratelimit_limit = ratelimit_limit
        self._answered = 0
        self.log = RequestLog()
        self._cache: dict[tuple[str, str | None], tuple[float, list[str]]] = {}  # server thread only
        self._forwarder = Forwarder(self.upstream)
        app = web.Application()
        app.on_startup.append(self._forwarder.on_startup)
        app.on_cleanup.append(self._forwarder.on_cleanup)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._server = BackgroundServer(app, name="paginating-front")

    @staticmethod
    def pages_needed(tag_count: int, page_size: int) -> int:
        """Requests a perfect client makes to list `tag_count` tags with pages of `page_size`."""
        return max(1, -(-tag_count // page_size))

    def _link(self, repository: str, n: int, last_tag: str) -> str:
        query = urlencode({"n": n, self.cursor_param: encode_cursor(last_tag)})
        url = f"/v2/{repository}/tags/list?{query}"
        if self.link_style.startswith("absolute"):
            url = self.base_url + url
        if self.link_style.endswith("bare"):
            return f'{url}; rel="next"'
        return f'<{url}>; rel="next"'

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        authorization = request.headers.get("Authorization")
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        if request.method == "GET" and path.startswith("/v2/") and path.endswith("/tags/list"):
            response = await self._tags_page(request, path[len("/v2/") : -len("/tags/list")])
        else:
            response = respond(await self._forwarder.forward(request), method=request.method)
        if self.ratelimit_limit is not None:
            self._answered += 1
            remaining = max(0, self.ratelimit_limit - self._answered)
            response.headers["ratelimit-limit"] = f"{self.ratelimit_limit};w=21600"
            response.headers["ratelimit-remaining"] = f"{remaining};w=21600"
        self.log.add(SeenRequest(request.method, path, request.query_string, authorization, response.status))
        return response

    def _refused(self, asked: int) -> web.Response:
        if self.refusal == "413":
            return web.Response(status=413, text="Request Entity Too Large")
        if self.refusal == "too-many-tags":
            error = {"code": "TOO_MANY_TAGS_REQUESTED", "message": f"at most {self.max_n} tags per page"}
        else:
            error = {"code": "UNSUPPORTED", "message": f"invalid n: {asked} exceeds {self.max_n}"}
        return web.json_response({"errors": [error]}, status=400)

    async def _tags_page(self, request: web.Request, repository: str) -> web.Response:
        if self.max_n is not None:
            try:
                asked = int(request.query.get("n", "0"))
            except ValueError:
                asked = 0
            if asked > self.max_n:
                return self._refused(asked)
        key = (repository, request.headers.get("Authorization"))
        cached = self._cache.get(key)
        if cached is not None and cached[0] > time.monotonic():
            tags = cached[1]
        else:
            # The upstream (distribution 2.8) ignores `n`/`last` and returns all tags.
            full = await self._forwarder.forward(request, path_qs=f"/v2/{repository}/tags/list")
            if full.status != 200:
                return respond(full, method="GET")
            try:
                tags = sorted(json.loads(full.body).get("tags") or [])
            except (ValueError, AttributeError):
                return respond(full, method="GET")
            if self.cache_seconds > 0:
                self._cache[key] = (time.monotonic() + self.cache_seconds, tags)
        try:
            n = min(int(request.query.get("n", self.page_size)), self.page_size)
        except ValueError:
            n = self.page_size
        if n <= 0:
            n = self.page_size
        cursor = request.query.get(self.cursor_param)
        start = 0
        if cursor is not None:
            after = decode_cursor(cursor)
            if after is None:
                return web.json_response(
                    {"errors": [{"code": "PAGINATION_NUMBER_INVALID", "message": "invalid cursor"}]},
                    status=400,
                )
            start = bisect.bisect_right(tags, after)
        page = tags[start : start + n]
        headers = {}
        if start + n < len(tags):
            headers["Link"] = self._link(repository, n, page[-1])
        return web.json_response({"name": repository, "tags": page}, headers=headers)
