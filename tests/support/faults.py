"""A fault-injecting front and a recording "other host", to prove the client's failure handling.

`FaultFront` forwards to a real registry (or to a `PaginatingFront`) until a test programs a fault
for the next request(s) on a path: 429 with or without `Retry-After` (seconds or an HTTP date),
5xx, a stall longer than the client's timeout, malformed JSON, an oversized body, a dropped
connection, a `Link` to another host, a redirect to another host, or a Bearer realm on another host;
and the answers of a hostile registry: compressed bombs (`gzip`, stacked `gzip, gzip`), unknown
encodings, huge pages, endless distinct or repeated next links, links into another repository,
garbage digests and huge headers.

`RecordingServer` plays that other host: it answers like a registry (and like a token service) and
records every Authorization header it receives, so a test can assert that credentials never went
there. Both servers log each request (`.log`) with the Authorization header they saw.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import json
import re
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import Literal

from aiohttp import web

from tests.support.proxying import Forwarder, RequestLog, SeenRequest, Upstream, respond
from tests.support.serving import BackgroundServer, Served

FaultKind = Literal[
    "status", "stall", "malformed-json", "oversized", "disconnect", "link", "redirect", "realm",
    "bomb", "encoding", "pages", "link-back", "digest", "huge-header",
]  # fmt: skip


@dataclass(frozen=True)
class Fault:
    """What to do instead of (or on top of) forwarding one request. Build with the class methods."""

    kind: FaultKind
    status: int = 500
    retry_after: str | None = None
    """Literal `Retry-After` value (`"2"`); see `retry_after_date_in` for the HTTP-date form."""
    retry_after_date_in: float | None = None
    """Send `Retry-After` as an HTTP date this many seconds after the moment of the answer."""
    seconds: float = 0.0
    size: int = 0
    target: str = ""
    """Another host's URL: the Link, redirect Location or realm to send; for `encoding` and `bomb`
    the Content-Encoding written; for `digest` the Docker-Content-Digest written."""
    layers: int = 1
    count: int = 0

    @classmethod
    def error(cls, status: int = 503) -> Fault:
        return cls("status", status=status)

    @classmethod
    def rate_limited(
        cls, *, retry_after: float | None = None, retry_after_date_in: float | None = None
    ) -> Fault:
        """429; with `Retry-After: <seconds>`, with an HTTP-date `Retry-After`, or without one."""
        value = None if retry_after is None else f"{retry_after:g}"
        return cls("status", status=429, retry_after=value, retry_after_date_in=retry_after_date_in)

    @classmethod
    def stall(cls, seconds: float) -> Fault:
        """Wait `seconds` before forwarding (a client with a shorter read timeout gives up first)."""
        return cls("stall", seconds=seconds)

    @classmethod
    def malformed_json(cls) -> Fault:
        return cls("malformed-json")

    @classmethod
    def oversized(cls, size: int = 16 * 1024 * 1024) -> Fault:
        """A 200 with a syntactically valid tags list of about `size` bytes, sent chunked."""
        return cls("oversized", size=size)

    @classmethod
    def disconnect(cls) -> Fault:
        """Close the connection without an answer."""
        return cls("disconnect")

    @classmethod
    def link_to(cls, url: str) -> Fault:
        """Forward, then replace the `Link` header with `<url>; rel="next"`."""
        return cls("link", target=url)

    @classmethod
    def redirect_to(cls, url: str, *, status: int = 307) -> Fault:
        return cls("redirect", status=status, target=url)

    @classmethod
    def gzip_bomb(cls, size: int = 512 * 1024 * 1024, *, layers: int = 1) -> Fault:
        """A 200 whose body inflates to `size` bytes (a tags document padded with spaces), gzipped
        `layers` times and labelled `Content-Encoding: gzip` (`gzip, gzip` for two layers)."""
        return cls("bomb", size=size, layers=layers, target=", ".join(["gzip"] * layers))

    @classmethod
    def unknown_encoding(cls, coding: str = "br") -> Fault:
        """A 200 with a small body labelled with `Content-Encoding: <coding>`."""
        return cls("encoding", target=coding)

    @classmethod
    def pages(cls, tags_per_page: int, *, tag_length: int = 0, last: bool = False) -> Fault:
        """A 200 tags page of `tags_per_page` new distinct tags and a next link with a new cursor:
        armed `times=N`, a repository of N pages that never repeats itself. With `tag_length`, each
        tag is padded to that many characters (`1.2.0-xxxx...`, still a valid tag); with `last`,
        the page has no next link (armed `times=N`: N repositories of one page each)."""
        return cls("pages", count=tags_per_page, size=tag_length, target="last" if last else "")

    @classmethod
    def link_back(cls) -> Fault:
        """Forward, then send a next `Link` to the very URL that was asked."""
        return cls("link-back")

    @classmethod
    def digest(cls, value: str) -> Fault:
        """Forward, then replace `Docker-Content-Digest` with `value`."""
        return cls("digest", target=value)

    @classmethod
    def huge_header(cls, size: int = 1024 * 1024) -> Fault:
        """Forward, then add a header of `size` bytes."""
        return cls("huge-header", size=size)

    @classmethod
    def realm_on(cls, url: str) -> Fault:
        """Answer 401 with a Bearer challenge whose realm is `url` (keeping the upstream's service)."""
        return cls("realm", target=url)


@dataclass
class _Armed:
    fault: Fault
    path: re.Pattern[str] | None
    method: str | None
    remaining: int
    fired: int = field(default=0)


class FaultFront(Served):
    """A transparent front on 127.0.0.1 that misbehaves exactly when told to."""

    def __init__(self, upstream: Upstream | str) -> None:
        self.upstream = upstream if isinstance(upstream, Upstream) else Upstream(upstream)
        self.log = RequestLog()
        self._lock = threading.Lock()
        self._armed: list[_Armed] = []
        self.fired: list[tuple[str, Fault]] = []
        """(path, fault) for every fault delivered, in order."""
        self._pages_sent = 0
        self._forwarder = Forwarder(self.upstream)
        app = web.Application()
        app.on_startup.append(self._forwarder.on_startup)
        app.on_cleanup.append(self._forwarder.on_cleanup)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._server = BackgroundServer(app, name="fault-front")

    def inject(
        self, fault: Fault, *, path: str | None = None, method: str | None = None, times: int = 1
    ) -> None:
        """Deliver `fault` to the next `times` requests whose path matches the regex `path` (any when
        None) and whose method is `method` (any when None). Faults fire in the order injected."""
        with self._lock:
            self._armed.append(
                _Armed(fault, re.compile(path) if path else None, method.upper() if method else None, times)
            )

    def clear(self) -> None:
        """Disarm every fault and forget the request log (between tests sharing one front)."""
        with self._lock:
            self._armed.clear()
            self.fired.clear()
        self.log.reset()

    @property
    def pending(self) -> int:
        """Faults still armed (0 when every injected fault was delivered)."""
        with self._lock:
            return sum(a.remaining for a in self._armed)

    def _take(self, request: web.Request) -> Fault | None:
        with self._lock:
            for armed in self._armed:
                if armed.remaining <= 0:
                    continue
                if armed.method is not None and armed.method != request.method:
                    continue
                if armed.path is not None and not armed.path.search(request.path):
                    continue
                armed.remaining -= 1
                self.fired.append((request.path, armed.fault))
                return armed.fault
        return None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        authorization = request.headers.get("Authorization")
        arrived = time.monotonic()
        status: int | None = None
        try:
            response = await self._answer(request, self._take(request))
            status = response.status
            return response
        finally:
            self.log.add(
                SeenRequest(
                    request.method, request.path, request.query_string, authorization, status, arrived
                )
            )

    async def _answer(self, request: web.Request, fault: Fault | None) -> web.StreamResponse:
        if fault is None:
            return respond(await self._forwarder.forward(request), method=request.method)
        if fault.kind == "status":
            headers = {}
            if fault.retry_after is not None:
                headers["Retry-After"] = fault.retry_after
            elif fault.retry_after_date_in is not None:
                when = time.time() + fault.retry_after_date_in
                headers["Retry-After"] = email.utils.formatdate(when, usegmt=True)
            code = "TOOMANYREQUESTS" if fault.status == 429 else "UNAVAILABLE"
            body = {"errors": [{"code": code, "message": f"injected {fault.status}"}]}
            return web.json_response(body, status=fault.status, headers=headers)
        if fault.kind == "stall":
            await asyncio.sleep(fault.seconds)
            return respond(await self._forwarder.forward(request), method=request.method)
        if fault.kind == "malformed-json":
            return web.Response(
                status=200, body=b'{"name": "x", "tags": ["0.1.0", ', content_type="application/json"
            )
        if fault.kind == "oversized":
            return await self._oversized(request, fault.size)
        if fault.kind == "disconnect":
            if request.transport is not None:
                request.transport.close()
            raise asyncio.CancelledError  # aiohttp drops the connection without an answer
        if fault.kind == "redirect":
            return web.Response(status=fault.status, headers={"Location": fault.target})
        if fault.kind == "bomb":
            body = await asyncio.to_thread(_bomb, fault.size, fault.layers)
            headers = {"Content-Type": "application/json", "Content-Encoding": fault.target}
            return web.Response(status=200, body=body, headers=headers)
        if fault.kind == "encoding":
            headers = {"Content-Type": "application/json", "Content-Encoding": fault.target}
            return web.Response(status=200, body=b"\x8b\x00\x80garbage", headers=headers)
        if fault.kind == "pages":
            return self._page(request, fault.count, pad=fault.size, last=fault.target == "last")
        forwarded = await self._forwarder.forward(request)
        if fault.kind == "link":
            forwarded.headers["Link"] = f'<{fault.target}>; rel="next"'
            return respond(forwarded, method=request.method)
        if fault.kind == "link-back":
            forwarded.headers["Link"] = f'<{request.path_qs}>; rel="next"'
            return respond(forwarded, method=request.method)
        if fault.kind == "digest":
            forwarded.headers["Docker-Content-Digest"] = fault.target
            return respond(forwarded, method=request.method)
        if fault.kind == "huge-header":
            forwarded.headers["X-Padding"] = "x" * fault.size
            return respond(forwarded, method=request.method)
        # realm: keep the upstream's service and scope, move the realm to another host.
        challenge = forwarded.headers.get("WWW-Authenticate", "")
        service = re.search(r'service="([^"]*)"', challenge)
        repository = request.path.removeprefix("/v2/").rsplit("/", 2)[0]
        header = (
            f'Bearer realm="{fault.target}",service="{service[1] if service else "registry"}",'
            f'scope="repository:{repository}:pull"'
        )
        body = {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}
        return web.json_response(body, status=401, headers={"WWW-Authenticate": header})

    def _page(self, request: web.Request, count: int, *, pad: int = 0, last: bool = False) -> web.Response:
        with self._lock:
            self._pages_sent += 1
            page = self._pages_sent
        tags = b",".join(_padded(b"%d.%d.0" % (page, i), pad) for i in range(count))
        body = (
            b'{"name": "'
            + request.path.split("/v2/", 1)[-1].rsplit("/tags/", 1)[0].encode()
            + b'", "tags": ['
        )
        headers = {"Content-Type": "application/json"}
        if not last:
            headers["Link"] = f'<{request.path}?n={count}&last={page}.{count - 1}.0>; rel="next"'
        return web.Response(status=200, body=body + tags + b"]}", headers=headers)

    async def _oversized(self, request: web.Request, size: int) -> web.StreamResponse:
        response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(b'{"name": "oversized", "tags": [')
        chunk = b",".join([b'"0.0.0-padding-padding-padding"'] * 2048)
        sent = 0
        while sent < size:
            await response.write(chunk + b",")
            sent += len(chunk) + 1
        await response.write(b'"1.0.0"]}')
        await response.write_eof()
        return response


@functools.lru_cache(maxsize=4)
def _padded(tag: bytes, length: int) -> bytes:
    """`"tag"`, or `"tag-xxx..."` of `length` characters when `length` is longer than the tag."""
    if length > len(tag) + 1:
        tag = tag + b"-" + b"x" * (length - len(tag) - 1)
    return b'"' + tag + b'"'


def _bomb(size: int, layers: int) -> bytes:
    """A tags document of `size` bytes (mostly spaces: valid JSON, if anyone inflated all of it),
    gzipped `layers` times. Built by streaming, so the front never holds `size` bytes itself."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [compressor.compress(b'{"name": "bomb", "tags": [')]
    block = b" " * (1024 * 1024)
    left = size
    while left > 0:
        parts.append(compressor.compress(block[: min(left, len(block))]))
        left -= len(block)
    parts.append(compressor.compress(json.dumps(["1.0.0"]).encode()[1:] + b"}"))
    parts.append(compressor.flush())
    data = b"".join(parts)
    for _ in range(layers - 1):
        data = zlib.compress(data, 9, wbits=16 + zlib.MAX_WBITS)
    return data


class RecordingServer(Served):
    """ "Another host": answers like a registry and a token service, and records who sent what.

    `/v2/<repo>/tags/list` -> one tag (`from-another-host`), `/v2/` -> 200, manifest HEAD/GET -> 200
    with a digest, `/token` (any path containing `token`) -> a token JSON. A client that honours
    the same-host rules never sends an Authorization header here; `log.authorizations()` proves it.
    """

    FAKE_DIGEST = "sha256:" + "0" * 64

    def __init__(self, *, hostname: str = "127.0.0.1") -> None:
        self.hostname = hostname
        self.log = RequestLog()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._server = BackgroundServer(app, name="recording-server")

    @property
    def host(self) -> str:
        return f"{self.hostname}:{self._server.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}"

    def credentials_seen(self) -> list[str]:
        """Every Authorization header received (empty when nobody leaked anything here)."""
        return [a for a in self.log.authorizations() if a is not None]

    async def _handle(self, request: web.Request) -> web.Response:
        path = request.path
        if path.endswith("/tags/list"):
            name = path.removeprefix("/v2/").removesuffix("/tags/list")
            response = web.json_response({"name": name, "tags": ["from-another-host"]})
        elif "token" in path:
            response = web.json_response({"token": "token-from-another-host", "expires_in": 300})
        elif "/manifests/" in path:
            response = web.Response(
                status=200,
                headers={
                    "Docker-Content-Digest": self.FAKE_DIGEST,
                    "Content-Type": "application/vnd.oci.image.manifest.v1+json",
                },
            )
        else:
            response = web.json_response({})
        self.log.add(
            SeenRequest(request.method, path, request.query_string, request.headers.get("Authorization"), 200)
        )
        return response
