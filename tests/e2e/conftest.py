"""End-to-end fixtures: the API server (emulated or real), real registries, and `aimsource run` processes.

Every scenario that asks for `cluster` or `shared_cluster` runs twice, with the ids `emulator` and
`real` (the real control plane of scripts/kube-testbed, where the operator holds a token of the
deploy's ServiceAccount and deploy/'s RBAC is enforced); `@pytest.mark.emulator_only` keeps a
scenario that needs the emulator's powers on the emulator alone (each such mark says why).

Most scenarios share one server and one operator per module and backend (each scenario uses its own
source and repository names and deletes what it created), which keeps the suite to a few minutes;
scenarios that restart operators get `cluster`: a fresh emulator, or the shared real server.
"""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.cluster import Backend, Cluster, EmulatorBackend, RealBackend, install_deploy
from tests.e2e.operator_process import OperatorProcess, running_operator
from tests.support.kubeapi import KubeAPI
from tests.support.realkube import RealKube
from tests.support.registry_server import RunningRegistry

_counter = itertools.count()
HERE = Path(__file__).parent


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects: `-m e2e` / `-m "not e2e"` see the mark
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test of this package is an end-to-end test: marked `e2e` here, in one place (a
    `pytestmark` in a conftest.py has no effect, pytest reads it from test modules only)."""
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.e2e)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`backend_name` is `emulator` and `real` (module scope, so a module's scenarios share each)."""
    if "backend_name" not in metafunc.fixturenames:
        return
    params = [pytest.param("emulator", id="emulator")]
    if metafunc.definition.get_closest_marker("emulator_only") is None:
        # The mark makes tests/support/realkube.py start the testbed right after collection.
        params.append(pytest.param("real", id="real", marks=pytest.mark.real_kube))
    metafunc.parametrize("backend_name", params, scope="module")


def assert_not_refused(workdir: Path) -> None:
    """No request of the operators that logged in `workdir` was refused by RBAC: deploy/'s grants
    cover everything the scenario made the operator do (a 403 that the scenario tolerated, such as
    a model it reports as refused, would otherwise pass unnoticed)."""
    refused = [
        line
        for log in sorted(workdir.glob("*.log"))
        for line in log.read_text(errors="replace").splitlines()
        if "is forbidden: User" in line and "system:serviceaccount:" in line
    ]
    assert not refused, "deploy/'s RBAC refused the operator:\n" + "\n".join(refused[:5])


@pytest.fixture(scope="session")
def real_backend(real_kube_crds: RealKube) -> RealBackend:
    """The session's real server with deploy/ installed (namespace, ServiceAccount, RBAC)."""
    install_deploy(real_kube_crds)
    return RealBackend(real_kube_crds)


@contextlib.contextmanager
def _emulator() -> Iterator[EmulatorBackend]:
    with KubeAPI() as api:
        yield EmulatorBackend(api)
    assert not api.internal_errors, "\n".join(api.internal_errors)


@pytest.fixture(scope="module")
def module_backend(backend_name: str, request: pytest.FixtureRequest) -> Iterator[Backend]:
    if backend_name == "real":
        yield request.getfixturevalue("real_backend")
        return
    with _emulator() as backend:
        yield backend


@pytest.fixture(scope="module")
def shared_operator(
    module_backend: Backend, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    workdir = tmp_path_factory.mktemp("operator")
    kubeconfig = module_backend.operator_kubeconfig(workdir / "kubeconfig")
    with running_operator(kubeconfig, workdir) as op:
        yield op
    if module_backend.name == "real":
        assert_not_refused(workdir)


@pytest.fixture
def shared_cluster(module_backend: Backend) -> Iterator[Cluster]:
    """The module's server, shared with the module's operator; what the scenario creates is deleted."""
    cluster = Cluster(module_backend)
    yield cluster
    cluster.clean_up()


@pytest.fixture
def cluster(backend_name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cluster]:
    """A server for scenarios that must not share one: a fresh emulator, or the (shared) real server,
    where the scenario's objects are deleted afterwards."""
    if backend_name == "real":
        cluster = Cluster(request.getfixturevalue("real_backend"))
        yield cluster
        cluster.clean_up()
        assert_not_refused(tmp_path)  # where the scenario's operators write their logs
        return
    with _emulator() as backend:
        yield Cluster(backend)


@pytest.fixture
def kubeconfig(cluster: Cluster, tmp_path: Path) -> Path:
    """For the operator under test (on the real server: a ServiceAccount token, not the admin's)."""
    return cluster.operator_kubeconfig(tmp_path / "kubeconfig")


@pytest.fixture
def unique(request: pytest.FixtureRequest) -> str:
    """A short name unique in the session, for sources and repositories of one scenario."""
    base = re.sub(r"[^a-z0-9]+", "-", request.node.originalname.lower()).strip("-")[:30].strip("-")
    return f"{base}-{next(_counter)}"


@pytest.fixture
def registry(anonymous_registry: RunningRegistry) -> RunningRegistry:
    return anonymous_registry
