"""Benchmark: push to model through the webhook, on a real registry that notifies the operator.

Not a test: run `python benchmarks/push_latency.py [--pushes N]`. It starts the Kubernetes API
emulator (tests/support/kubeapi.py), `aimsource run` as a separate process with `--webhook-port`,
and a real `docker-registry` (distribution 2.8) on 127.0.0.1 whose `notifications.endpoints` point
at `/hooks/distribution/<token>`. One source covers the repository (`syncInterval: 24h`, so the
scheduled sync never helps). After its first sync, it pushes N new tags one after the other and
measures, for each, the time from the start of the manifest PUT (the moment the image exists) to
the model being in the API, and the registry requests the operator made per push (from its
`aimsource_registry_requests_total`).

Targets (issue 10): p95 <= 2 s, <= 2 registry requests per event.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the emulator and registry harness live in tests/support

from tests.support.kubeapi import KubeAPI  # noqa: E402
from tests.support.registry_server import start_registry  # noqa: E402
from tests.support.serving import free_port  # noqa: E402

from aimsource.domain.naming import model_name  # noqa: E402
from aimsource.domain.references import parse_reference  # noqa: E402

SOURCES = "aimclustermodelsources"
MODELS = "aimclustermodels"
REPOSITORY = "bench/pushed"


def metric(port: int, name: str, **labels: str) -> float:
    """Sum of the samples of `name` whose labels include `labels`."""
    total = 0.0
    wanted = {f'{k}="{v}"' for k, v in labels.items()}
    for line in httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text.splitlines():
        if line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        family, _, rest = head.partition("{")
        if family == name and wanted <= set(rest.rstrip("}").split(",")) - {""}:
            total += float(value)
    return total


def wait(
    predicate, *, timeout: float, what: str, process: subprocess.Popen[bytes], step: float = 0.005
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if process.poll() is not None:
            raise SystemExit(f"the operator exited while waiting for {what}")
        if time.monotonic() > deadline:
            raise SystemExit(f"{what}: not reached within {timeout} s")
        time.sleep(step)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pushes", type=int, default=50, help="tags pushed one after the other (default 50)")
    parser.add_argument("--log", type=Path, help="keep the operator's JSON log in this file")
    args = parser.parse_args()
    token = secrets.token_urlsafe(24)
    hook_port, metrics_port, health_port = free_port(), free_port(), free_port()

    with tempfile.TemporaryDirectory(prefix="aimsource-push-bench-") as tmp, KubeAPI() as api:
        api.create(
            "secrets",
            {
                "metadata": {"name": "aimsource-webhook"},
                "type": "Opaque",
                "data": {"token": base64.b64encode(token.encode()).decode()},
            },
            namespace="aim-system",
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
                str(metrics_port),
                "--health-port",
                str(health_port),
                "--webhook-port",
                str(hook_port),
                "--namespace",
                "aim-system",
                "--log-format",
                "json",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        notify = f"http://127.0.0.1:{hook_port}/hooks/distribution/{token}"
        try:
            with (
                start_registry("anonymous", workdir=Path(tmp) / "registry", notify_url=notify) as registry,
                registry.pusher() as pusher,
            ):
                pusher.push_image(REPOSITORY, ["0.1.0"])
                api.create(
                    SOURCES,
                    {
                        "apiVersion": "aim.eai.amd.com/v1alpha1",
                        "kind": "AIMClusterModelSource",
                        "metadata": {"name": "pushed"},
                        "spec": {
                            "images": [f"{registry.host}/{REPOSITORY}"],
                            "syncInterval": "24h",
                            "maxModels": args.pushes + 10,
                        },
                    },
                )

                def ready() -> bool:
                    status = api.get(SOURCES, "pushed").get("status") or {}
                    return status.get("status") == "Ready" and status.get("discoveredModels") == 1

                wait(ready, timeout=60, what="the first sync", process=process, step=0.1)
                time.sleep(1.0)  # let the first sync's notifications (its own HEAD) settle
                before = metric(metrics_port, "aimsource_registry_requests_total", host=registry.host)
                body, media_type, _ = pusher.build_manifest(REPOSITORY)
                latencies = []
                for i in range(args.pushes):
                    tag = f"1.0.{i}"
                    name = model_name(parse_reference(f"{registry.host}/{REPOSITORY}:{tag}"))
                    started = time.monotonic()
                    pusher.put_manifest(REPOSITORY, tag, body, media_type)

                    def made(name: str = name) -> bool:
                        try:
                            api.get(MODELS, name)
                        except Exception:
                            return False
                        return True

                    wait(made, timeout=30, what=f"the model of {tag}", process=process)
                    latencies.append(time.monotonic() - started)
                time.sleep(0.5)
                after = metric(metrics_port, "aimsource_registry_requests_total", host=registry.host)
                accepted = metric(metrics_port, "aimsource_webhook_requests_total", outcome="accepted")
                created = metric(metrics_port, "aimsource_push_syncs_total", result="created")
                full = metric(metrics_port, "aimsource_push_syncs_total", result="full")
            limited = metric(metrics_port, "aimsource_webhook_requests_total", outcome="rate_limited")
        finally:
            process.terminate()
            process.wait(15)
            log.close()

    ms = [x * 1000 for x in latencies]
    print(
        f"pushes: {args.pushes}; notifications accepted: {accepted:.0f}; incremental creates: {created:.0f};"
        f" full syncs instead: {full:.0f}; answered 429 (then retried by the registry): {limited:.0f}"
    )
    print(
        f"push to model: p50 {statistics.median(ms):.0f} ms, p95 {percentile(ms, 0.95):.0f} ms,"
        f" max {max(ms):.0f} ms"
    )
    print(
        f"registry requests by the operator: {after - before:.0f} for {args.pushes} pushes"
        f" ({(after - before) / args.pushes:.2f} per event)"
    )


if __name__ == "__main__":
    main()
