"""The object store behind the emulated Kubernetes API: what etcd plus the API server's rules do.

It is synchronous and guarded by one lock, because two parties touch it: the
HTTP server (in its own thread and event loop) and the tests that seed or
inspect objects directly. Every write gets a new cluster-wide resourceVersion
and an entry in the event log that watch streams replay; waiters are woken
through `call_soon_threadsafe` so they may live in any event loop.

Semantics kept from the real API server (because clients depend on them):
uid, creationTimestamp, generation bumped only on spec changes, resourceVersion
preconditions (409 Conflict), status subresource separated from the main
resource, AlreadyExists/NotFound, finalizers with deletionTimestamp, namespaces
that must exist, and owner-reference garbage collection (run in the background
by the server, see `collect_garbage`).
"""

from __future__ import annotations

import asyncio
import base64
import bisect
import copy
import json
import random
import string
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tests.support.kubeapi_patch import apply_patch, field_selector, label_selector
from tests.support.kubeapi_rules import normalise, now_rfc3339, spec_part, validate_metadata, validate_name
from tests.support.kubeapi_schema import admit, crd_schema, unknown_fields
from tests.support.kubeapi_types import (
    BUILTINS,
    CRDS,
    ApiError,
    ResourceType,
    already_exists,
    bad_request,
    conflict,
    gone,
    invalid,
    not_found,
    types_from_crd,
)

ObjKey = tuple[str, str]  # (namespace or "", name)


@dataclass(frozen=True)
class Event:
    """One change, as a watch stream reports it; `old` lets selector-filtered watches emit ADDED/DELETED."""

    rv: int
    resource: ResourceType
    type: str  # ADDED | MODIFIED | DELETED
    obj: dict[str, Any]
    old: dict[str, Any] | None


