"""The Kubernetes API calls aimsource makes (besides kopf's watch of sources).

Bodies are the raw JSON objects of the API (dicts): the domain builds them, this
module only moves them. The HTTP side (aiohttp, retries, errors, field manager,
User-Agent) is `aimsource.kube.transport`; every name that becomes part of a path
is checked and escaped by `aimsource.kube.names` first.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from types import TracebackType
from typing import Any

from aimsource.domain.causes import dropping_cause
from aimsource.domain.resources import ALLOWED_SOURCES_ANNOTATION, MODELS_PATH, SOURCE_LABEL, SOURCES_PATH
from aimsource.domain.times import format_time
from aimsource.kube.errors import (
    AlreadyExistsError,
    ConflictError,
    ForbiddenError,
    InvalidError,
    NotFoundError,
    SecretError,
    SourceGoneError,
)
from aimsource.kube.names import InvalidNameError, name_segment, namespace_segment
from aimsource.kube.transport import FIELD_MANAGER, USER_AGENT, ApiTransport, ClientSettings
from aimsource.kube.watching import WatchEvent, watch

log = logging.getLogger("aimsource.kube")

__all__ = ["FIELD_MANAGER", "USER_AGENT", "ClientSettings", "KubeClient"]

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
DOCKERCONFIGJSON = "kubernetes.io/dockerconfigjson"
EVENTS_NAMESPACE_FOR_CLUSTER_OBJECTS = "default"  # where kubectl describe looks for them, as for Nodes


def _ownership(body: Mapping[str, Any]) -> tuple[str, str] | None:
    """(source label, controller owner uid) of a model body; None when either is missing."""
    meta = body.get("metadata") or {}
    source = (meta.get("labels") or {}).get(SOURCE_LABEL)
    uids = [ref.get("uid") for ref in meta.get("ownerReferences") or [] if isinstance(ref, Mapping)]
    uid = next((u for u in uids if isinstance(u, str) and u), None)
    if not isinstance(source, str) or not source or uid is None:
        return None
    return source, uid


class KubeClient(ApiTransport):
    """An async context manager; `async with KubeClient(load_kube_config()) as kube: ...`."""

    async def __aenter__(self) -> KubeClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # --- the operations aimsource needs --------------------------------------------------------

    async def create_model(self, body: Mapping[str, Any]) -> bool:
        """Create an AIMClusterModel: True when created, False when the name already exists.

        A 409 is resolved by reading the model: the server may have committed an earlier attempt
        whose answer was lost (a timeout or a 5xx, retried by the transport), and that model is
        ours - it carries the source label and the owner uid of `body` - so it counts as created.
        Only the source of that uid creates models owned by it.
        """
        try:
            await self.request("POST", MODELS_PATH, json=body)
        except AlreadyExistsError:
            return await self._is_ours(body)
        return True

    async def _is_ours(self, body: Mapping[str, Any]) -> bool:
        meta = body.get("metadata") or {}
        name = meta.get("name")
        mark = _ownership(body)
        if not isinstance(name, str) or mark is None:
            return False
        try:
            existing = await self.request("GET", f"{MODELS_PATH}/{name_segment(name, 'model name')}")
        except NotFoundError:  # deleted since: not ours to count; the next sync sees it missing
            return False
        return _ownership(existing) == mark

    async def get_source(self, name: str) -> dict[str, Any] | None:
        """The AIMClusterModelSource of `name` as stored now; None when it does not exist."""
        try:
            return await self.request("GET", f"{SOURCES_PATH}/{name_segment(name, 'source name')}")
        except NotFoundError:
            return None

    async def list_pages(
        self, path: str, *, page_size: int | None = None, on_version: Callable[[str], None] = lambda _: None
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """The items of a collection one page (`limit`/`continue`) at a time, so that a caller that
        folds each page into something smaller never holds the whole list. `on_version` is told the
        list's resourceVersion (every page of one list has the same), to watch from."""
        params: dict[str, str] = {"limit": str(page_size or self.settings.page_size)}
        while True:
            page = await self.request("GET", path, params=params)
            meta = page.get("metadata") or {}
            token = meta.get("continue")
            if isinstance(meta.get("resourceVersion"), str):
                on_version(meta["resourceVersion"])
            yield page.get("items") or []
            if not token:
                return
            params["continue"] = token

    def watch(
        self, path: str, resource_version: str, *, on_open: Callable[[], None] = lambda: None
    ) -> AsyncIterator[WatchEvent]:
        """The events of a collection after `resource_version` (see `aimsource.kube.watching`)."""
        return watch(self, path, resource_version, on_open=on_open)

    async def patch_source_status(
        self, name: str, status: Mapping[str, Any], *, uid: str | None = None
    ) -> None:
        """Write the status subresource of an AIMClusterModelSource.

        With `uid` (what the operator always passes) the write is guarded: a JSON patch whose first
        operation tests `metadata.uid`, then replaces the whole status (None values dropped). A
        source deleted, or deleted and recreated under the same name, raises SourceGoneError and
        is not written. Why not `metadata.uid` in a merge patch: for the status subresource of a
        custom resource, kube-apiserver's status strategy copies the stored object over the
        patched one before validating, so a uid in the patch is silently ignored there.

        Without `uid`, a merge patch (None values delete keys), unguarded.
        """
        path = f"{SOURCES_PATH}/{name_segment(name, 'source name')}/status"
        if uid is None:
            await self.request("PATCH", path, json={"status": status}, content_type=MERGE_PATCH)
            return
        operations = [
            {"op": "test", "path": "/metadata/uid", "value": uid},
            {"op": "add", "path": "/status", "value": {k: v for k, v in status.items() if v is not None}},
        ]
        try:
            await self.request("PATCH", path, json=operations, content_type=JSON_PATCH)
        except NotFoundError as exc:
            raise SourceGoneError(
                f'aimclustermodelsource "{name}" (uid {uid}) no longer exists; its status was not written'
            ) from exc
        except (InvalidError, ConflictError) as exc:
            # A failed test is a 422 like any invalid patch: tell them apart by reading the source.
            if await self._source_uid(name) == uid:
                raise
            raise SourceGoneError(
                f'aimclustermodelsource "{name}" (uid {uid}) was deleted or recreated;'
                " its status was not written"
            ) from exc

    async def _source_uid(self, name: str) -> str | None:
        # One GET (deploy/ grants `get` on sources): a list by name would make the API server
        # filter every source in its cache.
        try:
            source = await self.request("GET", f"{SOURCES_PATH}/{name_segment(name, 'source name')}")
        except NotFoundError:
            return None
        uid = (source.get("metadata") or {}).get("uid")
        return uid if isinstance(uid, str) else None

    async def read_pull_secret(self, namespace: str, name: str, *, source: str | None = None) -> bytes:
        """The decoded `.dockerconfigjson` of a secret; SecretError naming the secret when unusable.

        `source` is the AIMClusterModelSource that wants it: a secret annotated with
        `ALLOWED_SOURCES_ANNOTATION` may only be used by the sources it lists (without a
        `source`, an annotated secret is refused). Nothing of the secret's content reaches a message.
        """
        what = f'imagePullSecret "{name}"'
        try:
            path = (
                f"/api/v1/namespaces/{namespace_segment(namespace)}/secrets/"
                f"{name_segment(name, 'imagePullSecret name')}"
            )
        except InvalidNameError as e:  # e.g. "../../kube-system/secrets/regcred": no request at all
            raise SecretError(str(e)) from e
        try:
            secret = await self.request("GET", path)
        except NotFoundError as e:
            raise SecretError(f'{what} not found in namespace "{namespace}"') from e
        except ForbiddenError as e:
            raise SecretError(f'{what} in namespace "{namespace}" cannot be read: forbidden by RBAC') from e
        where = f'{what} in namespace "{namespace}"'
        _check_allowed(secret, source, where)
        if secret.get("type") != DOCKERCONFIGJSON:
            raise SecretError(f'{where} has type "{secret.get("type")}"; expected {DOCKERCONFIGJSON}')
        encoded = (secret.get("data") or {}).get(".dockerconfigjson")
        if not encoded:
            raise SecretError(f"{where} has no .dockerconfigjson key")
        try:
            return base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError, TypeError) as e:
            # Not chained: the cause describes the secret's content (its length, a bad character).
            error = SecretError(f"{where} has a .dockerconfigjson that is not valid base64")
            raise dropping_cause(error, e, log) from None

    async def read_secret_key(self, namespace: str, name: str, key: str) -> bytes:
        """The decoded value of one key of a Secret (the webhook token); SecretError naming the
        secret and the key, never the content, when it cannot be read."""
        what = f'Secret "{name}" in namespace "{namespace}"'
        try:
            path = (
                f"/api/v1/namespaces/{namespace_segment(namespace)}/secrets/"
                f"{name_segment(name, 'Secret name')}"
            )
        except InvalidNameError as e:
            raise SecretError(str(e)) from e
        try:
            secret = await self.request("GET", path)
        except NotFoundError as e:
            raise SecretError(f"{what} not found") from e
        except ForbiddenError as e:
            raise SecretError(f"{what} cannot be read: forbidden by RBAC") from e
        encoded = (secret.get("data") or {}).get(key)
        if not encoded:
            raise SecretError(f"{what} has no {key} key")
        try:
            return base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError, TypeError) as e:
            # Not chained: the cause describes the secret's content (its length, a bad character).
            error = SecretError(f"{what} has a {key} that is not valid base64")
            raise dropping_cause(error, e, log) from None

    async def post_event(self, source: Mapping[str, Any], *, type: str, reason: str, message: str) -> None:
        """A core/v1 Event about an object: in its namespace, or `default` for cluster-scoped ones."""
        meta = source.get("metadata") or {}
        namespace = meta.get("namespace") or EVENTS_NAMESPACE_FOR_CLUSTER_OBJECTS
        path = f"/api/v1/namespaces/{namespace_segment(namespace)}/events"
        now = format_time(datetime.datetime.now(datetime.UTC))
        involved = {
            "apiVersion": source.get("apiVersion"),
            "kind": source.get("kind"),
            "name": meta.get("name"),
            "uid": meta.get("uid"),
            "resourceVersion": meta.get("resourceVersion"),
        }
        if meta.get("namespace"):
            involved["namespace"] = meta["namespace"]
        body = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"{meta.get('name')}.{time.time_ns():x}", "namespace": namespace},
            "involvedObject": {k: v for k, v in involved.items() if v is not None},
            "type": type,
            "reason": reason,
            "message": message[:1024],
            "source": {"component": self.settings.component},
            "reportingComponent": self.settings.component,
            "reportingInstance": self.settings.instance,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        await self.request("POST", path, json=body)


def allowed_sources(secret: Mapping[str, Any]) -> frozenset[str] | None:
    """The sources a secret's annotation allows (whitespace around names ignored); None: any source."""
    annotations = (secret.get("metadata") or {}).get("annotations") or {}
    value = annotations.get(ALLOWED_SOURCES_ANNOTATION)
    if value is None:
        return None
    return frozenset(part.strip() for part in str(value).split(",") if part.strip())


def _check_allowed(secret: Mapping[str, Any], source: str | None, where: str) -> None:
    allowed = allowed_sources(secret)
    if allowed is None or (source is not None and source in allowed):
        return
    who = f'source "{source}"' if source is not None else "a caller that names no source"
    raise SecretError(
        f"{where} may not be used by {who}: the secret's {ALLOWED_SOURCES_ANNOTATION}"
        " annotation does not list it"
    )
