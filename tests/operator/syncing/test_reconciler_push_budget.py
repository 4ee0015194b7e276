"""What a flood of pushes costs the registry: bounded per source and registry per minute, one HEAD
per image shared by the sources a push covers, a missing tag not asked for twice, and the full
syncs of other sources on the same registry on their schedule.

Ten simulated minutes on the reconciler's clock, against the emulated API server; the registry is
the recording double, which counts every listing and HEAD. Run with `-s` for the figures.
"""

from __future__ import annotations

import itertools

from aimsource.domain.pushes.budgets import PushLimits
from aimsource.operator.scheduling.schedule import Policy
from aimsource.operator.syncing.reconciler import Reconciler
from tests.operator.reconciler_harness import REGISTRY, REPO, REPOSITORY, SOURCES, Harness, pushed

OTHER = f"{REGISTRY}/org/other"
COVERING = ("a", "b", "c")


def create(harness: Harness, name: str, image: str, interval: str) -> None:
    harness.api.create(
        SOURCES,
        {
            "apiVersion": "aim.eai.amd.com/v1alpha1",
            "kind": "AIMClusterModelSource",
            "metadata": {"name": name},
            "spec": {"images": [image], "syncInterval": interval, "maxModels": 1000},
        },
    )


async def run_due(harness: Harness, log: list[tuple[float, str, list[tuple[str, str]]]]) -> None:
    """What the workers would do this second: sync every due source, then reschedule it."""
    r: Reconciler = harness.reconciler
    for name in sorted(r.table):
        due = r.queue.due(name)
        if due is None or due > harness.clock.now:
            continue
        before = len(harness.lister.calls)
        await r.sync_one(name)
        calls = [(kind, ref) for kind, ref, _ in harness.lister.calls[before:]]
        log.append((harness.clock.now, name, calls))
        harness.reconciler.on_source_event("MODIFIED", harness.api.get(SOURCES, name))


async def settle(harness: Harness) -> None:
    harness.lister.tags[OTHER] = ["2.0.0"]
    for name in COVERING:
        create(harness, name, REPO, "1h")
    create(harness, "d", OTHER, "2m")
    for name in (*COVERING, "d"):
        harness.reconciler.on_source_event("ADDED", harness.api.get(SOURCES, name))
    harness.clock.now += 60
    await run_due(harness, [])
    harness.watch("d")
    for name in COVERING:
        harness.reconciler.on_source_event("MODIFIED", harness.api.get(SOURCES, name))
    for name in (*COVERING, "d"):
        assert harness.api.get(SOURCES, name)["status"]["status"] == "Ready"
    harness.lister.calls.clear()


def per_minute(log: list[tuple[float, str, list[tuple[str, str]]]], start: float, kind: str) -> list[int]:
    counts = [0] * 10
    for at, name, calls in log:
        if name in COVERING:
            counts[min(9, int((at - start) // 60))] += sum(1 for k, _ in calls if k == kind)
    return counts


async def test_a_thousand_pushes_of_made_up_tags_cost_a_bounded_number_of_requests(harness: Harness) -> None:
    await settle(harness)
    start = harness.clock.now
    log: list[tuple[float, str, list[tuple[str, str]]]] = []
    pushes = 0
    for second in range(600):
        harness.clock.now = start + second
        while pushes < 1000 and pushes * 0.6 <= second:  # 1,000 pushes spread over ten minutes
            harness.reconciler.on_pushes([pushed(f"9.{pushes}.0")])  # versions a selector selects
            if pushes % 7 == 0:
                harness.reconciler.on_pushes([pushed("9.0.0")])  # the same made-up tag, again and again
            pushes += 1
        await run_due(harness, log)

    heads = per_minute(log, start, "head")
    lists = per_minute(log, start, "list")
    limits = PushLimits()
    print(
        f"\n1,000 pushes of made-up tags over 10 min, 3 sources covering the repository:"
        f"\n  HEADs per minute (all 3): {heads}\n  listings per minute (all 3): {lists}"
        f"\n  worst minute: {max(h + li for h, li in zip(heads, lists, strict=True))} requests"
        f" = {max(h + li for h, li in zip(heads, lists, strict=True)) / 3:.1f} per source;"
        f" in all {sum(heads)} HEADs and {sum(lists)} listings"
    )
    # Each source: at most its HEAD budget a minute (plus the first minute's burst) and a listing
    # per minimum interval (30 s); a HEAD shared by the three sources is made once.
    for minute in range(10):
        # A bucket lets through its burst and its refill in one minute: 2 x 6 per source at most.
        assert heads[minute] <= 2 * len(COVERING) * limits.heads_per_source
        assert lists[minute] <= len(COVERING) * 2 + 1
    assert sum(heads) + sum(lists) <= 300  # against 3,000 HEADs without a bound
    refs = [ref for _, name, calls in log if name in COVERING for kind, ref in calls if kind == "head"]
    assert refs.count(f"{REPO}:9.0.0") <= 1  # found missing once, then remembered
    assert len(refs) == len(set(refs))  # never the same HEAD twice, whichever source asked

    # The other source on the same registry kept its schedule: a listing every two minutes (and its
    # stable jitter, under 1 % of the interval: whole seconds here), never later.
    d_syncs = [at - start for at, name, calls in log if name == "d" and calls]
    period = d_syncs[0]
    assert 120 <= period <= 122
    assert d_syncs == [period * k for k in range(1, int(600 // period) + 1)], d_syncs


async def test_a_push_covering_several_sources_costs_one_head(harness: Harness) -> None:
    await settle(harness)
    harness.lister.tags[REPO].append("1.5.0")
    harness.clock.now += 60
    log: list[tuple[float, str, list[tuple[str, str]]]] = []
    assert harness.reconciler.on_pushes([pushed("1.5.0"), pushed("7.7.7")]) == 3
    await run_due(harness, log)
    heads = [ref for _, _, calls in log for kind, ref in calls if kind == "head"]
    assert sorted(heads) == [f"{REPO}:1.5.0", f"{REPO}:7.7.7"]
    assert harness.reconciler.heads.made == 2


async def test_past_the_budget_a_push_becomes_a_full_sync_held_by_the_minimum_interval(
    harness: Harness,
) -> None:
    await settle(harness)
    log: list[tuple[float, str, list[tuple[str, str]]]] = []
    start = harness.clock.now
    for i in range(120):  # two pushes a second for a minute
        harness.clock.now = start + i / 2
        harness.reconciler.on_pushes([pushed(f"8.{i}.0", REPOSITORY)])
        await run_due(harness, log)
    heads = [ref for _, _, calls in log for kind, ref in calls if kind == "head"]
    limits = PushLimits()
    assert len(heads) <= (limits.heads_per_source + limits.heads_per_source) * len(COVERING)  # burst + refill
    assert harness.metrics.registry.get_sample_value("aimsource_push_syncs_total", {"result": "full"})
    for name in COVERING:
        listed = [at for at, n, calls in log if n == name and any(k == "list" for k, _ in calls)]
        assert 1 <= len(listed) <= 2, (
            name,
            listed,
        )  # a full sync instead of the HEADs, at most twice a minute
        assert all(b - a >= Policy().min_interval for a, b in itertools.pairwise(listed))
