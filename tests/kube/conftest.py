"""Fixtures of the kube tests: our client on the emulated API server (`kube_api` and `kubeconfig` come
from tests/support/kubeapi_fixtures.py through the root conftest's `pytest_plugins`)."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aimsource.kube import ClientSettings, KubeClient, load_kube_config


@pytest.fixture
def fast_settings() -> ClientSettings:
    """Retries without real waiting, so that retry tests stay fast."""
    return ClientSettings(timeout=2.0, retries=3, backoff=0.01, max_retry_after=0.2, page_size=2)


@pytest.fixture
async def kube_client(
    kubeconfig: Path, tmp_path: Path, fast_settings: ClientSettings
) -> AsyncIterator[KubeClient]:
    """Our KubeClient, configured the way the operator is: from the kubeconfig, over real HTTP."""
    config = load_kube_config(environ={"KUBECONFIG": str(kubeconfig)}, service_account_dir=tmp_path / "no-sa")
    async with KubeClient(config, fast_settings) as client:
        yield client
