"""Operator lifecycle, each scenario with operators of its own: restarts, request budgets, replicas
and the Lease. On the emulator each gets a fresh API server; on the real one, the shared server
(names of its own, and no Lease left from before: `Cluster.delete_lease`)."""

from __future__ import annotations

import datetime
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.cluster import Cluster
from tests.e2e.operator_process import OperatorProcess, running_operator
from tests.e2e.scenario import MODELS, SOURCE_LABEL, SOURCES, models_of, source, status, wait_synced
from tests.support.faults import FaultFront
from tests.support.registry_server import RunningRegistry

LEASE = ("leases", "aimsource-leader")


def push(registry: RunningRegistry, repo: str, *tags: str) -> None:
    with registry.pusher() as pusher:
        pusher.push_image(repo, tags)


# Emulator only: it counts the API requests the operator makes, which only the emulator records
# (the real server would need an audit log for that).
@pytest.mark.emulator_only
def test_steady_state_sync_makes_no_list_call_and_one_status_write(
    cluster: Cluster, kubeconfig: Path, tmp_path: Path, registry: RunningRegistry, unique: str
) -> None:
    repo, host = f"e2e/{unique}", registry.host
    push(registry, repo, "1.0.0", "1.1.0")
    cluster.create(SOURCES, source(unique, interval="1s", images=[f"{host}/{repo}"]))
    with running_operator(kubeconfig, tmp_path) as op:
        first = wait_synced(cluster, op, unique, state="Ready")
        wait_synced(cluster, op, unique, after=first["lastSyncTime"])  # past the first sync's echoes
        # kopf's own first listing counts as a re-list: one reconcile of the index follows it.
        op.wait(
            lambda: [r for r in op.logged("index reconciled") if r.get("why") == "watch re-listed"],
            message="the reconcile after kopf's first listing",
        )
        time.sleep(0.5)
        cluster.emulator.reset_requests()
        finished_before = len(op.logged("sync finished", source=unique))
        written_before = len(op.logged("status written", source=unique))

        time.sleep(4.5)

        requests = cluster.emulator.requests
        syncs = len(op.logged("sync finished", source=unique)) - finished_before
        written = op.logged("status written", source=unique)[written_before:]
    assert syncs >= 3
    assert [r for r in requests if r.verb == "list"] == []
    assert [r for r in requests if r.verb == "create"] == []
    status_writes = len(
        [r for r in requests if (r.verb, r.plural, r.subresource) == ("patch", SOURCES, "status")]
    )
    assert 1 <= status_writes <= syncs + 1  # lastSyncTime once per sync...
    assert {w["changed"] for w in written} == {"lastSyncTime"}  # ...and nothing else changed
    # Each sync starts with one GET of its source (a deletion the watch missed shows there).
    assert 1 <= len([r for r in requests if (r.verb, r.plural) == ("get", SOURCES)]) <= syncs + 1
    assert {(r.verb, r.plural, r.subresource) for r in requests} <= {
        ("get", SOURCES, None),
        ("patch", SOURCES, "status"),
        ("watch", SOURCES, None),
        ("watch", MODELS, None),
    }


def test_restart_creates_no_duplicates_and_keeps_schedules(
    cluster: Cluster, kubeconfig: Path, tmp_path: Path, registry: RunningRegistry, unique: str
) -> None:
    repo, host = f"e2e/{unique}", registry.host
    push(registry, repo, "1.0.0", "1.1.0")
    overdue, fresh = f"{unique}-overdue", f"{unique}-fresh"
    cluster.create(SOURCES, source(overdue, interval="2s", images=[f"{host}/{repo}"]))
    cluster.create(SOURCES, source(fresh, interval="1h", images=[f"{host}/{repo}:1.0.0"]))
    with running_operator(kubeconfig, tmp_path, name="first") as op:
        wait_synced(cluster, op, overdue, state="Ready")
        wait_synced(cluster, op, fresh, state="Ready")

    def models() -> dict[str, str]:
        return {
            m["metadata"]["name"]: m["metadata"]["uid"]
            for m in cluster.list(MODELS)
            if m["metadata"].get("labels", {}).get(SOURCE_LABEL) in (overdue, fresh)
        }

    models_before = models()
    assert len(models_before) == 2
    time.sleep(2.5)  # the 2s source is now overdue; the 1h one is not
    if cluster.is_emulator:
        cluster.emulator.reset_requests()

    with running_operator(kubeconfig, tmp_path, name="second") as op:
        op.wait(
            lambda: op.logged("sync finished", source=overdue), timeout=10, message="overdue source synced"
        )
        time.sleep(2)
        started = op.logged("sync started", source=overdue)
        assert started[0]["why"] == "overdue at start-up"
        assert op.logged("sync started", source=fresh) == [], "a source that is not due synced at start-up"
        assert op.metric("aimsource_models_created_total") == 0

    assert models() == models_before
    if cluster.is_emulator:  # the emulator also saw no create request at all (not even a refused one)
        assert cluster.emulator.count("create", MODELS) == 0
    assert status(cluster, overdue)["status"] == "Ready"


