"""LeaseElector on the real coordination.k8s.io Lease API, with sub-second timings.

The emulator's fault injections (a 503 on renew) have no real counterpart; a real conflict is made
by changing the Lease between the holder's read and its update, which moves its resourceVersion.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from aimsource.kube import ClientSettings, KubeClient, load_kube_config
from aimsource.kube.lease import LeaseElector, LeaseSettings
from tests.support.lease_candidates import Candidate, running_candidates
from tests.support.lease_candidates import until as wait_until
from tests.support.realkube import RealKube

NAME = "aimsource-leader"


@pytest.fixture
async def candidates(kube_client: KubeClient, namespace: str) -> AsyncIterator[Callable[[str], Candidate]]:
    def settings(identity: str) -> LeaseSettings:
        return LeaseSettings(
            namespace=namespace, identity=identity, lease_duration=2.0, renew_deadline=1.2, retry_period=0.1
        )

    async for start in running_candidates(kube_client, settings):
        yield start


async def until(predicate: Callable[[], bool], limit: float = 8.0) -> float:
    """The shared poll with a wider default limit: a real server under load answers slower."""
    return await wait_until(predicate, limit)


def lease_path(namespace: str) -> str:
    return f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{NAME}"


def holder(real_kube: RealKube, namespace: str) -> str | None:
    status, lease = real_kube.request("GET", lease_path(namespace))
    return None if status == 404 else lease["spec"].get("holderIdentity")


async def test_absent_lease_is_created_and_held(
    real_kube: RealKube, namespace: str, candidates: Callable[[str], Candidate]
) -> None:
    one = candidates("one")
    await until(lambda: one.leading)
    lease = real_kube.ok("GET", lease_path(namespace))
    assert lease["spec"]["holderIdentity"] == "one"
    assert lease["spec"]["leaseDurationSeconds"] == 2
    await asyncio.sleep(0.4)  # renewals move renewTime, keep the holder, and call no callback again
    renewed = real_kube.ok("GET", lease_path(namespace))
    assert renewed["spec"]["renewTime"] > lease["spec"]["renewTime"]
    assert renewed["spec"]["acquireTime"] == lease["spec"]["acquireTime"]
    assert (len(one.started), one.stopped) == (1, [])


async def test_two_candidates_have_one_leader(
    real_kube: RealKube, namespace: str, candidates: Callable[[str], Candidate]
) -> None:
    one, two = candidates("one"), candidates("two")
    await until(lambda: one.leading or two.leading)
    for _ in range(15):
        assert one.leading != two.leading
        await asyncio.sleep(0.1)
    leader = one if one.leading else two
    assert holder(real_kube, namespace) == leader.elector.identity


async def test_standby_takes_over_when_the_holder_stops(
    real_kube: RealKube, namespace: str, candidates: Callable[[str], Candidate]
) -> None:
    one = candidates("one")
    await until(lambda: one.leading)
    two = candidates("two")
    await asyncio.sleep(0.3)
    assert not two.leading
    await one.stop()
    assert holder(real_kube, namespace) != "one"  # released on shutdown
    assert len(one.stopped) == 1
    took = await until(lambda: two.leading)
    assert took < 1.5  # released: no waiting for the 2 s expiry
    assert holder(real_kube, namespace) == "two"


async def test_standby_takes_over_an_expired_lease(
    real_kube: RealKube, namespace: str, candidates: Callable[[str], Candidate]
) -> None:
    real_kube.ok(
        "POST",
        f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases",
        {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": NAME},
            "spec": {
                "holderIdentity": "dead",
                "leaseDurationSeconds": 1,
                "leaseTransitions": 3,
                "renewTime": "2020-01-01T00:00:00.000000Z",
                "acquireTime": "2020-01-01T00:00:00.000000Z",
            },
        },
    )
    two = candidates("two")
    took = await until(lambda: two.leading)
    assert 0.9 <= took < 3.0  # the record's 1 s after first seeing it, whatever its timestamps say
    spec = real_kube.ok("GET", lease_path(namespace))["spec"]
    assert (spec["holderIdentity"], spec["leaseTransitions"]) == ("two", 4)


async def test_holder_stops_at_once_when_another_takes_the_lease(
    real_kube: RealKube, namespace: str, candidates: Callable[[str], Candidate]
) -> None:
    one = candidates("one")
    await until(lambda: one.leading)
    real_kube.ok(
        "PATCH",
        lease_path(namespace),
        {"spec": {"holderIdentity": "thief"}},
        content_type="application/merge-patch+json",
    )
    took = await until(lambda: not one.leading)
    assert took < 1.0  # before the renew deadline (1.2 s)
    assert len(one.stopped) == 1
    await asyncio.sleep(0.3)
    assert holder(real_kube, namespace) == "thief"  # and does not take it back before it expires


class InterferingClient(KubeClient):
    """Our client, plus another writer that changes the Lease right after each read of it once armed.

    The elector's next update then carries a stale resourceVersion, and the real server answers 409:
    a conflict made deterministic without touching what the server does.
    """

    interfere: Callable[[], None] | None = None

    async def request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        answer = await super().request(method, path, **kwargs)
        if self.interfere is not None and method == "GET" and path.endswith(f"/leases/{NAME}"):
            await asyncio.to_thread(self.interfere)
        return answer


async def test_holder_stops_at_once_on_a_real_conflict(
    real_kube_crds: RealKube, namespace: str, tmp_path: Path, fast_settings: ClientSettings
) -> None:
    config = load_kube_config(
        environ={"KUBECONFIG": str(real_kube_crds.kubeconfig)}, service_account_dir=tmp_path / "no-sa"
    )
    started: list[float] = []
    stopped: list[float] = []
    async with InterferingClient(config, fast_settings) as client:
        settings = LeaseSettings(
            namespace=namespace, identity="one", lease_duration=2.0, renew_deadline=1.2, retry_period=0.1
        )
        elector = LeaseElector(
            client,
            settings,
            on_started_leading=lambda: started.append(time.monotonic()),
            on_stopped_leading=lambda: stopped.append(time.monotonic()),
        )
        task = asyncio.create_task(elector.run())
        try:
            await until(lambda: bool(started))
            touch = {"metadata": {"annotations": {"touched": "yes"}}}
            client.interfere = lambda: real_kube_crds.ok(
                "PATCH", lease_path(namespace), touch, content_type="application/merge-patch+json"
            )
            armed = time.monotonic()
            await until(lambda: bool(stopped))
            assert stopped[0] - armed < 1.0  # at the first conflict, not at the renew deadline (1.2 s)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
