"""The contest memory: one announcement per contest, a log line on entering and on leaving it."""

from __future__ import annotations

import datetime
import logging
from typing import Any

import pytest

from aimsource.operator.coexistence.contests import EVENT_REASON, Contests

NOW = datetime.datetime(2026, 11, 29, 12, 0, 0, tzinfo=datetime.UTC).timestamp()


def source(*writers: tuple[str, float], interval: str = "1m") -> dict[str, Any]:
    """A watched source whose status was written by each (manager, epoch seconds)."""
    fields = [
        {
            "manager": "kubectl-create",
            "operation": "Update",
            "time": stamp(NOW - 3600),
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:spec": {}},
        }
    ]
    for manager, when in writers:
        fields.append(
            {
                "manager": manager,
                "operation": "Update",
                "subresource": "status",
                "time": stamp(when),
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:status": {}},
            }
        )
    return {"metadata": {"name": "src", "managedFields": fields}, "spec": {"syncInterval": interval}}


def stamp(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Counts(list[int]):
    def __call__(self, count: int) -> None:
        self.append(count)


@pytest.fixture
def counts() -> Counts:
    return Counts()


@pytest.fixture
def contests(counts: Counts) -> Contests:
    return Contests(ours="aimsource", window=600.0, on_count=counts)


def test_a_contest_is_announced_once_and_rechecked_when_it_would_lapse(
    contests: Contests, counts: Counts, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="aimsource.operator")
    first = contests.check("src", source(("aim-operator", NOW - 10)), NOW)
    assert first.contested
    assert first.event is not None
    assert (first.event.type, first.event.reason) == ("Warning", EVENT_REASON)
    assert '"aim-operator"' in first.event.message
    assert "10m" in first.event.message
    assert first.until == NOW - 10 + 600
    assert contests.recheck_at("src") == first.until
    # The other controller writes again: still the same contest, nothing more to announce.
    again = contests.check("src", source(("aim-operator", NOW + 50)), NOW + 60)
    assert again.contested
    assert again.event is None
    assert again.until == NOW + 50 + 600
    assert counts == [1]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "source managed by another controller: aimsource stands down"
    ]
    assert warnings[0].__dict__["manager"] == "aim-operator"


def test_the_source_is_taken_back_once_the_writes_stopped_for_the_window(
    contests: Contests, counts: Counts, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="aimsource.operator")
    body = source(("aim-operator", NOW))
    assert contests.check("src", body, NOW + 599).contested
    after = contests.check("src", body, NOW + 601)
    assert not after.contested
    assert after.event is None
    assert contests.recheck_at("src") is None
    assert counts == [1, 0]
    assert "competing controller stopped writing: aimsource manages the source again" in caplog.messages
    # A new contest later is a new announcement.
    assert contests.check("src", source(("aim-operator", NOW + 700)), NOW + 700).event is not None
    assert counts == [1, 0, 1]


def test_the_window_stretches_to_two_sync_intervals(contests: Contests) -> None:
    body = source(("aim-operator", NOW), interval="1h")
    assert contests.check("src", body, NOW + 7199).contested
    assert not contests.check("src", body, NOW + 7201).contested


def test_a_different_manager_is_a_new_contest(contests: Contests) -> None:
    assert contests.check("src", source(("aim-operator", NOW)), NOW).event is not None
    other = contests.check("src", source(("aim-operator", NOW - 100), ("someone-else", NOW + 5)), NOW + 10)
    assert other.event is not None
    assert '"someone-else"' in other.event.message


def test_our_own_writes_and_spec_writers_never_contest(contests: Contests, counts: Counts) -> None:
    assert not contests.check("src", source(("aimsource", NOW)), NOW).contested
    assert counts == []


def test_contending_turns_detection_off(counts: Counts) -> None:
    contests = Contests(ours="aimsource", window=600.0, enabled=False, on_count=counts)
    assert not contests.check("src", source(("aim-operator", NOW)), NOW).contested
    assert counts == []


def test_a_deleted_source_leaves_the_count(contests: Contests, counts: Counts) -> None:
    contests.check("a", source(("aim-operator", NOW)), NOW)
    contests.check("b", source(("aim-operator", NOW)), NOW)
    contests.forget("a")
    contests.forget("never-seen")
    assert counts == [1, 2, 1]
    assert contests.recheck_at("a") is None
    assert contests.recheck_at("b") is not None


def test_a_manager_name_cannot_smuggle_control_characters_into_the_event(contests: Contests) -> None:
    verdict = contests.check("src", source(("evil\nmanager\x1b[31m", NOW)), NOW)
    assert verdict.event is not None
    assert "\n" not in verdict.event.message
    assert "\x1b" not in verdict.event.message
    assert "evil?manager?[31m" in verdict.event.message


def test_fresh_tells_an_unannounced_contest_without_announcing_it(contests: Contests, counts: Counts) -> None:
    body = source(("aim-operator", NOW))
    assert contests.fresh("src", body, NOW)
    assert contests.fresh("src", body, NOW)  # read only
    assert counts == []
    contests.check("src", body, NOW)
    assert not contests.fresh("src", body, NOW + 1)
    assert contests.fresh("src", source(("aim-operator", NOW), ("another", NOW + 2)), NOW + 3)
    assert not contests.fresh("src", source(("aimsource", NOW)), NOW)
    disabled = Contests(ours="aimsource", window=600.0, enabled=False)
    assert not disabled.fresh("src", body, NOW)
