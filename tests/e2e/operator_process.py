"""`aimsource run` as a separate process, the way it runs in a pod, for end-to-end tests.

The process gets a kubeconfig pointing at the emulated API, loopback-only metrics and health ports,
JSON logs in a file (so tests can read what it said), and short timings (`--min-sync-interval 1s`,
a small retry base, a short lease) so that scenarios play out in seconds.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx

from tests.support.serving import free_port

FAST_FLAGS = ("--min-sync-interval", "1s", "--retry-base", "1s", "--startup-spread", "1s", "--workers", "4")


class OperatorProcess:
    def __init__(
        self,
        kubeconfig: Path,
        workdir: Path,
        *,
        name: str = "operator",
        election: bool = False,
        extra: Sequence[str] = (),
    ) -> None:
        self.kubeconfig = kubeconfig
        self.name = name
        self.log_path = workdir / f"{name}.log"
        self.metrics_port = free_port()
        self.health_port = free_port()
        self.args = [
            sys.executable,
            "-m",
            "aimsource",
            "run",
            "--listen-host",
            "127.0.0.1",
            "--metrics-port",
            str(self.metrics_port),
            "--health-port",
            str(self.health_port),
            "--log-format",
            "json",
            "--log-level",
            "DEBUG",
            "--namespace",
            "aim-system",
            "--identity",
            name,
            *FAST_FLAGS,
            *(() if election else ("--no-leader-election",)),
            *extra,
        ]
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("AIMSOURCE_", "KUBERNETES_SERVICE_"))
        }
        self.env.update(KUBECONFIG=str(kubeconfig), HOME=str(workdir), PYTHONUNBUFFERED="1")
        self.process: subprocess.Popen[bytes] | None = None
        self._log_file: Any = None

    # --- lifecycle ----------------------------------------------------------------------------
    def start(self, *, wait: bool = True) -> OperatorProcess:
        self._log_file = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            self.args, env=self.env, stdout=self._log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 30.0) -> None:
        def ready() -> bool:
            try:
                return httpx.get(f"{self.health_url}/readyz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        self.wait(ready, timeout=timeout, message="operator ready")

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM, as kubelet does; SIGKILL if it does not exit in time."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._close()

    def kill(self) -> None:
        """A crash: no chance to release the Lease."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._close()

    def _close(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    # --- observation --------------------------------------------------------------------------
    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.health_port}"

    def metrics(self) -> str:
        return httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).text

    def metric(self, name: str, **labels: str) -> float:
        """The value of one sample, 0 when absent."""
        wanted = {f'{k}="{v}"' for k, v in labels.items()}
        for line in self.metrics().splitlines():
            if line.startswith("#"):
                continue
            head, _, value = line.rpartition(" ")
            metric, _, rest = head.partition("{")
            if metric == name and wanted <= set(rest.rstrip("}").split(",")) - {""}:
                return float(value)
        return 0.0

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_records(self) -> list[dict[str, Any]]:
        records = []
        for line in self.log_text().splitlines():
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if isinstance(record, dict):
                    records.append(record)
        return records

    def logged(self, message: str, *, source: str | None = None) -> list[dict[str, Any]]:
        return [
            r
            for r in self.log_records()
            if r.get("message") == message and (source is None or r.get("source") == source)
        ]

    def wait(self, predicate: Callable[[], Any], *, timeout: float = 15.0, message: str = "condition") -> Any:
        """Poll `predicate` until truthy; fail with the operator's log tail if it dies or times out."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(
                    f"{self.name} exited ({self.process.returncode}) while waiting for"
                    f" {message}:\n{self.tail()}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{message} not reached within {timeout} s; {self.name} log:\n{self.tail()}"
                )
            time.sleep(0.1)

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])


@contextlib.contextmanager
def running_operator(kubeconfig: Path, workdir: Path, **kwargs: Any) -> Iterator[OperatorProcess]:
    op = OperatorProcess(kubeconfig, workdir, **kwargs)
    try:
        yield op.start()
    finally:
        op.stop()
