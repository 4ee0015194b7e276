"""Fair workers, end to end: sources on a registry that never answers do not stop the others.

Eight sources point at a loopback server that accepts connections and never answers (every call
of theirs waits for the registry client's timeouts); then one source points at the real
docker-registry. The operator runs with its default worker pool and host shares. The healthy
source must reach Ready, and the delay from its creation to Ready is measured and printed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aimsource.operator.settings import OperatorSettings
from tests.e2e.cluster import Cluster
from tests.e2e.operator_process import OperatorProcess
from tests.e2e.scenario import SOURCES, source, status, wait_synced
from tests.support.registry_server import RunningRegistry
from tests.support.silent import SilentServer

STALLED_SOURCES = 8
DEFAULT_SHARE = OperatorSettings().schedule.max_syncs_per_host


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    with SilentServer() as server:
        yield server


@pytest.fixture
def operator(kubeconfig: Path, tmp_path: Path) -> Iterator[OperatorProcess]:
    """An operator of its own (its workers stay stuck on the silent registry after the test), with
    the default pool and share: the end-to-end timings keep, but not their `--workers`."""
    op = OperatorProcess(kubeconfig, tmp_path)
    at = op.args.index("--workers")
    del op.args[at : at + 2]
    try:
        yield op.start()
    finally:
        op.stop()


def started(op: OperatorProcess, prefix: str) -> set[str]:
    names = (str(r.get("source")) for r in op.logged("sync started"))
    return {name for name in names if name.startswith(prefix)}


def test_a_healthy_source_syncs_while_eight_sources_hang_on_a_silent_registry(
    cluster: Cluster, operator: OperatorProcess, registry: RunningRegistry, silent: SilentServer, unique: str
) -> None:
    [starting] = operator.logged("operator starting")
    defaults = OperatorSettings().schedule
    assert (starting["workers"], starting["max_syncs_per_host"]) == (defaults.workers, DEFAULT_SHARE)
    assert defaults.workers <= STALLED_SOURCES  # enough to take every worker without the shares

    stalled = f"{unique}-stalled"
    for i in range(STALLED_SOURCES):
        cluster.create(SOURCES, source(f"{stalled}-{i}", images=[f"{silent.host}/org/model-{i}:1.0.0"]))
    # Wait until the silent registry holds what it may: its share of the workers, every other
    # stalled source waiting for that share (and the server actually holding connections).
    operator.wait(
        lambda: (
            len(started(operator, stalled)) == DEFAULT_SHARE
            and operator.metric("aimsource_syncs_waiting_for_host_share") == STALLED_SOURCES - DEFAULT_SHARE
            and silent.accepted >= 1
        ),
        timeout=30,
        message="the silent registry's share of the workers taken",
    )

    healthy = f"{unique}-healthy"
    created = time.monotonic()
    image = "amdenterpriseai/aim-qwen-qwen3-32b:0.8.5"
    cluster.create(SOURCES, source(healthy, images=[image], registry=registry.host))
    st = wait_synced(cluster, operator, healthy, state="Ready", timeout=30)
    delay = time.monotonic() - created
    print(
        f"\nhealthy source Ready {delay:.2f} s after creation "
        f"({STALLED_SOURCES} sources stuck on a silent registry, default workers and share)"
    )

    assert (st["availableModels"], st["discoveredModels"]) == (1, 1)
    # The stalled sources are still stuck, and still only their share of them runs.
    assert len(started(operator, stalled)) == DEFAULT_SHARE
    stuck = [status(cluster, f"{stalled}-{i}").get("status") for i in range(STALLED_SOURCES)]
    assert set(stuck) <= {None, "Pending"}, stuck