def test_failing_source_with_a_tiny_interval_does_not_hammer_its_registry(
    cluster: Cluster, kubeconfig: Path, tmp_path: Path, fault_front: FaultFront, unique: str
) -> None:
    repo = f"e2e/{unique}-absent"
    cluster.create(SOURCES, source(unique, interval="100ms", images=[f"{fault_front.host}/{repo}"]))
    with running_operator(kubeconfig, tmp_path) as op:
        wait_synced(cluster, op, unique, state="Failed")
        fault_front.log.reset()

        for i in range(20):  # a user (or a script) asking for a sync again and again
            annotation = {"aim.eai.amd.com/sync-requested-at": f"2030-01-01T00:00:{i:02d}Z"}
            cluster.patch(SOURCES, unique, {"metadata": {"annotations": annotation}})
            time.sleep(0.25)

        listings = fault_front.log.count(path=f"/v2/{repo}/tags/list")
    assert 1 <= listings <= 6, f"{listings} listings in 5 s with --min-sync-interval 1s"


def _readiness(op: OperatorProcess) -> str:
    try:
        return httpx.get(f"{op.health_url}/readyz", timeout=1).text.strip()
    except httpx.HTTPError:
        return ""


def test_two_replicas_only_the_leader_syncs_and_the_standby_takes_over(
    cluster: Cluster, kubeconfig: Path, tmp_path: Path, registry: RunningRegistry, unique: str
) -> None:
    repo, host = f"e2e/{unique}", registry.host
    push(registry, repo, "1.0.0")
    cluster.delete_lease()
    election = ("--lease-duration", "3s")
    a = OperatorProcess(kubeconfig, tmp_path, name="replica-a", election=True, extra=election).start()
    b = OperatorProcess(kubeconfig, tmp_path, name="replica-b", election=True, extra=election).start()
    try:
        a.wait(lambda: {_readiness(a), _readiness(b)} == {"leader", "standby"}, message="one leader")
        leader, standby = (a, b) if _readiness(a) == "leader" else (b, a)
        cluster.create(SOURCES, source(unique, interval="1s", images=[f"{host}/{repo}:1.0.0"]))
        first = wait_synced(cluster, leader, unique, state="Ready")
        wait_synced(cluster, leader, unique, after=first["lastSyncTime"])
        assert leader.logged("sync started", source=unique)
        assert standby.logged("sync started", source=unique) == []

        leader.kill()
        killed = time.monotonic()
        standby.wait(lambda: standby.logged("sync started", source=unique), timeout=15, message="takeover")
        # About one lease duration (3 s), plus the retry period and slack for a loaded machine.
        assert time.monotonic() - killed < 7.5, "the standby took much longer than one lease duration"
        assert cluster.get(*LEASE, namespace="aim-system")["spec"]["holderIdentity"] == standby.name
        assert len(models_of(cluster, unique)) == 1
    finally:
        a.stop()
        b.stop()


def test_a_replica_that_loses_the_lease_stops_syncing_at_once(
    cluster: Cluster, kubeconfig: Path, tmp_path: Path, registry: RunningRegistry, unique: str
) -> None:
    repo, host = f"e2e/{unique}", registry.host
    push(registry, repo, "1.0.0")
    cluster.create(SOURCES, source(unique, interval="1s", images=[f"{host}/{repo}:1.0.0"]))
    cluster.delete_lease()
    with running_operator(kubeconfig, tmp_path, election=True, extra=("--lease-duration", "3s")) as op:
        op.wait(lambda: _readiness(op) == "leader", message="leading")
        wait_synced(cluster, op, unique, state="Ready")

        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:  # another candidate holds the Lease now, and renews it
            now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            cluster.patch(
                *LEASE, {"spec": {"holderIdentity": "intruder", "renewTime": now}}, namespace="aim-system"
            )
            if _readiness(op) == "standby":
                break
            time.sleep(0.2)
        assert _readiness(op) == "standby"
        stopped = len(op.logged("sync started", source=unique))
        for _ in range(10):
            now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            cluster.patch(
                *LEASE, {"spec": {"holderIdentity": "intruder", "renewTime": now}}, namespace="aim-system"
            )
            time.sleep(0.3)
        assert len(op.logged("sync started", source=unique)) == stopped, "synced without the Lease"
        assert op.logged("not leading: syncs stopped")
