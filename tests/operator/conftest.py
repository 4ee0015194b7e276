"""Fixtures of the operator tests that run the reconciler on the emulated API server.

`kube_api` (a fresh emulator) comes from tests/support/kubeapi_fixtures.py through the root
conftest's `pytest_plugins`; `api` is the same server under the name these tests use.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aimsource.kube import ClientSettings, KubeClient, load_kube_config
from tests.operator.reconciler_harness import Harness
from tests.support.kubeapi import KubeAPI


@pytest.fixture
def api(kube_api: KubeAPI) -> KubeAPI:
    return kube_api


@pytest.fixture
async def kube(api: KubeAPI, tmp_path: Path) -> AsyncIterator[KubeClient]:
    """Our client on `api`, configured from a kubeconfig as in production; no retries, so that a
    refusal the test arranged reaches the reconciler as it is."""
    config = load_kube_config(
        environ={"KUBECONFIG": str(api.write_kubeconfig(tmp_path / "kubeconfig"))},
        service_account_dir=tmp_path / "no-sa",
    )
    async with KubeClient(config, ClientSettings(retries=0)) as kube:
        yield kube


@pytest.fixture
def harness(api: KubeAPI, kube: KubeClient) -> Harness:
    return Harness(api, kube)


@pytest.fixture
def h(harness: Harness) -> Harness:
    """`harness`, under the short name of the tests that use it on every line."""
    return harness
