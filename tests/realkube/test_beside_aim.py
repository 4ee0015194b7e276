"""Beside AMD AIM's operator, on a real control plane of this module's own.

The cluster has aimsource's source CRD and AIM's own `AIMClusterModel` CRD (a trimmed copy of AIM's
v1alpha1 definition, tests/realkube/fixtures/) instead of aimsource's minimal one - which is why it
is a private control plane: the session's shared server keeps ours for the other tests.

- A second field manager writing a source's status, as AIM's source controller does, makes an
  `aimsource run` process stand down for that source within one sync (no model creates, no status
  writes), post exactly one `CompetingController` event, and take the source back once those writes
  have stopped for the window. Its own status writes never count.
- The GitOps path: `aimsource sync --out` manifests apply server-side with strict field validation
  to AIM's CRD, and come back with no field pruned.
"""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.operator_process import OperatorProcess
from tests.support.realkube import CRDS, RealKube, private_real_kube
from tests.support.registry_server import RunningRegistry

pytestmark = [pytest.mark.timeout(300), pytest.mark.e2e]

AIM_MODEL_CRD = Path(__file__).parent / "fixtures" / "aim_aimclustermodels_v1alpha1.yaml"
SOURCE_CRD = CRDS / "aim.eai.amd.com_aimclustermodelsources.yaml"
SOURCES = "/apis/aim.eai.amd.com/v1alpha1/aimclustermodelsources"
MODELS = "/apis/aim.eai.amd.com/v1alpha1/aimclustermodels"
AIM_MANAGER = "aim-cluster-model-source-controller"  # AIM's FieldOwner for its source controller
INTERVAL = 3  # the source's syncInterval, seconds
WINDOW = 8  # --competing-controller-window; more than 2 x INTERVAL, so it is the window in force


@pytest.fixture(scope="module")
def aim_cluster() -> Iterator[RealKube]:
    with private_real_kube() as kube:
        kube.kubectl("apply", "--server-side", "-f", str(SOURCE_CRD), "-f", str(AIM_MODEL_CRD))
        for crd in ("aimclustermodelsources.aim.eai.amd.com", "aimclustermodels.aim.eai.amd.com"):
            kube.kubectl("wait", "--for=condition=Established", "--timeout=60s", f"crd/{crd}")
        kube.kubectl("create", "namespace", "aim-system")
        yield kube


@pytest.fixture
def registry(anonymous_registry: RunningRegistry) -> RunningRegistry:
    return anonymous_registry


def push(registry: RunningRegistry, repository: str, *tags: str) -> None:
    with registry.pusher() as pusher:
        pusher.push_image(repository, tags)


def models_of(kube: RealKube, source: str) -> dict[str, str]:
    listing = kube.ok("GET", f"{MODELS}?labelSelector=aim.eai.amd.com/model-source={source}")
    return {m["metadata"]["name"]: m["spec"]["image"] for m in listing["items"]}


def competing_events(kube: RealKube, source: str) -> list[dict[str, Any]]:
    listing = kube.ok("GET", f"/api/v1/namespaces/default/events?fieldSelector=involvedObject.name={source}")
    return [e for e in listing["items"] if e["reason"] == "CompetingController"]


def status_writes(body: dict[str, Any]) -> dict[str, str]:
    """Each field manager's last status write, from managedFields."""
    return {
        e["manager"]: e["time"]
        for e in body["metadata"].get("managedFields") or ()
        if e.get("subresource") == "status"
    }


class AimController:
    """Writes the source's status as AIM's source controller does - a merge patch of the status
    subresource under its own field manager, AIM's status shape - once a second until stopped."""

    def __init__(self, kube: RealKube, source: str) -> None:
        self.kube, self.source = kube, source
        self.writes = 0
        self.last_write = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="aim-controller", daemon=True)

    def write(self) -> None:
        now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        patch = {
            "status": {
                "status": "Running",
                "lastSyncTime": now,
                "discoveredModels": 1,  # AIM's word, admitted
                "conditions": [
                    {
                        "type": "Ready",
                        "status": "True",
                        "reason": "AllComponentsReady",
                        "message": "",
                        "lastTransitionTime": now,
                    },
                    {
                        "type": "RegistryReachable",
                        "status": "True",
                        "reason": "Reachable",
                        "message": "",
                        "lastTransitionTime": now,
                    },
                ],
            }
        }
        self.kube.ok(
            "PATCH",
            f"{SOURCES}/{self.source}/status?fieldManager={AIM_MANAGER}",
            patch,
            content_type="application/merge-patch+json",
        )
        self.writes += 1
        self.last_write = time.monotonic()

    def start(self) -> None:
        self.write()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            self.write()


