"""Benchmark: `aimsource run` with 100 sources and 10,000 models, on the emulated Kubernetes API.

Not a test: run `make bench` (or `python benchmarks/operator_scale.py`). It starts the Kubernetes
API emulator (tests/support/kubeapi.py) and a real `docker-registry` on 127.0.0.1, pushes SOURCES
repositories of TAGS tags each, creates one source per repository (`maxModels: TAGS`), and runs the
operator as a separate process (`--min-sync-interval 1s`, default workers, and by default no
registry request budget, so that the operator rather than the budget is measured). It reports:

- the first round: time until every source is Ready with its TAGS models (SOURCES x TAGS creations);
- steady rounds (every source asked to sync through the sync-request annotation): wall time until
  every source's `lastSyncTime` moved, and the API requests the operator made per round by verb
  and resource (a steady round should make no list call and one status write per source);
- the operator's resident memory (VmRSS, and VmHWM: the peak) after the rounds.

Target (issue 4): RSS <= 150 MiB.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the emulator and registry harness live in tests/support

from tests.support.kubeapi import KubeAPI  # noqa: E402
from tests.support.registry_server import start_registry  # noqa: E402
from tests.support.serving import free_port  # noqa: E402

SOURCES_PLURAL = "aimclustermodelsources"
MODELS_PLURAL = "aimclustermodels"
REQUEST = "aim.eai.amd.com/sync-requested-at"


def memory(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of a process, in MiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values


def wait(predicate: Any, *, timeout: float, what: str, process: subprocess.Popen[bytes]) -> float:
    """Poll until true; return the seconds it took."""
    start = time.monotonic()
    while not predicate():
        if process.poll() is not None:
            raise SystemExit(f"the operator exited while waiting for {what}")
        if time.monotonic() - start > timeout:
            raise SystemExit(f"{what}: not reached within {timeout} s")
        time.sleep(0.2)
    return time.monotonic() - start


def all_synced(
    api: KubeAPI, names: list[str], *, after: dict[str, str] | None = None, models: int | None = None
) -> bool:
    for obj in api.list(SOURCES_PLURAL):
        name = obj["metadata"]["name"]
        status = obj.get("status") or {}
        if name not in names or status.get("status") != "Ready":
            if name in names:
                return False
            continue
        if models is not None and status.get("discoveredModels") != models:
            return False
        if after is not None and status.get("lastSyncTime") == after.get(name):
            return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sources", type=int, default=100)
    parser.add_argument("--tags", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--registry-rate",
        default="0",
        help="the operator's --registry-rate; 0 (the default here) measures the operator,"
        " not its registry budget (10 requests/s per host by default)",
    )
    parser.add_argument("--log", type=Path, help="keep the operator's JSON log in this file")
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory(prefix="aimsource-bench-") as tmp,
        KubeAPI() as api,
        start_registry("anonymous", workdir=Path(tmp) / "registry") as registry,
    ):
        tags = [f"1.{i // 100}.{i % 100}" for i in range(args.tags)]
        t0 = time.monotonic()
        with registry.pusher() as pusher:
            for i in range(args.sources):
                pusher.push_image(f"bench/model-{i:03d}", tags)
        print(f"pushed {args.sources} repositories x {args.tags} tags in {time.monotonic() - t0:.1f} s")

        names = [f"bench-{i:03d}" for i in range(args.sources)]
        for i, name in enumerate(names):
            api.create(
                SOURCES_PLURAL,
                {
                    "apiVersion": "aim.eai.amd.com/v1alpha1",
                    "kind": "AIMClusterModelSource",
                    "metadata": {"name": name},
                    "spec": {
                        "images": [f"{registry.host}/bench/model-{i:03d}"],
                        "maxModels": args.tags,
                        "syncInterval": "1h",
                    },
                },
            )

        kubeconfig = api.write_kubeconfig(Path(tmp) / "kubeconfig")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIMSOURCE_", "KUBERNETES_SERVICE_"))}
        env.update(KUBECONFIG=str(kubeconfig), HOME=tmp)
        log = open(args.log or Path(tmp) / "operator.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "aimsource",
                "run",
                "--no-leader-election",
                "--listen-host",
                "127.0.0.1",
                "--metrics-port",
                str(free_port()),
                "--health-port",
                str(free_port()),
                "--min-sync-interval",
                "1s",
                "--log-format",
                "json",
                "--workers",
                str(args.workers),
                "--registry-rate",
                args.registry_rate,
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            took = wait(
                lambda: all_synced(api, names, models=args.tags),
                timeout=900,
                what="first round",
                process=process,
            )
            total = len(api.list(MODELS_PLURAL))
            print(
                f"first round: {args.sources} sources, {total} models created in {took:.1f} s"
                f" ({total / took:.0f} models/s)"
            )
            print(f"operator memory after the first round: {memory(process.pid)}")

            for round_no in range(1, args.rounds + 1):
                time.sleep(1.2)  # past the minimum interval, and lastSyncTime has 1 s resolution
                before = {
                    o["metadata"]["name"]: (o.get("status") or {}).get("lastSyncTime")
                    for o in api.list(SOURCES_PLURAL)
                }
                api.reset_requests()
                stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                for name in names:
                    api.patch(SOURCES_PLURAL, name, {"metadata": {"annotations": {REQUEST: stamp}}})
                took = wait(
                    lambda b=before: all_synced(api, names, after=b),
                    timeout=300,  # type: ignore[misc]
                    what=f"round {round_no}",
                    process=process,
                )
                time.sleep(0.5)  # let the round's last writes land before counting
                counts = collections.Counter(
                    f"{r.verb} {r.plural}{'/' + r.subresource if r.subresource else ''}"
                    for r in api.requests
                    if r.plural in (SOURCES_PLURAL, MODELS_PLURAL, "secrets", "events")
                )
                per_round = {k: v for k, v in sorted(counts.items()) if not k.startswith("watch")}
                print(
                    f"steady round {round_no}: {args.sources} sources synced in {took:.2f} s;"
                    f" operator API requests: {per_round}"
                )
            print(f"operator memory after {args.rounds} steady rounds: {memory(process.pid)}")
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
            log.close()


if __name__ == "__main__":
    main()
