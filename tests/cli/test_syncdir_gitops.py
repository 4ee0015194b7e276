"""`aimsource sync --out` for a source that is in no cluster (the GitOps path): Git owns the models,
so they carry no owner reference (an empty uid is refused by the API server, and a reference to
no live object would have the garbage collector delete them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from aimsource.cli import main

SOURCE = """\
apiVersion: aim.eai.amd.com/v1alpha1
kind: AIMClusterModelSource
metadata:
  name: from-git
spec:
  images:
    - amdenterpriseai/aim-qwen-qwen3-32b:0.8.5
"""
TAGS = {"docker.io/amdenterpriseai/aim-qwen-qwen3-32b": ["0.8.5"]}


def test_a_source_without_uid_writes_models_without_owner_reference(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "source.yaml").write_text(SOURCE)
    (tmp_path / "tags.json").write_text(json.dumps(TAGS))
    out = tmp_path / "models"
    code = main(
        ["sync", str(tmp_path / "source.yaml"), "--tags-file", str(tmp_path / "tags.json"), "--out", str(out)]
    )
    assert code == 0
    [written] = list(out.iterdir())
    body = yaml.safe_load(written.read_text())
    assert "ownerReferences" not in body["metadata"]
    assert body["metadata"]["labels"]["aim.eai.amd.com/model-source"] == "from-git"
    assert body["spec"] == {
        "image": "amdenterpriseai/aim-qwen-qwen3-32b:0.8.5",
        "discovery": {"extractMetadata": True, "createServiceTemplates": True},
    }
    err = capsys.readouterr().err
    assert "source from-git has no metadata.uid" in err
    assert "without an owner reference" in err
