"""Start-up without our CRDs: `aimsource run` waits a bounded time, then exits non-zero naming the CRD;
it is not ready while it waits, and ready once the first lists are in when the CRDs are there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.kubeapi import KubeAPI, crd_manifests
from tests.support.serving import free_port


def operator(kubeconfig: Path, health: int, *extra: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIMSOURCE_", "KUBERNETES_SERVICE_"))}
    env.update(KUBECONFIG=str(kubeconfig), PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aimsource",
            "run",
            "--no-leader-election",
            "--namespace",
            "aim-system",
            "--listen-host",
            "127.0.0.1",
            "--metrics-port",
            "0",
            "--health-port",
            str(health),
            *extra,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def readyz(health: int) -> int | None:
    try:
        return httpx.get(f"http://127.0.0.1:{health}/readyz", timeout=1).status_code
    except httpx.HTTPError:
        return None


def test_a_missing_crd_fails_start_up_naming_it(tmp_path: Path) -> None:
    with KubeAPI(install_crds=False) as api:
        health = free_port()
        proc = operator(api.write_kubeconfig(tmp_path / "kubeconfig"), health, "--crd-wait", "3s")
        try:
            statuses = set()
            while proc.poll() is None:
                statuses.add(readyz(health))
            output = proc.communicate(timeout=30)[0]
        finally:
            proc.kill()
    assert proc.returncode != 0
    assert "aimclustermodelsources.aim.eai.amd.com is not installed or not established" in output
    assert 200 not in statuses


def test_a_crd_established_while_waiting_lets_it_start(tmp_path: Path) -> None:
    with KubeAPI(install_crds=False) as api:
        health = free_port()
        proc = operator(api.write_kubeconfig(tmp_path / "kubeconfig"), health, "--crd-wait", "60s")
        try:
            api.wait_for(lambda: readyz(health) == 503, timeout=30)  # serving, not ready: no CRDs yet
            for crd in crd_manifests():
                api.create("customresourcedefinitions", crd)
            api.wait_for(lambda: readyz(health) == 200, timeout=30)
            assert proc.poll() is None
        finally:
            proc.terminate()
            proc.communicate(timeout=30)
