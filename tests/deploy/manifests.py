"""Render `deploy/` the way a user installs it, and read RBAC objects as plain permission grants.

The tests look at what `kubectl kustomize deploy/` prints — the objects `kubectl apply -k deploy/`
would send — not at the files, so a kustomize mistake (a missing resource, a path outside the load
restrictor) fails here as it would fail for a user.
"""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.support.components import require_binary

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
CRDS = REPO / "src" / "aimsource" / "crds"
OPERATOR_NAMESPACE = "aim-system"
SERVICE_ACCOUNT = "aimsource"
CLUSTER = "*cluster*"  # the scope of a grant made through a ClusterRoleBinding


def render(directory: Path = DEPLOY) -> list[dict[str, Any]]:
    """Objects that `kubectl kustomize DIRECTORY` prints (a missing kubectl fails the test)."""
    kubectl = require_binary("kubectl", "kubernetes-client")
    returncode, stdout, stderr = _kustomize(kubectl, directory)
    assert returncode == 0, f"kubectl kustomize {directory} failed:\n{stderr}"
    return [doc for doc in yaml.safe_load_all(stdout) if doc]


@functools.cache
def _kustomize(kubectl: str, directory: Path) -> tuple[int, str, str]:
    # Cached: several test modules look at the same rendering, and the machine is small.
    proc = subprocess.run(
        [kubectl, "kustomize", str(directory)], capture_output=True, text=True, timeout=50, check=False
    )
    return proc.returncode, proc.stdout, proc.stderr


def crd_files() -> list[dict[str, Any]]:
    """The CRD objects the code ships, read from the files that src/aimsource/crds/kustomization lists."""
    kustomization = yaml.safe_load((CRDS / "kustomization.yaml").read_text())
    objects: list[dict[str, Any]] = []
    for name in kustomization["resources"]:
        objects.extend(doc for doc in yaml.safe_load_all((CRDS / name).read_text()) if doc)
    return objects


def of_kind(objects: Iterable[Mapping[str, Any]], kind: str) -> list[Mapping[str, Any]]:
    return [obj for obj in objects if obj["kind"] == kind]


def one(objects: Iterable[Mapping[str, Any]], kind: str, name: str) -> Mapping[str, Any]:
    found = [obj for obj in of_kind(objects, kind) if obj["metadata"]["name"] == name]
    assert len(found) == 1, f"expected exactly one {kind} {name!r}, found {len(found)}"
    return found[0]


@dataclass(frozen=True, order=True)
class Grant:
    """One verb on one resource in one scope, as RBAC grants it (a namespace, or CLUSTER)."""

    scope: str
    group: str
    resource: str
    verb: str
    names: tuple[str, ...] = ()  # resourceNames; () means every object

    def __str__(self) -> str:
        where = "cluster-wide" if self.scope == CLUSTER else f"in {self.scope}"
        group = self.group or "core"
        only = f" (only {', '.join(self.names)})" if self.names else ""
        return f"{self.verb} {group}/{self.resource} {where}{only}"


def _binds_operator(binding: Mapping[str, Any]) -> bool:
    return any(
        subject.get("kind") == "ServiceAccount"
        and subject.get("name") == SERVICE_ACCOUNT
        and subject.get("namespace") == OPERATOR_NAMESPACE
        for subject in binding.get("subjects") or ()
    )


def _rules(objects: list[dict[str, Any]], kind: str, name: str, namespace: str | None) -> list[Any]:
    for obj in objects:
        meta = obj["metadata"]
        if obj["kind"] == kind and meta["name"] == name and meta.get("namespace") == namespace:
            return list(obj.get("rules") or ())
    raise AssertionError(f"a binding refers to {kind} {name!r}, which deploy/ does not contain")


def _expand(rules: Iterable[Mapping[str, Any]], scope: str) -> Iterator[Grant]:
    for rule in rules:
        names = tuple(sorted(rule.get("resourceNames") or ()))
        for group in rule.get("apiGroups") or ():
            for resource in rule.get("resources") or ():
                for verb in rule.get("verbs") or ():
                    yield Grant(scope, group, resource, verb, names)


def operator_grants(objects: list[dict[str, Any]]) -> set[Grant]:
    """Every grant that reaches the operator's service account through the rendered bindings."""
    grants: set[Grant] = set()
    for binding in objects:
        if binding["kind"] not in {"ClusterRoleBinding", "RoleBinding"} or not _binds_operator(binding):
            continue
        ref = binding["roleRef"]
        if binding["kind"] == "ClusterRoleBinding":
            scope = CLUSTER
            rules = _rules(objects, "ClusterRole", ref["name"], None)
        else:
            scope = binding["metadata"]["namespace"]
            role_namespace = None if ref["kind"] == "ClusterRole" else scope
            rules = _rules(objects, ref["kind"], ref["name"], role_namespace)
        grants.update(_expand(rules, scope))
    return grants


def rbac_rules(objects: Iterable[Mapping[str, Any]]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(`Kind/name`, rule) for every rule of every Role and ClusterRole."""
    for obj in objects:
        if obj["kind"] in {"Role", "ClusterRole"}:
            for rule in obj.get("rules") or ():
                yield f"{obj['kind']}/{obj['metadata']['name']}", rule
