"""Resource types and API errors of the emulated Kubernetes API.

A real API server knows its built-in resources and learns custom ones from
CustomResourceDefinitions; the emulator does the same, so that discovery, URL
routing and per-type rules (scope, status subresource, generation, whether an
update needs a resourceVersion) come from one description per resource.
Errors are rendered as the `Status` objects a real server sends, with the same
reasons and message shapes, because clients (kopf, ours) branch on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class ResourceType:
    """One served resource (group/version/plural) and the rules that differ between resources."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    singular: str = ""
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    status_subresource: bool = False
    # Custom resources get metadata.generation and refuse updates without a resourceVersion.
    custom: bool = False
    verbs: tuple[str, ...] = ALL_VERBS

    @property
    def api_version(self) -> str:
        return self.version if not self.group else f"{self.group}/{self.version}"

    @property
    def qualified(self) -> str:
        """The name used in messages: `secrets`, `leases.coordination.k8s.io`."""
        return self.plural if not self.group else f"{self.plural}.{self.group}"

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.group, self.version, self.plural)


CRDS = ResourceType(
    "apiextensions.k8s.io",
    "v1",
    "customresourcedefinitions",
    "CustomResourceDefinition",
    namespaced=False,
    singular="customresourcedefinition",
    short_names=("crd", "crds"),
    status_subresource=True,
)

BUILTINS: tuple[ResourceType, ...] = (
    ResourceType(
        "",
        "v1",
        "namespaces",
        "Namespace",
        namespaced=False,
        singular="namespace",
        short_names=("ns",),
        status_subresource=True,
    ),
    ResourceType("", "v1", "secrets", "Secret", namespaced=True, singular="secret"),
    ResourceType(
        "", "v1", "configmaps", "ConfigMap", namespaced=True, singular="configmap", short_names=("cm",)
    ),
    ResourceType("", "v1", "events", "Event", namespaced=True, singular="event", short_names=("ev",)),
    ResourceType(
        "events.k8s.io", "v1", "events", "Event", namespaced=True, singular="event", short_names=("ev",)
    ),
    ResourceType("coordination.k8s.io", "v1", "leases", "Lease", namespaced=True, singular="lease"),
    CRDS,
)


def types_from_crd(crd: Mapping[str, Any]) -> list[ResourceType]:
    """The served versions of a CustomResourceDefinition, as resource types."""
    spec = crd.get("spec", {})
    names = spec.get("names", {})
    result = []
    for version in spec.get("versions", []):
        if not version.get("served", True):
            continue
        result.append(
            ResourceType(
                group=spec["group"],
                version=version["name"],
                plural=names["plural"],
                kind=names["kind"],
                namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                singular=names.get("singular", names["plural"]),
                short_names=tuple(names.get("shortNames", ())),
                categories=tuple(names.get("categories", ())),
                status_subresource="status" in (version.get("subresources") or {}),
                custom=True,
            )
        )
    return result


@dataclass
class ApiError(Exception):
    """An error answered as a `Status` object, as the API server does."""

    code: int
    reason: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.code} {self.reason}: {self.message}"

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body


def _details(rt: ResourceType, name: str) -> dict[str, Any]:
    # kube-apiserver leaves the group out for the core group ("" is omitted in its JSON).
    details = {"name": name, "group": rt.group, "kind": rt.plural}
    if not rt.group:
        del details["group"]
    return details


def not_found(rt: ResourceType, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{rt.qualified} "{name}" not found', _details(rt, name))


def already_exists(rt: ResourceType, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{rt.qualified} "{name}" already exists', _details(rt, name))


def conflict(rt: ResourceType, name: str) -> ApiError:
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {rt.qualified} "{name}": the object has been modified;'
        " please apply your changes to the latest version and try again",
        _details(rt, name),
    )


_CAUSES = {
    "Invalid value": "FieldValueInvalid",
    "Required value": "FieldValueRequired",
    "Unsupported value": "FieldValueNotSupported",
    "Forbidden": "FieldValueForbidden",
}


def invalid(rt: ResourceType, name: str, field_path: str, why: str) -> ApiError:
    """422 Invalid, with the one cause kube-apiserver lists in `details.causes` (its reason from the
    way `why` starts, as field.Error renders them)."""
    kind = f"{rt.kind}.{rt.group}" if rt.group else rt.kind  # the core group is not named
    reason = next((r for prefix, r in _CAUSES.items() if why.startswith(prefix)), "FieldValueInvalid")
    cause = {"reason": reason, "message": why, "field": field_path}
    return ApiError(
        422,
        "Invalid",
        f'{kind} "{name}" is invalid: {field_path}: {why}',
        dict(_details(rt, name), kind=rt.kind, causes=[cause]),
    )


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def gone(message: str) -> ApiError:
    return ApiError(410, "Expired", message)
