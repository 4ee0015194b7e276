"""Input files: regular files only, of bounded size, through the CLI commands that read them.

The commands run as processes with a timeout: before these bounds a FIFO made them wait for ever
and a symlink to /dev/zero ended in a MemoryError traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from aimsource.stores.files import UnreadableFile, read_regular

SOURCE = """\
apiVersion: aim.eai.amd.com/v1alpha1
kind: AIMClusterModelSource
metadata:
  name: first
spec:
  images:
    - amdenterpriseai/aim-qwen-qwen3-32b
"""
TAGS = {"docker.io/amdenterpriseai/aim-qwen-qwen3-32b": ["0.8.4"]}


def aimsource(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIMSOURCE_")}
    return subprocess.run(
        [sys.executable, "-c", _LIMITED, *argv],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
    )


# A 1 GiB address-space cap: reading /dev/zero whole would end in a MemoryError, not the machine's.
_LIMITED = (
    "import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30));"
    "from aimsource.cli import main; sys.exit(main(sys.argv[1:]))"
)


def special(tmp_path: Path, kind: str, name: str) -> Path:
    path = tmp_path / name
    if kind == "zero":
        path.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "big":
        with path.open("wb") as fh:
            fh.truncate(65 * 1024 * 1024)  # sparse: larger than every cap, no disk used
    return path


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("zero", "not a regular file (a character device)"),
        ("fifo", "not a regular file (a FIFO)"),
        ("directory", "not a regular file (a directory)"),
        ("big", "larger than 16 MiB"),
    ],
)
def test_check_refuses_what_is_not_a_small_regular_file_in_one_line(
    tmp_path: Path, kind: str, says: str
) -> None:
    path = special(tmp_path, kind, "x.yaml")
    done = aimsource("check", str(path), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"aimsource check: {path}: cannot read: {says}"]


@pytest.mark.parametrize(
    ("kind", "says"), [("zero", "a character device"), ("fifo", "a FIFO"), ("big", "64 MiB")]
)
def test_a_tags_file_that_is_not_a_small_regular_file_is_refused(
    tmp_path: Path, kind: str, says: str
) -> None:
    (tmp_path / "s.yaml").write_text(SOURCE)
    tags = special(tmp_path, kind, "tags.json")
    done = aimsource("preview", "s.yaml", "--tags-file", str(tags), cwd=tmp_path)
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1
    assert says in done.stderr


@pytest.mark.parametrize(
    ("kind", "says"), [("fifo", "a FIFO"), ("zero", "a character device"), ("big", "16 MiB")]
)
def test_a_manifest_in_out_that_is_not_a_small_regular_file_stops_sync_in_one_line(
    tmp_path: Path, kind: str, says: str
) -> None:
    (tmp_path / "s.yaml").write_text(SOURCE)
    (tmp_path / "tags.json").write_text(json.dumps(TAGS))
    out = tmp_path / "out"
    out.mkdir()
    special(out, kind, "x.yaml")
    done = aimsource("sync", "s.yaml", "--tags-file", "tags.json", "--out", "out", cwd=tmp_path)
    assert done.returncode != 0
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert says in done.stderr
    assert "x.yaml" in done.stderr


def test_a_regular_file_is_read_whole_up_to_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "a"
    path.write_bytes(b"x" * 100)
    assert read_regular(path, limit=100) == b"x" * 100
    with pytest.raises(UnreadableFile, match="larger than 99 bytes"):
        read_regular(path, limit=99)
    with pytest.raises(UnreadableFile, match="No such file"):
        read_regular(tmp_path / "missing", limit=100)
