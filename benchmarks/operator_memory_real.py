"""Benchmark: the operator's peak memory starting against 10,000 models on a real kube-apiserver.

Not a test: run `python benchmarks/operator_memory_real.py [--models N]`. It starts a private
control plane (`scripts/kube-testbed`, kube-apiserver 1.37), creates SOURCES sources and N models
the way aimsource writes them (labels, annotations, owner reference; fieldManager aimsource), then
gives every model an AIM-style status through the status subresource under another field manager
(`aim-model-controller`), so that each object carries two managedFields entries as in a cluster
where AIM runs. Then it starts `aimsource run` (no leader election; the sources point at a
registry that does not answer, so nothing is created) and reports, once /readyz is 200 and the
reconcile after kopf's own listing is done: VmHWM (peak RSS) and VmRSS of the operator, and the
size of one unpaginated LIST of the models (what kopf would have read at once without chunks).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.realkube_private import private_kube  # noqa: E402
from tests.support.serving import free_port  # noqa: E402

from aimsource.domain.models import model_body  # noqa: E402
from aimsource.domain.references import parse_reference  # noqa: E402
from aimsource.domain.selection.planning import Candidate  # noqa: E402
from aimsource.kube import ClientSettings, KubeClient, load_kube_config  # noqa: E402

SOURCES = "/apis/aim.eai.amd.com/v1alpha1/aimclustermodelsources"
MODELS = "/apis/aim.eai.amd.com/v1alpha1/aimclustermodels"


def aim_status(image: str, i: int) -> dict[str, Any]:
    """Roughly what AIM's model controller writes: conditions, resolved image, discovered metadata."""
    now = "2026-01-01T00:00:00Z"
    return {
        "status": "Ready",
        "observedGeneration": 1,
        "resolvedImage": f"{image}@sha256:{i:064x}",
        "conditions": [
            {
                "type": t,
                "status": "True",
                "reason": r,
                "message": m,
                "lastTransitionTime": now,
                "observedGeneration": 1,
            }
            for t, r, m in (
                ("ImageResolved", "Resolved", "image digest resolved from the registry"),
                ("MetadataExtracted", "Extracted", "model metadata read from the image labels"),
                ("ServiceTemplatesCreated", "Created", "3 service templates created"),
                ("Ready", "AllReady", "model is ready to be served"),
            )
        ],
        "imageMetadata": {
            "model": {
                "name": f"model-{i}",
                "family": "llama",
                "variant": "instruct",
                "parameters": "8B",
                "quantization": "fp8",
                "tags": ["text-generation", "chat"],
            },
            "recommendedDeployments": [
                {"gpuModel": "MI300X", "gpuCount": n, "precision": "fp8", "metric": "latency"}
                for n in (1, 2, 8)
            ],
        },
    }


async def populate(kubeconfig: Path, sources: list[dict[str, Any]], count: int) -> None:
    config = load_kube_config(
        environ={"KUBECONFIG": str(kubeconfig)}, service_account_dir=Path("/nonexistent")
    )
    async with KubeClient(config, ClientSettings(timeout=60, retries=5)) as kube:
        semaphore = asyncio.Semaphore(24)

        async def one(i: int) -> None:
            owner = sources[i % len(sources)]
            image = f"registry.invalid/org/{owner['metadata']['name']}:1.{i}.0"
            body = model_body(
                Candidate(parse_reference(image), 0, image),
                source_name=owner["metadata"]["name"],
                source_uid=owner["metadata"]["uid"],
                digest=f"sha256:{i:064x}",
                image_pull_secrets=["regcred"],
            )
            async with semaphore:
                await kube.create_model(body)
                name = body["metadata"]["name"]
                await kube.request(
                    "PATCH",
                    f"{MODELS}/{name}/status",
                    json={"status": aim_status(image, i)},
                    params={"fieldManager": "aim-model-controller"},
                    content_type="application/merge-patch+json",
                )

        started = time.monotonic()
        await asyncio.gather(*(one(i) for i in range(count)))
        print(f"created {count} models with status in {time.monotonic() - started:.0f}s", flush=True)


def memory(pid: int) -> dict[str, float]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=10_000)
    parser.add_argument("--sources", type=int, default=100)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="aimsource-mem-") as tmp,
        private_kube(Path(tmp) / "kube") as kube,
    ):
        kube.ok(
            "POST",
            "/api/v1/namespaces",
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "aim-system"}},
        )
        sources = [
            kube.ok(
                "POST",
                SOURCES,
                {
                    "apiVersion": "aim.eai.amd.com/v1alpha1",
                    "kind": "AIMClusterModelSource",
                    "metadata": {"name": f"src-{i:03d}"},
                    "spec": {
                        "images": [f"127.0.0.1:9/org/src-{i:03d}"],
                        "syncInterval": "1h",
                        "maxModels": 1000,
                    },
                },
            )
            for i in range(args.sources)
        ]
        asyncio.run(populate(kube.kubeconfig, sources, args.models))
        _, listing = kube.request("GET", MODELS)
        raw = json.dumps(listing).encode()
        sample = listing["items"][0]
        print(
            f"one unpaginated LIST: {len(raw) / 2**20:.1f} MiB of JSON, {len(listing['items'])} models, "
            f"{len(json.dumps(sample['metadata']['managedFields']))} bytes of managedFields per model",
            flush=True,
        )
        del listing, raw

        health = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIMSOURCE_")}
        env.update(KUBECONFIG=str(kube.kubeconfig), PYTHONUNBUFFERED="1")
        log = open(Path(tmp) / "operator.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "aimsource",
                "run",
                "--no-leader-election",
                "--namespace",
                "aim-system",
                "--listen-host",
                "127.0.0.1",
                "--metrics-port",
                "0",
                "--health-port",
                str(health),
                "--log-format",
                "json",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started = time.monotonic()
        try:
            while True:
                if proc.poll() is not None:
                    raise SystemExit(f"operator exited: {(Path(tmp) / 'operator.log').read_text()[-2000:]}")
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{health}/readyz", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                time.sleep(0.2)
            ready = time.monotonic() - started
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:  # the reconcile that follows kopf's own first listing
                text = (Path(tmp) / "operator.log").read_text()
                if '"why": "watch re-listed"' in text:
                    break
                time.sleep(0.5)
            time.sleep(2)
            mem = memory(proc.pid)
            print(
                f"operator ready after {ready:.1f}s; peak RSS (VmHWM) {mem['VmHWM']:.1f} MiB, "
                f"RSS now {mem['VmRSS']:.1f} MiB, with {args.models} models and {args.sources} sources",
                flush=True,
            )
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            log.close()


if __name__ == "__main__":
    main()
