"""kopf itself runs on the emulated API: discovery, list+watch, annotation and status patches.

Once in-process (kopf.operator) and once as a separate `kopf run` process that finds the
API through a kubeconfig, the way `aimsource run` is started by the end-to-end tests.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import kopf
import pytest

from tests.support.kubeapi import KubeAPI

SOURCE = {
    "apiVersion": "aim.eai.amd.com/v1alpha1",
    "kind": "AIMClusterModelSource",
    "metadata": {"name": "watched"},
    "spec": {"images": ["org/img:1.0.0"]},
}


@pytest.mark.parametrize("initial_streaming", [False, True], ids=["list-then-watch", "initial-streaming"])
async def test_kopf_operator_sees_a_created_source(kube_api: KubeAPI, initial_streaming: bool) -> None:
    registry = kopf.OperatorRegistry()
    settings = kopf.OperatorSettings()
    settings.watching.initial_streaming = initial_streaming
    seen: list[str] = []

    @kopf.on.login(registry=registry)
    def login(**_: Any) -> kopf.ConnectionInfo:
        return kopf.ConnectionInfo(server=kube_api.url)

    @kopf.on.create("aim.eai.amd.com", "v1alpha1", "aimclustermodelsources", registry=registry)
    def created(name: str, patch: kopf.Patch, **_: Any) -> None:
        seen.append(name)
        patch.status["status"] = "Ready"  # a field the CRD declares: results kopf stores are pruned

    stop = asyncio.Event()
    operator = asyncio.create_task(
        kopf.operator(registry=registry, settings=settings, clusterwide=True, standalone=True, stop_flag=stop)
    )
    try:
        await asyncio.sleep(0.5)
        kube_api.create("aimclustermodelsources", SOURCE)
        for _ in range(300):  # up to 15 s on a loaded machine
            obj = kube_api.get("aimclustermodelsources", "watched")
            if obj.get("status", {}).get("status") == "Ready":
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(operator, timeout=10)
    assert seen == ["watched"]
    assert "kopf.zalando.org/last-handled-configuration" in obj["metadata"]["annotations"]
    assert obj["status"] == {"status": "Ready"}
    assert kube_api.count("watch", "aimclustermodelsources") >= 1
    assert kube_api.count("list", "aimclustermodelsources") == (0 if initial_streaming else 1)
    assert kube_api.count("patch", "aimclustermodelsources", subresource="status") >= 1


def test_kopf_run_in_a_separate_process_uses_the_kubeconfig(
    kube_api: KubeAPI, kubeconfig: Path, tmp_path: Path
) -> None:
    operator = tmp_path / "operator.py"
    operator.write_text(
        textwrap.dedent("""
        import kopf

        @kopf.on.create("aim.eai.amd.com", "v1alpha1", "aimclustermodelsources")
        def created(patch, **_):
            patch.status["status"] = "Progressing"
    """)
    )
    env = dict(os.environ, KUBECONFIG=str(kubeconfig))
    env.pop("KUBERNETES_SERVICE_HOST", None)
    log = (tmp_path / "kopf.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "kopf", "run", "--standalone", "--all-namespaces", str(operator)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        kube_api.create("aimclustermodelsources", SOURCE)
        kube_api.wait_for(
            lambda: kube_api.get("aimclustermodelsources", "watched").get("status", {}).get("status"),
            timeout=30,
            message="kopf subprocess patching the status",
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
    assert kube_api.get("aimclustermodelsources", "watched")["status"]["status"] == "Progressing"
