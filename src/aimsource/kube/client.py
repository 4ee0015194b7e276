"""The Kubernetes API calls aimsource makes (besides kopf's watching), over one httpx.AsyncClient.

Every call has a timeout; 5xx, 429 and connection failures are retried a few
times with a short backoff that honours Retry-After (capped: the caller, not this
client, owns long waits); every failure leaves as an `aimsource.kube.errors`
type. Bodies are the raw JSON objects of the API (dicts): the domain builds them,
this module only moves them.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import datetime
import random
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx

from aimsource.kube.config import KubeConfig
from aimsource.kube.errors import (
    AlreadyExistsError,
    ApiStatusError,
    ForbiddenError,
    KubeConfigError,
    KubeError,
    NotFoundError,
    SecretError,
    ServerError,
    TLSVerificationError,
    UnreachableError,
    error_for_status,
)

MODELS_PATH = "/apis/aim.eai.amd.com/v1alpha1/aimclustermodels"
SOURCES_PATH = "/apis/aim.eai.amd.com/v1alpha1/aimclustermodelsources"
MERGE_PATCH = "application/merge-patch+json"
DOCKERCONFIGJSON = "kubernetes.io/dockerconfigjson"
EVENTS_NAMESPACE_FOR_CLUSTER_OBJECTS = "default"  # where kubectl describe looks for them, as for Nodes


@dataclass(frozen=True)
class ClientSettings:
    """Timeouts and retries of the Kubernetes client."""

    timeout: float = 10.0
    """Seconds for one request (connect, read, write each)."""
    retries: int = 3
    """Extra attempts after a 5xx, 429 or connection failure."""
    backoff: float = 0.2
    """Seconds before the first retry; doubles each time, with jitter."""
    max_retry_after: float = 5.0
    """Longest Retry-After we wait for inside one call, in seconds."""
    page_size: int = 500
    """`limit` of list calls."""
    component: str = "aimsource"
    """The `source.component` / `reportingComponent` of events."""
    instance: str = socket.gethostname()
    """The `reportingInstance` of events (the pod name in a cluster)."""


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class KubeClient:
    """An async context manager; `async with KubeClient(load_kube_config()) as kube: ...`."""

    def __init__(self, config: KubeConfig, settings: ClientSettings | None = None) -> None:
        self.config = config
        self.settings = settings or ClientSettings()
        self._token: str | None = config.token
        self._token_read_at = -1e9
        try:
            verify = config.ssl_context()
        except (OSError, ssl.SSLError, ValueError) as e:
            raise KubeConfigError(f"cannot load the TLS certificates of {config.origin or config.server}:"
                                  f" {type(e).__name__}: {getattr(e, 'strerror', None) or e}") from None
        self._http = httpx.AsyncClient(
            base_url=config.server, verify=verify, auth=config.basic_auth(),
            timeout=httpx.Timeout(self.settings.timeout), headers={"Accept": "application/json"},
        )

    async def __aenter__(self) -> KubeClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- the operations aimsource needs --------------------------------------------------------

    async def create_model(self, body: Mapping[str, Any]) -> bool:
        """Create an AIMClusterModel: True when created, False when the name already exists."""
        try:
            await self.request("POST", MODELS_PATH, json=body)
        except AlreadyExistsError:
            return False
        return True

    async def list_models(self, *, label_selector: str | None = None) -> list[dict[str, Any]]:
        """All AIMClusterModels, page by page (start-up only: the operator then watches)."""
        return await self.list_all(MODELS_PATH, label_selector=label_selector)

    async def patch_source_status(self, name: str, status: Mapping[str, Any]) -> None:
        """Merge-patch the status subresource of an AIMClusterModelSource (None values delete keys)."""
        await self.request("PATCH", f"{SOURCES_PATH}/{name}/status", json={"status": status},
                           content_type=MERGE_PATCH)

    async def read_pull_secret(self, namespace: str, name: str) -> bytes:
        """The decoded `.dockerconfigjson` of a secret; SecretError naming the secret when unusable."""
        what = f'imagePullSecret "{name}"'
        try:
            secret = await self.request("GET", f"/api/v1/namespaces/{namespace}/secrets/{name}")
        except NotFoundError:
            raise SecretError(f'{what} not found in namespace "{namespace}"') from None
        except ForbiddenError:
            raise SecretError(f'{what} in namespace "{namespace}" cannot be read:'
                              " forbidden by RBAC") from None
        where = f'{what} in namespace "{namespace}"'
        if secret.get("type") != DOCKERCONFIGJSON:
            raise SecretError(f'{where} has type "{secret.get("type")}"; expected {DOCKERCONFIGJSON}')
        encoded = (secret.get("data") or {}).get(".dockerconfigjson")
        if not encoded:
            raise SecretError(f"{where} has no .dockerconfigjson key")
        try:
            return base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise SecretError(f"{where} has a .dockerconfigjson that is not valid base64") from None

    async def post_event(self, source: Mapping[str, Any], *, type: str, reason: str, message: str) -> None:
        """A core/v1 Event about an object: in its namespace, or `default` for cluster-scoped ones."""
        meta = source.get("metadata") or {}
        namespace = meta.get("namespace") or EVENTS_NAMESPACE_FOR_CLUSTER_OBJECTS
        now = _now()
        involved = {
            "apiVersion": source.get("apiVersion"), "kind": source.get("kind"), "name": meta.get("name"),
            "uid": meta.get("uid"), "resourceVersion": meta.get("resourceVersion"),
        }
        if meta.get("namespace"):
            involved["namespace"] = meta["namespace"]
        body = {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": f"{meta.get('name')}.{time.time_ns():x}", "namespace": namespace},
            "involvedObject": {k: v for k, v in involved.items() if v is not None},
            "type": type, "reason": reason, "message": message[:1024],
            "source": {"component": self.settings.component},
            "reportingComponent": self.settings.component, "reportingInstance": self.settings.instance,
            "firstTimestamp": now, "lastTimestamp": now, "count": 1,
        }
        await self.request("POST", f"/api/v1/namespaces/{namespace}/events", json=body)

    # --- generic calls (also used by the lease elector) ----------------------------------------

    async def list_all(self, path: str, *, label_selector: str | None = None) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        params: dict[str, str] = {"limit": str(self.settings.page_size)}
        if label_selector:
            params["labelSelector"] = label_selector
        while True:
            page = await self.request("GET", path, params=params)
            items.extend(page.get("items") or [])
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items
            params["continue"] = token

    async def request(self, method: str, path: str, *, json: Any = None,
                      params: Mapping[str, str] | None = None,
                      content_type: str | None = None) -> dict[str, Any]:
        """One API call with retries; the decoded JSON answer, or a KubeError."""
        attempt = 0
        while True:
            try:
                return await self._once(method, path, json=json, params=params, content_type=content_type)
            except (ServerError, UnreachableError) as e:
                if attempt >= self.settings.retries:
                    raise
                delay = self.settings.backoff * (2 ** attempt) * (0.5 + random.random())
                if isinstance(e, ServerError) and e.retry_after is not None:
                    delay = min(max(e.retry_after, 0.0), self.settings.max_retry_after)
                attempt += 1
                await asyncio.sleep(delay)

    async def _once(self, method: str, path: str, *, json: Any, params: Mapping[str, str] | None,
                    content_type: str | None) -> dict[str, Any]:
        headers = {}
        token = self._bearer_token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if content_type:
            headers["Content-Type"] = content_type
        what = f"{method} {path}"
        try:
            response = await self._http.request(method, path, json=json, params=params, headers=headers)
        except httpx.TimeoutException:
            raise UnreachableError(f"Kubernetes API at {self.config.server} timed out on {what}") from None
        except httpx.TransportError as e:
            if "CERTIFICATE_VERIFY_FAILED" in str(e):  # retrying cannot help; the message says why
                raise TLSVerificationError(f"Kubernetes API at {self.config.server}: TLS certificate"
                                           f" verification failed on {what} (check the certificate"
                                           " authority)") from None
            raise UnreachableError(f"Kubernetes API at {self.config.server} unreachable on {what}:"
                                   f" {type(e).__name__}") from None
        if response.status_code < 400:
            try:
                body = response.json()
            except ValueError:
                raise KubeError(f"Kubernetes API answered {what} with a body that is not JSON") from None
            return body if isinstance(body, dict) else {"value": body}
        raise self._error(response, what)

    @staticmethod
    def _error(response: httpx.Response, what: str) -> ApiStatusError:
        reason, message = None, None
        try:
            status = response.json()
            if isinstance(status, dict):
                reason, message = status.get("reason"), status.get("message")
        except ValueError:
            pass
        text = f"{what}: {response.status_code} {reason or response.reason_phrase}"
        if message:
            text += f": {message}"
        error = error_for_status(response.status_code, reason, text[:1000])
        with contextlib.suppress(ValueError):  # an HTTP date instead of seconds: use our own backoff
            error.retry_after = float(response.headers.get("Retry-After", ""))
        return error

    def _bearer_token(self) -> str | None:
        if self.config.token_file and time.monotonic() - self._token_read_at > 60:
            try:
                with open(self.config.token_file) as f:
                    self._token = f.read().strip()
            except OSError:
                raise KubeError(f"cannot read the service account token {self.config.token_file}") from None
            self._token_read_at = time.monotonic()
        return self._token
