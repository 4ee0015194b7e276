"""Debian's `prometheus` on loopback, scraping given targets every second, with our rule file."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.support.serving import free_port


class Prometheus:
    def __init__(self, url: str, log: Path) -> None:
        self.url = url
        self.log = log

    def query(self, expr: str) -> list[dict[str, Any]]:
        """The instant vector `expr` evaluates to now (a failed query raises with Prometheus' error)."""
        answer = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=10).json()
        if answer.get("status") != "success":
            raise AssertionError(f"query {expr!r} failed: {answer.get('error')}")
        result: list[dict[str, Any]] = answer["data"]["result"]
        return result

    def api(self, path: str) -> Any:
        return httpx.get(f"{self.url}/api/v1/{path}", timeout=10).json()["data"]


@contextlib.contextmanager
def running_prometheus(
    binary: str, workdir: Path, *, targets: list[str], rule_file: Path
) -> Iterator[Prometheus]:
    port = free_port()
    config = workdir / "prometheus.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "rule_files": [str(rule_file)],
                "scrape_configs": [{"job_name": "aimsource", "static_configs": [{"targets": targets}]}],
            }
        )
    )
    log = workdir / "prometheus.log"
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--storage.tsdb.retention.time=1h",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    prometheus = Prometheus(f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{prometheus.url}/-/ready", timeout=2).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"prometheus did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)
        yield prometheus
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
