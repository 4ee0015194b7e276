"""Host shares: which due source a free worker may take (pure: no clock, no I/O)."""

from __future__ import annotations

from typing import Any

import pytest

from aimsource.operator.scheduling.shares import ShareScan, hosts_of


def body(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMClusterModelSource",
        "metadata": {"name": "src", "generation": 1},
        "spec": spec,
    }


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"images": ["org/a:1.0.0", "org/b"]}, {"docker.io"}),
        ({"registry": "Reg.Example:5000", "images": ["org/a:1.0.0"]}, {"reg.example:5000"}),
        ({"images": ["ghcr.io/org/a:1", "quay.io/org/b", "org/c"]}, {"ghcr.io", "quay.io", "docker.io"}),
        (
            {"filters": [{"image": "ghcr.io/org/a"}, {"image": "quay.io/org/b", "exclude": ["org/b"]}]},
            {"ghcr.io"},
        ),
        ({"images": ["ghcr.io/org/a:1", "UPPER/Case:bad tag"]}, {"ghcr.io"}),
        ({"images": ["index.docker.io/org/a:1", "registry-1.docker.io/org/b:2"]}, {"docker.io"}),
        ({"images": ["a:1"], "filters": [{"image": "b"}]}, set()),
        ({}, set()),
    ],
    ids=[
        "default-registry",
        "spec-registry",
        "one-per-selector-registry",
        "excluded-filter-calls-nothing",
        "broken-selector-calls-nothing",
        "docker-hub-aliases-are-one-host",
        "invalid-spec",
        "empty-spec",
    ],
)
def test_hosts_of_a_source_are_the_registries_its_selectors_call(
    spec: dict[str, Any], expected: set[str]
) -> None:
    assert hosts_of(body(spec)) == expected


def test_hosts_of_garbage_is_empty_not_a_crash() -> None:
    assert hosts_of({"metadata": "nope", "spec": ["x"]}) == frozenset()


def test_a_host_below_its_share_admits() -> None:
    scan = ShareScan({"a": 1}, per_host=2)
    assert scan.admit({"a"})
    assert scan.blocked == 0


def test_a_host_at_its_share_refuses_and_others_still_admit() -> None:
    scan = ShareScan({"stalled": 2}, per_host=2)
    assert [scan.admit(h) for h in ({"stalled"}, {"stalled"}, {"healthy"})] == [False, False, True]
    assert scan.blocked == 2


def test_a_source_without_hosts_is_never_held() -> None:
    assert ShareScan({"a": 5}, per_host=1).admit(set())


def test_a_source_on_several_hosts_needs_room_on_each() -> None:
    assert not ShareScan({"a": 2, "b": 0}, per_host=2).admit({"a", "b"})
    assert not ShareScan({"a": 0, "b": 2}, per_host=2).admit({"a", "b"})
    assert ShareScan({"a": 1, "b": 1}, per_host=2).admit({"a", "b"})


def test_a_refused_source_keeps_a_slot_on_each_of_its_hosts_for_itself() -> None:
    # "ab" waits for a (full); b has one running and room for one more: that slot is kept for
    # "ab", so a later source on b alone waits too, instead of overtaking it forever.
    scan = ShareScan({"a": 2, "b": 1}, per_host=2)
    assert not scan.admit({"a", "b"})
    assert not scan.admit({"b"})
    assert scan.admit({"c"})


def test_a_reservation_holds_one_slot_not_the_whole_host() -> None:
    scan = ShareScan({"a": 3, "b": 1}, per_host=3)
    assert not scan.admit({"a", "b"})  # waits for a; reserves one of b's two free slots
    assert not scan.admit({"a", "b"})  # a second waiter reserves nothing more
    assert scan.admit({"b"})  # b: 1 running + 1 reserved < 3
