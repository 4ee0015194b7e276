"""What a restart of kube-apiserver hides from the watch, and how the operator sees it anyway.

A control plane of the test's own (it is stopped and restarted, and its etcd compacted and edited):
the operator (`aimsource run`, a process) syncs two sources from a real registry; kube-apiserver is
stopped; meanwhile a model of the first source and the whole second source are deleted (in etcd:
no API server is there to be asked - as another API server of an HA control plane would have done
it while ours was away), etcd's history is compacted so that no resource version from before can be
resumed; kube-apiserver starts again.

The watch of models then cannot resume (410): it lists again, and nothing says what went away. Without the
reconcile, the deleted model stays in the index and still counts toward maxModels (it would never be
re-created), and the deleted source stays in the table (its syncs write to a source that is gone).
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aimsource.domain.resources import SOURCE_LABEL
from tests.e2e.operator_process import OperatorProcess, running_operator
from tests.support.realkube_fixtures import MODELS, SOURCES
from tests.support.realkube_private import PrivateKube, private_kube
from tests.support.registry_server import RunningRegistry

pytestmark = pytest.mark.timeout(420)


@pytest.fixture
def kube(tmp_path: Path) -> Iterator[PrivateKube]:
    (tmp_path / "kube").mkdir()
    with private_kube(tmp_path / "kube") as kube:
        kube.ok(
            "POST",
            "/api/v1/namespaces",
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "aim-system"}},
        )
        yield kube


def source(name: str, image: str, *, max_models: int) -> dict[str, Any]:
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMClusterModelSource",
        "metadata": {"name": name},
        "spec": {"images": [image], "syncInterval": "2s", "maxModels": max_models},
    }


def models_of(kube: PrivateKube, name: str) -> dict[str, dict[str, Any]]:
    selector = urllib.parse.quote(f"{SOURCE_LABEL}={name}")
    path = f"{MODELS}?labelSelector={selector}"
    # A restarted API server answers 429 "storage is (re)initializing" for a moment per resource.
    status, body = kube.wait_for(
        lambda: (answer := kube.request("GET", path))[0] != 429 and answer,
        "the models' storage to be initialised",
        timeout=60,
    )
    assert status == 200, f"GET {path}: {status} {body}"
    return {m["metadata"]["name"]: m for m in body["items"]}


def records(op: OperatorProcess, message: str) -> list[dict[str, Any]]:
    return op.logged(message)


def test_deletions_while_the_api_server_was_down_are_seen_after_it_restarts(
    kube: PrivateKube,
    anonymous_registry: RunningRegistry,
    tmp_path: Path,
) -> None:
    registry = anonymous_registry
    with registry.pusher() as pusher:
        pusher.push_image("restart/capped", ["1.0.0", "1.1.0", "1.2.0"])
        pusher.push_image("restart/doomed", ["1.0.0"])
    kube.ok("POST", SOURCES, source("capped", f"{registry.host}/restart/capped", max_models=2))
    kube.ok("POST", SOURCES, source("doomed", f"{registry.host}/restart/doomed", max_models=5))
    with running_operator(kube.kubeconfig, tmp_path) as op:
        kube.wait_for(
            lambda: len(models_of(kube, "capped")) == 2 and len(models_of(kube, "doomed")) == 1,
            "the first syncs' models",
            timeout=60,
        )
        before = models_of(kube, "capped")
        victim = sorted(before)[0]
        reconciles_before = len(records(op, "index reconciled"))

        kube.stop_apiserver()
        assert kube.etcd_delete(f"/registry/aim.eai.amd.com/aimclustermodels/{victim}") == 1
        assert kube.etcd_delete("/registry/aim.eai.amd.com/aimclustermodelsources/doomed") == 1
        compacted = kube.compact_etcd()
        kube.start_apiserver()

        # The model is made again (the cap has room once the index forgets the deleted one)...
        def victim_recreated() -> bool:
            again = models_of(kube, "capped")
            return victim in again and again[victim]["metadata"]["uid"] != before[victim]["metadata"]["uid"]

        kube.wait_for(victim_recreated, f"model {victim} to be created again", timeout=90)
        # ...and the deleted source leaves the table, by the reconcile or by its sync's GET.
        dropped = ("source deleted (seen by a re-list)", "source gone before its sync: dropped")
        op.wait(
            lambda: any(r.get("source") == "doomed" for m in dropped for r in records(op, m)),
            timeout=60,
            message="the deleted source dropped",
        )
        assert len(models_of(kube, "capped")) == 2  # still within maxModels
        reconciles = records(op, "index reconciled")[reconciles_before:]
        # The model watch lists again on its 410 ("model watch expired"), kopf's watch of the
        # sources on its own ("watch re-listed"): either reconcile removes what was deleted.
        relisted = [r for r in reconciles if r.get("why") in ("watch re-listed", "model watch expired")]
        removed = sum(int(r.get("models_removed") or 0) for r in reconciles)
        seen = [{k: r.get(k) for k in ("why", "models_removed", "sources_dropped")} for r in reconciles]
        print(f"\netcd compacted at revision {compacted}; reconciles after the restart: {json.dumps(seen)}")
        assert relisted, "no watch listed again after the restart"
        assert removed >= 1, "the reconcile did not remove the model deleted while the API server was down"
        # No status write went to the deleted source after the restart.
        late = [
            r
            for r in op.logged("status written", source="doomed")
            if r.get("time", "") > (relisted[0].get("time") or "")
        ]
        assert late == []
