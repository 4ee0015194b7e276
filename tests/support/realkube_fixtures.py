"""Fixtures of the tests in one real-server namespace: the test's own namespace, run id and cleanup,
a plugin listed in the root conftest's `pytest_plugins` (tests/support/README.md).

The server is shared by the whole session: each test works in a namespace of its own and labels the
cluster-scoped objects it creates with its own value, and both are deleted after it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

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
