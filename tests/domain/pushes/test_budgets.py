"""The push HEAD budgets and the memory of missing tags, on a clock the test moves."""

from __future__ import annotations

from aimsource.domain.pushes.budgets import PushBudget, PushLimits


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_source_gets_its_burst_then_its_rate() -> None:
    clock = Clock()
    budget = PushBudget(PushLimits(heads_per_source=3, heads_per_registry=100), clock)
    assert [budget.take(source="a", registry="r") for _ in range(4)] == [True, True, True, False]
    assert budget.take(source="b", registry="r")  # another source has its own
    clock.now += 20  # a third of a minute: one HEAD back
    assert budget.take(source="a", registry="r")
    assert not budget.take(source="a", registry="r")


def test_the_registry_bounds_all_sources_together() -> None:
    clock = Clock()
    budget = PushBudget(PushLimits(heads_per_source=10, heads_per_registry=4), clock)
    taken = [budget.take(source=f"s{i}", registry="r") for i in range(6)]
    assert taken == [True] * 4 + [False] * 2
    assert budget.take(source="s9", registry="other")


def test_a_refusal_by_the_registry_spends_nothing_of_the_source() -> None:
    clock = Clock()
    budget = PushBudget(PushLimits(heads_per_source=2, heads_per_registry=1), clock)
    assert budget.take(source="a", registry="r")
    assert not budget.take(source="a", registry="r")
    assert budget.take(source="a", registry="other")  # a's second HEAD was not spent on the refusal


def test_a_missing_tag_is_remembered_for_a_while_and_the_table_is_bounded() -> None:
    clock = Clock()
    budget = PushBudget(PushLimits(missing_for=60, max_remembered=2), clock)
    budget.found_missing("x")
    assert budget.missing("x")
    clock.now += 59
    assert budget.missing("x")
    clock.now += 1
    assert not budget.missing("x")
    for key in ("a", "b", "c"):
        budget.found_missing(key)
    assert len(budget) == 2
    assert not budget.missing("a")
    assert budget.missing("c")
