"""The directory model store (stores/directory.py) of `aimsource sync --out DIR`: manifests already
there are existing models, new models are added as files, and nothing there is ever rewritten.

The same store through the CLI, with real sources and a tags file, is tested in
tests/cli/test_syncdir.py and tests/cli/test_syncdir_gitops.py.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from aimsource.domain.resources import DIGEST_ANNOTATION, SOURCE_LABEL
from aimsource.domain.selection.planning import ExistingModel
from aimsource.domain.writes import CreateRefusedError, NameTakenError
from aimsource.stores import directory as directory_module
from aimsource.stores.directory import DirectoryModelStore, StoreError

DIGEST = "sha256:" + "a" * 64
QWEN = "docker.io/amdenterpriseai/aim-qwen-qwen3-32b"


def model(name: str, image: str, *, source: str | None = None, digest: str | None = None) -> dict[str, Any]:
    """A model manifest as the sync writes one (only the fields the store reads matter here)."""
    metadata: dict[str, Any] = {"name": name}
    if source is not None:
        metadata["labels"] = {SOURCE_LABEL: source}
    if digest is not None:
        metadata["annotations"] = {DIGEST_ANNOTATION: digest}
    return {"apiVersion": "aim.eai.amd.com/v1alpha1", "kind": "AIMClusterModel", "metadata": metadata,
            "spec": {"image": image}}  # fmt: skip


def write(path: Path, *docs: Any) -> Path:
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False), encoding="utf-8")
    return path


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


# -- opening: what the directory already holds -----------------------------------------------------


def test_a_missing_directory_is_created_empty(tmp_path: Path) -> None:
    store = DirectoryModelStore.open(tmp_path / "out" / "models")
    assert (tmp_path / "out" / "models").is_dir()
    assert store.existing() == {}


def test_manifests_of_every_yaml_file_are_existing_models_by_canonical_image(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", model("qwen-0-8-5", f"{QWEN}:0.8.5", source="src", digest=DIGEST))
    write(
        tmp_path / "b.yml",
        model("ubuntu-24", "ubuntu:24.04"),  # as a person writes it
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "not-a-model"}},
        None,  # an empty document
        model("llama", "ghcr.io/amd/llama"),  # no tag: `latest`
    )
    write(tmp_path / "c.json", model("ignored", "ghcr.io/amd/ignored:1.0.0"))  # not *.yaml / *.yml
    store = DirectoryModelStore.open(tmp_path)
    assert store.existing() == {
        f"{QWEN}:0.8.5": ExistingModel("qwen-0-8-5", f"{QWEN}:0.8.5", "src", DIGEST),
        "docker.io/library/ubuntu:24.04": ExistingModel("ubuntu-24", "docker.io/library/ubuntu:24.04", None),
        "ghcr.io/amd/llama:latest": ExistingModel("llama", "ghcr.io/amd/llama:latest", None),
    }


@pytest.mark.parametrize(
    "annotation",
    [pytest.param("sha256:short", id="not-a-digest"), pytest.param(["sha256:x"], id="not-a-string")],
)
def test_a_digest_annotation_that_is_no_digest_is_ignored(tmp_path: Path, annotation: Any) -> None:
    write(tmp_path / "m.yaml", model("m", "ghcr.io/amd/m:1.0.0", digest=annotation))
    assert DirectoryModelStore.open(tmp_path).existing()["ghcr.io/amd/m:1.0.0"].digest is None


def test_models_are_counted_per_source(tmp_path: Path) -> None:
    write(
        tmp_path / "m.yaml",
        model("a", "ghcr.io/amd/a:1.0.0", source="one"),
        model("b", "ghcr.io/amd/b:1.0.0", source="one"),
        model("c", "ghcr.io/amd/c:1.0.0", source="two"),
        model("d", "ghcr.io/amd/d:1.0.0"),
    )
    store = DirectoryModelStore.open(tmp_path)
    assert (store.owned_count("one"), store.owned_count("two"), store.owned_count("three")) == (2, 1, 0)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param("kind: [unclosed\n", "m.yaml is not valid YAML: ", id="bad-yaml"),
        pytest.param("a: 1\nb: [\n", "at line 3", id="bad-yaml-names-the-line"),
        pytest.param("a: " + "[" * 50_000 + "]" * 50_000, "nested too deeply", id="nested-too-deeply"),
        pytest.param(
            "kind: AIMClusterModel\nmetadata: {name: m}\nspec: {}\n",
            "m.yaml: an AIMClusterModel without metadata.name or spec.image",
            id="no-image",
        ),
        pytest.param(
            "kind: AIMClusterModel\nmetadata: {}\nspec: {image: ghcr.io/amd/m:1}\n",
            "without metadata.name",
            id="no-name",
        ),
        pytest.param(
            "kind: AIMClusterModel\nmetadata: {name: m}\nspec: {image: 7}\n",
            "without metadata.name or spec.image",
            id="image-not-a-string",
        ),
    ],
)
def test_a_file_the_store_cannot_read_stops_it_naming_the_file(
    tmp_path: Path, content: str, expected: str
) -> None:
    (tmp_path / "m.yaml").write_text(content)
    with pytest.raises(StoreError, match=r"m\.yaml") as caught:
        DirectoryModelStore.open(tmp_path)
    assert expected in str(caught.value)


def test_a_file_that_is_not_text_stops_the_store(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(StoreError, match=r"cannot read .*m\.yaml"):
        DirectoryModelStore.open(tmp_path)


def test_a_directory_that_cannot_be_created_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(StoreError, match=r"cannot create .*file/models"):
        DirectoryModelStore.open(tmp_path / "file" / "models")


def test_a_directory_we_may_not_write_is_a_store_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The tests run as root, for whom every directory is writable: the permission check is asked of
    # a stand-in for os.access that says what it says to an ordinary user on a read-only directory.
    asked: list[tuple[Path, int]] = []

    def access(path: Path, mode: int) -> bool:
        asked.append((path, mode))
        return False

    monkeypatch.setattr(directory_module.os, "access", access)
    with pytest.raises(StoreError, match="is not writable"):
        DirectoryModelStore.open(tmp_path)
    assert asked == [(tmp_path, os.W_OK | os.X_OK)]


# -- creating: only ever adding ------------------------------------------------------------------


async def test_a_new_model_is_one_new_file_read_back_as_it_was_written(tmp_path: Path) -> None:
    store = DirectoryModelStore.open(tmp_path)
    body = model("qwen-0-8-5", f"{QWEN}:0.8.5", source="src", digest=DIGEST)
    assert await store.create(body) is True
    assert store.written == [tmp_path / "qwen-0-8-5.yaml"]
    assert yaml.safe_load((tmp_path / "qwen-0-8-5.yaml").read_text()) == body
    expected = ExistingModel("qwen-0-8-5", f"{QWEN}:0.8.5", "src", DIGEST)
    assert store.existing() == {f"{QWEN}:0.8.5": expected}
    assert store.owned_count("src") == 1
    assert DirectoryModelStore.open(tmp_path).existing() == {f"{QWEN}:0.8.5": expected}


async def test_a_model_file_holds_the_text_pyyaml_writes(tmp_path: Path) -> None:
    """The store may write with libyaml's emitter (faster); a GitOps diff must not tell which."""
    from aimsource.domain.models import model_body
    from aimsource.domain.references import parse_reference
    from aimsource.domain.selection.planning import candidate_for

    store = DirectoryModelStore.open(tmp_path)
    long_tag = "0.8.5-" + "rc.1-" * 24 + "x"  # past PyYAML's 80-column line width
    for i, tag in enumerate(["0.8.5", long_tag]):
        ref = parse_reference(f"registry-{i}.example.com:5000/amdenterpriseai/aim-qwen-qwen3-32b:{tag}")
        body = model_body(
            candidate_for(ref, selector_index=0, selector="x"),
            source_name="src",
            source_uid="11111111-2222-3333-4444-555555555555",
            digest=DIGEST,
            image_pull_secrets=["regcred"],
        )
        assert await store.create(body) is True
        written = store.written[-1].read_text(encoding="utf-8")
        assert written == yaml.dump(body, Dumper=yaml.SafeDumper, sort_keys=False)


