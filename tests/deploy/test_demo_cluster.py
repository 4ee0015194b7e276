"""`make demo-cluster` (scripts/demo_cluster.py) end to end: the operator reconciles the example
source on the real control plane, a pushed tag becomes a model through the webhook, and after
Ctrl-C nothing it started is left running."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.deploy.manifests import REPO

SCRIPT = REPO / "scripts" / "demo_cluster.py"


def _processes_under(directory: str) -> list[str]:
    """Command lines of live processes that mention `directory` (etcd, kube-apiserver, ...)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if directory in cmdline and int(pid) != os.getpid():
            found.append(f"{pid}: {cmdline[:200]}")
    return found


@pytest.mark.real_kube  # the testbed's binaries; the demo starts a control plane of its own
@pytest.mark.timeout(400)
def test_the_demo_shows_the_operator_at_work_and_stops_everything_on_ctrl_c() -> None:
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 300
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        if line.startswith("== Running until Ctrl-C") or time.monotonic() > deadline:
            break
    output = "\n".join(lines)
    assert "== Running until Ctrl-C" in output, output
    workdir = re.search(r"(/\S+/aimsource-demo-cluster-\w+)/", output)
    assert workdir is not None
    assert len(_processes_under(workdir.group(1))) >= 4  # testbed, etcd, apiserver, controllers, ...

    assert re.search(r"aimclustermodelsource\.aim\.eai\.amd\.com/demo-models +Ready +6 ", output)
    assert re.search(r"AIMClusterModel amdenterpriseai-aim-qwen-qwen3-32b-0-8-6-\w{6} created", output)
    assert 'aimsource_push_syncs_total{result="created"} 1.0' in output
    assert "kubectl annotate aimclustermodelsource demo-models" in output

    process.send_signal(signal.SIGINT)
    rest, _ = process.communicate(timeout=120)
    assert process.returncode == 0, rest
    assert "stopped aimsource run" in rest
    assert "stopped the control plane" in rest
    assert "Nothing left running" in rest
    assert _processes_under(workdir.group(1)) == []
    assert not Path(workdir.group(1)).exists()
