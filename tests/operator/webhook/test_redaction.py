"""What the webhook server logs when clients misbehave: never the token, never a traceback."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator

import pytest

from aimsource.operator.endpoints import start_endpoints, stop_endpoints
from aimsource.operator.metrics import Metrics
from aimsource.operator.webhook.receiver import Receiver
from aimsource.operator.webhook.redaction import REDACTED, redact
from tests.support.serving import free_port

TOKEN = "wh-5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e"


@pytest.fixture
async def port() -> AsyncIterator[int]:
    metrics = Metrics()
    port = free_port()
    receiver = Receiver(
        token=lambda: TOKEN.encode(),
        leading=lambda: True,
        on_pushes=lambda pushes: 1,
        count=metrics.webhook_request,
    )
    runners = await start_endpoints({port: receiver.app()}, host="127.0.0.1", guarded={port: receiver.guards})
    try:
        yield port
    finally:
        await stop_endpoints(runners)


async def send(port: int, data: bytes, *, read: bool = True) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(4096), 5) if read else b""
    writer.close()
    await asyncio.gather(writer.wait_closed(), return_exceptions=True)
    return answer


def server_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith(("aiohttp", "asyncio", "aimsource"))]


@pytest.mark.parametrize(
    "line",
    [
        f"P\x00ST /hooks/generic/{TOKEN} HTTP/1.1\r\n\r\n".encode(),  # a bad method
        f"POST /hooks/generic/{TOKEN} HTTP/9.9\r\n\r\n".encode(),  # a bad version
        f"POST /hooks/generic/{TOKEN}{'x' * 9000} HTTP/1.1\r\n\r\n".encode(),  # an over-long line
        f"POST /hooks/generic/{TOKEN} HTTP/1.1\r\nX: {'y' * 9000}\r\n\r\n".encode(),  # an over-long header
        f"POST /hooks/generic/{TOKEN} HTTP/1.1\r\nContent-Length: zz\r\n\r\n".encode(),
    ],
    ids=["bad-method", "bad-version", "long-line", "long-header", "bad-length"],
)
async def test_a_malformed_request_is_logged_without_the_token_or_a_traceback(
    port: int, line: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    answer = await send(port, line)
    assert answer.startswith((b"HTTP/1.0 4", b"HTTP/1.1 4"))
    records = server_records(caplog)
    assert records, "aiohttp logged nothing: the case tests nothing"
    for record in records:
        text = record.getMessage() + repr(record.__dict__)
        assert TOKEN not in text
        assert TOKEN[:12] not in text
        assert record.exc_info is None
        assert "\n" not in record.getMessage()


async def test_a_client_leaving_mid_body_costs_one_line_and_no_traceback(
    port: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = json.dumps({"registry": "ghcr.io", "repository": "amd/llama", "tag": "1.2.0"}).encode()
    head = f"POST /hooks/generic/{TOKEN} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n"
    for _ in range(10):
        await send(port, head.encode() + body[:5], read=False)
    await asyncio.sleep(0.3)
    records = server_records(caplog)
    assert all(r.exc_info is None for r in records)
    assert all("\n" not in r.getMessage() for r in records)
    assert len(records) <= 10 * 2
    assert not any("Traceback" in r.getMessage() for r in records)


def test_redact_hides_the_path_after_the_provider_and_the_token_anywhere() -> None:
    token = TOKEN.encode()
    line = f"b'POST /hooks/generic/{TOKEN} HTTP/1.1'"
    assert redact(line, token) == f"b'POST /hooks/generic/{REDACTED} HTTP/1.1'"
    assert redact(f"/hooks/{TOKEN}", token) == f"/hooks/{REDACTED}"
    assert redact(f"token {TOKEN} seen", token) == f"token {REDACTED} seen"
    assert redact("/hooks/quay/abc%2Fdef?x=1 rest", None) == f"/hooks/quay/{REDACTED} rest"


def test_an_asyncio_record_keeps_its_traceback_redacted(port: int) -> None:
    record = logging.LogRecord("asyncio", logging.ERROR, __file__, 1, "Task exception: %s", ("x",), None)
    try:
        raise RuntimeError(f"failed on POST /hooks/generic/{TOKEN}")
    except RuntimeError as exc:
        record.exc_info = (type(exc), exc, exc.__traceback__)
    for installed in logging.getLogger("asyncio").filters:
        installed.filter(record)
    text = logging.Formatter().format(record)
    assert "Traceback" in text
    assert TOKEN not in text
    assert f"/hooks/generic/{REDACTED}" in text
