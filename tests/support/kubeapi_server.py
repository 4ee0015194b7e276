"""The HTTP face of the emulated Kubernetes API, built on kmock's Kubernetes scaffold.

kmock gives us the HTTP server, request parsing and recording, user-defined
reactions that take precedence (`api.handler[...] << 500` injects faults), and
the Kubernetes error rendering. Its own in-memory emulator keeps objects as
plain dicts (no uid, resourceVersion, generation, status subresource,
selectors or garbage collection), which is not enough for kopf and for our
client's conflict handling, so every request for a resource goes to
`kubeapi_store.Store`, and discovery is answered from the store's types (which
grow when a CustomResourceDefinition is created, as on a real cluster).
"""

from __future__ import annotations

import asyncio
import json
import math
import traceback
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp.web
import attrs
import kmock
from kmock._internal import parsing
from kmock._internal.filtering import FnCriteria

from tests.support.kubeapi_store import Event, Store
from tests.support.kubeapi_types import ApiError, ResourceType, bad_request


@dataclass(frozen=True)
class RequestRecord:
    """One API request as Kubernetes audit logs name it: verb + resource (+ subresource)."""

    verb: str  # get | list | watch | create | update | patch | delete | deletecollection
    group: str
    version: str
    plural: str
    subresource: str | None
    namespace: str | None
    name: str | None
    query: Mapping[str, str] = field(default_factory=dict)
    """The query parameters (fieldManager, fieldValidation, limit, ...)."""
    user_agent: str = ""


_kmock_parse_path = parsing.parse_path


def _parse_path(path: str) -> parsing.ParsedPath:
    """kmock 0.8 reads `/api/v1/namespaces[/<name>]` as a namespace prefix (and crashes on the list).

    Namespaces are a resource like any other; everything else goes to kmock's parser.
    """
    parts = path.strip("/").split("/")
    namespace_url = len(parts) <= 4 or parts[4:] in (["status"], ["finalize"])
    if parts[:3] == ["api", "v1", "namespaces"] and namespace_url:
        name = parts[3] if len(parts) > 3 else None
        subresource = parts[4] if len(parts) > 4 else None
        return parsing.ParsedPath("", "v1", "namespaces", None, name, subresource)
    return _kmock_parse_path(path)


parsing.parse_path = _parse_path  # kmock's request parser looks it up on the module at each request


def _is_resource(request: kmock.Request) -> bool:
    return request.resource is not None and request.resource.plural is not None


