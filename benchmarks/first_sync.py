"""Benchmark: a 2,000-image first sync against a bare client doing the same work (issue 21, point 10).

Not a test: run `python benchmarks/first_sync.py [--big 2000] [--rounds 1]`. It starts a private
control plane (`scripts/kube-testbed`, a real kube-apiserver with our CRDs) and a real
`docker-registry` on loopback holding one repository of BIG tags of one tiny image. Each round has
two legs, each into fresh model names, with the same concurrency, made explicit:

- `bare`: this file's own aiohttp client, alone on the machine (no operator running): lists the
  tags (pages of 1000, following `Link`), then CREATES workers (8) each take the next tag, `HEAD` its
  manifest for the digest (at most PER_HOST, 4, requests in flight to the registry) and POST its
  AIMClusterModel, the very body shape aimsource writes (labels, annotations, owner reference to a
  source object made for it, `fieldManager`/`fieldValidation` as aimsource sends them). Timed from
  its start to its last create.
- `aimsource`: `aimsource run` as a process (no leader election, no registry budget:
  `--registry-rate 0`, `--max-concurrency-per-host 4`, `--creates-per-source 8`, INFO logs), started
  before the leg; one source selecting the repository with `maxModels` >= BIG. Timed from the
  source's creation to its status `Ready` with BIG models, as a watch of the source sees it (a watch,
  not polls: polls would load the API server both legs wait for); its first model is when its log
  says it created it.

Between legs the models are deleted; which leg goes first alternates between rounds. It prints per
leg the time, the first model's delay, the client's CPU seconds, the registry requests and the API
writes (from kube-apiserver's `apiserver_request_total`), aimsource's peak RSS (VmHWM of the
process) and when its log shows the first and last create; then the ratio aimsource / bare per
round (goal <= 1.3x). `--profile FILE` runs the operator under cProfile (CPU time), writing
FILE.<round>. Figures: docs/rate-limits.md#first-sync-measured.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the control plane, registry and operator harnesses live in tests/

from tests.e2e.operator_process import OperatorProcess  # noqa: E402
from tests.support.images import MANIFEST_MEDIA_TYPES, numbered_tags  # noqa: E402
from tests.support.realkube import RealKube  # noqa: E402
from tests.support.realkube_private import private_kube_and_registry  # noqa: E402

GROUP = "aim.eai.amd.com"
API_VERSION = f"{GROUP}/v1alpha1"
SOURCES = f"/apis/{API_VERSION}/aimclustermodelsources"
MODELS = f"/apis/{API_VERSION}/aimclustermodels"
SOURCE_LABEL = f"{GROUP}/model-source"
CREATES = 8
"""Creates (each a digest HEAD then a POST) in flight at once, both legs (`--creates-per-source`)."""
PER_HOST = 4
"""Registry requests in flight at once, both legs (`--max-concurrency-per-host`)."""
REPOSITORY = "bench/first-sync"
SETTLE = 5.0
"""Seconds after a leg's models are deleted before the next leg: the garbage collector and etcd
digest the deletion of BIG objects, which would otherwise load the next leg."""
PROFILED = """
import cProfile, runpy, sys, time
out, sys.argv = sys.argv[1], ["aimsource", *sys.argv[2:]]
profile = cProfile.Profile(time.process_time)
profile.enable()
try:
    runpy.run_module("aimsource", run_name="__main__", alter_sys=True)
except SystemExit:
    pass
finally:
    profile.disable()
    profile.dump_stats(out)
"""


@dataclass
class Leg:
    name: str
    seconds: float
    first_model: float
    registry_requests: int
    api_writes: Counter[str] = field(default_factory=Counter)
    cpu: float = 0.0
    """CPU seconds of the client (aimsource's process, or this one for the bare client) in the leg."""
    rss_kib: int | None = None


# --- the bare client ---------------------------------------------------------------------------


def source_body(name: str, image: str, max_models: int) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "AIMClusterModelSource",
        "metadata": {"name": name},
        "spec": {"images": [image], "syncInterval": "24h", "maxModels": max_models},
    }