async def test_a_model_already_there_is_not_created_again(tmp_path: Path) -> None:
    write(tmp_path / "by-hand.yaml", model("ubuntu-24", "ubuntu:24.04"))
    before = snapshot(tmp_path)
    store = DirectoryModelStore.open(tmp_path)
    assert await store.create(model("ubuntu-24", "docker.io/library/ubuntu:24.04", source="src")) is False
    assert store.written == []
    assert snapshot(tmp_path) == before
    assert store.owned_count("src") == 0  # the manifest there keeps its (missing) label


async def test_a_name_held_by_another_image_is_a_name_conflict_and_the_file_stays(tmp_path: Path) -> None:
    write(tmp_path / "other.yaml", model("m", "ghcr.io/amd/other:1.0.0"))
    before = snapshot(tmp_path)
    store = DirectoryModelStore.open(tmp_path)
    with pytest.raises(NameTakenError) as caught:
        await store.create(model("m", "ghcr.io/amd/m:1.0.0"))
    assert (caught.value.name, caught.value.existing_image) == ("m", "ghcr.io/amd/other:1.0.0")
    assert snapshot(tmp_path) == before


async def test_a_name_created_in_this_run_is_held_for_another_image(tmp_path: Path) -> None:
    store = DirectoryModelStore.open(tmp_path)
    assert await store.create(model("m", "ghcr.io/amd/m:1.0.0")) is True
    with pytest.raises(NameTakenError):
        await store.create(model("m", "ghcr.io/amd/m:2.0.0"))
    assert await store.create(model("m", "ghcr.io/amd/m:1.0.0")) is False


