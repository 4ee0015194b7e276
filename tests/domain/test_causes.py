"""What is logged of a cause an error drops because it could carry a secret."""

from __future__ import annotations

import base64
import binascii
import json
import logging

import pytest
import yaml

from aimsource.domain.causes import dropping_cause, redacted

SECRET = "XYZZY-s3cr3t-password"


def raised(call: object) -> BaseException:
    try:
        call()  # type: ignore[operator]
    except Exception as exc:
        return exc
    raise AssertionError("nothing raised")


def test_a_json_error_says_where_decoding_stopped_not_what_it_read() -> None:
    cause = raised(lambda: json.loads('{"auths": {"x": {"auth": "' + SECRET))
    assert SECRET in cause.doc  # type: ignore[attr-defined]  # what makes it a secret carrier
    assert redacted(cause) == "Unterminated string starting at: line 1 column 26"


def test_a_unicode_error_says_where_not_the_bytes() -> None:
    cause = raised(lambda: (b"user:" + SECRET.encode() + b"\xff").decode("utf-8"))
    assert redacted(cause) == f"invalid start byte at byte {len(SECRET) + 5}"


def test_a_yaml_error_gives_its_problem_and_line_not_the_quoted_document() -> None:
    cause = raised(lambda: yaml.safe_load(f"users:\n- token: {SECRET}: x\n"))
    assert SECRET in str(cause)
    assert redacted(cause) == "mapping values are not allowed here at line 2"


def test_an_os_error_gives_its_reason_only() -> None:
    cause = raised(lambda: open(f"/nonexistent/{SECRET}"))  # noqa: SIM115
    assert redacted(cause) == "No such file or directory"


@pytest.mark.parametrize(
    "message",
    [
        f"cannot connect to https://robot:{SECRET}@registry.example/v2/?token=abc",
        f"header 'Authorization: Basic {SECRET}' refused",
        f'got "{SECRET}"',
        f"value {base64.b64encode(SECRET.encode()).decode()} rejected",
        f"first line is fine\nsecond line has {SECRET}",
    ],
    ids=["url", "single-quoted", "double-quoted", "token-shaped", "second-line"],
)
def test_other_messages_lose_urls_quotes_and_token_shaped_text(message: str) -> None:
    text = redacted(ValueError(message))
    assert "XYZZY" not in text
    assert base64.b64encode(SECRET.encode()).decode() not in text


def test_a_message_without_secrets_is_kept() -> None:
    assert redacted(binascii.Error("Incorrect padding")) == "Incorrect padding"


def test_long_messages_are_bounded() -> None:
    assert len(redacted(ValueError("no " * 500))) == 200


def test_dropping_cause_logs_at_debug_and_returns_the_error(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("aimsource.test")
    cause = raised(lambda: json.loads(SECRET + "}"))
    error = RuntimeError("the document is not valid JSON")
    with caplog.at_level(logging.DEBUG, logger="aimsource.test"):
        assert dropping_cause(error, cause, logger) is error
    [record] = caplog.records
    assert record.levelno == logging.DEBUG
    assert (record.raised, record.cause) == ("RuntimeError", "JSONDecodeError")  # type: ignore[attr-defined]
    assert record.detail == "Expecting value: line 1 column 1"  # type: ignore[attr-defined]
    assert "XYZZY" not in str(vars(record))


def test_nothing_is_logged_above_debug(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("aimsource.test")
    with caplog.at_level(logging.INFO, logger="aimsource.test"):
        dropping_cause(RuntimeError("x"), ValueError("y"), logger)
    assert caplog.records == []
