"""Log lines carry the source being synced; JSON lines are parseable; the text form is readable."""

from __future__ import annotations

import json
import logging

import pytest

from aimsource.operator.logs import JsonFormatter, SourceFilter, TextFormatter, source_context


def record(message: str, **extra: object) -> logging.LogRecord:
    rec = logging.LogRecord("aimsource.sync", logging.INFO, __file__, 1, message, None, None)
    rec.__dict__.update(extra)
    SourceFilter().filter(rec)
    return rec


def test_lines_inside_a_sync_carry_its_source() -> None:
    with source_context("amd-models"):
        inside = record("sync started")
    outside = record("operator starting")
    assert (inside.source, outside.source) == ("amd-models", "-")  # type: ignore[attr-defined]


def test_json_line_has_fixed_fields_and_extras() -> None:
    with source_context("amd-models"):
        line = JsonFormatter().format(record("sync finished", status="Ready", models_created=2))
    data = json.loads(line)
    assert {k: data[k] for k in ("level", "logger", "source", "message", "status", "models_created")} == {
        "level": "INFO",
        "logger": "aimsource.sync",
        "source": "amd-models",
        "message": "sync finished",
        "status": "Ready",
        "models_created": 2,
    }
    assert data["time"].endswith("Z")


def test_text_line_shows_source_and_extras() -> None:
    line = TextFormatter().format(record("sync finished", source="s1", status="Failed"))
    assert line.endswith("INFO    [s1] sync finished status=Failed")


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_exceptions_are_rendered(fmt: str) -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        import sys

        rec = record("sync crashed")
        rec.exc_info = sys.exc_info()
    formatter = JsonFormatter() if fmt == "json" else TextFormatter()
    assert "RuntimeError: boom" in formatter.format(rec)
