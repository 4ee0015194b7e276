"""HTTP endpoints for the platform: `/metrics` for Prometheus, `/healthz` and `/readyz` for kubelet.

`/healthz` answers as long as the event loop runs (a wedged loop cannot answer, and the pod is
restarted). `/readyz` answers 200 once kopf has started watching and the leadership loop runs -
a standby is ready too: it keeps its index warm and takes over when the leader goes. Both are
served by aiohttp on the loop the operator runs on; with equal ports one server serves all three.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from aimsource.operator.metrics import Metrics


class EndpointError(Exception):
    """A port could not be bound; the message names it."""


@dataclass(frozen=True)
class Readiness:
    ready: bool
    reason: str


class Guarded(Protocol):
    """How a server with bounded connections is served (`webhook.connections.ConnectionGuards`)."""

    @property
    def keepalive_timeout(self) -> float: ...

    def site(self, runner: web.BaseRunner, host: str, port: int) -> web.BaseSite: ...


def build_apps(
    *, metrics: Metrics, readiness: Callable[[], Readiness], metrics_port: int, health_port: int
) -> dict[int, web.Application]:
    """One aiohttp application per distinct non-zero port."""

    async def metrics_view(_: web.Request) -> web.Response:
        body, content_type = metrics.render()
        return web.Response(body=body, headers={"Content-Type": content_type})

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(_: web.Request) -> web.Response:
        state = readiness()
        return web.Response(text=state.reason + "\n", status=200 if state.ready else 503)

    apps: dict[int, web.Application] = {}

    def app_for(port: int) -> web.Application:
        if port not in apps:
            apps[port] = web.Application()
        return apps[port]

    if metrics_port:
        app_for(metrics_port).router.add_get("/metrics", metrics_view)
    if health_port:
        app = app_for(health_port)
        app.router.add_get("/healthz", healthz)
        app.router.add_get("/readyz", readyz)
    return apps


async def start_endpoints(
    apps: dict[int, web.Application], *, host: str, guarded: Mapping[int, Guarded] | None = None
) -> list[web.AppRunner]:
    """Bind every application; EndpointError when a port is taken. A port in `guarded` is served
    through its guard's site (deadlines, a cap on connections) with its keep-alive timeout, and a
    handler is cancelled when its client goes away."""
    runners: list[web.AppRunner] = []
    try:
        for port, app in apps.items():
            guard = (guarded or {}).get(port)
            if guard is None:
                runner = web.AppRunner(app, access_log=None)
            else:
                runner = web.AppRunner(
                    app, access_log=None, keepalive_timeout=guard.keepalive_timeout, handler_cancellation=True
                )
            await runner.setup()
            runners.append(runner)
            site = web.TCPSite(runner, host, port) if guard is None else guard.site(runner, host, port)
            try:
                await site.start()
            except OSError as exc:
                raise EndpointError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    except BaseException:
        await stop_endpoints(runners)
        raise
    return runners


async def stop_endpoints(runners: list[web.AppRunner]) -> None:
    for runner in runners:
        await runner.cleanup()
