"""Bounded, redacted messages and RFC 3339 times: `domain/status/text.py`, through `build_status`."""

from __future__ import annotations

from aimsource.domain.selection.selectors import SelectorError
from tests.domain.status.builders import condition, outcomes_for, planned, refused_plan, status_of


def test_messages_are_truncated_and_redacted() -> None:
    secret = SelectorError(
        "AuthenticationFailed", "https://user:s3cret@ghcr.io/v2/ said no; Basic dXNlcjpzM2NyZXQ="
    )
    long = SelectorError("BadResponse", "x" * 3000)
    outcomes = outcomes_for({"ghcr.io/org/a": secret, "ghcr.io/org/b": long})
    status = status_of(outcomes, planned(outcomes))
    message = condition(status, "Degraded")["message"]
    assert len(message) == 1024
    assert message.endswith("...")
    for text in (message, status["selectors"][0]["error"]["message"]):
        assert "s3cret" not in text
        assert "dXNlcjpzM2NyZXQ=" not in text
        assert "***@ghcr.io" in text
    assert len(status["selectors"][1]["error"]["message"]) == 1024


def test_listed_conflicts_and_refusals_are_bounded_for_the_whole_source() -> None:
    images = {f"org/m{i}": [f"1.{j}.0" for j in range(15)] for i in range(3)}
    outcomes = outcomes_for(images)
    plan = planned(outcomes)
    long = "head " + "x" * 5000 + " verdict"
    status = status_of(outcomes, refused_plan(outcomes, {c.image: ("Invalid", long) for c in plan.to_create}))
    entries = [e for s in status["selectors"] for e in s.get("refused", [])]
    assert len(entries) == 20
    # The middle is cut: an API server gives its verdict at the end of its message.
    assert all(len(e["message"]) == 256 for e in entries)
    assert all(e["message"].startswith("head x") and e["message"].endswith("x verdict") for e in entries)
    assert all(" ... " in e["message"] for e in entries)
    degraded = condition(status, "Degraded")
    assert degraded["message"].startswith("45 selected images have no model: ")
    assert len(degraded["message"]) == 1024


def test_a_refusal_message_shaped_like_a_credential_is_redacted() -> None:
    outcomes = outcomes_for({"org/a": ["1.0.0"]})
    plan = refused_plan(outcomes, {"org/a:1.0.0": ("Invalid", "bad header Bearer abcdefghijklmnop")})
    status = status_of(outcomes, plan)
    [entry] = status["selectors"][0]["refused"]
    assert entry["message"] == "bad header Bearer ***"
    assert "abcdefghijklmnop" not in str(status)