def model(name: str, *, host: str, tag: str, digest: str | None, source: str, uid: str) -> dict[str, Any]:
    """The body aimsource writes (`aimsource.domain.models.model_body`), spelled out."""
    annotations = {
        f"{GROUP}/source-registry": host,
        f"{GROUP}/source-repository": REPOSITORY,
        f"{GROUP}/source-tag": tag,
    }
    if digest:
        annotations[f"{GROUP}/source-digest"] = digest
    return {
        "apiVersion": API_VERSION,
        "kind": "AIMClusterModel",
        "metadata": {
            "name": name,
            "labels": {
                SOURCE_LABEL: source,
                f"{GROUP}/cluster-model-source.name": source,
                f"{GROUP}/origin": "auto-generated",
                "app.kubernetes.io/managed-by": "aimsource",
            },
            "annotations": annotations,
            "ownerReferences": [
                {
                    "apiVersion": API_VERSION,
                    "kind": "AIMClusterModelSource",
                    "name": source,
                    "uid": uid,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {
            "image": f"{host}/{REPOSITORY}:{tag}",
            "discovery": {"extractMetadata": True, "createServiceTemplates": True},
        },
    }


async def bare_client(kube: RealKube, registry: str, *, source: str, uid: str) -> tuple[float, float, int]:
    """Lists, HEADs and creates; returns (seconds, first model's delay, registry requests)."""
    import aiohttp

    started = time.monotonic()
    first: list[float] = []
    requests = 0
    per_host = asyncio.Semaphore(PER_HOST)
    query = {"fieldManager": "aimsource", "fieldValidation": "Strict"}
    registry_http = aiohttp.ClientSession(
        f"http://{registry}", connector=aiohttp.TCPConnector(limit=PER_HOST)
    )
    kube_http = aiohttp.ClientSession(kube.server, connector=aiohttp.TCPConnector(ssl=kube._context))
    async with registry_http, kube_http:
        tags: list[str] = []
        url: str | None = f"/v2/{REPOSITORY}/tags/list?n=1000"
        while url:
            async with per_host, registry_http.get(url) as response:
                requests += 1
                response.raise_for_status()
                tags += (await response.json())["tags"]
                link = response.headers.get("Link", "")
                url = link[link.index("<") + 1 : link.index(">")] if 'rel="next"' in link else None
        todo = iter(tags)

        async def worker() -> None:
            nonlocal requests
            accept = {"Accept": ", ".join(MANIFEST_MEDIA_TYPES)}
            for tag in todo:
                async with (
                    per_host,
                    registry_http.head(f"/v2/{REPOSITORY}/manifests/{tag}", headers=accept) as r,
                ):
                    requests += 1
                    digest = r.headers.get("Docker-Content-Digest") if r.status == 200 else None
                name = f"bare-{tag.replace('.', '-')}"
                body = model(name, host=registry, tag=tag, digest=digest, source=source, uid=uid)
                async with kube_http.post(MODELS, params=query, json=body) as created:
                    await created.read()
                    if created.status != 201:
                        raise SystemExit(f"bare create {name}: {created.status}")
                if not first:
                    first.append(time.monotonic() - started)

        await asyncio.gather(*(worker() for _ in range(CREATES)))
    return time.monotonic() - started, first[0], requests


# --- observing from outside -------------------------------------------------------------------


class SourceWatch:
    """The source's status as the API server pushes it: a watch of that one source on a connection
    of its own. A watch costs the API server nothing between changes, where polling it every 50 ms
    (as this benchmark first did) made 20 quorum reads a second on the server both legs wait for,
    in the aimsource leg only."""

    def __init__(self, kube: RealKube, name: str, resource_version: str) -> None:
        host, port = kube.server.removeprefix("https://").rsplit(":", 1)
        self.connection = http.client.HTTPSConnection(host, int(port), context=kube._context, timeout=120)
        path = (
            f"{SOURCES}?watch=true&fieldSelector=metadata.name%3D{name}"
            f"&resourceVersion={resource_version}&timeoutSeconds=900"
        )
        self.connection.request("GET", path, headers={"Accept": "application/json"})
        self.response = self.connection.getresponse()
        if self.response.status != 200:
            raise SystemExit(f"GET {path}: {self.response.status} {self.response.read()[:300]!r}")

    def statuses(self) -> Iterator[dict[str, Any]]:
        """Each status of the source as it changes, until the watch ends."""
        for line in iter(self.response.readline, b""):
            event = json.loads(line)
            if event.get("type") == "ERROR":
                raise SystemExit(f"the watch of the source failed: {event}")
            yield (event.get("object") or {}).get("status") or {}

    def close(self) -> None:
        self.connection.close()


def api_writes(kube: RealKube) -> Counter[str]:
    """kube-apiserver's own count of writes to our resources and events, by verb and resource."""
    _, text = kube.request("GET", "/metrics")
    counts: Counter[str] = Counter()
    for line in str(text).splitlines():
        if not line.startswith("apiserver_request_total{"):
            continue
        labels = dict(part.split("=", 1) for part in line[line.index("{") + 1 : line.rindex("}")].split(","))
        labels = {k: v.strip('"') for k, v in labels.items()}
        if labels.get("verb") in ("POST", "PATCH", "PUT", "DELETE") and labels.get("resource") in (
            "aimclustermodels",
            "aimclustermodelsources",
            "events",
        ):
            what = f"{labels['verb']} {labels['resource']}"
            if labels.get("subresource"):
                what += f"/{labels['subresource']}"
            counts[what] += int(float(line.rpartition(" ")[2]))
    return counts


def delete_models(kube: RealKube, source: str) -> None:
    kube.ok("DELETE", f"{MODELS}?labelSelector={SOURCE_LABEL}%3D{source}")
    kube.ok("DELETE", f"{SOURCES}/{source}")
    kube.wait_for(
        lambda: not kube.ok("GET", f"{MODELS}?limit=1&labelSelector={SOURCE_LABEL}%3D{source}")["items"],
        f"models of {source} deleted",
        timeout=300,
    )
    time.sleep(SETTLE)


def registry_requests(op: OperatorProcess) -> int:
    total = 0.0
    for line in op.metrics().splitlines():
        if line.startswith("aimsource_registry_requests_total{"):
            total += float(line.rpartition(" ")[2])
    return int(total)


def cpu_seconds(pid: int) -> float:
    """user + system CPU of a process, from /proc/PID/stat (clock ticks of 1/100 s)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / 100


def vm_hwm_kib(pid: int) -> int | None:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None


# --- the legs ---------------------------------------------------------------------------------


def bare_leg(kube: RealKube, registry: str, big: int, round_: int) -> Leg:
    name = f"bare-{round_}"
    source = kube.ok("POST", SOURCES, source_body(name, f"{registry}/bench/none:1.0.0", 1))
    before = api_writes(kube)
    cpu = time.process_time()
    seconds, first, requests = asyncio.run(
        bare_client(kube, registry, source=name, uid=source["metadata"]["uid"])
    )
    cpu = time.process_time() - cpu
    writes = api_writes(kube) - before
    writes = +writes  # only what happened
    delete_models(kube, name)
    return Leg("bare", seconds, first, requests, writes, cpu)


def aimsource_leg(
    kube: RealKube, registry: str, big: int, round_: int, tmp: Path, profile: Path | None = None
) -> Leg:
    extra = (
        "--registry-rate",
        "0",
        "--max-concurrency-per-host",
        str(PER_HOST),
        "--creates-per-source",
        str(CREATES),
    )
    op = OperatorProcess(kube.kubeconfig, tmp, name=f"bench-{round_}", extra=extra)
    at = op.args.index("--log-level")
    op.args[at + 1] = "INFO"  # the default, not the harness's DEBUG
    if profile is not None:  # under cProfile, timing CPU (not wall) time: python -c PROFILED FILE run ...
        op.args[1:3] = ["-c", PROFILED, f"{profile}.{round_}"]
    op.start()
    assert op.process is not None
    name = f"aimsource-{round_}"
    watch: SourceWatch | None = None
    try:
        before = api_writes(kube)
        cpu = cpu_seconds(op.process.pid)
        created, created_at = time.monotonic(), time.time()
        made = kube.ok("POST", SOURCES, source_body(name, f"{registry}/{REPOSITORY}", big))
        watch = SourceWatch(kube, name, made["metadata"]["resourceVersion"])
        seconds: float | None = None
        for status in watch.statuses():
            if status.get("status") == "Ready" and status.get("discoveredModels") == big:
                seconds = time.monotonic() - created
                break
            if status.get("status") in ("Degraded", "Failed") or time.monotonic() > created + 900:
                raise SystemExit(f"aimsource: {status}\n{op.tail()}")
        if seconds is None:
            raise SystemExit(f"the watch of the source ended before it was Ready\n{op.tail()}")
        cpu = cpu_seconds(op.process.pid) - cpu
        writes = api_writes(kube) - before
        writes["POST aimclustermodelsources"] -= 1  # the benchmark's own
        requests = registry_requests(op)
        rss = vm_hwm_kib(op.process.pid)
        first = timeline(op, name, created_at)
    finally:
        if watch is not None:
            watch.close()
        op.stop()
    delete_models(kube, name)
    return Leg("aimsource", seconds, first or seconds, requests, writes, cpu, rss)


def timeline(op: OperatorProcess, source: str, created_at: float) -> float | None:
    """When the operator logged its first and last create, and the sync's end, from its JSON log;
    returns its first create's time after the source's creation (`created_at`, a `time.time()`)."""
    import datetime

    def at(record: dict[str, Any]) -> float:
        return datetime.datetime.fromisoformat(record["time"].replace("Z", "+00:00")).timestamp()

    records = [r for r in op.log_records() if r.get("source") == source]
    if not records:
        return None
    start = at(records[0])
    creates = [at(r) for r in records if str(r.get("message", "")).startswith("created model")]
    if creates:
        print(
            f"    aimsource's log of the sync: creates from {creates[0] - start:.2f} s to"
            f" {creates[-1] - start:.2f} s, its last line at {at(records[-1]) - start:.2f} s"
            f" ({records[-1].get('message')})"
        )
        return creates[0] - created_at
    return None


def report(legs: list[Leg], big: int) -> None:
    print(
        f"first sync of {big} images, one repository on a real docker-registry, a real kube-apiserver;"
        f" {CREATES} creates and {PER_HOST} registry requests in flight at once, no request budget"
    )
    for leg in legs:
        writes = ", ".join(f"{k} {v}" for k, v in sorted(leg.api_writes.items()) if v)
        rss = f", peak RSS {leg.rss_kib / 1024:.0f} MiB" if leg.rss_kib else ""
        print(
            f"  {leg.name:9} {leg.seconds:6.2f} s (first model {leg.first_model:.2f} s), CPU {leg.cpu:.1f} s;"
            f" registry requests {leg.registry_requests}; API writes: {writes}{rss}"
        )
    bare = [leg.seconds for leg in legs if leg.name == "bare"]
    ours = [leg.seconds for leg in legs if leg.name == "aimsource"]
    ratios = [a / b for a, b in zip(ours, bare, strict=True)]
    print(
        "ratio aimsource / bare: "
        + ", ".join(f"{r:.2f}x" for r in ratios)
        + f" (goal <= 1.3x); bare {min(bare):.2f}-{max(bare):.2f} s,"
        + f" aimsource {min(ours):.2f}-{max(ours):.2f} s"
    )
    # Both legs wait on the same API server, which gets what the rest of the machine leaves it:
    # the median of the ratios and the ratio of the medians are steadier than any one round.
    ours_median, bare_median = statistics.median(ours), statistics.median(bare)
    print(
        f"median ratio {statistics.median(ratios):.2f}x ({sum(r <= 1.3 for r in ratios)} of {len(ratios)}"
        f" rounds <= 1.3x); medians: aimsource {ours_median:.2f} s, bare {bare_median:.2f} s,"
        f" ratio {ours_median / bare_median:.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--big", type=int, default=2000, help="tags of the repository (default 2000)")
    parser.add_argument(
        "--rounds", type=int, default=1, help="bare then aimsource, this many times (default 1)"
    )
    parser.add_argument("--profile", type=Path, help="run aimsource under cProfile, writing PROFILE.<round>")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aimsource-first-sync-") as tmp_text:
        tmp = Path(tmp_text)
        with private_kube_and_registry(tmp, {REPOSITORY: numbered_tags(args.big)}) as (kube, registry):
            legs: list[Leg] = []
            for round_ in range(args.rounds):
                # Which leg goes first alternates: the first leg on a fresh control plane is slower.
                if round_ % 2 == 0:
                    bare = bare_leg(kube, registry.host, args.big, round_)
                ours = aimsource_leg(kube, registry.host, args.big, round_, tmp, args.profile)
                if round_ % 2 == 1:
                    bare = bare_leg(kube, registry.host, args.big, round_)
                legs += [bare, ours]
                print(f"round {round_ + 1}: bare {bare.seconds:.2f} s, aimsource {ours.seconds:.2f} s")
    report(legs, args.big)


if __name__ == "__main__":
    main()
