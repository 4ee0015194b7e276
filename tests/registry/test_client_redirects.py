"""A registry on the network redirecting the client to this machine or its link: refused.

The registry here answers on the machine's own network address (not loopback), as a registry
elsewhere would; its redirects point at a recording server on 127.0.0.1 or at the link-local
metadata address. Nothing may reach them. Skipped where the machine has no non-loopback address.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from aimsource.domain.references import ImageRef
from aimsource.registry.client import RegistryClient
from aimsource.registry.errors import BadResponse
from aimsource.registry.settings import RegistrySettings
from tests.support.faults import RecordingServer


def network_address() -> str | None:
    """This machine's address on its network (no packet is sent: a UDP socket is only routed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") or address == "0.0.0.0" else address


ADDRESS = network_address()
pytestmark = pytest.mark.skipif(ADDRESS is None, reason="no non-loopback address to serve a registry on")


@pytest.fixture
def recording() -> AsyncIterator[RecordingServer]:
    with RecordingServer() as server:
        yield server


async def redirecting(target: str) -> tuple[web.AppRunner, str]:
    """A registry on the network address whose every answer is a redirect to `target`."""

    async def answer(request: web.Request) -> web.Response:
        if request.path == "/v2/":
            return web.json_response({})
        raise web.HTTPTemporaryRedirect(target)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    assert ADDRESS is not None
    site = web.TCPSite(runner, ADDRESS, 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"{ADDRESS}:{port}"


@pytest.mark.parametrize("where", ["loopback", "metadata"])
async def test_a_redirect_to_an_internal_address_is_refused(recording: RecordingServer, where: str) -> None:
    target = (
        f"{recording.base_url}/v2/amd/llama/tags/list"
        if where == "loopback"
        else "http://169.254.169.254/latest/meta-data/"
    )
    runner, host = await redirecting(target)
    try:
        settings = RegistrySettings(max_attempts=1, call_deadline=10.0, insecure=frozenset({host}))
        async with RegistryClient(settings) as client:
            with pytest.raises(BadResponse, match="refused \\(a loopback or link-local address\\)"):
                await client.list_tags(ImageRef(host, "amd/llama"), credential=None)
            with pytest.raises(BadResponse, match="loopback or link-local"):
                await client.manifest_digest(ImageRef(host, "amd/llama", "1.0"), credential=None)
    finally:
        await runner.cleanup()
    assert recording.log.count() == 0
