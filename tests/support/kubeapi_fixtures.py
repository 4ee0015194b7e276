"""Pytest fixtures for the emulated Kubernetes API, a plugin listed in the root conftest's `pytest_plugins`:
every test can ask for `kube_api` and `kubeconfig` by name (never import them)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.kubeapi import KubeAPI


@pytest.fixture
def kube_api() -> Iterator[KubeAPI]:
    """A fresh API server (namespaces default, kube-system, kube-public, aim-system; our CRDs installed).

    Fails the test if the emulator itself crashed on a request, so that its bugs are not mistaken
    for the client's.
    """
    with KubeAPI() as api:
        yield api
    assert not api.internal_errors, "\n".join(api.internal_errors)


@pytest.fixture
def kubeconfig(kube_api: KubeAPI, tmp_path: Path) -> Path:
    """A kubeconfig file pointing at `kube_api`; pass it to a process as KUBECONFIG."""
    return kube_api.write_kubeconfig(tmp_path / "kubeconfig")
