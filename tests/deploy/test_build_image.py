"""scripts/build-image's own promises, without building anything: a quiet step still prints progress
(CI's log must show a line at least every 30 s), a failed step says why, and the base's cache key
follows everything that decides the base. test_image.py and test_image_run.py use the script for real.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from types import ModuleType

import pytest

from tests.deploy.manifests import REPO


@pytest.fixture(scope="module")
def script() -> ModuleType:
    path = REPO / "scripts" / "build-image"
    loader = importlib.machinery.SourceFileLoader("build_image_script", str(path))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[loader.name] = module  # dataclasses and the like look their module up
    loader.exec_module(module)
    return module


def test_the_heartbeat_is_within_the_30_seconds_ci_allows(script: ModuleType) -> None:
    assert script.HEARTBEAT < 30


def test_a_quiet_step_says_it_is_still_running(
    script: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(script, "HEARTBEAT", 0.5)
    took = script.run_with_progress(["sh", "-c", "echo first; sleep 2.5; echo last"], "quiet step")
    err = capsys.readouterr().err
    assert err.index("first") < err.index("quiet step: still running") < err.index("last")
    assert err.count("still running") >= 2
    assert took >= 2.5


def test_a_failed_step_fails_with_its_last_lines(script: ModuleType) -> None:
    with pytest.raises(script.BuildError, match=r"broken step failed \(exit 3\)[\s\S]*the reason"):
        script.run_with_progress(["sh", "-c", "echo the reason; exit 3"], "broken step")


def test_the_base_key_follows_what_decides_the_base(
    script: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = script.base_key()
    assert key == script.base_key()
    assert key.startswith(f"{script.SUITE}-")
    monkeypatch.setattr(
        script, "MMDEBSTRAP", (*script.MMDEBSTRAP[:-1], "--include=python3-dev", script.SUITE)
    )
    assert script.base_key() != key
    monkeypatch.undo()
    monkeypatch.setattr(script, "BASE_RECIPE", "another recipe")
    assert script.base_key() != key
