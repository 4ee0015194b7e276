"""Fixtures of the image tests (test_image.py, test_image_run.py): the image built from this tree,
pushed to a real docker-registry and pulled back, and its root filesystem mounted for runc.

The image is built once per session by scripts/build-image (buildah, on the mmdebstrap base that it
caches): cold, several minutes; then seconds, as `buildah bud --layers` reuses every unchanged step.
Its progress goes to the terminal as it comes, past pytest's capture, and the first test that needs
it gets the time for a cold build. A missing tool fails these tests, naming the Debian package.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.deploy import containers
from tests.deploy.oci_layout import OciImage
from tests.support.registry_server import RunningRegistry, registry_binary, start_registry

IMAGE_FIXTURES = {"image_build", "pushed_image", "image_rootfs"}
FIRST_TEST_TIMEOUT = 1500.0  # a cold build: the mmdebstrap base (1-3 min) and the image (1-3 min), with room
REPOSITORY = "aimsource/operator"


@pytest.hookimpl(trylast=True)  # after -k/-m deselection
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The first selected test that needs the image gets the time of a cold build."""
    users = [item for item in items if IMAGE_FIXTURES & set(getattr(item, "fixturenames", ()))]
    if users:
        users[0].add_marker(pytest.mark.timeout(FIRST_TEST_TIMEOUT), append=False)  # before its own


@dataclass(frozen=True)
class Pushed:
    reference: str  # HOST:PORT/REPOSITORY:TAG in the session's registry
    image: OciImage  # as the registry serves it


@pytest.fixture(scope="session")
def image_build(pytestconfig: pytest.Config) -> containers.Build:
    """The image built from this tree by scripts/build-image (as `make image` and .ci/run build it)."""
    missing = containers.missing_tools()
    if missing:
        pytest.fail("the image tests need " + ", ".join(missing) + "; .ci/run installs them", pytrace=False)
    if not containers.is_root():
        pytest.fail("the image tests run buildah, mmdebstrap and runc as root (as CI does)", pytrace=False)
    capture: Any = pytestconfig.pluginmanager.get_plugin("capturemanager")

    def progress(line: str) -> None:
        # Past pytest's capture: a cold build is minutes that would otherwise pass in silence.
        with capture.global_and_fixture_disabled():
            sys.stderr.write(line + "\n")
            sys.stderr.flush()

    progress("")
    return containers.build(progress)


def _require_registry() -> None:
    # The registry fixtures skip without docker-registry; the image tests fail, naming it.
    if registry_binary() is None:
        pytest.fail("docker-registry (Debian package docker-registry) is not installed; .ci/run installs it")


@pytest.fixture(scope="session")
def image_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    """A plain-HTTP docker-registry of the image tests' own, storing on disk: the in-memory storage
    of the suite's shared registries copies a blob over and over as it grows (minutes for 100 MB)."""
    _require_registry()
    workdir = tmp_path_factory.mktemp("image-registry")
    with start_registry("anonymous", workdir=workdir, storage_dir=workdir / "storage") as registry:
        yield registry


@pytest.fixture(scope="session")
def model_registry(request: pytest.FixtureRequest) -> RunningRegistry:
    """The suite's anonymous registry with its AIM-like images, for the sources of the run test."""
    _require_registry()
    registry: RunningRegistry = request.getfixturevalue("anonymous_registry")
    return registry


@pytest.fixture(scope="session")
def pushed_image(
    image_build: containers.Build, image_registry: RunningRegistry, tmp_path_factory: pytest.TempPathFactory
) -> Pushed:
    """The image pushed with skopeo to the registry and pulled back as an OCI layout."""
    reference = f"{image_registry.host}/{REPOSITORY}:{image_build.image_id[:12]}"
    containers.push(image_build.image_id, reference)
    image = containers.pull(reference, tmp_path_factory.mktemp("pulled") / "layout")
    return Pushed(reference, image)


@pytest.fixture(scope="session")
def image_rootfs(image_build: containers.Build) -> Iterator[Path]:
    """The built image's root filesystem, mounted by buildah (read-only inside every container)."""
    with containers.mounted_rootfs(image_build.image_id) as rootfs:
        yield rootfs


@pytest.fixture(scope="session")
def image_config(image_build: containers.Build) -> dict[str, Any]:
    return containers.image_config(image_build.image_id)
