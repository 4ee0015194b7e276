"""Our KubeClient on the real control plane, for the tests of this package.

`real_kube`, `real_kube_crds`, `namespace`, `run_id` and `cleanup_cluster_objects` come from the test bed
(tests/support/realkube.py, tests/support/realkube_fixtures.py) through the root conftest's `pytest_plugins`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aimsource.kube import ClientSettings, KubeClient, load_kube_config
from tests.support.realkube import RealKube


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