def test_aimsource_stands_down_while_another_controller_writes_the_status_and_resumes_after(
    aim_cluster: RealKube, registry: RunningRegistry, tmp_path: Path
) -> None:
    kube, run = aim_cluster, uuid.uuid4().hex[:8]
    name, repository = f"contest-{run}", f"contest/{run}"
    push(registry, repository, "1.0.0")
    kube.ok(
        "POST",
        SOURCES,
        {
            "apiVersion": "aim.eai.amd.com/v1alpha1",
            "kind": "AIMClusterModelSource",
            "metadata": {"name": name},
            "spec": {"images": [f"{registry.host}/{repository}"], "syncInterval": f"{INTERVAL}s"},
        },
    )
    op = OperatorProcess(kube.kubeconfig, tmp_path, extra=("--competing-controller-window", f"{WINDOW}s"))
    aim = AimController(kube, name)
    try:
        op.start()

        # Alone, aimsource syncs; its own status writes (several by now) never count as another's.
        op.wait(lambda: len(models_of(kube, name)) == 1, timeout=60, message="first model")
        # The model is created before the sync writes its status: wait for that write too.
        first_sync = op.wait(
            lambda: (kube.ok("GET", f"{SOURCES}/{name}").get("status") or {}).get("lastSyncTime"),
            timeout=60,
            message="first status",
        )
        op.wait(
            lambda: kube.ok("GET", f"{SOURCES}/{name}")["status"]["lastSyncTime"] != first_sync,
            timeout=30,
            message="a second sync",
        )
        body = kube.ok("GET", f"{SOURCES}/{name}")
        assert set(status_writes(body)) == {"aimsource"}
        assert body["status"]["status"] == "Ready"
        assert competing_events(kube, name) == []
        assert op.metric("aimsource_sources_contested") == 0

        # AIM's controller starts writing the status; a new tag appears in the registry.
        aim.start()
        push(registry, repository, "1.1.0")
        started = time.monotonic()
        op.wait(
            lambda: op.logged("source managed by another controller: aimsource stands down", source=name),
            timeout=2 * INTERVAL + 10,
            message="stand-down",
        )
        assert time.monotonic() - started <= 2 * INTERVAL + 10  # within one sync (plus the watch)
        ours_at_stand_down = status_writes(kube.ok("GET", f"{SOURCES}/{name}"))["aimsource"]
        time.sleep(2 * INTERVAL + 1)  # at least two more syncs while contested
        body = kube.ok("GET", f"{SOURCES}/{name}")
        assert status_writes(body)["aimsource"] == ours_at_stand_down, "aimsource wrote the status"
        assert AIM_MANAGER in status_writes(body)
        assert body["status"]["status"] == "Running"  # AIM's write landed and was left alone
        assert {c["type"] for c in body["status"]["conditions"]} == {"Ready", "RegistryReachable"}
        assert list(models_of(kube, name).values()) == [f"{registry.host}/{repository}:1.0.0"]
        assert op.metric("aimsource_sources_contested") == 1
        events = competing_events(kube, name)
        assert len(events) == 1
        assert events[0]["type"] == "Warning"
        assert f'"{AIM_MANAGER}"' in events[0]["message"]
        assert len(op.logged("source managed by another controller: aimsource stands down")) == 1

        # AIM's writes stop: after the window aimsource takes the source back.
        aim.stop()
        stopped = aim.last_write
        op.wait(
            lambda: len(models_of(kube, name)) == 2,
            timeout=WINDOW + 2 * INTERVAL + 15,
            message="resumed sync",
        )
        waited = time.monotonic() - stopped
        # managedFields times have whole seconds: the server may record the last write up to 1 s early.
        assert waited >= WINDOW - 1.5, f"resumed {waited:.1f} s after the last write of the other"
        assert op.logged(
            "competing controller stopped writing: aimsource manages the source again", source=name
        )
        op.wait(
            lambda: (
                {c["type"] for c in kube.ok("GET", f"{SOURCES}/{name}")["status"]["conditions"]}
                >= {"Ready", "Degraded", "MaxModelsLimitReached"}
            ),
            timeout=15,
            message="our status",
        )
        body = kube.ok("GET", f"{SOURCES}/{name}")
        assert status_writes(body)["aimsource"] > ours_at_stand_down
        assert body["status"]["selectors"]
        assert op.metric("aimsource_sources_contested") == 0
        assert len(competing_events(kube, name)) == 1
    finally:
        aim.stop()
        op.stop()
        kube.request("DELETE", f"{SOURCES}/{name}")


