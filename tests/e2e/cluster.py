"""One API for the end-to-end scenarios over both backends: the emulator and the real control plane.

A scenario is written once against `Cluster` (create/get/find/list/patch/delete by plural, and a
kubeconfig for the operator under test) and runs on each backend:

- `emulator`: tests/support/kubeapi.KubeAPI, which also has powers a real server lacks (request
  records, refusals, fault injection) — `Cluster.emulator` hands it to the scenarios that need them;
- `real`: scripts/kube-testbed (tests/support/realkube.py). The arrange/assert steps act as the
  admin; the operator under test runs as the deploy's ServiceAccount, with a TokenRequest token and
  the RBAC that `kubectl apply -k deploy/` installed, so that a verb deploy/ lacks is a 403.

The real server is shared by the whole session, so a `Cluster` remembers what a scenario created and
deletes it afterwards (`clean_up`); the owner references let the real garbage collector take the
models the operator made.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from tests.support.kubeapi import KubeAPI
from tests.support.realkube import ROOT, RealKube

Objects = list[dict[str, Any]]  # a name of its own: in the classes, `list` is their method
OPERATOR_NAMESPACE = "aim-system"
SERVICE_ACCOUNT = "aimsource"
LEASE_NAME = "aimsource-leader"
AIM = "/apis/aim.eai.amd.com/v1alpha1"

# plural -> (API prefix, kind, namespaced): what the scenarios touch on the real server.
RESOURCES: dict[str, tuple[str, str, bool]] = {
    "aimclustermodelsources": (AIM, "AIMClusterModelSource", False),
    "aimclustermodels": (AIM, "AIMClusterModel", False),
    "secrets": ("/api/v1", "Secret", True),
    "events": ("/api/v1", "Event", True),
    "leases": ("/apis/coordination.k8s.io/v1", "Lease", True),
}


class Backend(Protocol):
    """What each backend does; `Cluster` adds tracking and cleanup on top."""

    name: str

    def create(self, resource: str, body: Mapping[str, Any], namespace: str | None) -> dict[str, Any]: ...
    def find(self, resource: str, name: str, namespace: str | None) -> dict[str, Any] | None: ...
    def list(self, resource: str, namespace: str | None, labels: str | None) -> Objects: ...
    def patch(
        self, resource: str, name: str, patch: Mapping[str, Any], namespace: str | None
    ) -> dict[str, Any]: ...
    def delete(self, resource: str, name: str, namespace: str | None) -> None: ...
    def operator_kubeconfig(self, path: Path) -> Path: ...


class EmulatorBackend:
    name = "emulator"

    def __init__(self, api: KubeAPI) -> None:
        self.api = api

    def create(self, resource: str, body: Mapping[str, Any], namespace: str | None) -> dict[str, Any]:
        return self.api.create(resource, body, namespace=namespace)

    def find(self, resource: str, name: str, namespace: str | None) -> dict[str, Any] | None:
        return self.api.find(resource, name, namespace=namespace)

    def list(self, resource: str, namespace: str | None, labels: str | None) -> Objects:
        return self.api.list(resource, namespace=namespace, labels=labels)

    def patch(
        self, resource: str, name: str, patch: Mapping[str, Any], namespace: str | None
    ) -> dict[str, Any]:
        return self.api.patch(resource, name, patch, namespace=namespace)

    def delete(self, resource: str, name: str, namespace: str | None) -> None:
        if self.api.find(resource, name, namespace=namespace) is not None:
            self.api.delete(resource, name, namespace=namespace)

    def operator_kubeconfig(self, path: Path) -> Path:
        return self.api.write_kubeconfig(path)


class RealBackend:
    name = "real"

    def __init__(self, kube: RealKube) -> None:
        self.kube = kube

    @staticmethod
    def path(resource: str, namespace: str | None, name: str | None = None) -> str:
        prefix, _, namespaced = RESOURCES[resource]
        assert namespaced == (namespace is not None), f"{resource}: namespace {namespace!r}"
        where = f"/namespaces/{namespace}" if namespace else ""
        return f"{prefix}{where}/{resource}" + (f"/{name}" if name else "")

    def create(self, resource: str, body: Mapping[str, Any], namespace: str | None) -> dict[str, Any]:
        prefix, kind, _ = RESOURCES[resource]
        full = {"apiVersion": prefix.removeprefix("/api/").removeprefix("/apis/"), "kind": kind, **body}
        answer: dict[str, Any] = self.kube.ok("POST", self.path(resource, namespace), full)
        return answer

    def find(self, resource: str, name: str, namespace: str | None) -> dict[str, Any] | None:
        status, body = self.kube.request("GET", self.path(resource, namespace, name))
        if status == 404:
            return None
        assert status == 200, f"GET {resource} {name}: {status} {body}"
        return dict(body)

    def list(self, resource: str, namespace: str | None, labels: str | None) -> Objects:
        query = f"?labelSelector={urllib.parse.quote(labels)}" if labels else ""
        items: Objects = self.kube.ok("GET", self.path(resource, namespace) + query)["items"]
        return items

    def patch(
        self, resource: str, name: str, patch: Mapping[str, Any], namespace: str | None
    ) -> dict[str, Any]:
        answer: dict[str, Any] = self.kube.ok(
            "PATCH",
            self.path(resource, namespace, name),
            dict(patch),
            content_type="application/merge-patch+json",
        )
        return answer

    def delete(self, resource: str, name: str, namespace: str | None) -> None:
        status, body = self.kube.request("DELETE", self.path(resource, namespace, name))
        assert status in (200, 202, 404), f"DELETE {resource} {name}: {status} {body}"

    def operator_kubeconfig(self, path: Path) -> Path:
        """A kubeconfig with a fresh token of the deploy's ServiceAccount (see `install_deploy`)."""
        token = self.kube.service_account_token(OPERATOR_NAMESPACE, SERVICE_ACCOUNT)
        return self.kube.write_token_kubeconfig(path, token)


