"""Every manifest under examples/ is one a user can apply as it is: `aimsource check` accepts it.

The files are the seed documentation's examples (plus a few for fields it only describes); a user
copies them first, so a typo there costs more than one anywhere else.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import yaml

from aimsource.cli import main
from aimsource.domain.spec.source import check_source
from aimsource.registry.auth.credentials import parse_docker_config
from tests.deploy.manifests import OPERATOR_NAMESPACE, REPO

EXAMPLES = REPO / "examples"
SEED_EXAMPLES = (
    "basic-example.yaml",
    "dockerhub-explicit-images.yaml",
    "ghcr-version-constraints.yaml",
    "multi-registry-filters.yaml",
    "private-registry.yaml",
    "specific-versions.yaml",
    "max-models.yaml",
)
ALL_EXAMPLES = sorted(EXAMPLES.glob("*.yaml"))


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _sources(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in _documents(path) if doc.get("kind") == "AIMClusterModelSource"]


@pytest.mark.parametrize("name", SEED_EXAMPLES)
def test_seed_example_is_shipped(name: str) -> None:
    assert (EXAMPLES / name).is_file()


@pytest.mark.parametrize("path", ALL_EXAMPLES, ids=lambda p: p.name)
def test_example_passes_aimsource_check(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", str(path)])
    out, err = capsys.readouterr()
    assert code == 0, f"aimsource check {path.name} exited {code}:\n{out}{err}"


@pytest.mark.parametrize("path", ALL_EXAMPLES, ids=lambda p: p.name)
def test_example_sources_break_no_rule(path: Path) -> None:
    sources = _sources(path)
    assert sources, f"{path.name} holds no AIMClusterModelSource"
    for source in sources:
        assert check_source(source) == [], source["metadata"]["name"]


def test_check_rejects_a_source_with_both_images_and_filters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The same harness must be able to say no, or the tests above prove nothing.
    broken = yaml.safe_load((EXAMPLES / "basic-example.yaml").read_text())
    broken["spec"]["filters"] = [{"image": "amdenterpriseai/aim-base"}]
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(broken))
    assert main(["check", str(path)]) != 0
    capsys.readouterr()


def test_example_source_names_do_not_collide() -> None:
    # `kubectl apply -f examples/` must create every example, not overwrite one with another.
    names = [src["metadata"]["name"] for path in ALL_EXAMPLES for src in _sources(path)]
    assert len(names) == len(set(names)), sorted(names)


def test_private_registry_secret_is_a_pull_secret_in_the_operator_namespace() -> None:
    documents = _documents(EXAMPLES / "private-registry.yaml")
    secrets = {doc["metadata"]["name"]: doc for doc in documents if doc["kind"] == "Secret"}
    (source,) = _sources(EXAMPLES / "private-registry.yaml")
    for ref in source["spec"]["imagePullSecrets"]:
        secret = secrets[ref["name"]]
        assert secret["type"] == "kubernetes.io/dockerconfigjson"
        assert secret["metadata"]["namespace"] == OPERATOR_NAMESPACE


def test_private_registry_secret_holds_only_a_placeholder_for_the_registry() -> None:
    (secret,) = [d for d in _documents(EXAMPLES / "private-registry.yaml") if d["kind"] == "Secret"]
    (source,) = _sources(EXAMPLES / "private-registry.yaml")
    raw = base64.b64decode(secret["data"][".dockerconfigjson"], validate=True)
    credential = parse_docker_config(raw, origin="examples/private-registry.yaml").for_registry(
        source["spec"]["registry"]
    )
    assert credential is not None
    assert credential.username.startswith("REPLACE_WITH_")
    assert credential.password.startswith("REPLACE_WITH_")


def test_examples_readme_lists_every_example() -> None:
    readme = (EXAMPLES / "README.md").read_text()
    files = [p.name for p in [*ALL_EXAMPLES, EXAMPLES / "tags.json"]]
    unlisted = [name for name in files if f"]({name})" not in readme]
    assert not unlisted, f"examples/README.md does not list {unlisted}"
