"""/metrics, /healthz and /readyz, served on one port or two."""

from __future__ import annotations

import httpx
import pytest

from aimsource.operator.endpoints import EndpointError, Readiness, build_apps, start_endpoints, stop_endpoints
from aimsource.operator.metrics import Metrics
from tests.support.serving import free_port


async def test_health_and_metrics_on_one_port() -> None:
    state = Readiness(False, "not watching yet")
    port = free_port()
    runners = await start_endpoints(
        build_apps(metrics=Metrics(), readiness=lambda: state, metrics_port=port, health_port=port),
        host="127.0.0.1",
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            assert (await client.get("/healthz")).status_code == 200
            not_ready = await client.get("/readyz")
            assert (not_ready.status_code, not_ready.text) == (503, "not watching yet\n")
            state = Readiness(True, "standby")
            ready = await client.get("/readyz")
            assert (ready.status_code, ready.text) == (200, "standby\n")
            metrics = await client.get("/metrics")
            assert 'aimsource_sources{status="Ready"} 0.0' in metrics.text
    finally:
        await stop_endpoints(runners)


def test_zero_ports_serve_nothing() -> None:
    assert (
        build_apps(metrics=Metrics(), readiness=lambda: Readiness(True, ""), metrics_port=0, health_port=0)
        == {}
    )


async def test_a_taken_port_is_a_clear_error() -> None:
    port = free_port()
    apps = build_apps(
        metrics=Metrics(), readiness=lambda: Readiness(True, ""), metrics_port=port, health_port=0
    )
    runners = await start_endpoints(apps, host="127.0.0.1")
    try:
        again = build_apps(
            metrics=Metrics(), readiness=lambda: Readiness(True, ""), metrics_port=port, health_port=0
        )
        with pytest.raises(EndpointError, match=f"cannot listen on 127.0.0.1:{port}"):
            await start_endpoints(again, host="127.0.0.1")
    finally:
        await stop_endpoints(runners)
