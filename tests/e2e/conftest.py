"""End-to-end fixtures: the emulated Kubernetes API, real registries, and `aimsource run` processes.

Most scenarios share one API server and one operator per module (each scenario uses its own source
and repository names), which keeps the suite to a few minutes; scenarios that restart operators or
count requests get their own API server.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.operator_process import OperatorProcess, running_operator
from tests.support.kubeapi import KubeAPI
from tests.support.registry_fixtures import (  # noqa: F401
    anonymous_registry,
    fault_front,
    htpasswd_registry,
    make_fault_front,
)
from tests.support.registry_server import RunningRegistry

pytestmark = pytest.mark.e2e
_counter = itertools.count()


@pytest.fixture(scope="module")
def shared_api() -> Iterator[KubeAPI]:
    with KubeAPI() as api:
        yield api
    assert not api.internal_errors, "\n".join(api.internal_errors)


@pytest.fixture(scope="module")
def shared_operator(
    shared_api: KubeAPI, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    workdir = tmp_path_factory.mktemp("operator")
    kubeconfig = shared_api.write_kubeconfig(workdir / "kubeconfig")
    with running_operator(kubeconfig, workdir) as op:
        yield op


@pytest.fixture
def api() -> Iterator[KubeAPI]:
    """A fresh API server for scenarios that must not share one."""
    with KubeAPI() as api:
        yield api
    assert not api.internal_errors, "\n".join(api.internal_errors)


@pytest.fixture
def kubeconfig(api: KubeAPI, tmp_path: Path) -> Path:
    return api.write_kubeconfig(tmp_path / "kubeconfig")


@pytest.fixture
def unique(request: pytest.FixtureRequest) -> str:
    """A short name unique in the session, for sources and repositories of one scenario."""
    base = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:30].strip("-")
    return f"{base}-{next(_counter)}"


@pytest.fixture
def registry(anonymous_registry: RunningRegistry) -> RunningRegistry:  # noqa: F811
    return anonymous_registry
