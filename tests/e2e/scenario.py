"""Building sources and watching their effects on the API server (either backend), for the e2e tests."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from typing import Any, NamedTuple

from tests.e2e.cluster import Cluster
from tests.e2e.operator_process import OperatorProcess
from tests.support.serving import free_port

SOURCES = "aimclustermodelsources"
MODELS = "aimclustermodels"
SOURCE_LABEL = "aim.eai.amd.com/model-source"
REQUEST_ANNOTATION = "aim.eai.amd.com/sync-requested-at"


def source(
    name: str,
    *,
    images: Sequence[str] = (),
    filters: Sequence[dict[str, Any]] = (),
    registry: str | None = None,
    interval: str = "1h",
    max_models: int | None = None,
    secrets: Sequence[str] = (),
    versions: Sequence[str] = (),
) -> dict[str, Any]:
    spec: dict[str, Any] = {"syncInterval": interval}
    if images:
        spec["images"] = list(images)
    if filters:
        spec["filters"] = list(filters)
    if registry:
        spec["registry"] = registry
    if max_models is not None:
        spec["maxModels"] = max_models
    if secrets:
        spec["imagePullSecrets"] = [{"name": s} for s in secrets]
    if versions:
        spec["versions"] = list(versions)
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMClusterModelSource",
        "metadata": {"name": name},
        "spec": spec,
    }


def model(name: str, image: str) -> dict[str, Any]:
    """A model made by a user: no source label, no owner."""
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMClusterModel",
        "metadata": {"name": name},
        "spec": {"image": image},
    }


def status(cluster: Cluster, name: str) -> dict[str, Any]:
    obj = cluster.find(SOURCES, name)
    return (obj or {}).get("status") or {}


def models_of(cluster: Cluster, source_name: str) -> dict[str, str]:
    """The source's models: name -> spec.image."""
    return {
        m["metadata"]["name"]: m["spec"]["image"]
        for m in cluster.list(MODELS, labels=f"{SOURCE_LABEL}={source_name}")
    }


def all_images(cluster: Cluster) -> list[str]:
    return sorted(m["spec"]["image"] for m in cluster.list(MODELS))


def wait_synced(
    cluster: Cluster,
    op: OperatorProcess,
    name: str,
    *,
    state: str | None = None,
    timeout: float = 20.0,
    after: str | None = None,
) -> dict[str, Any]:
    """Wait until the source's status describes its current generation (and has `state`, and a
    lastSyncTime other than `after`); return the status."""

    def done() -> dict[str, Any] | None:
        obj = cluster.find(SOURCES, name) or {}
        st = obj.get("status") or {}
        if st.get("observedGeneration") != obj.get("metadata", {}).get("generation"):
            return None
        if st.get("status") in (None, "Pending", "Progressing"):
            return None
        if state is not None and st.get("status") != state:
            return None
        if after is not None and st.get("lastSyncTime") == after:
            return None
        return st

    result: dict[str, Any] = op.wait(
        done, timeout=timeout, message=f"source {name} synced ({state or 'any'})"
    )
    return result


def condition(st: dict[str, Any], kind: str) -> dict[str, Any]:
    for cond in st.get("conditions") or []:
        if cond.get("type") == kind:
            return dict(cond)
    raise AssertionError(f"no condition {kind} in {st}")


def events_for(cluster: Cluster, name: str) -> list[dict[str, Any]]:
    return [
        e
        for e in cluster.list("events", namespace="default")
        if (e.get("involvedObject") or {}).get("name") == name
    ]


class Webhook(NamedTuple):
    """A push webhook's token (in its Secret) and the port its receiver is to listen on."""

    token: str
    port: int


def webhook(cluster: Cluster, token: str | None = None) -> Webhook:
    """Stores a webhook token (`token`, or a random one) in the Secret the operator reads it from
    (aim-system/aimsource-webhook) and picks a free port for the receiver (`--webhook-port`)."""
    token = token or secrets.token_urlsafe(24)
    cluster.create(
        "secrets",
        {
            "metadata": {"name": "aimsource-webhook"},
            "type": "Opaque",
            "data": {"token": base64.b64encode(token.encode()).decode()},
        },
        namespace="aim-system",
    )
    return Webhook(token, free_port())
