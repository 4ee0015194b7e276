"""The two Kubernetes APIs `operator_scale.py` measures the operator against.

- `EmulatorApi`: the emulator of tests/support/kubeapi.py, in a thread of this process. The driver's
  own reads and writes go straight to its store, so every recorded HTTP request is the operator's;
  its CPU is this process's (the emulator's thread plus the driver's polling, which is small).
- `RealApi`: `scripts/kube-testbed` (etcd, kube-apiserver, kube-controller-manager) in a temporary
  directory. The operator's requests are the growth of kube-apiserver's `apiserver_request_total`
  (read from its /metrics as the admin) minus the requests this driver made itself, which it counts;
  the CPU is kube-apiserver's and etcd's utime+stime from /proc/<pid>/stat.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import signal
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.kubeapi import KubeAPI  # noqa: E402
from tests.support.realkube import RealKube  # noqa: E402

GROUP = "aim.eai.amd.com"
SOURCES_PLURAL = "aimclustermodelsources"
MODELS_PLURAL = "aimclustermodels"
COUNTED = (SOURCES_PLURAL, MODELS_PLURAL, "secrets", "events")
_HTTP_VERBS = {
    "POST": "create",
    "PUT": "update",
    "PATCH": "patch",
    "DELETE": "delete",
    "GET": "get",
    "LIST": "list",
    "WATCH": "watch",
    "APPLY": "apply",
}


class Api(Protocol):
    name: str
    kubeconfig: Path

    def create_source(self, body: dict[str, Any]) -> None: ...
    def sources(self) -> list[dict[str, Any]]: ...
    def count_models(self) -> int: ...
    def annotate_source(self, name: str, annotations: dict[str, str]) -> None: ...
    def begin_round(self) -> None: ...
    def round_requests(self) -> dict[str, int]: ...
    def cpu_seconds(self) -> dict[str, float]: ...


def _ticks_to_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


class EmulatorApi:
    name = "emulator"

    def __init__(self, api: KubeAPI, workdir: Path) -> None:
        self.api = api
        self.kubeconfig = api.write_kubeconfig(workdir / "kubeconfig-emulator")

    def create_source(self, body: dict[str, Any]) -> None:
        self.api.create(SOURCES_PLURAL, body)

    def sources(self) -> list[dict[str, Any]]:
        return self.api.list(SOURCES_PLURAL)

    def count_models(self) -> int:
        return len(self.api.list(MODELS_PLURAL))

    def annotate_source(self, name: str, annotations: dict[str, str]) -> None:
        self.api.patch(SOURCES_PLURAL, name, {"metadata": {"annotations": annotations}})

    def begin_round(self) -> None:
        self.api.reset_requests()

    def round_requests(self) -> dict[str, int]:
        counts = collections.Counter(
            f"{r.verb} {r.plural}{'/' + r.subresource if r.subresource else ''}"
            for r in self.api.requests
            if r.plural in COUNTED and r.verb != "watch"
        )
        return dict(sorted(counts.items()))

    def cpu_seconds(self) -> dict[str, float]:
        times = os.times()
        return {"emulator (this process)": times.user + times.system}


@contextlib.contextmanager
def emulator_api(workdir: Path) -> Iterator[EmulatorApi]:
    with KubeAPI() as api:
        yield EmulatorApi(api, workdir)


class RealApi:
    name = "real"

    def __init__(self, kube: RealKube, pids: dict[str, int]) -> None:
        self.kube = kube
        self.kubeconfig = kube.kubeconfig
        self.pids = pids
        self._mine: collections.Counter[str] = collections.Counter()
        self._before: dict[str, int] = {}

    def _call(
        self,
        verb: str,
        key: str,
        method: str,
        path: str,
        body: Any = None,
        content_type: str = "application/json",
    ) -> Any:
        self._mine[f"{verb} {key}"] += 1
        return self.kube.ok(method, path, body, content_type=content_type)

    def create_source(self, body: dict[str, Any]) -> None:
        self._call("create", SOURCES_PLURAL, "POST", f"/apis/{GROUP}/v1alpha1/{SOURCES_PLURAL}", body)

    def _list(self, plural: str, limit: int = 500) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        token = ""
        while True:
            query = f"?limit={limit}" + (f"&continue={token}" if token else "")
            page = self._call("list", plural, "GET", f"/apis/{GROUP}/v1alpha1/{plural}{query}")
            items.extend(page["items"])
            token = page["metadata"].get("continue") or ""
            if not token:
                return items

    def sources(self) -> list[dict[str, Any]]:
        return self._list(SOURCES_PLURAL)

    def count_models(self) -> int:
        return len(self._list(MODELS_PLURAL))

    def annotate_source(self, name: str, annotations: dict[str, str]) -> None:
        self._call(
            "patch",
            SOURCES_PLURAL,
            "PATCH",
            f"/apis/{GROUP}/v1alpha1/{SOURCES_PLURAL}/{name}",
            {"metadata": {"annotations": annotations}},
            content_type="application/merge-patch+json",
        )

    def _server_counts(self) -> dict[str, int]:
        text = self.kube.ok("GET", "/metrics")
        counts: collections.Counter[str] = collections.Counter()
        for line in str(text).splitlines():
            if not line.startswith("apiserver_request_total{"):
                continue
            head, _, value = line.rpartition(" ")
            labels = dict(part.split("=", 1) for part in head[head.index("{") + 1 : -1].split(","))
            labels = {k: v.strip('"') for k, v in labels.items()}
            if labels.get("resource") not in COUNTED:
                continue
            sub = labels.get("subresource") or ""
            verb = _HTTP_VERBS.get(labels.get("verb", ""), labels.get("verb", "").lower())
            counts[f"{verb} {labels['resource']}{'/' + sub if sub else ''}"] += int(float(value))
        return dict(counts)

    def begin_round(self) -> None:
        self._mine.clear()
        self._before = self._server_counts()

    def round_requests(self) -> dict[str, int]:
        after = self._server_counts()
        result = {}
        for key, value in after.items():
            if key.startswith("watch"):
                continue
            count = value - self._before.get(key, 0) - self._mine.get(key, 0)
            if count:
                result[key] = count
        return dict(sorted(result.items()))

    def cpu_seconds(self) -> dict[str, float]:
        return {name: _ticks_to_seconds(pid) for name, pid in self.pids.items()}


def _named_children(pid: int) -> dict[str, int]:
    """The children of `pid` by program name (scanned from /proc: their parent pid is field 4 of stat)."""
    named = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError):
            if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) != pid:
                continue
            argv0 = (entry / "cmdline").read_bytes().split(b"\0")[0]
            named[Path(argv0.decode()).name] = int(entry.name)
    return named


@contextlib.contextmanager
def real_api(workdir: Path) -> Iterator[RealApi]:
    """scripts/kube-testbed in workdir/testbed, our CRDs applied; stopped (SIGTERM) afterwards."""
    script = ROOT / "scripts" / "kube-testbed"
    built = subprocess.run(
        [sys.executable, str(script), "--build"], capture_output=True, text=True, check=False
    )
    if built.returncode != 0:
        raise SystemExit(f"scripts/kube-testbed --build failed:\n{built.stderr}")
    bin_dir = Path(built.stdout.strip().splitlines()[-1])
    directory = workdir / "testbed"
    process = subprocess.Popen(
        [sys.executable, str(script), str(directory)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    ready = threading.Event()
    output: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if line.strip() == "ready":
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not ready.wait(240) or process.poll() is not None:
            raise SystemExit("kube-testbed did not start:\n" + "".join(output[-40:]))
        pki = directory / "pki"
        context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        context.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
        server = (directory / "server").read_text().strip()
        kube = RealKube(directory, directory / "kubeconfig", server, bin_dir, context)
        kube.kubectl("apply", "--server-side", "-k", str(ROOT / "src" / "aimsource" / "crds"))
        for crd in (SOURCES_PLURAL, MODELS_PLURAL):
            kube.kubectl("wait", "--for=condition=Established", "--timeout=60s", f"crd/{crd}.{GROUP}")
        named = _named_children(process.pid)
        pids = {name: named[name] for name in ("kube-apiserver", "etcd")}
        print(
            f"real API: kube-apiserver {json.dumps(kube.ok('GET', '/version')['gitVersion'])}"
            f" (pid {pids['kube-apiserver']}), etcd pid {pids['etcd']}"
        )
        yield RealApi(kube, pids)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
