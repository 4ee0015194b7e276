"""The webhook token read from its Secret: loaded, kept through API trouble, cleared when gone."""

from __future__ import annotations

import logging

import pytest

from aimsource.kube import KubeError, SecretError
from aimsource.operator.webhook.token import WebhookToken

TOKEN = b"tok-0123456789abcdef"


class Reader:
    def __init__(self) -> None:
        self.answer: bytes | Exception = TOKEN + b"\n"

    async def __call__(self) -> bytes:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


async def test_the_token_is_loaded_stripped_and_rotated(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    reader = Reader()
    token = WebhookToken(reader)
    assert token.current() is None
    await token.load()
    assert token.current() == TOKEN
    reader.answer = b"rotated-token"
    await token.load()
    assert token.current() == b"rotated-token"
    assert "webhook token loaded" in caplog.messages
    assert "tok-0123" not in caplog.text
    assert "rotated-token" not in caplog.text


async def test_an_api_failure_keeps_the_last_good_token() -> None:
    reader = Reader()
    token = WebhookToken(reader)
    await token.load()
    reader.answer = KubeError("GET /api/v1/...: 503")
    await token.load()
    assert token.current() == TOKEN


@pytest.mark.parametrize("answer", [SecretError('Secret "aimsource-webhook" not found'), b"  \n"])
async def test_a_secret_gone_or_empty_clears_the_token(
    answer: bytes | Exception, caplog: pytest.LogCaptureFixture
) -> None:
    reader = Reader()
    token = WebhookToken(reader)
    await token.load()
    reader.answer = answer
    await token.load()
    assert token.current() is None
    assert "webhook token unavailable: requests are answered 503" in caplog.messages
