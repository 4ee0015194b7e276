"""Two `aimsource run` replicas on the real coordination.k8s.io Lease API: one leads, the other stands
by; a SIGKILLed leader is replaced once its Lease expires, a SIGTERMed one hands the Lease over at
once (it releases it on the way out). Both are timed from the signal to the Lease naming the standby,
as seen by a watch on the Lease (every write of it, in order); the figures are printed.
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.operator_process import OperatorProcess
from tests.support.realkube import RealKube
from tests.support.realkube_fixtures import SOURCES, TEST_LABEL
from tests.support.registry_server import RunningRegistry

LEASE = "aimsource-leader"
DURATION = 6.0  # --lease-duration: renew deadline 4 s, retry period 0.8 s (operator/main.py)


@dataclass
class LeaseWatch:
    """Every version of the Lease a watch delivers: (monotonic time seen, holderIdentity, spec)."""

    seen: list[tuple[float, str, dict[str, Any]]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def holders_since(self, start: float) -> list[tuple[float, str]]:
        return [(t, h) for t, h, _ in list(self.seen) if t >= start]

    def first_held_by(self, identity: str, start: float) -> float | None:
        return next((t for t, h in self.holders_since(start) if h == identity), None)


def _watch(kube: RealKube, namespace: str, record: LeaseWatch) -> None:
    pki = kube.directory / "pki"
    context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    context.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
    host, port = kube.server.removeprefix("https://").rsplit(":", 1)
    while not record.stop.is_set():
        connection = http.client.HTTPSConnection(host, int(port), context=context, timeout=2)
        try:
            connection.request(
                "GET",
                f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"
                f"?watch=true&fieldSelector=metadata.name%3D{LEASE}&timeoutSeconds=300",
            )
            response = connection.getresponse()
            while not record.stop.is_set():
                line = response.readline()
                if not line:
                    break
                event = json.loads(line)
                spec = event["object"].get("spec") or {}
                record.seen.append((time.monotonic(), spec.get("holderIdentity") or "", spec))
        except (TimeoutError, OSError):
            continue  # idle for 2 s (the read timed out): watch again; replays are harmless here
        finally:
            connection.close()


@pytest.fixture
def lease_watch(real_kube: RealKube, namespace: str) -> Iterator[LeaseWatch]:
    record = LeaseWatch()
    thread = threading.Thread(target=_watch, args=(real_kube, namespace, record), daemon=True)
    thread.start()
    yield record
    record.stop.set()
    thread.join(timeout=5)


def readiness(op: OperatorProcess) -> str:
    try:
        return httpx.get(f"{op.health_url}/readyz", timeout=1).text.strip()
    except httpx.HTTPError:
        return ""


def replicas(kube: RealKube, workdir: Path, namespace: str) -> tuple[OperatorProcess, OperatorProcess]:
    extra = ("--namespace", namespace, "--lease-duration", f"{DURATION:.0f}s")
    a = OperatorProcess(kube.kubeconfig, workdir, name="replica-a", election=True, extra=extra).start()
    b = OperatorProcess(kube.kubeconfig, workdir, name="replica-b", election=True, extra=extra).start()
    a.wait(lambda: {readiness(a), readiness(b)} == {"leader", "standby"}, timeout=30, message="one leader")
    return (a, b) if readiness(a) == "leader" else (b, a)


def syncing_source(kube: RealKube, registry: RunningRegistry, run_id: str) -> str:
    repo = f"replicas/{run_id}"
    with registry.pusher() as pusher:
        pusher.push_image(repo, ("1.0.0",))
    name = f"replicas-{run_id}"
    kube.ok(
        "POST",
        SOURCES,
        {
            "apiVersion": "aim.eai.amd.com/v1alpha1",
            "kind": "AIMClusterModelSource",
            "metadata": {"name": name, "labels": {TEST_LABEL: run_id}},
            "spec": {"images": [f"{registry.host}/{repo}:1.0.0"], "syncInterval": "1s"},
        },
    )
    return name


def test_a_killed_leader_is_replaced_once_its_lease_expires(
    real_kube_crds: RealKube,
    anonymous_registry: RunningRegistry,
    cleanup_cluster_objects: str,
    namespace: str,
    run_id: str,
    lease_watch: LeaseWatch,
    tmp_path: Path,
) -> None:
    kube = real_kube_crds
    leader, standby = replicas(kube, tmp_path, namespace)
    try:
        source = syncing_source(kube, anonymous_registry, run_id)
        leader.wait(lambda: leader.logged("sync started", source=source), timeout=30, message="leader syncs")

        leader.kill()
        killed = time.monotonic()
        standby.wait(lambda: lease_watch.first_held_by(standby.name, killed), timeout=30, message="takeover")
        took = (lease_watch.first_held_by(standby.name, killed) or 0.0) - killed
        standby.wait(lambda: readiness(standby) == "leader", timeout=10, message="standby leading")
        standby.wait(
            lambda: standby.logged("sync started", source=source), timeout=30, message="the new leader syncs"
        )
        print(f"\nSIGKILL takeover on the real Lease API: {took:.2f} s (lease duration {DURATION:.0f} s)")

        # Nobody released it: the standby must wait out the lease (less the killed leader's last
        # renewal period, at most 0.8 s), and should not take much longer than that.
        assert DURATION - 1.5 <= took <= DURATION + 8, f"takeover after {took:.2f} s"
        assert [h for _, h in lease_watch.holders_since(killed)][-1] == standby.name
        assert "" not in [h for _, h in lease_watch.holders_since(killed)], "the killed leader released?"
    finally:
        leader.stop()
        standby.stop()


def test_a_terminated_leader_releases_the_lease_and_the_standby_takes_it_at_once(
    real_kube_crds: RealKube,
    anonymous_registry: RunningRegistry,
    cleanup_cluster_objects: str,
    namespace: str,
    run_id: str,
    lease_watch: LeaseWatch,
    tmp_path: Path,
) -> None:
    kube = real_kube_crds
    leader, standby = replicas(kube, tmp_path, namespace)
    try:
        source = syncing_source(kube, anonymous_registry, run_id)
        leader.wait(lambda: leader.logged("sync started", source=source), timeout=30, message="leader syncs")

        terminated = time.monotonic()
        leader.stop()  # SIGTERM, as kubelet sends it
        stopped = time.monotonic() - terminated
        standby.wait(
            lambda: lease_watch.first_held_by(standby.name, terminated), timeout=30, message="hand-over"
        )
        took = (lease_watch.first_held_by(standby.name, terminated) or 0.0) - terminated
        standby.wait(
            lambda: standby.logged("sync started", source=source), timeout=30, message="the new leader syncs"
        )
        print(
            f"\nSIGTERM hand-over on the real Lease API: {took:.2f} s after the signal (the leader took"
            f" {stopped:.2f} s to exit; lease duration {DURATION:.0f} s)"
        )

        assert leader.process is not None
        assert leader.process.returncode == 0
        assert leader.logged("Released the lease")
        # The release as the API stored it: no holder, a 1 s lease, before the standby's acquisition.
        after = [(h, spec) for t, h, spec in lease_watch.seen if t >= terminated]
        released = [spec for h, spec in after if h == ""]
        assert released, f"no released Lease seen: {[h for h, _ in after]}"
        assert released[0]["leaseDurationSeconds"] == 1
        assert [h for h, _ in after][-1] == standby.name
        # Much sooner than an expiry (which would take the full lease duration after the last renewal).
        assert took < DURATION - 1.5, f"hand-over after {took:.2f} s: the release did not help"
    finally:
        leader.stop()
        standby.stop()