def _verb(method: str, name: str | None, params: Mapping[str, str]) -> str:
    if method == "GET":
        return "watch" if params.get("watch") in ("true", "1") else "get" if name else "list"
    if method == "DELETE":
        return "delete" if name else "deletecollection"
    return {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(method, method.lower())


def _bad_field_validation(method: str, value: str) -> ApiError:
    options = {"POST": "CreateOptions", "PATCH": "PatchOptions"}.get(method, "UpdateOptions")
    why = f'Unsupported value: "{value}": supported values: "", "Ignore", "Strict", "Warn"'
    return ApiError(
        422,
        "Invalid",
        f'{options}.meta.k8s.io "" is invalid: fieldValidation: {why}',
        {
            "group": "meta.k8s.io",
            "kind": options,
            "causes": [{"reason": "FieldValueNotSupported", "message": why, "field": "fieldValidation"}],
        },
    )


def _unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


@attrs.define(kw_only=True)
class KubeAPIHandler(kmock.KubernetesScaffold):
    """A kmock handler that serves resources from a `Store` with the API server's semantics."""

    store: Store = attrs.field(factory=Store)
    token: str | None = None  # when set, every request must carry `Authorization: Bearer <token>`
    client_certificates: bool = False  # a verified client certificate also authenticates (mutual TLS)
    bookmark_interval: float = 60.0  # seconds of silence after which a watch that allows bookmarks gets one
    records: list[RequestRecord] = attrs.field(factory=list)
    internal_errors: list[str] = attrs.field(factory=list)
    closing: asyncio.Event = attrs.field(factory=asyncio.Event)
    _own_reactions: int = attrs.field(default=0, init=False)  # the reactions registered by this class

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        (self.fallback**1)[FnCriteria(_is_resource)] << self._serve_resource
        self._own_reactions = len(self._payloads)

    async def _handle(self, request: kmock.Request) -> aiohttp.web.StreamResponse:
        if not self._authenticated(request):
            return await self._render_error(_unauthorized())
        if _is_resource(request) and len(self._payloads) == self._own_reactions:
            # No reaction added by a test: skip kmock's matching, which filters every request recorded
            # so far for each new one (quadratic; the benchmark makes tens of thousands of requests).
            response: aiohttp.web.StreamResponse = await (await self._serve_resource(request))(request)
            return response
        return await super()._handle(request)

    def _authenticated(self, request: kmock.Request) -> bool:
        if self.token is None and not self.client_certificates:
            return True
        if self.token is not None and request.headers.get("Authorization") == f"Bearer {self.token}":
            return True
        raw = request._raw_request
        transport = raw.transport if raw is not None else None
        # With CERT_OPTIONAL, ssl hands over a peer certificate only when it verified it.
        peer = transport.get_extra_info("peercert") if transport is not None else None
        return bool(self.client_certificates and peer)

    async def _render_error(self, exc: Exception) -> aiohttp.web.StreamResponse:
        if isinstance(exc, kmock.KubernetesError) and exc.status < 500:  # kmock's own, e.g. unknown URL
            exc = ApiError(
                exc.status,
                "NotFound" if exc.status == 404 else "BadRequest",
                "the server could not find the requested resource",
            )
        if not isinstance(exc, ApiError):
            self.internal_errors.append("".join(traceback.format_exception(exc)))
            exc = ApiError(500, "InternalError", f"Internal error occurred: {exc!r}")
        return aiohttp.web.json_response(exc.status(), status=exc.code)

    # --- resources -------------------------------------------------------------------------------

    async def _serve_resource(self, request: kmock.Request) -> kmock.Response:
        # Always an explicit status: kmock keeps the status of the last answer on the reaction otherwise.
        answer = await self._answer(request)
        if isinstance(answer, kmock.Response):
            return answer
        return kmock.Response(status=200, payload=answer)

    async def _answer(self, request: kmock.Request) -> Any:
        res = request.resource
        assert res is not None
        assert res.plural is not None
        rt = self.store.type_for(res.group or "", res.version or "", res.plural)
        if rt is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        method = request.method.value.upper()
        verb = _verb(method, request.name, request.params)
        params = request.params
        self.records.append(
            RequestRecord(
                verb,
                rt.group,
                rt.version,
                rt.plural,
                request.subresource,
                request.namespace,
                request.name,
                query=dict(params),
                user_agent=request.headers.get("User-Agent", ""),
            )
        )
        validation = params.get("fieldValidation")
        if validation not in (None, "", "Ignore", "Warn", "Strict"):  # as kube-apiserver answers it
            raise _bad_field_validation(method, validation)
        manager = params.get("fieldManager")
        if manager is not None and (len(manager) > 128 or not manager.isprintable()):
            raise bad_request("fieldManager must be at most 128 printable characters")
        ns, name = request.namespace, request.name
        if verb == "watch":
            if name:  # the deprecated single-object watch: same as a field selector
                params = dict(params, fieldSelector=f"metadata.name={name}")
            return self._watch(rt, ns, params)
        if verb == "list":
            limit = int(params["limit"]) if params.get("limit") else None
            return self.store.list(
                rt,
                ns,
                label=params.get("labelSelector"),
                field=params.get("fieldSelector"),
                limit=limit,
                cont=params.get("continue"),
            )
        assert verb != "deletecollection" or name is None
        if verb == "get":
            if request.subresource not in (None, "status"):
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return self.store.get(rt, ns, name or "")
        if verb == "create":
            created = self.store.create(rt, ns, self._body(request), strict=validation == "Strict")
            return kmock.Response(status=201, payload=created)
        if verb == "update":
            return self.store.replace(
                rt, ns, name or "", self._body(request), subresource=request.subresource
            )
        if verb == "patch":
            content_type = request.headers.get("Content-Type", "")
            return self.store.patch(
                rt,
                ns,
                name or "",
                self._body(request),
                content_type=content_type,
                subresource=request.subresource,
            )
        if verb == "delete":
            options = self._body(request, required=False) or {}
            propagation = params.get("propagationPolicy") or options.get("propagationPolicy") or "Background"
            deleted = self.store.delete(
                rt, ns, name or "", propagation=propagation, preconditions=options.get("preconditions")
            )
            return deleted if deleted["metadata"].get("deletionTimestamp") else _deleted(rt, deleted)
        raise ApiError(
            405,
            "MethodNotAllowed",
            f"the server does not allow this method on the requested resource ({method} {rt.qualified})",
        )

    @staticmethod
    def _body(request: kmock.Request, *, required: bool = True) -> Any:
        if not request.body:
            if required:
                raise bad_request("the request has no body")
            return None
        try:
            return json.loads(request.body)
        except ValueError as e:
            raise bad_request(f"the body is not valid JSON: {e}") from None

    async def _watch(self, rt: ResourceType, ns: str | None, params: Mapping[str, str]) -> AsyncIterator[Any]:
        match = self.store.matcher(params.get("labelSelector"), params.get("fieldSelector"))
        timeout = float(params["timeoutSeconds"]) if params.get("timeoutSeconds") else None
        since = params.get("resourceVersion") or "0"
        if not since.isdigit():
            raise bad_request(f"invalid resource version: {since!r}")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout if timeout else None
        wake = asyncio.Event()
        self.store.add_waiter(wake)
        try:
            yield b""  # send the headers now: a watch with nothing to say is still a watch
            last = int(since)
            if last == 0:
                last, objs = self.store.snapshot(rt, ns)
                for obj in objs:
                    if match(obj):
                        yield {"type": "ADDED", "object": obj}
                if params.get("sendInitialEvents") == "true":  # the end of the initial state, marked
                    yield _bookmark(rt, last, initial_end=True)
            bookmarks = params.get("allowWatchBookmarks") == "true"
            while not self.closing.is_set():
                wake.clear()
                try:
                    events = self.store.events_after(last, rt)
                except ApiError as e:
                    yield {"type": "ERROR", "object": e.status()}
                    return
                for event in events:
                    last = event.rv
                    shown = _as_seen(event, ns, match)
                    if shown is not None:
                        yield shown
                if events:
                    continue
                remaining = None if deadline is None else deadline - loop.time()
                if remaining is not None and remaining <= 0:
                    return
                pause = min(self.bookmark_interval, remaining if remaining is not None else math.inf)
                waiters = [asyncio.ensure_future(wake.wait()), asyncio.ensure_future(self.closing.wait())]
                try:
                    done, _ = await asyncio.wait(waiters, timeout=pause, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for waiter in waiters:
                        waiter.cancel()
                # A bookmark after `bookmark_interval` of silence, not when the watch's own timeout ends it
                # (kube-apiserver sends them about once a minute, none at a short timeout's end).
                interval_over = remaining is None or self.bookmark_interval <= remaining
                due = not done and bookmarks and interval_over
                reached = self.store.quiet_until(rt, last) if due else None
                if reached is not None:
                    last = reached
                    yield _bookmark(rt, reached)
        finally:
            self.store.remove_waiter(wake)

    # --- discovery (from the store's types, so CRDs created at run time appear) --------------------

    async def _serve_api(self, request: kmock.Request) -> Any:
        return {
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": f"{request.url.host}:{request.url.port}"}
            ],
        }

    def _versions(self) -> dict[str, list[str]]:
        groups: dict[str, list[str]] = {}
        for rt in self.store.types():
            if rt.group and rt.version not in groups.setdefault(rt.group, []):
                groups[rt.group].append(rt.version)
        return groups

    @staticmethod
    def _group(name: str, versions: list[str]) -> dict[str, Any]:
        entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
        return {"name": name, "versions": entries, "preferredVersion": entries[0]}

    async def _serve_apis(self, request: kmock.Request) -> Any:
        groups = [self._group(name, versions) for name, versions in sorted(self._versions().items())]
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}

    async def _serve_group(self, request: kmock.Request) -> Any:
        assert request.resource is not None
        versions = self._versions().get(request.resource.group or "")
        if not versions:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return dict(self._group(request.resource.group or "", versions), kind="APIGroup", apiVersion="v1")

    async def _serve_version(self, request: kmock.Request) -> Any:
        assert request.resource is not None
        group, version = request.resource.group or "", request.resource.version or ""
        types = [rt for rt in self.store.types() if rt.group == group and rt.version == version]
        if not types:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        resources: list[dict[str, Any]] = []
        for rt in types:
            resources.append(
                {
                    "name": rt.plural,
                    "singularName": rt.singular,
                    "namespaced": rt.namespaced,
                    "kind": rt.kind,
                    "verbs": list(rt.verbs),
                    "shortNames": list(rt.short_names),
                    "categories": list(rt.categories),
                }
            )
            if rt.status_subresource:
                resources.append(
                    {
                        "name": f"{rt.plural}/status",
                        "singularName": "",
                        "namespaced": rt.namespaced,
                        "kind": rt.kind,
                        "verbs": ["get", "patch", "update"],
                    }
                )
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": rt.api_version,
            "resources": resources,
        }


