"""LeaseElector against the emulated API server, with sub-second timings (real time, real HTTP)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import kmock
import pytest

from aimsource.kube import KubeClient
from aimsource.kube.lease import LeaseSettings
from tests.support.kubeapi import KubeAPI
from tests.support.lease_candidates import Candidate, running_candidates, until

LEASES = "/apis/coordination.k8s.io/v1/namespaces/aim-system/leases"


def fast(identity: str) -> LeaseSettings:
    return LeaseSettings(identity=identity, lease_duration=2.0, renew_deadline=1.2, retry_period=0.1)


@pytest.fixture
async def candidates(kube_client: KubeClient) -> AsyncIterator[Callable[[str], Candidate]]:
    async for start in running_candidates(kube_client, fast):
        yield start


def holder(api: KubeAPI) -> str | None:
    lease = api.find("leases", "aimsource-leader", namespace="aim-system")
    return None if lease is None else lease["spec"].get("holderIdentity")


async def test_absent_lease_is_created_and_held(
    kube_api: KubeAPI, candidates: Callable[[str], Candidate]
) -> None:
    one = candidates("one")
    await until(lambda: one.leading)
    assert holder(kube_api) == "one"
    assert len(one.started) == 1
    lease = kube_api.get("leases", "aimsource-leader", namespace="aim-system")
    assert lease["spec"]["leaseDurationSeconds"] == 2
    await asyncio.sleep(0.3)  # renewals move renewTime, keep the holder, and call no callback again
    renewed = kube_api.get("leases", "aimsource-leader", namespace="aim-system")
    assert renewed["spec"]["renewTime"] > lease["spec"]["renewTime"]
    assert renewed["spec"]["acquireTime"] == lease["spec"]["acquireTime"]
    assert (len(one.started), one.stopped) == (1, [])


async def test_two_candidates_have_one_leader(
    kube_api: KubeAPI, candidates: Callable[[str], Candidate]
) -> None:
    one, two = candidates("one"), candidates("two")
    await until(lambda: one.leading or two.leading)
    for _ in range(15):
        assert one.leading != two.leading
        await asyncio.sleep(0.1)
    leader = one if one.leading else two
    assert holder(kube_api) == leader.elector.identity


async def test_standby_takes_over_when_the_holder_stops(
    kube_api: KubeAPI, candidates: Callable[[str], Candidate]
) -> None:
    one = candidates("one")
    await until(lambda: one.leading)
    two = candidates("two")
    await asyncio.sleep(0.3)
    assert not two.leading
    await one.stop()
    assert holder(kube_api) != "one"  # released on shutdown
    assert len(one.stopped) == 1
    took = await until(lambda: two.leading)
    assert took < 1.5  # released: no waiting for the 2 s expiry
    assert holder(kube_api) == "two"


async def test_standby_takes_over_an_expired_lease(
    kube_api: KubeAPI, candidates: Callable[[str], Candidate]
) -> None:
    kube_api.create(
        "leases",
        {
            "metadata": {"name": "aimsource-leader"},
            "spec": {
                "holderIdentity": "dead",
                "leaseDurationSeconds": 1,
                "leaseTransitions": 3,
                "renewTime": "2020-01-01T00:00:00.000000Z",
                "acquireTime": "2020-01-01T00:00:00.000000Z",
            },
        },
        namespace="aim-system",
    )
    two = candidates("two")
    took = await until(lambda: two.leading)
    assert 0.9 <= took < 3.0  # the record's 1 s after first seeing it, whatever its timestamps say
    spec = kube_api.get("leases", "aimsource-leader", namespace="aim-system")["spec"]
    assert (spec["holderIdentity"], spec["leaseTransitions"]) == ("two", 4)


async def test_holder_stops_at_once_when_another_takes_the_lease(
    kube_api: KubeAPI, candidates: Callable[[str], Candidate]
) -> None:
    one = candidates("one")
    await until(lambda: one.leading)
    kube_api.patch(
        "leases", "aimsource-leader", {"spec": {"holderIdentity": "thief"}}, namespace="aim-system"
    )
    took = await until(lambda: not one.leading)
    assert took < 1.0  # before the renew deadline (1.2 s)
    assert len(one.stopped) == 1


async def test_holder_stops_at_once_on_a_conflict(
    kube_api: KubeAPI, candidates: Callable[[str], Candidate]
) -> None:
    one = candidates("one")
    await until(lambda: one.leading)
    (
        kube_api.handler[f"put {LEASES}/aimsource-leader"]
        << 409
        << {
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "reason": "Conflict",
            "code": 409,
            "message": "the object has been modified",
        }
    )
    took = await until(lambda: not one.leading)
    assert took < 1.0  # before the renew deadline (1.2 s)
    assert not one.leading


async def test_holder_that_cannot_renew_stops_at_the_renew_deadline(
    kube_api: KubeAPI, candidates: Callable[[str], Candidate]
) -> None:
    one = candidates("one")
    await until(lambda: one.leading)
    kube_api.handler[f"put {LEASES}/aimsource-leader"] << 503 << kmock.headers({"Retry-After": "0"})
    broken = time.monotonic()
    await until(lambda: not one.leading)
    lasted = time.monotonic() - broken
    assert 1.0 <= lasted <= 2.0  # renew deadline 1.2 s after the last successful renewal (≤ 0.1 s before)
    assert holder(kube_api) == "one"  # the lease is still recorded as ours, but we no longer act on it


@pytest.mark.parametrize(
    ("retry", "renew", "duration"),
    [
        pytest.param(2.0, 2.0, 15.0, id="retry-not-below-renew"),
        pytest.param(1.0, 15.0, 15.0, id="renew-not-below-duration"),
        pytest.param(0.0, 1.0, 2.0, id="zero-retry"),
    ],
)
def test_inconsistent_timings_are_refused(retry: float, renew: float, duration: float) -> None:
    with pytest.raises(ValueError, match="retry_period < renew_deadline < lease_duration"):
        LeaseSettings(retry_period=retry, renew_deadline=renew, lease_duration=duration)


@pytest.fixture
async def slow_candidates(kube_client: KubeClient) -> AsyncIterator[Callable[[str], Candidate]]:
    """A retry period of 1 s: half the lease, so that a look's timing shows."""

    def slow(identity: str) -> LeaseSettings:
        return LeaseSettings(identity=identity, lease_duration=2.0, renew_deadline=1.5, retry_period=1.0)

    async for start in running_candidates(kube_client, slow):
        yield start


