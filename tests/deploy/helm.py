"""Helm for the tests: scripts/helm builds (or finds) it once per machine; `helm_template` renders
the chart the way `helm install` would send it."""

from __future__ import annotations

import functools
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.components import allow_missing, missing

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "aimsource"
SCRIPT = REPO / "scripts" / "helm"
HELM_LABELS = (
    "helm.sh/chart",
    "app.kubernetes.io/managed-by",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
)
"""Labels the chart adds for Helm's bookkeeping; deploy/ has no release to name."""


@functools.cache
def _build() -> tuple[int, str, str]:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--build"], capture_output=True, text=True, check=False, timeout=3600
    )
    return result.returncode, result.stdout, result.stderr


def helm_binary() -> Path:
    """The helm binary built from testbed/helm/go.mod (a cold build takes minutes, then it is cached).
    Under `make unit` (AIMSOURCE_ALLOW_MISSING) an unbuilt Helm skips the test instead of building."""
    if allow_missing():
        built = subprocess.run([sys.executable, str(SCRIPT), "--built"], capture_output=True, text=True)
        if built.returncode != 0:
            missing("Helm (not built yet)", "python3 scripts/helm --build (minutes; needs Go 1.26)")
    returncode, stdout, stderr = _build()
    if returncode != 0:
        pytest.fail(f"scripts/helm --build failed:\n{stderr}", pytrace=False)
    return Path(stdout.strip().splitlines()[-1])


def helm(
    *args: str, check: bool = True, timeout: float = 120, kubeconfig: Path | None = None
) -> subprocess.CompletedProcess[str]:
    command = [str(helm_binary()), *args]
    if kubeconfig is not None:
        command.append(f"--kubeconfig={kubeconfig}")
    env = {
        "HELM_CACHE_HOME": "/tmp/aimsource-helm/cache",
        "HELM_CONFIG_HOME": "/tmp/aimsource-helm/config",
        "HELM_DATA_HOME": "/tmp/aimsource-helm/data",
        "HOME": "/tmp/aimsource-helm",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False, env=env)
    if check and result.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


def set_args(values: Mapping[str, Any]) -> list[str]:
    """--set-json for each dotted key (so that numbers, lists and maps keep their types)."""
    import json

    args: list[str] = []
    for key, value in values.items():
        args += ["--set-json", f"{key}={json.dumps(value)}"]
    return args


def helm_template(
    values: Mapping[str, Any] | None = None, *, namespace: str = "aim-system", extra: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """The objects `helm install aimsource charts/aimsource -n NAMESPACE` would create."""
    result = helm(
        "template", "aimsource", str(CHART), "--namespace", namespace, *set_args(values or {}), *extra
    )
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def without_helm_labels(obj: dict[str, Any]) -> dict[str, Any]:
    """The object with Helm's bookkeeping labels removed (on the object and its pod template)."""
    import copy

    obj = copy.deepcopy(obj)
    holders = [obj.get("metadata", {})]
    template = obj.get("spec", {}).get("template")
    if isinstance(template, dict):
        holders.append(template.get("metadata", {}))
    for meta in holders:
        labels = meta.get("labels") or {}
        for label in HELM_LABELS:
            labels.pop(label, None)
    return obj


def key(obj: Mapping[str, Any]) -> tuple[str, str, str]:
    meta = obj["metadata"]
    return obj["kind"], meta.get("namespace", ""), meta["name"]
