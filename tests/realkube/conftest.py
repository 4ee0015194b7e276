"""Fixtures of the tests against the real control plane (tests/support/realkube.py).

The server is shared by the whole session: each test works in a namespace of its own and labels the
cluster-scoped objects it creates with its own value, and both are deleted after it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from aimsource.kube import ClientSettings, KubeClient, load_kube_config
from tests.support.realkube import RealKube

MODELS = "/apis/aim.eai.amd.com/v1alpha1/aimclustermodels"
SOURCES = "/apis/aim.eai.amd.com/v1alpha1/aimclustermodelsources"
TEST_LABEL = "aimsource.test/run"


@pytest.fixture
def run_id() -> str:
    """A value unique to this test, for names and for the TEST_LABEL of what it creates."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
def namespace(real_kube: RealKube, run_id: str) -> Iterator[str]:
    """A namespace of this test's own (deleted after it, by the real namespace controller)."""
    name = f"t-{run_id}"
    real_kube.ok(
        "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    )
    yield name
    real_kube.request("DELETE", f"/api/v1/namespaces/{name}")


@pytest.fixture
def cleanup_cluster_objects(real_kube_crds: RealKube, run_id: str) -> Iterator[str]:
    """Deletes the models and sources labelled with this test's run id after it; yields the selector."""
    selector = f"{TEST_LABEL}={run_id}"
    yield selector
    for path in (SOURCES, MODELS):
        real_kube_crds.request("DELETE", f"{path}?labelSelector={selector}")


@pytest.fixture
def fast_settings() -> ClientSettings:
    return ClientSettings(timeout=10.0, retries=3, backoff=0.01, max_retry_after=0.2, page_size=2)


@pytest.fixture
async def kube_client(
    real_kube_crds: RealKube, tmp_path: Path, fast_settings: ClientSettings
) -> AsyncIterator[KubeClient]:
    """Our KubeClient configured from the admin kubeconfig, the way the operator loads one."""
    config = load_kube_config(
        environ={"KUBECONFIG": str(real_kube_crds.kubeconfig)}, service_account_dir=tmp_path / "no-sa"
    )
    async with KubeClient(config, fast_settings) as client:
        yield client