async def test_standby_takes_over_a_dead_holder_one_look_after_the_expiry(
    kube_api: KubeAPI, slow_candidates: Callable[[str], Candidate]
) -> None:
    """A leader that renews, then dies without releasing (SIGKILL): the standby looks every half
    retry period and wakes at the expiry it knows, so it leads at most the lease duration plus one
    of its looks after the last renewal (here 2 s + 0.6 s), never a whole retry period more."""
    record = {
        "holderIdentity": "one",
        "leaseDurationSeconds": 2,
        "leaseTransitions": 0,
        "acquireTime": "2020-01-01T00:00:00.000000Z",
        "renewTime": "2020-01-01T00:00:00.000000Z",
    }
    lease = {"metadata": {"name": "aimsource-leader"}, "spec": record}
    kube_api.create("leases", lease, namespace="aim-system")
    two = slow_candidates("two")
    for beat in range(8):  # "one" renews every 0.3 s, as a live leader would
        await asyncio.sleep(0.3)
        renewed = {"spec": {"renewTime": f"2020-01-01T00:00:{beat + 1:02d}.000000Z"}}
        kube_api.patch("leases", "aimsource-leader", renewed, namespace="aim-system")
    killed = time.monotonic()
    assert not two.leading
    await until(lambda: two.leading, limit=6.0)
    took = two.started[0] - killed
    assert 1.9 <= took < 2.0 + 0.6 + 0.3, took  # the last renewal, seen within one look, plus 2 s
