"""A real Kubernetes control plane for the tests: `scripts/kube-testbed`, once per session.

A pytest plugin (listed in `pytest_plugins` of tests/conftest.py). The session fixture `real_kube`
yields a `RealKube`: the kubeconfig of an admin (group system:masters), a synchronous admin client
for arrange/assert steps, the kubectl built with the server, and ServiceAccount tokens from the
TokenRequest API. `real_kube_crds` is the same server with our CRDs applied and established.

The binaries are built once (many minutes cold, then cached in ~/.cache/aimsource/); when a
selected test needs the server, the build runs at collection time, outside any test's timeout,
and the control plane starts right after collection so that it comes up while other tests run.
The server is shared: tests use names of their own and delete what they create.
"""

from __future__ import annotations

import atexit
import contextlib
import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.components import allow_missing

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "kube-testbed"
CRDS = ROOT / "src" / "aimsource" / "crds"
READY_TIMEOUT = 240.0
FIRST_TEST_TIMEOUT = 300.0  # the first test waits for the start as well
CRD_NAMES = ("aimclustermodelsources.aim.eai.amd.com", "aimclustermodels.aim.eai.amd.com")


class RealKubeError(Exception):
    """The testbed did not come up; the message carries its own explanation and log tails."""


@dataclass
class RealKube:
    """A running control plane; `kubeconfig` is an admin's, usable by any client or process."""

    directory: Path
    kubeconfig: Path
    server: str
    bin_dir: Path
    _context: ssl.SSLContext = field(repr=False)

    @property
    def kubectl_path(self) -> Path:
        """kubectl of the server's own release (Debian's kubectl is several minors older)."""
        return self.bin_dir / "kubectl"

    def kubectl(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """Runs kubectl as the admin; with check, a failure raises with kubectl's stderr."""
        result = subprocess.run(
            [str(self.kubectl_path), f"--kubeconfig={self.kubeconfig}", *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        content_type: str = "application/json",
    ) -> tuple[int, Any]:
        """One API request as the admin (or as the bearer of `token`): status and decoded JSON body."""
        host, port = self.server.removeprefix("https://").rsplit(":", 1)
        context = self._context if token is None else self._anonymous_context()
        connection = http.client.HTTPSConnection(host, int(port), context=context, timeout=30)
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        payload = None
        if body is not None:
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = content_type
        try:
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        try:
            return response.status, json.loads(raw) if raw else None
        except ValueError:
            return response.status, raw.decode(errors="replace")

    def ok(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        """`request` that must succeed (2xx); returns the body."""
        status, answer = self.request(method, path, body, **kwargs)
        assert 200 <= status < 300, f"{method} {path}: {status} {answer}"
        return answer

    def service_account_token(
        self, namespace: str, name: str, *, expiration_seconds: int = 3600, audiences: list[str] | None = None
    ) -> str:
        """A token for the ServiceAccount, from the TokenRequest API (the account must exist)."""
        spec: dict[str, Any] = {"expirationSeconds": expiration_seconds}
        if audiences:
            spec["audiences"] = audiences
        answer = self.ok(
            "POST",
            f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
            {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec},
        )
        return str(answer["status"]["token"])

    def write_token_kubeconfig(self, path: Path, token: str) -> Path:
        """A kubeconfig for the same server that authenticates with `token` (e.g. a ServiceAccount's)."""
        admin = json.loads(self.kubeconfig.read_text())
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": "testbed",
            "clusters": admin["clusters"],
            "users": [{"name": "token", "user": {"token": token}}],
            "contexts": [{"name": "testbed", "context": {"cluster": "testbed", "user": "token"}}],
        }
        path.write_text(json.dumps(config, indent=2) + "\n")
        path.chmod(0o600)
        return path

    def wait_for(self, predicate: Any, what: str, timeout: float = 30.0, interval: float = 0.2) -> Any:
        """Polls `predicate()` until it returns something truthy; fails naming `what` after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
            time.sleep(interval)

    def _anonymous_context(self) -> ssl.SSLContext:
        """Verifies the server but presents no client certificate, so that only the token counts."""
        return ssl.create_default_context(cafile=str(self.directory / "pki" / "ca.crt"))


class _Testbed:
    """The one `scripts/kube-testbed` process of this session."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None
        self.directory: Path | None = None
        self.bin_dir: Path | None = None
        self.ready = threading.Event()
        self.output: list[str] = []
        self.started_at = 0.0
        self.ready_after: float | None = None
        self.failure: str | None = None

    def build(self) -> Path:
        if self.bin_dir is None:
            started = time.monotonic()
            result = subprocess.run(
                [sys.executable, str(SCRIPT), "--build"], capture_output=True, text=True, check=False
            )
            if result.returncode != 0:
                raise RealKubeError(f"scripts/kube-testbed --build failed:\n{result.stderr}")
            self.bin_dir = Path(result.stdout.strip().splitlines()[-1])
            took = time.monotonic() - started
            if took > 5:
                sys.stderr.write(f"\nkube-testbed: binaries built in {took:.0f}s ({self.bin_dir})\n")
        return self.bin_dir

    def start(self) -> None:
        if self.proc is not None:
            return
        self.build()
        self.directory = Path(tempfile.mkdtemp(prefix="aimsource-kube-testbed-"))
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, str(SCRIPT), str(self.directory)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        atexit.register(self.stop)
        threading.Thread(target=self._read, name="kube-testbed-output", daemon=True).start()

    def _read(self) -> None:
        assert self.proc is not None
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line.rstrip("\n"))
            if line.strip() == "ready":
                self.ready_after = time.monotonic() - self.started_at
                self.ready.set()
        self.ready.set()  # it exited: wake the waiter, which then reports why

    def wait(self) -> RealKube:
        if self.failure is not None:
            raise RealKubeError(self.failure)
        self.start()
        assert self.directory is not None
        assert self.bin_dir is not None
        self.ready.wait(READY_TIMEOUT)
        if self.ready_after is None:
            self.stop()
            tail = "\n".join(self.output[-60:])
            self.failure = f"scripts/kube-testbed was not ready within {READY_TIMEOUT:.0f}s:\n{tail}"
            raise RealKubeError(self.failure)
        kubeconfig = self.directory / "kubeconfig"
        pki = self.directory / "pki"
        context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        context.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
        server = (self.directory / "server").read_text().strip()
        return RealKube(self.directory, kubeconfig, server, self.bin_dir, context)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc is not None and proc.stdout is not None:
            proc.stdout.close()
        if self.directory is not None and not os.environ.get("KUBE_TESTBED_KEEP"):
            shutil.rmtree(self.directory, ignore_errors=True)


_TESTBED = _Testbed()


@pytest.hookimpl(trylast=True)  # after -k/-m deselection
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Builds and starts the testbed when a selected test needs it, before any test's timeout runs."""
    users = [
        item
        for item in items
        if "real_kube" in getattr(item, "fixturenames", ()) or item.get_closest_marker("real_kube")
    ]
    if not users or config.option.collectonly:
        return
    if allow_missing() and _TESTBED.bin_dir is None:
        # `make unit`: a quick run does not start a build of many minutes; the tests say so instead.
        built = subprocess.run([sys.executable, str(SCRIPT), "--built"], capture_output=True, text=True)
        if built.returncode != 0:
            why = (
                "the Kubernetes testbed is missing: python3 scripts/kube-testbed --build "
                "(~20 min on 2 cores, Go 1.26)"
            )
            for item in users:
                item.add_marker(pytest.mark.skip(reason=why))
            return
    try:
        _TESTBED.start()
    except RealKubeError as exc:  # reported by the fixture, as an error of every test that needs it
        _TESTBED.failure = str(exc)
    first = min(users, key=items.index)
    first.add_marker(pytest.mark.timeout(FIRST_TEST_TIMEOUT))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _TESTBED.stop()


@pytest.fixture(scope="session")
def real_kube() -> RealKube:
    """The session's real control plane (started once, stopped at the end of the session)."""
    try:
        return _TESTBED.wait()
    except RealKubeError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def real_kube_crds(real_kube: RealKube) -> RealKube:
    """`real_kube` with our CRDs (src/aimsource/crds) applied server-side and established."""
    real_kube.kubectl("apply", "--server-side", "--force-conflicts", "-k", str(CRDS))
    for name in CRD_NAMES:
        real_kube.kubectl("wait", "--for=condition=Established", "--timeout=60s", f"crd/{name}")
    return real_kube


@contextlib.contextmanager
def deleted_after(real_kube: RealKube, *paths: str) -> Iterator[None]:
    """Deletes the objects at `paths` after the block, whatever happened in it."""
    try:
        yield
    finally:
        for path in paths:
            real_kube.request("DELETE", path)


@contextlib.contextmanager
def private_real_kube() -> Iterator[RealKube]:
    """A control plane of the caller's own (its own etcd, API server and controller manager in a
    temporary directory), for tests that change what the session's shared server must keep, such
    as replacing a CRD; stopped and removed after the block."""
    testbed = _Testbed()
    try:
        try:
            kube = testbed.wait()
        except RealKubeError as exc:
            pytest.fail(str(exc), pytrace=False)
        yield kube
    finally:
        testbed.stop()