def _deleted(rt: ResourceType, obj: Mapping[str, Any]) -> dict[str, Any]:
    """What kube-apiserver answers a delete that removed the object at once (no finalizer held it):
    a Status, not the object; an object still there (being finalized) is answered with itself."""
    meta = obj["metadata"]
    details = {"name": meta["name"], "group": rt.group, "kind": rt.plural, "uid": meta["uid"]}
    if not rt.group:
        del details["group"]
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}


def _bookmark(rt: ResourceType, rv: int, *, initial_end: bool = False) -> dict[str, Any]:
    """A BOOKMARK event: only the resourceVersion the watch has reached (and the initial-events mark)."""
    meta: dict[str, Any] = {"resourceVersion": str(rv)}
    if initial_end:
        meta["annotations"] = {"k8s.io/initial-events-end": "true"}
    return {"type": "BOOKMARK", "object": {"kind": rt.kind, "apiVersion": rt.api_version, "metadata": meta}}


def _as_seen(event: Event, ns: str | None, match: Any) -> dict[str, Any] | None:
    """The event as a filtered watch reports it: an object leaving the selection is DELETED for it."""
    if ns and event.obj["metadata"].get("namespace") != ns:
        return None
    now = match(event.obj)
    before = event.old is not None and match(event.old)
    if event.type == "MODIFIED":
        kind = "MODIFIED" if now and before else "ADDED" if now else "DELETED" if before else None
    else:
        kind = event.type if now else None
    return None if kind is None else {"type": kind, "object": event.obj}


async def collect_garbage_forever(store: Store, *, delay: float) -> None:
    """The garbage collector: after deletions (and new owner references), delete the objects whose
    owners are all gone, in the background and level by level, as kube-controller-manager does."""
    wake = asyncio.Event()
    store.add_waiter(wake)
    seen = store.gc_hint_rv
    try:
        while True:
            await wake.wait()
            wake.clear()
            if store.gc_hint_rv == seen:
                continue
            seen = store.gc_hint_rv
            await asyncio.sleep(delay)
            for _ in range(100):  # each pass deletes one more level of a chain of owners
                if not store.collect_garbage():
                    break
    finally:
        store.remove_waiter(wake)