def install_deploy(kube: RealKube) -> None:
    """`kubectl apply --server-side -k deploy/`: the CRDs, the aim-system namespace, the ServiceAccount,
    the ClusterRole/Role and their bindings, as a user installs them (the Deployment is stored, but
    no kubelet runs it: the operator under test runs as a process holding the account's token)."""
    kube.kubectl("apply", "--server-side", "--force-conflicts", "-k", str(ROOT / "deploy"))
    kube.wait_for(
        lambda: (
            kube.request("GET", f"/api/v1/namespaces/{OPERATOR_NAMESPACE}/serviceaccounts/{SERVICE_ACCOUNT}")[
                0
            ]
            == 200
        ),
        "the operator's ServiceAccount",
    )


class Cluster:
    """A scenario's view of one backend: it remembers what it created, for `clean_up`."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.created: list[tuple[str, str, str | None]] = []

    @property
    def name(self) -> str:
        return self.backend.name

    @property
    def emulator(self) -> KubeAPI:
        """The emulator, for a scenario that uses its powers (request records, refusals)."""
        assert isinstance(self.backend, EmulatorBackend), "an emulator-only scenario ran on the real server"
        return self.backend.api

    @property
    def is_emulator(self) -> bool:
        return isinstance(self.backend, EmulatorBackend)

    def create(
        self, resource: str, body: Mapping[str, Any], *, namespace: str | None = None
    ) -> dict[str, Any]:
        created = self.backend.create(resource, body, namespace)
        self.created.append((resource, created["metadata"]["name"], namespace))
        return created

    def get(self, resource: str, name: str, *, namespace: str | None = None) -> dict[str, Any]:
        found = self.backend.find(resource, name, namespace)
        assert found is not None, f"{resource} {name} not found on the {self.name} server"
        return found

    def find(self, resource: str, name: str, *, namespace: str | None = None) -> dict[str, Any] | None:
        return self.backend.find(resource, name, namespace)

    def list(self, resource: str, *, namespace: str | None = None, labels: str | None = None) -> Objects:
        return self.backend.list(resource, namespace, labels)

    def patch(
        self, resource: str, name: str, patch: Mapping[str, Any], *, namespace: str | None = None
    ) -> dict[str, Any]:
        return self.backend.patch(resource, name, patch, namespace)

    def delete(self, resource: str, name: str, *, namespace: str | None = None) -> None:
        self.backend.delete(resource, name, namespace)

    def operator_kubeconfig(self, path: Path) -> Path:
        return self.backend.operator_kubeconfig(path)

    def delete_lease(self) -> None:
        """No Lease left by an earlier scenario on a shared server (it would delay the election)."""
        self.delete("leases", LEASE_NAME, namespace=OPERATOR_NAMESPACE)

    def clean_up(self) -> None:
        """Deletes what this scenario created, newest first (sources take their models with them)."""
        for resource, name, namespace in reversed(self.created):
            self.delete(resource, name, namespace=namespace)
        self.created.clear()
