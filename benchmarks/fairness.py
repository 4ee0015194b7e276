"""Benchmark: one registry host shared by a 2,000-image first sync and 20 one-image sources (issue 26).

Not a test: run `python benchmarks/fairness.py [--big 2000] [--small 20]`. It starts a private control
plane (`scripts/kube-testbed`, real kube-apiserver), a real `docker-registry` on loopback, and
`aimsource run` (no leader election) with the default registry budget (20 requests/s, 4 in flight
per host), creates per source and workers. Three phases, each a first sync of repositories of its
own (so nothing is cached or already created):

1. baseline: the one-image sources alone, created 0.5 s apart; each one's latency is the time from
   its creation to its status being Ready with its model;
2. big alone: one source selecting 2,000 tags of one tiny image, timed from creation to Ready;
3. shared: another such big source, and 5 s later the one-image sources again (new repositories).

It prints the small sources' latency p50/p95 (baseline and shared), the big source's time alone and
shared, its first model's delay, and the registry requests per new image (from the operator's
`aimsource_registry_requests_total`). Goals: shared p95 within 2 s and within 2x the baseline; the
big sync no more than 10 % slower shared than alone.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the control plane, registry and operator harnesses live in tests/

from tests.e2e.operator_process import OperatorProcess  # noqa: E402
from tests.support.images import numbered_tags  # noqa: E402
from tests.support.realkube import RealKube  # noqa: E402
from tests.support.realkube_private import private_kube_and_registry  # noqa: E402

SOURCES = "/apis/aim.eai.amd.com/v1alpha1/aimclustermodelsources"
MODELS = "/apis/aim.eai.amd.com/v1alpha1/aimclustermodels"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def create(kube: RealKube, name: str, image: str, max_models: int = 100) -> float:
    body = {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMClusterModelSource",
        "metadata": {"name": name},
        "spec": {"images": [image], "syncInterval": "24h", "maxModels": max_models},
    }
    kube.ok("POST", SOURCES, body)
    return time.monotonic()


def ready_sources(kube: RealKube) -> dict[str, dict[str, Any]]:
    items = kube.ok("GET", SOURCES)["items"]
    return {
        s["metadata"]["name"]: s["status"]
        for s in items
        if (s.get("status") or {}).get("status") == "Ready" and s["status"].get("discoveredModels")
    }


def first_model_seen(kube: RealKube, source: str) -> bool:
    found = kube.ok("GET", f"{MODELS}?limit=1&labelSelector=aim.eai.amd.com/model-source%3D{source}")
    return bool(found["items"])


def run_phase(
    kube: RealKube,
    op: OperatorProcess,
    host: str,
    *,
    phase: str,
    smalls: int,
    big: int | None,
    timeout: float,
) -> dict[str, Any]:
    """Creates the phase's sources, polls until all are Ready; returns the timings."""
    created: dict[str, float] = {}
    ready: dict[str, float] = {}
    first_model: float | None = None
    big_name = f"{phase}-big"
    if big is not None:
        created[big_name] = create(kube, big_name, f"{host}/bench/{phase}-big", max_models=big)
    pending_smalls = [f"{phase}-small-{i:02d}" for i in range(smalls)]
    next_small = time.monotonic() + (5.0 if big is not None else 0.0)
    deadline = time.monotonic() + timeout
    while len(ready) < len(pending_smalls) + (big is not None):
        now = time.monotonic()
        if now > deadline:
            raise SystemExit(f"{phase}: not all Ready within {timeout} s; operator log:\n{op.tail()}")
        if op.process is not None and op.process.poll() is not None:
            raise SystemExit(f"the operator exited:\n{op.tail()}")
        started = sum(1 for name in created if "-small-" in name)
        if started < len(pending_smalls) and now >= next_small:
            name = pending_smalls[started]
            created[name] = create(kube, name, f"{host}/bench/{name}:1.0.0")
            next_small = now + 0.5
        if big is not None and first_model is None and first_model_seen(kube, big_name):
            first_model = time.monotonic() - created[big_name]
        seen = time.monotonic()
        for name in ready_sources(kube):
            if name in created and name not in ready:
                ready[name] = seen - created[name]
        time.sleep(0.05)
    small = [ready[name] for name in pending_smalls]
    return {"small": small, "big": ready.get(big_name), "first_model": first_model}


def registry_requests(op: OperatorProcess) -> float:
    text = httpx.get(f"http://127.0.0.1:{op.metrics_port}/metrics", timeout=5).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith("aimsource_registry_requests_total{"):
            total += float(line.rpartition(" ")[2])
    return total


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--big", type=int, default=2000, help="tags of the big source (default 2000)")
    parser.add_argument("--small", type=int, default=20, help="one-image sources (default 20)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aimsource-fairness-") as tmp_text:
        tmp = Path(tmp_text)
        images = {f"bench/{phase}-big": numbered_tags(args.big) for phase in ("alone", "shared")}
        for phase in ("baseline", "shared"):
            images.update({f"bench/{phase}-small-{i:02d}": ["1.0.0"] for i in range(args.small)})
        with private_kube_and_registry(tmp, images) as (kube, registry):
            op = OperatorProcess(kube.kubeconfig, tmp, name="bench", extra=("--log-level", "INFO"))
            at = op.args.index("--workers")
            del op.args[at : at + 2]  # the default pool
            at = op.args.index("--log-level")
            del op.args[at : at + 2]  # the harness's DEBUG; the extra INFO stays
            op.start()
            try:
                baseline = run_phase(
                    kube, op, registry.host, phase="baseline", smalls=args.small, big=None, timeout=120
                )
                before = registry_requests(op)
                alone = run_phase(kube, op, registry.host, phase="alone", smalls=0, big=args.big, timeout=900)
                per_image = (registry_requests(op) - before) / args.big
                shared = run_phase(
                    kube, op, registry.host, phase="shared", smalls=args.small, big=args.big, timeout=900
                )
            finally:
                op.stop()
    base, mixed = baseline["small"], shared["small"]
    print(f"one host, {args.small} one-image sources, a {args.big}-image first sync; default settings")
    print(
        f"small sources, creation to Ready: baseline p50 {statistics.median(base):.2f} s, "
        f"p95 {percentile(base, 0.95):.2f} s; beside the big sync p50 {statistics.median(mixed):.2f} s, "
        f"p95 {percentile(mixed, 0.95):.2f} s (goal p95 <= 2 s and <= 2x baseline)"
    )
    print(
        f"big first sync, creation to Ready: alone {alone['big']:.1f} s, shared {shared['big']:.1f} s "
        f"({(shared['big'] / alone['big'] - 1) * 100:+.1f} %, goal <= +10 %); first model after "
        f"{alone['first_model']:.2f} s alone, {shared['first_model']:.2f} s shared"
    )
    print(f"registry requests per new image (big alone, listing included): {per_image:.3f}")


if __name__ == "__main__":
    main()
