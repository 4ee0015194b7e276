"""The install (`kubectl apply --server-side -k deploy/`) and every example, accepted by the real server.

kubectl is the one built with the server (Debian's kubernetes-client is several minor versions older,
outside kubectl's supported skew of one).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.realkube import CRDS, ROOT, RealKube

EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def test_deploy_applies_server_side(real_kube: RealKube) -> None:
    result = real_kube.kubectl("apply", "--server-side", "--force-conflicts", "-k", str(ROOT / "deploy"))
    assert "aimclustermodelsources.aim.eai.amd.com serverside-applied" in result.stdout
    for crd in ("aimclustermodelsources.aim.eai.amd.com", "aimclustermodels.aim.eai.amd.com"):
        real_kube.kubectl("wait", "--for=condition=Established", "--timeout=60s", f"crd/{crd}")
    # Every object kustomize renders is now on the server, as rendered.
    listing = real_kube.kubectl("kustomize", str(ROOT / "deploy")).stdout
    objects = real_kube.kubectl("get", "-f", "-", "-o", "json", input=listing).stdout
    items = json.loads(objects)["items"]
    kinds = {(item["kind"], item["metadata"]["name"]) for item in items}
    assert ("Namespace", "aim-system") in kinds
    assert any(kind == "ClusterRole" for kind, _ in kinds)
    assert any(kind == "Deployment" for kind, _ in kinds)
    # A second apply changes nothing and conflicts with nothing.
    again = real_kube.kubectl("apply", "--server-side", "-k", str(ROOT / "deploy"))
    assert "serverside-applied" in again.stdout


@pytest.mark.parametrize("example", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_example_is_accepted(real_kube: RealKube, example: Path) -> None:
    real_kube.kubectl("apply", "--server-side", "--force-conflicts", "-k", str(CRDS))
    real_kube.kubectl(
        "wait", "--for=condition=Established", "--timeout=60s", "crd/aimclustermodelsources.aim.eai.amd.com"
    )
    namespaces = real_kube.kubectl("get", "ns", "aim-system", check=False)
    if namespaces.returncode != 0:
        real_kube.kubectl("create", "namespace", "aim-system")
    try:
        result = real_kube.kubectl("apply", "--server-side", "-f", str(example))
        assert "serverside-applied" in result.stdout
        stored = json.loads(real_kube.kubectl("get", "-f", str(example), "-o", "json").stdout)
        assert stored.get("items", [stored])
    finally:
        real_kube.kubectl("delete", "--ignore-not-found", "--wait=false", "-f", str(example))