def test_gitops_manifests_apply_strictly_to_aims_model_crd_with_nothing_pruned(
    aim_cluster: RealKube, registry: RunningRegistry, tmp_path: Path
) -> None:
    kube, run = aim_cluster, uuid.uuid4().hex[:8]
    repository = f"gitops/{run}"
    push(registry, repository, "0.9.0", "1.0.0")
    name = f"gitops-{run}"
    (tmp_path / "source.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "aim.eai.amd.com/v1alpha1",
                "kind": "AIMClusterModelSource",
                "metadata": {"name": name},
                "spec": {"images": [f"{registry.host}/{repository}"], "imagePullSecrets": [{"name": "pull"}]},
            }
        )
    )
    out = tmp_path / "models"
    sync = subprocess.run(
        [sys.executable, "-m", "aimsource", "sync", str(tmp_path / "source.yaml"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert sync.returncode == 0, sync.stderr
    files = sorted(out.glob("*.yaml"))
    assert len(files) == 2
    try:
        applied = kube.kubectl("apply", "--server-side", "--validate=strict", "-f", str(out))
        assert applied.stdout.count("serverside-applied") == 2
        for path in files:
            written = yaml.safe_load(path.read_text())
            assert "ownerReferences" not in written["metadata"]  # Git owns them; no source here
            stored = kube.ok("GET", f"{MODELS}/{written['metadata']['name']}")
            # Every field written is stored as written: nothing pruned, nothing defaulted over.
            assert stored["spec"] == written["spec"]
            assert set(written["spec"]) == {"image", "imagePullSecrets", "discovery"}
            for key in ("labels", "annotations"):
                assert stored["metadata"][key] == written["metadata"][key]
            assert written["metadata"]["annotations"]["aim.eai.amd.com/source-digest"].startswith("sha256:")
        # Applying again changes nothing.
        again = kube.kubectl("apply", "--server-side", "--validate=strict", "-f", str(out))
        assert again.stdout.count("serverside-applied") == 2
    finally:
        kube.kubectl("delete", "--ignore-not-found", "-f", str(out))


def test_the_fixture_is_aims_schema_where_it_matters(aim_cluster: RealKube, tmp_path: Path) -> None:
    """Controls for the test above: the CRD under it does default, require and reject as AIM's."""
    kube, run = aim_cluster, uuid.uuid4().hex[:8]

    def apply(name: str, spec: dict[str, Any]) -> subprocess.CompletedProcess[str]:
        body = {
            "apiVersion": "aim.eai.amd.com/v1alpha1",
            "kind": "AIMClusterModel",
            "metadata": {"name": name},
            "spec": spec,
        }
        return kube.kubectl(
            "apply", "--server-side", "--validate=strict", "-f", "-", input=json.dumps(body), check=False
        )

    try:
        # discovery's booleans default to true; AIM's other fields are kept whole.
        assert (
            apply(
                f"defaults-{run}",
                {
                    "image": "x/y:1",
                    "discovery": {},
                    "runtimeConfigName": "gpu",
                    "custom": {"hardware": {"gpu": {"requests": 1}}},
                },
            ).returncode
            == 0
        )
        stored = kube.ok("GET", f"{MODELS}/defaults-{run}")["spec"]
        assert stored["discovery"] == {"extractMetadata": True, "createServiceTemplates": True}
        assert stored["custom"] == {"hardware": {"gpu": {"requests": 1}}}
        assert stored["runtimeConfigName"] == "gpu"
        # Strict validation refuses what AIM's schema does not know, and image is required.
        unknown = apply(f"unknown-{run}", {"image": "x/y:1", "notAnAimField": True})
        assert unknown.returncode != 0
        assert ".spec.notAnAimField: field not declared in schema" in unknown.stderr
        missing = apply(f"missing-{run}", {"imagePullSecrets": [{"name": "pull"}]})
        assert missing.returncode != 0
        assert "spec.image: Required value" in missing.stderr
    finally:
        kube.request("DELETE", f"{MODELS}/defaults-{run}")
