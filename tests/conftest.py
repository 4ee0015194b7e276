"""Suite-wide fixtures."""

from __future__ import annotations

import asyncio
import inspect
import warnings
from collections.abc import Iterator

import pytest

# The test bed's fixtures, for every test package (tests/support/README.md lists them): test modules
# ask for them by name and never import them.
pytest_plugins = [
    "tests.support.kubeapi_fixtures",  # the emulated API server: kube_api, kubeconfig
    "tests.support.registry_fixtures",  # real docker-registry processes and the fronts
    "tests.support.realkube",  # the real control plane (scripts/kube-testbed): real_kube, real_kube_crds
    "tests.support.realkube_fixtures",  # a test's own namespace, run id and cleanup on the real server
]


@pytest.fixture(autouse=True)
def _close_loop_left_by_a_sync_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """Closes the event loop that looptime's hook creates around a synchronous test.

    looptime asks the policy for the current loop before every test, which creates one for a
    synchronous test; pytest-asyncio later replaces it without closing it, and the orphaned loop's
    sockets surface as ResourceWarnings (errors here) at the end of the session.
    """
    yield
    if inspect.iscoroutinefunction(request.function):
        return
    policy = asyncio.get_event_loop_policy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            loop = policy.get_event_loop()
        except RuntimeError:
            return
    if not loop.is_running():
        loop.close()
        policy.set_event_loop(None)
