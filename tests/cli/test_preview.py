"""`aimsource preview` with a tags file: what would be created and why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aimsource.cli import main

SOURCE = """\
apiVersion: aim.eai.amd.com/v1alpha1
kind: AIMClusterModelSource
metadata:
  name: ghcr-stable-models
spec:
  registry: ghcr.io
  filters:
    - image: amdenterpriseai/aim-qwen-qwen3-32b
      versions: [">=0.8.4"]
    - image: amdenterpriseai/aim-missing
  maxModels: 2
"""
TAGS = {
    "ghcr.io/amdenterpriseai/aim-qwen-qwen3-32b": [
        "0.8.3",
        "0.8.4",
        "0.8.5",
        "0.9.0-rc1",
        "latest",
        "sha256-abc.sig",
    ],
}


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    src = tmp_path / "source.yaml"
    src.write_text(SOURCE)
    tags = tmp_path / "tags.json"
    tags.write_text(json.dumps(TAGS))
    return src, tags


def test_json_preview_is_one_object_with_models_status_tags_not_created_and_registries(files, capsys):
    src, tags = files
    code = main(["preview", str(src), "--tags-file", str(tags), "-o", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert set(doc) == {"models", "status", "tags", "notCreated", "registries"}
    assert doc["registries"] == []  # a tags file announces no rate limit
    assert [m["image"] for m in doc["models"]] == [
        "ghcr.io/amdenterpriseai/aim-qwen-qwen3-32b:0.9.0-rc1",
        "ghcr.io/amdenterpriseai/aim-qwen-qwen3-32b:0.8.5",
    ]
    assert all(m["selector"] == "amdenterpriseai/aim-qwen-qwen3-32b" for m in doc["models"])
    assert doc["notCreated"] == [
        {
            "image": "ghcr.io/amdenterpriseai/aim-qwen-qwen3-32b:0.8.4",
            "kind": "limit",
            "reason": "maxModels limit reached (2)",
        }
    ]
    decisions = {t["image"].rsplit(":", 1)[1]: t["decision"] for t in doc["tags"]}
    assert decisions == {
        "0.8.3": "out-of-range",
        "0.8.4": "selected",
        "0.8.5": "selected",
        "0.9.0-rc1": "selected",
        "latest": "not-a-version",
        "sha256-abc.sig": "signature",
    }
    status = doc["status"]
    assert status["status"] == "Degraded"
    assert status["availableModels"] == 3
    assert status["modelsLimitReached"] is True
    assert "lastSyncTime" not in status
    missing = status["selectors"][1]
    assert missing["error"]["reason"] == "RepositoryNotFound"


def test_pinned_tag_missing_from_the_listing_is_tag_not_found(tmp_path, capsys):
    src = tmp_path / "s.yaml"
    src.write_text(
        SOURCE.replace("amdenterpriseai/aim-qwen-qwen3-32b\n", "amdenterpriseai/aim-qwen-qwen3-32b:9.9.9\n")
    )
    tags = tmp_path / "t.json"
    tags.write_text(json.dumps(TAGS))
    main(["preview", str(src), "--tags-file", str(tags), "-o", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["status"]["selectors"][0]["error"]["reason"] == "TagNotFound"
    assert doc["models"] == []


def test_table_preview_names_what_would_be_created_and_why_tags_were_skipped(files, capsys):
    src, tags = files
    main(["preview", str(src), "--tags-file", str(tags)])
    out = capsys.readouterr().out
    assert "Would create:" in out
    assert "amdenterpriseai-aim-qwen-qwen3-32b-0-8-5-" in out
    assert "not-a-version" in out
    assert "RepositoryNotFound" in out
    assert (
        "Registry requests: none (tags from a file). A first sync makes the listings plus 2 manifest "
        "HEADs, one per new image (fewer where Docker Hub's or GitHub's API gives digests, 100 a "
        "request); an image with a model is never checked again." in out
    )


@pytest.mark.parametrize(
    ("tags_text", "expected"),
    [
        pytest.param("{not json", "not valid JSON", id="bad-json"),
        pytest.param('["a"]', "expected an object", id="not-an-object"),
        pytest.param('{"ghcr.io/x": "1.0.0"}', "list of tag strings", id="tags-not-a-list"),
        pytest.param('{"ubuntu": ["1"]}', "<registry>/<repository>", id="key-without-registry"),
    ],
)
def test_a_bad_tags_file_is_one_line_and_exit_2(files, capsys, tags_text, expected):
    src, tags = files
    tags.write_text(tags_text)
    code = main(["preview", str(src), "--tags-file", str(tags)])
    err = capsys.readouterr().err
    assert code == 2
    assert expected in err
    assert len(err.strip().splitlines()) == 1


def test_a_file_with_several_sources_needs_source_flag(files, capsys):
    src, tags = files
    src.write_text(SOURCE + "---\n" + SOURCE.replace("ghcr-stable-models", "other"))
    assert main(["preview", str(src), "--tags-file", str(tags)]) == 2
    assert "--source" in capsys.readouterr().err
    assert main(["preview", str(src), "--tags-file", str(tags), "--source", "other", "-o", "yaml"]) == 0
    assert "models:" in capsys.readouterr().out


def test_an_excluded_repository_shows_every_tag_as_excluded_but_the_status_lists_nothing(tmp_path, capsys):
    src = tmp_path / "s.yaml"
    src.write_text(
        "apiVersion: aim.eai.amd.com/v1alpha1\nkind: AIMClusterModelSource\nmetadata: {name: ex}\n"
        "spec:\n  filters:\n    - image: amdenterpriseai/aim-base\n"
        "      exclude: [amdenterpriseai/aim-base]\n"
    )
    tags = tmp_path / "t.json"
    tags.write_text(json.dumps({"docker.io/amdenterpriseai/aim-base": ["1.0.0", "latest"]}))
    assert main(["preview", str(src), "--tags-file", str(tags), "-o", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [t["decision"] for t in doc["tags"]] == ["excluded", "excluded"]
    assert doc["models"] == []
    assert doc["status"]["status"] == "Ready"
    assert doc["status"]["selectors"][0]["tagsListed"] == 0


SQUATTER = "r5139637.evil.example/amdenterpriseai/aim-qwen-qwen3-32b:0.8.5"
QWEN_NAME = "amdenterpriseai-aim-qwen-qwen3-32b-0-8-5-72f726"
COLLIDING = f"""\
apiVersion: aim.eai.amd.com/v1alpha1
kind: AIMClusterModelSource
metadata:
  name: colliding
