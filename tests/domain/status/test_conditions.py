"""Ready, Degraded and MaxModelsLimitReached and their transition times: `domain/status/conditions.py`,
through `build_status`."""

from __future__ import annotations

from datetime import timedelta

from aimsource.domain.status.build import format_time, status_changed
from tests.domain.status.builders import NOT_FOUND, T0, T1, models, outcomes_for, planned, status_of


def test_last_transition_time_moves_only_when_a_condition_flips() -> None:
    ok = outcomes_for({"org/a": ["1.0.0"], "org/b": ["1.0.0"]})
    first = status_of(ok, planned(ok), now=T0)
    broken = outcomes_for({"org/a": ["1.0.0"], "org/b": NOT_FOUND})
    second = status_of(
        broken, planned(broken, models("org/a:1.0.0", "org/b:1.0.0"), owned=2), previous=first, now=T1
    )
    times = {c["type"]: c["lastTransitionTime"] for c in second["conditions"]}
    assert times == {
        "Ready": format_time(T1),
        "Degraded": format_time(T1),
        "MaxModelsLimitReached": format_time(T0),
    }
    third = status_of(
        broken,
        planned(broken, models("org/a:1.0.0", "org/b:1.0.0"), owned=2),
        previous=second,
        now=T1 + timedelta(hours=1),
    )
    assert {c["type"]: c["lastTransitionTime"] for c in third["conditions"]} == times
    assert not status_changed(second, third)
