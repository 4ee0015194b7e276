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
