"""Benchmark: `aimsource run` with 100 sources and 10,000 models, on the emulated or a real Kubernetes API.

Not a test: run `make bench` (or `python benchmarks/operator_scale.py [--api emulator|real|both]`).
It starts a real `docker-registry` on 127.0.0.1, pushes SOURCES repositories of TAGS tags each, and for
each API asked for (benchmarks/scale_apis.py: the emulator of tests/support/kubeapi.py, or a real
control plane from `scripts/kube-testbed` in a temporary directory) creates one source per repository
(`maxModels: TAGS`) and runs the operator as a separate process (`--min-sync-interval 1s`, default
workers, and by default no registry request budget, so that the operator rather than the budget is
measured). It reports, per API, and side by side at the end:

- the first round: time until every source is Ready with its TAGS models (SOURCES x TAGS creations);
- steady rounds (every source asked to sync through the sync-request annotation): wall time until
  every source's `lastSyncTime` moved, and the API requests the operator made per round by verb
  and resource (a steady round should make no list call and one status write per source);
- the operator's resident memory (VmRSS, and VmHWM: the peak) after the rounds;
- the API server's CPU time (utime+stime) during the first round and during the steady rounds.

Target (issue 4): RSS <= 150 MiB.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the emulator and registry harness live in tests/support
sys.path.insert(0, str(ROOT / "benchmarks"))

from scale_apis import Api, emulator_api, real_api  # noqa: E402
from tests.support.registry_server import RunningRegistry, start_registry  # noqa: E402
from tests.support.serving import free_port  # noqa: E402

REQUEST = "aim.eai.amd.com/sync-requested-at"


def memory(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of a process, in MiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = round(int(rest.split()[0]) / 1024, 1)
    return values


def wait(predicate: Any, *, timeout: float, what: str, process: subprocess.Popen[bytes]) -> float:
    """Poll until true; return the seconds it took."""
    start = time.monotonic()
    while not predicate():
        if process.poll() is not None:
            raise SystemExit(f"the operator exited while waiting for {what}")
        if time.monotonic() - start > timeout:
            raise SystemExit(f"{what}: not reached within {timeout} s")
        time.sleep(0.5)
    return time.monotonic() - start


def all_synced(
    api: Api, names: list[str], *, after: dict[str, str] | None = None, models: int | None = None
) -> bool:
    seen = 0
    for obj in api.sources():
        name = obj["metadata"]["name"]
        if name not in names:
            continue
        seen += 1
        status = obj.get("status") or {}
        if status.get("status") != "Ready":
            return False
        if models is not None and status.get("discoveredModels") != models:
            return False
        if after is not None and status.get("lastSyncTime") == after.get(name):
            return False
    return seen == len(names)


@contextlib.contextmanager
def operator(api: Api, workdir: Path, args: argparse.Namespace) -> Iterator[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIMSOURCE_", "KUBERNETES_SERVICE_"))}
    env.update(KUBECONFIG=str(api.kubeconfig), HOME=str(workdir))
    log_path = args.log.with_suffix(f".{api.name}.log") if args.log else workdir / f"operator-{api.name}.log"
    with open(log_path, "wb") as log:
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
            yield process
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def measure(api: Api, registry: RunningRegistry, workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """One API: create the sources, run the operator, time the rounds; returns the figures."""
    figures: dict[str, Any] = {}
    names = [f"bench-{i:03d}" for i in range(args.sources)]
    for i, name in enumerate(names):
        api.create_source(
            {
                "apiVersion": "aim.eai.amd.com/v1alpha1",
                "kind": "AIMClusterModelSource",
                "metadata": {"name": name},
                "spec": {
                    "images": [f"{registry.host}/bench/model-{i:03d}"],
                    "maxModels": args.tags,
                    "syncInterval": "1h",
                },
            }
        )
    cpu0 = api.cpu_seconds()
    with operator(api, workdir, args) as process:
        took = wait(
            lambda: all_synced(api, names, models=args.tags),
            timeout=1800,
            what="first round",
            process=process,
        )
        cpu1 = api.cpu_seconds()
        total = api.count_models()
        figures["first round (s)"] = round(took, 1)
        figures["models created"] = total
        figures["models/s"] = round(total / took)
        figures["API CPU, first round (s)"] = {k: round(cpu1[k] - cpu0[k], 1) for k in cpu0}
        print(
            f"[{api.name}] first round: {args.sources} sources, {total} models created in {took:.1f} s"
            f" ({total / took:.0f} models/s); API CPU {figures['API CPU, first round (s)']}"
        )
        print(f"[{api.name}] operator memory after the first round: {memory(process.pid)}")

        rounds = []
        for round_no in range(1, args.rounds + 1):
            time.sleep(1.2)  # past the minimum interval, and lastSyncTime has 1 s resolution
            before = {
                o["metadata"]["name"]: (o.get("status") or {}).get("lastSyncTime") for o in api.sources()
            }
            time.sleep(0.5)  # let the previous round's last writes land before counting
            api.begin_round()
            cpu_before = api.cpu_seconds()
            stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            for name in names:
                api.annotate_source(name, {REQUEST: stamp})
            took = wait(
                lambda b=before: all_synced(api, names, after=b),
                timeout=600,
                what=f"round {round_no}",
                process=process,
            )
            time.sleep(1.0)  # let the round's last writes (events) land before counting
            per_round = api.round_requests()
            cpu_after = api.cpu_seconds()
            cpu = {k: round(cpu_after[k] - cpu_before[k], 2) for k in cpu_before}
            rounds.append((took, per_round, cpu))
            print(
                f"[{api.name}] steady round {round_no}: {args.sources} sources synced in {took:.2f} s;"
                f" operator API requests: {per_round}; API CPU {cpu}"
            )
        figures["steady round (s)"] = round(rounds[-1][0], 2) if rounds else None
        figures["requests per steady round"] = rounds[-1][1] if rounds else None
        figures["API CPU, steady round (s)"] = rounds[-1][2] if rounds else None
        figures["operator memory (MiB)"] = memory(process.pid)
        print(
            f"[{api.name}] operator memory after {args.rounds} steady rounds:"
            f" {figures['operator memory (MiB)']}"
        )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--api",
        choices=("emulator", "real", "both"),
        default="emulator",
        help="the emulated API, a real one (scripts/kube-testbed), or both in turn",
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
    parser.add_argument("--log", type=Path, help="keep the operator's JSON logs (PATH.<api>.log)")
    args = parser.parse_args()
    apis = ("emulator", "real") if args.api == "both" else (args.api,)

    with (
        tempfile.TemporaryDirectory(prefix="aimsource-bench-") as tmp,
        start_registry("anonymous", workdir=Path(tmp) / "registry") as registry,
    ):
        tags = [f"1.{i // 100}.{i % 100}" for i in range(args.tags)]
        t0 = time.monotonic()
        with registry.pusher() as pusher:
            for i in range(args.sources):
                pusher.push_image(f"bench/model-{i:03d}", tags)
        print(f"pushed {args.sources} repositories x {args.tags} tags in {time.monotonic() - t0:.1f} s")

        results: dict[str, dict[str, Any]] = {}
        for name in apis:
            workdir = Path(tmp) / name
            workdir.mkdir()
            opened = emulator_api(workdir) if name == "emulator" else real_api(workdir)
            with opened as api:
                results[name] = measure(api, registry, workdir, args)

    if len(results) > 1:
        print("\nside by side:")
        keys = list(next(iter(results.values())))
        width = max(len(k) for k in keys)
        for key in keys:
            print(f"  {key:<{width}}  " + "  |  ".join(f"{n}: {r.get(key)}" for n, r in results.items()))


if __name__ == "__main__":
    main()