spec:
  images:
    - amdenterpriseai/aim-qwen-qwen3-32b:0.8.5
    - {SQUATTER}
"""
COLLIDING_TAGS = {
    "docker.io/amdenterpriseai/aim-qwen-qwen3-32b": ["0.8.5"],
    "r5139637.evil.example/amdenterpriseai/aim-qwen-qwen3-32b": ["0.8.5"],
}


@pytest.fixture
def colliding(tmp_path: Path) -> tuple[Path, Path]:
    src = tmp_path / "source.yaml"
    src.write_text(COLLIDING)
    tags = tmp_path / "tags.json"
    tags.write_text(json.dumps(COLLIDING_TAGS))
    return src, tags


def test_two_images_with_one_model_name_show_the_conflict(colliding, capsys):
    src, tags = colliding
    code = main(["preview", str(src), "--tags-file", str(tags), "-o", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0  # Degraded, not Failed: the first image still gets its model
    assert [(m["name"], m["image"]) for m in doc["models"]] == [
        (QWEN_NAME, "amdenterpriseai/aim-qwen-qwen3-32b:0.8.5")
    ]
    assert doc["notCreated"] == [
        {
            "image": SQUATTER,
            "model": QWEN_NAME,
            "kind": "conflict",
            "reason": f'name "{QWEN_NAME}" is already used by a model of '
            "docker.io/amdenterpriseai/aim-qwen-qwen3-32b:0.8.5",
            "existingImage": "docker.io/amdenterpriseai/aim-qwen-qwen3-32b:0.8.5",
        }
    ]
    assert doc["status"]["status"] == "Degraded"
    assert doc["status"]["selectors"][1]["conflicts"] == [
        {
            "model": QWEN_NAME,
            "image": SQUATTER,
            "existingImage": "docker.io/amdenterpriseai/aim-qwen-qwen3-32b:0.8.5",
        }
    ]


def test_table_preview_lists_the_conflict_under_not_created(colliding, capsys):
    src, tags = colliding
    main(["preview", str(src), "--tags-file", str(tags)])
    out = capsys.readouterr().out
    assert "Degraded" in out
    section = out.split("Not created:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert section[0].split() == ["IMAGE", "REASON"]
    [line] = section[1:]
    assert line.split()[0] == SQUATTER
    assert f'name "{QWEN_NAME}" is already used by a model of docker.io/' in line


def test_a_paused_source_is_previewed_with_a_note_that_the_operator_will_not_sync_it(files, capsys):
    src, tags = files
    src.write_text(
        SOURCE.replace(
            "  name: ghcr-stable-models\n",
            "  name: ghcr-stable-models\n  annotations:\n    aim.eai.amd.com/reconciliation-paused: 'true'\n",
        )
    )
    assert main(["preview", str(src), "--tags-file", str(tags), "-o", "json"]) == 0
    out, err = capsys.readouterr()
    assert len(json.loads(out)["models"]) == 2  # what resuming it would do
    assert err.splitlines()[-1] == (
        "aimsource preview: note: ghcr-stable-models is paused (aim.eai.amd.com/reconciliation-paused): "
        "the operator will not sync it until the annotation is removed"
    )
