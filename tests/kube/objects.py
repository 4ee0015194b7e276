"""Objects the kube tests put on the emulated API server: a source, a model, a pull secret."""

from __future__ import annotations

import base64
import json
from typing import Any

from tests.support.kubeapi import KubeAPI

SOURCES = "aimclustermodelsources"
CONTENT = json.dumps({"auths": {"ghcr.io": {"auth": base64.b64encode(b"bob:s3cr3t-pass").decode()}}})


def source(name: str = "src") -> dict[str, Any]:
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMClusterModelSource",
        "metadata": {"name": name},
        "spec": {"images": ["org/img:1.0.0"]},
    }


def model(name: str, spec: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMClusterModel",
        "metadata": {"name": name},
        "spec": spec or {"image": "org/img:1.0.0"},
    }


def pull_secret(
    api: KubeAPI, name: str, *, namespace: str = "aim-system", annotations: dict[str, str] | None = None
) -> None:
    meta: dict[str, Any] = {"name": name}
    if annotations is not None:
        meta["annotations"] = annotations
    api.create(
        "secrets",
        {
            "metadata": meta,
            "type": "kubernetes.io/dockerconfigjson",
            "stringData": {".dockerconfigjson": CONTENT},
        },
        namespace=namespace,
    )
