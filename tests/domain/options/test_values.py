"""The value syntax of flags and variables: each parser's reason quotes the text, never its origin
(the CLI adds that: tests/cli/test_values.py)."""

from __future__ import annotations

import pytest

from aimsource.domain.options import values


@pytest.mark.parametrize(
    ("parse", "text", "value"),
    [
        (values.positive_int, "8", 8),
        (values.rate, "0", 0.0),
        (values.port, "0", 0),
        (values.duration, "1h30m", 5400.0),
        (values.positive_duration, "500ms", 0.5),
        (values.boolean, "Yes", True),
        (values.boolean, "", False),
        (values.secret_name, "aimsource-webhook", "aimsource-webhook"),
        (values.log_format, "json", "json"),
        (values.log_level, "debug", "DEBUG"),
    ],
)
def test_good_text_is_read(parse: values.Parser[object], text: str, value: object) -> None:
    assert parse(text) == value


@pytest.mark.parametrize(
    ("parse", "text", "reason"),
    [
        (values.positive_int, "0", "must be at least 1, got '0'"),
        (values.rate, "nan", "must not be negative, got 'nan'"),
        (values.port, "65536", "a port is between 0 and 65535, got '65536'"),
        (values.duration, "soon", "expected a duration such as 30s, 1m or 1h30m, got 'soon'"),
        (values.positive_duration, "0s", "must be more than zero, got '0s'"),
        (values.boolean, "maybe", "expected true or false, got 'maybe'"),
        (values.secret_name, "a..b", "expected a Secret name"),
        (values.log_format, "xml", "expected text or json, got 'xml'"),
        (values.log_level, "loud", "expected DEBUG, INFO, WARNING, ERROR or CRITICAL, got 'loud'"),
    ],
)
def test_bad_text_says_why_and_quotes_it(parse: values.Parser[object], text: str, reason: str) -> None:
    with pytest.raises(values.InvalidValueError) as caught:
        parse(text)
    assert str(caught.value).startswith(reason)


def test_a_comma_list_drops_empty_entries() -> None:
    assert values.comma_list(" a, b,,c ,") == ["a", "b", "c"]
