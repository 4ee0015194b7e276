"""A Kubernetes API for tests: a real HTTP server on 127.0.0.1 that kopf, kubectl-like clients,
our KubeClient and a separate operator process can all use.

The server runs in a background thread with its own event loop, so that it
outlives the event loops of individual tests (and looptime's fake clocks) and
can serve a subprocess started with a kubeconfig from `write_kubeconfig`.
Tests seed and inspect objects synchronously through `KubeAPI` (the store is
lock-guarded), count requests by verb and resource, and inject faults with
kmock reactions on `KubeAPI.handler`.

    with KubeAPI() as api:
        api.write_kubeconfig(tmp_path / "kubeconfig")
        api.create("aimclustermodelsources", {...})
        assert api.count("list", "aimclustermodels") == 0
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp.test_utils
import kmock
import yaml

from tests.support.kubeapi_patch import MERGE
from tests.support.kubeapi_server import KubeAPIHandler, RequestRecord, collect_garbage_forever
from tests.support.kubeapi_store import Store
from tests.support.kubeapi_tls import ClientCertificate, ServerTLS, TLSTestServer
from tests.support.kubeapi_types import ApiError, ResourceType

CRD_DIR = Path(__file__).resolve().parents[2] / "src" / "aimsource" / "crds"
DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public")

__all__ = ["ApiError", "KubeAPI", "RequestRecord", "crd_manifests", "write_kubeconfig"]


def crd_manifests(directory: Path = CRD_DIR) -> list[dict[str, Any]]:
    """Our CustomResourceDefinitions as shipped (src/aimsource/crds/*.yaml)."""
    docs = []
    for path in sorted(directory.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                docs.append(doc)
    return docs


def write_kubeconfig(
    path: Path,
    server: str,
    *,
    token: str | None = None,
    namespace: str | None = None,
    context: str = "emulator",
    ca_file: Path | None = None,
    client: ClientCertificate | None = None,
) -> Path:
    """A kubeconfig with one cluster/user/context pointing at `server`, as `kubectl config` writes it."""
    user: dict[str, Any] = {"token": token} if token else {}
    if client is not None:
        user.update({"client-certificate": str(client.cert_file), "client-key": str(client.key_file)})
    cluster: dict[str, Any] = {"server": server}
    if ca_file is not None:
        cluster["certificate-authority"] = str(ca_file)
    ctx: dict[str, Any] = {"cluster": context, "user": context}
    if namespace:
        ctx["namespace"] = namespace
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": context, "cluster": cluster}],
        "users": [{"name": context, "user": user}],
        "contexts": [{"name": context, "context": ctx}],
        "current-context": context,
    }
    path.write_text(yaml.safe_dump(config))
    return path


class KubeAPI:
    """The emulated API server, running in a background thread; a context manager.

    `namespaces` exist from the start (plus default, kube-system, kube-public); with `install_crds`
    our CRDs are created through the store, exactly as `kubectl apply` would, so discovery shows them.
    With `token`, requests must carry it (or, with `tls` accepting client certificates, a client
    certificate); with `tls`, the server speaks HTTPS only.
    """

    def __init__(
        self,
        *,
        namespaces: Iterable[str] = ("aim-system",),
        install_crds: bool = True,
        token: str | None = None,
        gc_delay: float = 0.05,
        port: int | None = None,
        tls: ServerTLS | None = None,
    ) -> None:
        self.store = Store()
        self.handler = KubeAPIHandler(
            store=self.store,
            token=token,
            client_certificates=tls is not None and tls.client_ca_file is not None,
        )
        self.token = token
        self.tls = tls
        self._gc_delay = gc_delay
        self._port = port
        self._url: str | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        for ns in (*DEFAULT_NAMESPACES, *namespaces):
            if not self._exists("namespaces", None, ns):
                self.create("namespaces", {"metadata": {"name": ns}})
        if install_crds:
            for crd in crd_manifests():
                self.create("customresourcedefinitions", crd)

    # --- lifecycle -------------------------------------------------------------------------------

    def __enter__(self) -> KubeAPI:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._main, name="kube-api-emulator", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout=10) or self._failure is not None:
            raise RuntimeError(f"the Kubernetes API emulator did not start: {self._failure!r}")

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as e:  # reported to the starting thread, which raises it
            self._failure = e
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self.handler.closing = asyncio.Event()
        server_cls: Any = aiohttp.test_utils.RawTestServer
        if self.tls is not None:
            server_cls = functools.partial(TLSTestServer, ssl_context=self.tls.context())
        async with (
            self.handler,
            kmock.Server(self.handler, host="127.0.0.1", port=self._port, server_cls=server_cls) as server,
        ):
            scheme = "https" if self.tls is not None else "http"
            self._url = f"{scheme}://127.0.0.1:{server.port}"
            gc = asyncio.create_task(collect_garbage_forever(self.store, delay=self._gc_delay))
            self._ready.set()
            try:
                await self._stop.wait()
            finally:
                self.handler.closing.set()  # ends the watch streams so that the server can shut down
                gc.cancel()
                await asyncio.sleep(0.05)

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("the Kubernetes API emulator is not running")
        return self._url

    def write_kubeconfig(
        self, path: Path, *, namespace: str | None = None, client: ClientCertificate | None = None
    ) -> Path:
        """A kubeconfig for this server: its token, its CA when on TLS, and a client certificate if given."""
        ca_file = self.tls.authority.ca_file if self.tls is not None else None
        return write_kubeconfig(
            path, self.url, token=self.token, namespace=namespace, ca_file=ca_file, client=client
        )

    @property
    def internal_errors(self) -> list[str]:
        """Tracebacks of requests the emulator failed on (a bug in it or a request it cannot parse)."""
        return list(self.handler.internal_errors)

    # --- requests, for assertions like "no list calls in a steady-state sync" ---------------------

    @property
    def requests(self) -> list[RequestRecord]:
        return list(self.handler.records)

    def count(
        self,
        verb: str | None = None,
        resource: str | None = None,
        *,
        subresource: str | type[Ellipsis] | None = ...,
    ) -> int:
        """Requests so far with this verb and/or resource (plural); `subresource=None` for the main one."""
        return sum(
            1
            for r in self.handler.records
            if (verb is None or r.verb == verb)
            and (resource is None or r.plural == resource)
            and (subresource is ... or r.subresource == subresource)
        )

    def reset_requests(self) -> None:
        self.handler.records.clear()

    # --- objects, synchronously (usable from sync and async tests alike) ---------------------------

    def resource(self, name: str) -> ResourceType:
        return self.store.find_type(name)

    def create(
        self, resource: str, body: Mapping[str, Any], *, namespace: str | None = None
    ) -> dict[str, Any]:
        return self.store.create(self.resource(resource), namespace, body)

    def get(self, resource: str, name: str, *, namespace: str | None = None) -> dict[str, Any]:
        return self.store.get(self.resource(resource), namespace, name)

    def find(self, resource: str, name: str, *, namespace: str | None = None) -> dict[str, Any] | None:
        try:
            return self.get(resource, name, namespace=namespace)
        except ApiError as e:
            if e.code == 404:
                return None
            raise

    def _exists(self, resource: str, namespace: str | None, name: str) -> bool:
        return self.find(resource, name, namespace=namespace) is not None

    def list(
        self, resource: str, *, namespace: str | None = None, labels: str | None = None
    ) -> list[dict[str, Any]]:
        listing = self.store.list(self.resource(resource), namespace, label=labels)
        items: list[dict[str, Any]] = listing["items"]
        return items

    def names(self, resource: str, *, namespace: str | None = None, labels: str | None = None) -> list[str]:
        return [obj["metadata"]["name"] for obj in self.list(resource, namespace=namespace, labels=labels)]

    def patch(
        self,
        resource: str,
        name: str,
        patch: Mapping[str, Any],
        *,
        namespace: str | None = None,
        status: bool = False,
    ) -> dict[str, Any]:
        return self.store.patch(
            self.resource(resource),
            namespace,
            name,
            dict(patch),
            content_type=MERGE,
            subresource="status" if status else None,
        )

    def delete(self, resource: str, name: str, *, namespace: str | None = None) -> dict[str, Any]:
        return self.store.delete(self.resource(resource), namespace, name)

    def wait_for(
        self,
        predicate: Callable[[], Any],
        *,
        timeout: float = 10.0,
        interval: float = 0.05,
        message: str = "condition",
    ) -> Any:
        """Poll until `predicate()` is truthy (blocking; for tests that drive a separate process)."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() > deadline:
                raise TimeoutError(f"{message} not reached within {timeout} s")
            time.sleep(interval)


def main(argv: list[str] | None = None) -> None:
    """Serve the emulator until interrupted: `python -m tests.support.kubeapi --kubeconfig PATH`.

    For benchmarks and for trying the operator by hand (`kubectl --kubeconfig PATH get aimclsrc`).
    """
    import argparse
    import signal

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--kubeconfig", type=Path, required=True, help="where to write the kubeconfig")
    parser.add_argument("--port", type=int, default=None, help="listening port on 127.0.0.1 (default: any)")
    parser.add_argument("--namespace", action="append", default=[], help="extra namespace (repeatable)")
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with KubeAPI(namespaces=("aim-system", *args.namespace), port=args.port) as api:
        api.write_kubeconfig(args.kubeconfig)
        print(f"Kubernetes API emulator at {api.url}; kubeconfig {args.kubeconfig}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()


if __name__ == "__main__":
    main()