class Store:
    """All objects of all resources, their history for watches, and the rules for changing them."""

    def __init__(self, *, max_log: int = 100_000) -> None:
        self._lock = threading.RLock()
        self._rv = 1
        self._types: dict[tuple[str, str, str], ResourceType] = {}
        self._schemas: dict[tuple[str, str, str], dict[str, Any]] = {}  # of custom resources
        self._objects: dict[tuple[str, str, str], dict[ObjKey, dict[str, Any]]] = {}
        # One log per resource, in resourceVersion order, so a watcher finds its place by bisection.
        self._log: dict[tuple[str, str, str], list[Event]] = {}
        self._log_rvs: dict[tuple[str, str, str], list[int]] = {}
        self._compacted: dict[tuple[str, str, str], int] = {}  # rv of the newest event dropped, per resource
        self.max_log = max_log  # events kept per resource; older watch positions get 410 Expired
        # The last write that can give the garbage collector work: a deletion, or an object whose
        # owner references changed (an owner that does not exist makes its dependent garbage too).
        self.gc_hint_rv = 0
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        for rt in BUILTINS:
            self.register(rt)

    # --- types -----------------------------------------------------------------------------------

    def register(self, rt: ResourceType, schema: dict[str, Any] | None = None) -> None:
        with self._lock:
            self._types[rt.key] = rt
            self._objects.setdefault(rt.key, {})
            if schema is not None:
                self._schemas[rt.key] = schema
            else:
                self._schemas.pop(rt.key, None)

    def _register_crd(self, crd: Mapping[str, Any]) -> None:
        for new_type in types_from_crd(crd):
            self.register(new_type, crd_schema(crd, new_type.version))

    def _admit(self, rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        """Prune, default and validate a custom resource by its CRD's schema (422 when invalid)."""
        schema = self._schemas.get(rt.key)
        if schema is None:
            return obj
        stored, errors = admit(obj, schema)
        if errors:
            raise invalid(
                rt,
                obj["metadata"].get("name", ""),
                errors[0].split(":")[0],
                "; ".join(errors) if len(errors) > 1 else errors[0].split(": ", 1)[-1],
            )
        return stored

    def types(self) -> list[ResourceType]:
        with self._lock:
            return list(self._types.values())

    def type_for(self, group: str, version: str, plural: str) -> ResourceType | None:
        with self._lock:
            return self._types.get((group, version, plural))

    def find_type(self, plural_or_kind: str) -> ResourceType:
        """For tests: `aimclustermodels`, `secrets`, `leases.coordination.k8s.io` or a kind."""
        with self._lock:
            for rt in self._types.values():
                if plural_or_kind in (rt.plural, rt.qualified, rt.kind) and not (
                    rt.group == "events.k8s.io" and plural_or_kind in ("events", "Event")
                ):
                    return rt
        raise KeyError(plural_or_kind)

    # --- waiting (for watch streams and the garbage collector) -----------------------------------

    def add_waiter(self, event: asyncio.Event) -> None:
        with self._lock:
            self._waiters.add((asyncio.get_running_loop(), event))

    def remove_waiter(self, event: asyncio.Event) -> None:
        with self._lock:
            self._waiters = {(loop, ev) for loop, ev in self._waiters if ev is not event}

    def _notify(self) -> None:
        for loop, event in list(self._waiters):
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)

    @property
    def resource_version(self) -> int:
        with self._lock:
            return self._rv

    def _record(self, rt: ResourceType, type_: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        rv = int(obj["metadata"]["resourceVersion"])
        refs = obj["metadata"].get("ownerReferences")
        if type_ == "DELETED" or (refs and (old is None or refs != old["metadata"].get("ownerReferences"))):
            self.gc_hint_rv = rv
        log, rvs = self._log.setdefault(rt.key, []), self._log_rvs.setdefault(rt.key, [])
        log.append(Event(rv, rt, type_, copy.deepcopy(obj), copy.deepcopy(old) if old is not None else None))
        rvs.append(rv)
        if len(log) > self.max_log:
            excess = len(log) - self.max_log
            self._compacted[rt.key] = rvs[excess - 1]
            del log[:excess], rvs[:excess]
        self._notify()

    def _next_rv(self) -> str:
        self._rv += 1
        return str(self._rv)

    # --- reading ---------------------------------------------------------------------------------

    def _check_scope(self, rt: ResourceType, namespace: str | None) -> str:
        if rt.namespaced:
            return namespace or ""
        if namespace:
            raise not_found(rt, "")  # cluster-scoped resources have no namespaced URLs
        return ""

    def get(self, rt: ResourceType, namespace: str | None, name: str) -> dict[str, Any]:
        with self._lock:
            ns = self._check_scope(rt, namespace)
            obj = self._objects[rt.key].get((ns, name))
            if obj is None:
                raise not_found(rt, name)
            return copy.deepcopy(obj)

    def list(
        self,
        rt: ResourceType,
        namespace: str | None,
        *,
        label: str | None = None,
        field: str | None = None,
        limit: int | None = None,
        cont: str | None = None,
    ) -> dict[str, Any]:
        with self._lock:
            match = self.matcher(label, field)
            keys = sorted(
                k
                for k, obj in self._objects[rt.key].items()
                if (not namespace or k[0] == namespace) and match(obj)
            )
            if cont:
                try:
                    after = tuple(json.loads(base64.urlsafe_b64decode(cont.encode())))
                except ValueError:
                    raise bad_request("continue key is not valid") from None
                keys = [k for k in keys if k > after]
            meta: dict[str, Any] = {"resourceVersion": str(self._rv)}
            if limit and len(keys) > limit:
                token = json.dumps(list(keys[limit - 1])).encode()
                meta["continue"] = base64.urlsafe_b64encode(token).decode()
                if not label and not field:  # with a selector, kube-apiserver cannot know the count
                    meta["remainingItemCount"] = len(keys) - limit
                keys = keys[:limit]
            items = [copy.deepcopy(self._objects[rt.key][k]) for k in keys]
            return {"apiVersion": rt.api_version, "kind": f"{rt.kind}List", "metadata": meta, "items": items}

    @staticmethod
    def matcher(label: str | None, field: str | None) -> Callable[[Mapping[str, Any]], bool]:
        by_label, by_field = label_selector(label), field_selector(field)
        return lambda obj: by_label(obj) and by_field(obj)

    def events_after(self, rv: int, rt: ResourceType) -> list[Event]:
        """Events of one resource newer than `rv`; 410 Expired when the log no longer reaches back."""
        with self._lock:
            compacted = self._compacted.get(rt.key, 0)
            if rv < compacted:
                raise gone(f"too old resource version: {rv} ({compacted})")
            rvs = self._log_rvs.get(rt.key, [])
            return self._log.get(rt.key, [])[bisect.bisect_right(rvs, rv) :]

    def quiet_until(self, rt: ResourceType, rv: int) -> int | None:
        """The current resourceVersion if nothing happened to this resource after `rv` (for bookmarks)."""
        with self._lock:
            rvs = self._log_rvs.get(rt.key, [])
            return None if rvs and rvs[-1] > rv else self._rv

    def snapshot(self, rt: ResourceType, namespace: str | None) -> tuple[int, list[dict[str, Any]]]:
        with self._lock:
            objs = [
                copy.deepcopy(obj)
                for (ns, _), obj in sorted(self._objects[rt.key].items())
                if not namespace or ns == namespace
            ]
            return self._rv, objs

    # --- writing ---------------------------------------------------------------------------------

    def create(
        self, rt: ResourceType, namespace: str | None, body: Mapping[str, Any], *, strict: bool = False
    ) -> dict[str, Any]:
        """`strict`: `fieldValidation=Strict`, unknown fields of a custom resource are a 400, not pruned."""
        with self._lock:
            if not isinstance(body, Mapping):
                raise bad_request("the body of a create must be an object")
            obj = copy.deepcopy(dict(body))
            meta = obj.setdefault("metadata", {})
            ns = self._check_scope(rt, namespace or meta.get("namespace"))
            if rt.namespaced:
                if namespace and meta.get("namespace") not in (None, namespace):
                    raise bad_request(
                        "the namespace of the provided object does not match the namespace"
                        " sent on the request"
                    )
                if not ns:
                    raise bad_request("the namespace of the object is required")
                meta["namespace"] = ns
                if not self._objects[("", "v1", "namespaces")].get(("", ns)):
                    raise not_found(self.find_type("namespaces"), ns)
            else:
                meta.pop("namespace", None)
            if not meta.get("name") and meta.get("generateName"):
                suffix = "".join(random.choices(string.ascii_lowercase + string.digits, k=5))
                meta["name"] = meta["generateName"] + suffix
            name = meta.get("name")
            if not name:
                raise invalid(rt, "", "metadata.name", "Required value: name or generateName is required")
            validate_name(rt, name)
            validate_metadata(rt, name, meta)
            if rt.key == ("", "v1", "events"):
                _check_event_namespace(rt, name, ns, obj)
                obj.setdefault("eventTime", None)  # a MicroTime kube-apiserver always writes, null or not
            if obj.get("apiVersion", rt.api_version) != rt.api_version or obj.get("kind", rt.kind) != rt.kind:
                raise bad_request(
                    f"the object's apiVersion/kind {obj.get('apiVersion')}/{obj.get('kind')}"
                    f" does not match the resource {rt.api_version}/{rt.kind}"
                )
            if (ns, name) in self._objects[rt.key]:
                raise already_exists(rt, name)
            obj["apiVersion"], obj["kind"] = rt.api_version, rt.kind
            for server_field in ("deletionTimestamp", "deletionGracePeriodSeconds"):
                meta.pop(server_field, None)
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now_rfc3339()
            if rt.custom:
                meta["generation"] = 1
            if strict and self._schemas.get(rt.key) is not None:
                unknown = unknown_fields(obj, self._schemas[rt.key])
                if unknown:
                    raise bad_request(
                        f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}:'
                        " strict decoding error: " + ", ".join(f'unknown field "{path}"' for path in unknown)
                    )
            if rt.status_subresource and rt.custom:
                obj.pop("status", None)  # the status stanza of a create is ignored
            obj = self._admit(rt, obj)
            meta = obj["metadata"]
            normalise(rt, obj)
            meta["resourceVersion"] = self._next_rv()
            self._objects[rt.key][(ns, name)] = obj
            if rt == CRDS:
                self._register_crd(obj)
            self._record(rt, "ADDED", obj, None)
            return copy.deepcopy(obj)

    def replace(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        body: Mapping[str, Any],
        *,
        subresource: str | None = None,
    ) -> dict[str, Any]:
        """PUT: the whole object (or its status), guarded by the resourceVersion it carries."""
        with self._lock:
            old = self._existing(rt, namespace, name)
            new = copy.deepcopy(dict(body))
            meta = new.get("metadata") or {}
            if meta.get("name") not in (None, name):
                raise bad_request(
                    f"the name of the object ({meta.get('name')}) does not match the name on the URL ({name})"
                )
            rv = meta.get("resourceVersion")
            # Custom resources and Leases refuse unconditional updates (their strategies say so).
            if rv is None and (rt.custom or rt.plural == "leases") and subresource is None:
                raise invalid(
                    rt,
                    name,
                    "metadata.resourceVersion",
                    "Invalid value: 0x0: must be specified for an update",
                )
            return self._update(rt, old, new, subresource=subresource, expected_rv=rv)

    def patch(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        patch: Any,
        *,
        content_type: str,
        subresource: str | None = None,
    ) -> dict[str, Any]:
        with self._lock:
            old = self._existing(rt, namespace, name)
            new = apply_patch(old, patch, content_type)
            rv = (patch.get("metadata") or {}).get("resourceVersion") if isinstance(patch, dict) else None
            return self._update(rt, old, new, subresource=subresource, expected_rv=rv)

    def delete(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        *,
        propagation: str = "Background",
        preconditions: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        with self._lock:
            obj = self._existing(rt, namespace, name)
            meta = obj["metadata"]
            _check_preconditions(rt, meta, preconditions or {})
            if meta.get("finalizers"):
                if meta.get("deletionTimestamp"):
                    return copy.deepcopy(obj)
                new = copy.deepcopy(obj)
                new["metadata"]["deletionTimestamp"] = now_rfc3339()
                new["metadata"]["deletionGracePeriodSeconds"] = 0
                return self._store_update(rt, obj, new)
            if propagation == "Orphan":
                self._orphan(meta["uid"])
            return self._remove(rt, obj)

    def _existing(self, rt: ResourceType, namespace: str | None, name: str) -> dict[str, Any]:
        ns = self._check_scope(rt, namespace)
        obj = self._objects[rt.key].get((ns, name))
        if obj is None:
            raise not_found(rt, name)
        return obj

    def _update(
        self,
        rt: ResourceType,
        old: dict[str, Any],
        new: dict[str, Any],
        *,
        subresource: str | None,
        expected_rv: Any,
    ) -> dict[str, Any]:
        name = old["metadata"]["name"]
        if expected_rv is not None and str(expected_rv) != old["metadata"]["resourceVersion"]:
            raise conflict(rt, name)
        if subresource not in (None, "status") or (subresource == "status" and not rt.status_subresource):
            raise not_found(rt, name)
        if subresource == "status":
            # Only the status changes through the status subresource; spec and metadata are kept.
            merged = copy.deepcopy(old)
            if "status" in new:
                merged["status"] = new["status"]
            else:
                merged.pop("status", None)
            new = merged
        else:
            if rt.status_subresource:
                new.pop("status", None)
                if "status" in old:
                    new["status"] = copy.deepcopy(old["status"])
            meta = new.setdefault("metadata", {})
            for immutable in (
                "name",
                "namespace",
                "uid",
                "creationTimestamp",
                "generation",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
            ):
                if immutable in old["metadata"]:
                    meta[immutable] = old["metadata"][immutable]
                else:
                    meta.pop(immutable, None)
            meta["resourceVersion"] = old["metadata"]["resourceVersion"]
            validate_metadata(rt, name, meta)
            new["apiVersion"], new["kind"] = rt.api_version, rt.kind
            normalise(rt, new)
        new = self._admit(rt, new)
        if subresource is None and rt.custom and spec_part(new) != spec_part(old):
            new["metadata"]["generation"] = old["metadata"].get("generation", 1) + 1
        if new == old:  # a no-op write keeps the resourceVersion and notifies nobody
            return copy.deepcopy(old)
        result = self._store_update(rt, old, new)
        meta = result["metadata"]
        if meta.get("deletionTimestamp") and not meta.get("finalizers"):
            return self._remove(rt, self._objects[rt.key][_key(result)])
        return result

    def _store_update(self, rt: ResourceType, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        new["metadata"]["resourceVersion"] = self._next_rv()
        self._objects[rt.key][_key(new)] = new
        if rt == CRDS:
            self._register_crd(new)
        self._record(rt, "MODIFIED", new, old)
        return copy.deepcopy(new)

    def _remove(self, rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        del self._objects[rt.key][_key(obj)]
        if rt == CRDS:  # the resource is no longer served, and its objects are gone with it
            for old_type in types_from_crd(obj):
                self._types.pop(old_type.key, None)
                self._objects.pop(old_type.key, None)
                self._schemas.pop(old_type.key, None)
        gone_obj = copy.deepcopy(obj)
        gone_obj["metadata"]["resourceVersion"] = self._next_rv()
        self._record(rt, "DELETED", gone_obj, obj)
        return gone_obj

    def _orphan(self, uid: str) -> None:
        for rt_key, objs in list(self._objects.items()):
            for obj in list(objs.values()):
                refs = obj["metadata"].get("ownerReferences") or []
                if any(ref.get("uid") == uid for ref in refs):
                    new = copy.deepcopy(obj)
                    new["metadata"]["ownerReferences"] = [r for r in refs if r.get("uid") != uid]
                    self._store_update(self._types[rt_key], obj, new)

    # --- garbage collection ----------------------------------------------------------------------

    def collect_garbage(self) -> int:
        """Delete objects whose owners are all gone; drop references to gone owners from the others.

        One pass; the server repeats it until nothing changes, so chains of owners cascade.
        """
        deleted = 0
        with self._lock:
            live = {obj["metadata"]["uid"] for objs in self._objects.values() for obj in objs.values()}
            for rt_key, objs in list(self._objects.items()):
                rt = self._types[rt_key]
                for obj in list(objs.values()):
                    refs = obj["metadata"].get("ownerReferences") or []
                    alive = [ref for ref in refs if ref.get("uid") in live]
                    if not refs or len(alive) == len(refs):
                        continue
                    if alive:
                        new = copy.deepcopy(obj)
                        new["metadata"]["ownerReferences"] = alive
                        self._store_update(rt, obj, new)
                    else:
                        self.delete(rt, obj["metadata"].get("namespace"), obj["metadata"]["name"])
                        deleted += 1
        return deleted

    def all_objects(self) -> Iterable[tuple[ResourceType, dict[str, Any]]]:
        with self._lock:
            return [
                (self._types[k], copy.deepcopy(obj))
                for k, objs in self._objects.items()
                for obj in objs.values()
            ]


def _key(obj: Mapping[str, Any]) -> ObjKey:
    return (obj["metadata"].get("namespace") or "", obj["metadata"]["name"])


def _check_preconditions(rt: ResourceType, meta: Mapping[str, Any], preconditions: Mapping[str, Any]) -> None:
    """DeleteOptions.preconditions: a uid or resourceVersion that does not match is a 409."""
    for key, what in (("uid", "UID"), ("resourceVersion", "ResourceVersion")):
        wanted = preconditions.get(key)
        if wanted is not None and wanted != meta.get(key):
            qualified = f'{rt.kind}.{rt.group or "core"} "{meta["name"]}"'
            raise ApiError(
                409,
                "Conflict",
                f"Operation cannot be fulfilled on {qualified}:"
                f" the {what} in the precondition ({wanted}) does not match the {what} in record"
                f" ({meta.get(key)}). The object might have been deleted and then recreated",
                {"name": meta["name"], "group": rt.group, "kind": rt.kind},
            )


def _check_event_namespace(rt: ResourceType, name: str, ns: str, event: Mapping[str, Any]) -> None:
    """core/v1 Events: an event about a cluster-scoped object lives in "default"; any other in its
    object's namespace (kube-apiserver's ValidateEventCreate)."""
    involved = event.get("involvedObject") or {}
    wanted = involved.get("namespace") or ""
    if (not wanted and ns != "default") or (wanted and ns != wanted):
        raise invalid(
            rt, name, "involvedObject.namespace", f'Invalid value: "{wanted}": does not match event.namespace'
        )