async def test_two_manifests_of_one_name_are_both_existing_and_the_name_is_taken(tmp_path: Path) -> None:
    # A cluster would keep one of them; a directory edited by hand can hold both.
    write(tmp_path / "a.yaml", model("m", "ghcr.io/amd/a:1.0.0"))
    write(tmp_path / "b.yaml", model("m", "ghcr.io/amd/b:1.0.0"))
    store = DirectoryModelStore.open(tmp_path)
    assert set(store.existing()) == {"ghcr.io/amd/a:1.0.0", "ghcr.io/amd/b:1.0.0"}
    with pytest.raises(NameTakenError):
        await store.create(model("m", "ghcr.io/amd/c:1.0.0"))
    assert list(snapshot(tmp_path)) == ["a.yaml", "b.yaml"]


async def test_a_file_in_the_way_that_holds_no_model_is_refused_and_kept(tmp_path: Path) -> None:
    write(tmp_path / "m.yaml", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "m"}})
    before = snapshot(tmp_path)
    store = DirectoryModelStore.open(tmp_path)
    with pytest.raises(CreateRefusedError) as caught:
        await store.create(model("m", "ghcr.io/amd/m:1.0.0"))
    assert caught.value.reason == "FileExists"
    assert "m.yaml already exists and holds no AIMClusterModel" in caught.value.message
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("content", "outcome"),
    [
        pytest.param(yaml.safe_dump(model("m", "ghcr.io/amd/m:1.0.0")), False, id="the-same-model"),
        pytest.param(yaml.safe_dump(model("x", "ghcr.io/amd/x:1.0.0")), NameTakenError, id="another-model"),
        pytest.param("kind: [unclosed\n", CreateRefusedError, id="unreadable"),
    ],
)
async def test_a_file_written_after_the_store_opened_is_never_overwritten(
    tmp_path: Path, content: str, outcome: bool | type[Exception]
) -> None:
    store = DirectoryModelStore.open(tmp_path)
    (tmp_path / "m.yaml").write_text(content)  # another writer, after our read of the directory
    if isinstance(outcome, bool):
        assert await store.create(model("m", "ghcr.io/amd/m:1.0.0")) is outcome
    else:
        with pytest.raises(outcome):
            await store.create(model("m", "ghcr.io/amd/m:1.0.0"))
    assert (tmp_path / "m.yaml").read_text() == content
    assert store.written == []


async def test_a_file_that_cannot_be_written_is_a_store_error(tmp_path: Path) -> None:
    out = tmp_path / "out"
    store = DirectoryModelStore.open(out)
    out.rmdir()  # gone between the read and the write
    with pytest.raises(StoreError, match=r"cannot write .*out/m\.yaml"):
        await store.create(model("m", "ghcr.io/amd/m:1.0.0"))
    assert store.existing() == {}
