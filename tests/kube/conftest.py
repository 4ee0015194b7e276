"""Fixtures of the kube tests: the emulated API server (see tests/support/kubeapi.py)."""

from tests.support.kubeapi_fixtures import kube_api, kubeconfig

__all__ = ["kube_api", "kubeconfig"]
