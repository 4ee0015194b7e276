"""A front that makes a real docker-registry answer like Docker Hub on rate limits.

Every answer carries Docker Hub's `ratelimit-limit` / `ratelimit-remaining` headers, and the first
`throttle` tag listings are refused with `429` and `Retry-After: 0`, as Docker Hub does when a
window's quota is spent - so that the operator's quota and rate-limit-wait metrics have data.
"""

from __future__ import annotations

import threading

from aiohttp import web

from tests.support.proxying import Forwarder, Upstream, respond
from tests.support.serving import BackgroundServer

LIMIT = 100
REMAINING = 76


def docker_hub_front(upstream: str, *, throttle: int) -> BackgroundServer:
    forwarder = Forwarder(Upstream(upstream))
    lock = threading.Lock()
    left = [throttle]
    quota = {"ratelimit-limit": f"{LIMIT};w=21600", "ratelimit-remaining": f"{REMAINING};w=21600"}

    async def handle(request: web.Request) -> web.StreamResponse:
        if request.path.endswith("/tags/list"):
            with lock:
                refuse = left[0] > 0
                left[0] -= refuse
            if refuse:
                body = {"errors": [{"code": "TOOMANYREQUESTS", "message": "rate limit exceeded"}]}
                return web.json_response(body, status=429, headers={"Retry-After": "0", **quota})
        response = respond(await forwarder.forward(request), method=request.method)
        response.headers.update(quota)
        return response

    app = web.Application()
    app.on_startup.append(forwarder.on_startup)
    app.on_cleanup.append(forwarder.on_cleanup)
    app.router.add_route("*", "/{tail:.*}", handle)
    return BackgroundServer(app, name="docker-hub-front")
