"""A real control plane of one test's own (`scripts/kube-testbed`), for what the shared one must not
suffer: stopping and restarting kube-apiserver, compacting or editing etcd behind its back.

    with private_kube(tmp_path) as kube:       # a RealKube, CRDs applied
        kube.stop_apiserver(); kube.etcd_delete(key); kube.compact_etcd(); kube.start_apiserver()

etcd is reached over its plain-HTTP gRPC gateway (`/v3/kv/...`, JSON with base64 keys): etcdctl is
not built. Keys are kube-apiserver's: `/registry/<group>/<plural>/<name>` for a cluster-scoped
custom resource.
"""

from __future__ import annotations

import base64
import contextlib
import json
import queue
import signal
import ssl
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.support.realkube import _TESTBED, CRD_NAMES, CRDS, SCRIPT, RealKube

if TYPE_CHECKING:
    from tests.support.registry_server import RunningRegistry

START_TIMEOUT = 240.0


class PrivateKube(RealKube):
    """A `RealKube` whose API server can be stopped and started, and whose etcd can be reached."""

    proc: subprocess.Popen[str]
    lines: queue.Queue[str]

    def _expect(self, line: str, timeout: float) -> None:
        while True:
            try:
                got = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"kube-testbed did not say {line!r} within {timeout:.0f}s") from None
            if got == line:
                return
            if got == "<exit>":
                errors = self.directory.parent / "kube-testbed.err"
                text = errors.read_text(errors="replace") if errors.exists() else ""
                tail = "\n".join(text.splitlines()[-40:])
                raise AssertionError(f"kube-testbed exited before saying {line!r}:\n{tail}")

    def stop_apiserver(self) -> None:
        self.proc.send_signal(signal.SIGUSR1)
        self._expect("apiserver stopped", 30)

    def start_apiserver(self) -> None:
        self.proc.send_signal(signal.SIGUSR2)
        self._expect("apiserver ready", 120)

    @property
    def etcd_url(self) -> str:
        return (self.directory / "etcd-client-url").read_text().strip()

    def etcd(self, call: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.etcd_url}/v3/{call}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            answer: dict[str, Any] = json.loads(response.read())
            return answer

    def etcd_revision(self) -> int:
        return int(self.etcd("kv/range", {"key": _b64("/registry/health-probe")})["header"]["revision"])

    def etcd_delete(self, key: str) -> int:
        """Deletes one key behind the API server's back; returns how many were deleted."""
        return int(self.etcd("kv/deleterange", {"key": _b64(key)}).get("deleted", 0))

    def compact_etcd(self) -> int:
        """Compacts etcd's history up to now (physically): older resource versions are gone."""
        revision = self.etcd_revision()
        self.etcd("kv/compaction", {"revision": str(revision), "physical": True})
        return revision


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@contextlib.contextmanager
def private_kube(directory: Path) -> Iterator[PrivateKube]:
    """Starts `scripts/kube-testbed DIR`, applies our CRDs, yields it, stops it."""
    bin_dir = _TESTBED.build()
    with open(directory.parent / "kube-testbed.err", "w") as errors:
        proc = subprocess.Popen(
            [sys.executable, str(SCRIPT), str(directory)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line.strip())
        lines.put("<exit>")

    threading.Thread(target=read, name="private-kube-testbed", daemon=True).start()
    try:
        pki = directory / "pki"
        kube = PrivateKube.__new__(PrivateKube)
        kube.proc, kube.lines = proc, lines
        kube._expect("ready", START_TIMEOUT)
        context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        context.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
        server = (directory / "server").read_text().strip()
        RealKube.__init__(kube, directory, directory / "kubeconfig", server, bin_dir, context)
        kube.kubectl("apply", "--server-side", "--force-conflicts", "-k", str(CRDS))
        for name in CRD_NAMES:
            kube.kubectl("wait", "--for=condition=Established", "--timeout=60s", f"crd/{name}")
        yield kube
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


@contextlib.contextmanager
def private_kube_and_registry(
    directory: Path, images: Mapping[str, Sequence[str]]
) -> Iterator[tuple[PrivateKube, RunningRegistry]]:
    """A private control plane with the `aim-system` namespace, and an anonymous registry holding
    `images` (repository -> tags), both under `directory`: what the operator benchmarks start from."""
    from tests.support.registry_server import start_registry

    (directory / "kube").mkdir(exist_ok=True)
    with private_kube(directory / "kube") as kube, start_registry("anonymous", workdir=directory) as registry:
        kube.ok(
            "POST",
            "/api/v1/namespaces",
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "aim-system"}},
        )
        with registry.pusher() as pusher:
            for repository, tags in images.items():
                pusher.push_image(repository, tags)
        yield kube, registry
