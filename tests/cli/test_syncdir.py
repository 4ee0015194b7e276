"""`aimsource sync --out DIR`: the GitOps sync, append-only into a directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from aimsource.cli import main

SOURCES = """\
apiVersion: aim.eai.amd.com/v1alpha1
kind: AIMClusterModelSource
metadata:
  name: first
  uid: 11111111-2222-3333-4444-555555555555
spec:
  images:
    - amdenterpriseai/aim-qwen-qwen3-32b
  versions: [">=0.8.4"]
---
apiVersion: v1
kind: Secret
metadata:
  name: not-a-source
---
apiVersion: aim.eai.amd.com/v1alpha1
kind: AIMClusterModelSource
metadata:
  name: second
spec:
  images:
    - amdenterpriseai/aim-qwen-qwen3-32b:0.8.5
"""
TAGS = {"docker.io/amdenterpriseai/aim-qwen-qwen3-32b": ["0.8.3", "0.8.4", "0.8.5", "latest"]}


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    src = tmp_path / "sources.yaml"
    src.write_text(SOURCES)
    tags = tmp_path / "tags.json"
    tags.write_text(json.dumps(TAGS))
    return src, tags, tmp_path / "out"


def sync(src, tags, out, *extra):
    return main(["sync", str(src), "--tags-file", str(tags), "--out", str(out), "-o", "json", *extra])


def test_models_are_written_as_the_operator_would_create_them(setup, capsys):
    src, tags, out = setup
    assert sync(src, tags, out) == 0
    statuses = json.loads(capsys.readouterr().out)
    assert set(statuses) == {"first", "second"}
    files = sorted(p.name for p in out.iterdir())
    assert len(files) == 2
    body = yaml.safe_load((out / "amdenterpriseai-aim-qwen-qwen3-32b-0-8-5-72f726.yaml").read_text())
    assert body["kind"] == "AIMClusterModel"
    assert body["metadata"]["labels"]["aim.eai.amd.com/model-source"] == "first"
    owner = body["metadata"]["ownerReferences"][0]
    assert owner["uid"] == "11111111-2222-3333-4444-555555555555"
    assert owner["controller"] is True
    # The second source selects an image the first already made: respected, not duplicated.
    assert statuses["second"]["discoveredModels"] == 1
    assert statuses["first"]["discoveredModels"] == 2


def test_a_second_run_changes_nothing(setup, capsys):
    src, tags, out = setup
    sync(src, tags, out)
    capsys.readouterr()
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()}
    assert sync(src, tags, out) == 0
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()}
    assert before == after
    statuses = json.loads(capsys.readouterr().out)
    assert statuses["first"]["discoveredModels"] == 2


def test_manifests_already_in_dir_are_existing_models_and_are_left_alone(setup, capsys):
    src, tags, out = setup
    out.mkdir()
    mine = out / "hand-made.yaml"
    text = yaml.safe_dump(
        {
            "apiVersion": "aim.eai.amd.com/v1alpha1",
            "kind": "AIMClusterModel",
            "metadata": {"name": "hand-made"},
            "spec": {"image": "docker.io/amdenterpriseai/aim-qwen-qwen3-32b:0.8.4"},
        }
    )
    mine.write_text(text)
    sync(src, tags, out)
    assert mine.read_text() == text
    names = sorted(p.name for p in out.iterdir())
    assert names == ["amdenterpriseai-aim-qwen-qwen3-32b-0-8-5-72f726.yaml", "hand-made.yaml"]


def test_text_output_lists_status_and_written_files(setup, capsys):
    src, tags, out = setup
    assert main(["sync", str(src), "--tags-file", str(tags), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "first: Ready" in text
    assert "wrote " in text


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_out_is_one_line(setup, capsys):
    src, tags, out = setup
    out.mkdir()
    out.chmod(0o500)
    assert sync(src, tags, out) == 2
    assert "not writable" in capsys.readouterr().err


def test_out_that_is_a_file_is_one_line(setup, capsys):
    src, tags, out = setup
    out.write_text("x")
    assert sync(src, tags, out) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert str(out) in err


def test_bad_yaml_is_one_line_without_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: [unclosed\n")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "aimsource",
            "sync",
            str(bad),
            "--out",
            str(tmp_path / "o"),
            "--tags-file",
            str(bad),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "not valid YAML" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_source_with_malformed_metadata_is_a_failed_status_not_a_crash(tmp_path, capsys):
    src = tmp_path / "s.yaml"
    src.write_text(
        "apiVersion: aim.eai.amd.com/v1alpha1\nkind: AIMClusterModelSource\nmetadata: 5\n"
        "spec: {images: [a/b:1]}\n"
    )
    tags = tmp_path / "t.json"
    tags.write_text("{}")
    assert main(["sync", str(src), "--tags-file", str(tags), "--out", str(tmp_path / "o"), "-o", "json"]) == 1
    (status,) = json.loads(capsys.readouterr().out).values()
    assert status["status"] == "Failed"
    assert "metadata" in status["conditions"][0]["message"]


QWEN_085 = "amdenterpriseai-aim-qwen-qwen3-32b-0-8-5-72f726"
SQUATTER = "r5139637.evil.example/amdenterpriseai/aim-qwen-qwen3-32b:0.8.5"


def model_manifest(name: str, image: str) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "aim.eai.amd.com/v1alpha1",
            "kind": "AIMClusterModel",
            "metadata": {"name": name},
            "spec": {"image": image},
        }
    )


def first_only(src: Path) -> None:
    src.write_text(SOURCES.split("---")[0])


@pytest.mark.parametrize("file_name", ["squat.yaml", f"{QWEN_085}.yaml"], ids=["other-file", "same-file"])
def test_a_manifest_holding_the_name_for_another_image_is_a_conflict(setup, capsys, file_name):
    src, tags, out = setup
    first_only(src)
    out.mkdir()
    squat = out / file_name
    squat.write_text(model_manifest(QWEN_085, SQUATTER))
    assert sync(src, tags, out) == 1  # Degraded
    assert squat.read_text() == model_manifest(QWEN_085, SQUATTER)  # left alone
    status = json.loads(capsys.readouterr().out)["first"]
    assert status["status"] == "Degraded"
    assert status["selectors"][0]["conflicts"] == [
        {
            "model": QWEN_085,
            "image": "docker.io/amdenterpriseai/aim-qwen-qwen3-32b:0.8.5",
            "existingImage": SQUATTER,
        }
    ]
    assert status["discoveredModels"] == 1  # 0.8.4 was still written
    assert len(list(out.iterdir())) == 2


def test_a_file_of_the_models_name_with_another_image_under_another_name_is_a_conflict(setup, capsys):
    """The plan sees no model of that name, so the create meets the file."""
    src, tags, out = setup
    first_only(src)
    out.mkdir()
    (out / f"{QWEN_085}.yaml").write_text(model_manifest("renamed", SQUATTER))
    assert sync(src, tags, out) == 1
    status = json.loads(capsys.readouterr().out)["first"]
    [conflict] = status["selectors"][0]["conflicts"]
    assert (conflict["model"], conflict["existingImage"]) == (QWEN_085, SQUATTER)


def test_a_file_in_the_way_that_holds_no_model_costs_that_model_only(setup, capsys):
    src, tags, out = setup
    first_only(src)
    out.mkdir()
    (out / f"{QWEN_085}.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    assert sync(src, tags, out) == 1
    status = json.loads(capsys.readouterr().out)["first"]
    [refused] = status["selectors"][0]["refused"]
    assert (refused["model"], refused["reason"]) == (QWEN_085, "FileExists")
    assert "holds no AIMClusterModel" in refused["message"]
    assert status["discoveredModels"] == 1
    assert (out / f"{QWEN_085}.yaml").read_text().startswith("apiVersion: v1\nkind: ConfigMap")


def test_text_output_names_the_conflict(setup, capsys):
    src, tags, out = setup
    first_only(src)
    out.mkdir()
    (out / "squat.yaml").write_text(model_manifest(QWEN_085, SQUATTER))
    assert main(["sync", str(src), "--tags-file", str(tags), "--out", str(out)]) == 1
    text = capsys.readouterr().out
    assert "first: Degraded" in text
    assert "Degraded=True (ModelNameConflict): 1 selected image has no model: " in text
    assert f"already used by a model of {SQUATTER}" in text


def test_a_paused_source_is_skipped_and_says_so(setup, capsys):
    src, tags, out = setup
    src.write_text(
        SOURCES.replace(
            "  name: first\n",
            "  name: first\n  annotations:\n    aim.eai.amd.com/reconciliation-paused: 'true'\n",
        )
    )
    assert sync(src, tags, out) == 0  # the other source is Ready, the paused one is no failure
    captured = capsys.readouterr()
    statuses = json.loads(captured.out)
    assert statuses["first"]["status"] == "Pending"
    (paused,) = [c for c in statuses["first"]["conditions"] if c["type"] == "Paused"]
    assert (paused["status"], paused["reason"]) == ("True", "ReconciliationPaused")
    assert statuses["second"]["status"] == "Ready"
    assert sorted(p.name for p in out.iterdir()) == ["amdenterpriseai-aim-qwen-qwen3-32b-0-8-5-72f726.yaml"]
    body = yaml.safe_load((out / "amdenterpriseai-aim-qwen-qwen3-32b-0-8-5-72f726.yaml").read_text())
    assert body["metadata"]["labels"]["aim.eai.amd.com/model-source"] == "second"
    assert "aimsource sync: first: paused (aim.eai.amd.com/reconciliation-paused): not synced" in captured.err
