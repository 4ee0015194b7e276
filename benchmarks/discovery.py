"""Benchmark: a wildcard over a namespace of 1,000 repositories x 100 tags behind a catalog front.

Not a test: run `python benchmarks/discovery.py` (or `make bench`). A front on 127.0.0.1 speaks
the distribution API's catalog and tags endpoints for REPOS repositories of TAGS tags each, pages
the catalog by 100 with `Link` headers, answers every request after `--latency-ms` (default 20 ms,
standing in for the network) and counts what it is asked. Two legs, each a whole process (start-up
included), at the same concurrency per host (4, aimsource's default) and without a request budget:

- `aimsource`: `python -m aimsource sync` of one filter `bench/*` with `maxModels: 5` into a fresh
  directory: the catalog walk, one tag listing per repository, one manifest HEAD per created model;
- `ideal`: this file's own aiohttp client doing exactly that minimum and nothing else.

It prints per leg the time, the CPU seconds, the requests by kind against the minimum, and
aimsource's peak RSS; then the requests of a second aimsource sync into the same directory, with
nothing changed. Targets (issue 21 point 9): time <= 1.2x ideal; requests = minimum.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the test bed's BackgroundServer lives in tests/support

CONCURRENCY = 4
PAGE = 100
MAX_MODELS = 5
DIGEST = "sha256:" + "ab" * 32


def names(count: int) -> list[str]:
    return [f"bench/model-{n:04d}" for n in range(count)]


class CatalogFront:
    """The front: catalog pages, tag lists and manifest HEADs, each after the latency; counted."""

    def __init__(self, repositories: list[str], tags: int, latency: float) -> None:
        self.repositories = repositories
        self.tags = [f"1.{n // 10}.{n % 10}" for n in range(tags)]
        self.latency = latency
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def app(self):  # type: ignore[no-untyped-def]
        from aiohttp import web

        async def base(_: web.Request) -> web.Response:
            return web.json_response({})

        async def catalog(request: web.Request) -> web.Response:
            await self._wait("catalog")
            last = request.query.get("last", "")
            start = 0 if not last else self.repositories.index(last) + 1
            page = self.repositories[start : start + PAGE]
            headers = {}
            if start + PAGE < len(self.repositories):
                headers["Link"] = f'</v2/_catalog?last={page[-1]}&n={PAGE}>; rel="next"'
            return web.json_response({"repositories": page}, headers=headers)

        async def tags(request: web.Request) -> web.Response:
            await self._wait("tags")
            return web.json_response({"name": request.match_info["repo"], "tags": self.tags})

        async def manifest(_: web.Request) -> web.Response:
            await self._wait("head")
            return web.Response(headers={"Docker-Content-Digest": DIGEST})

        app = web.Application()
        app.router.add_get("/v2/", base)
        app.router.add_get("/v2/_catalog", catalog)
        app.router.add_get("/v2/{repo:.+}/tags/list", tags)
        app.router.add_route("HEAD", "/v2/{repo:.+}/manifests/{tag}", manifest)
        return app

    async def _wait(self, kind: str) -> None:
        with self._lock:
            self.counts[kind] += 1
        if self.latency:
            await asyncio.sleep(self.latency)


async def ideal_client(base: str, *, concurrency: int, heads: int) -> int:
    """Walk the catalog by its Link pages, list every repository, HEAD `heads` images."""
    import aiohttp

    gate = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit_per_host=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        found: list[str] = []
        url: str | None = f"{base}/v2/_catalog?n={PAGE}"
        while url:
            async with session.get(url) as reply:
                found += (await reply.json())["repositories"]
                link = reply.headers.get("Link")
            url = f"{base}{link.split('>')[0].lstrip('<')}" if link else None

        async def listing(repo: str) -> list[str]:
            async with gate, session.get(f"{base}/v2/{repo}/tags/list?n=1000") as reply:
                return list((await reply.json())["tags"])

        listed = await asyncio.gather(*(listing(r) for r in found))

        async def head(repo: str, tag: str) -> None:
            async with gate, session.head(f"{base}/v2/{repo}/manifests/{tag}") as reply:
                reply.headers.get("Docker-Content-Digest")

        await asyncio.gather(*(head(r, t[-1]) for r, t in list(zip(found, listed, strict=True))[:heads]))
        return len(found)


@dataclass
class Leg:
    name: str
    seconds: float
    cpu: float
    peak_rss_mib: float
    counts: Counter[str]
    ok: bool


def run_leg(name: str, front: CatalogFront, command: list[str]) -> Leg:
    front.counts.clear()
    started = time.monotonic()
    with tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT)
        _, status, usage = os.wait4(process.pid, 0)  # the child's own rusage: CPU and peak RSS
        seconds = time.monotonic() - started
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            sys.stderr.write(err.read().decode(errors="replace")[-2000:])
    return Leg(
        name,
        seconds,
        usage.ru_utime + usage.ru_stime,
        usage.ru_maxrss / 1024,
        Counter(front.counts),
        os.waitstatus_to_exitcode(status) == 0,
    )


def source_yaml(host: str) -> str:
    return (
        "apiVersion: aim.eai.amd.com/v1alpha1\nkind: AIMClusterModelSource\nmetadata:\n  name: bench\n"
        f"spec:\n  registry: {host}\n  maxModels: {MAX_MODELS}\n  filters:\n    - image: bench/*\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repos", type=int, default=1000)
    parser.add_argument("--tags", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    if args.repos < 1 or args.tags < 1:
        parser.error("--repos and --tags must be at least 1")
    from tests.support.serving import BackgroundServer

    front = CatalogFront(names(args.repos), args.tags, args.latency_ms / 1000)
    minimum = Counter(catalog=-(-args.repos // PAGE), tags=args.repos, head=MAX_MODELS)
    with BackgroundServer(front.app()) as server, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "source.yaml").write_text(source_yaml(server.host))
        python = sys.executable
        legs: list[Leg] = []
        for run in range(args.runs):
            out = work / f"out-{run}"
            aimsource = [python, "-m", "aimsource", "sync", str(work / "source.yaml"), "--out", str(out)]
            aimsource += ["--registry-rate", "0", "--max-concurrency-per-host", str(CONCURRENCY)]
            ideal = [python, "-c", _IDEAL.format(url=server.url, concurrency=CONCURRENCY, heads=MAX_MODELS)]
            legs += [run_leg("aimsource", front, aimsource), run_leg("ideal", front, ideal)]
        again = run_leg("aimsource, again", front, aimsource)
    print(
        f"{args.repos} repositories x {args.tags} tags, catalog pages of {PAGE}, "
        f"{args.latency_ms:g} ms per answer"
    )
    print(f"minimum requests: {dict(minimum)}")
    print(f"{'leg':<18} {'seconds':>8} {'cpu s':>6} {'peak MiB':>9}  requests")
    for leg in [*legs, again]:
        flag = "" if leg.ok else "  FAILED"
        print(
            f"{leg.name:<18} {leg.seconds:8.2f} {leg.cpu:6.2f} {leg.peak_rss_mib:9.1f}  "
            f"{dict(leg.counts)}{flag}"
        )
    mine = sorted(leg.seconds for leg in legs if leg.name == "aimsource")
    ideal_times = sorted(leg.seconds for leg in legs if leg.name == "ideal")
    ratio = mine[len(mine) // 2] / ideal_times[len(ideal_times) // 2]
    at_minimum = all(leg.counts == minimum for leg in legs if leg.name == "aimsource")
    print(
        f"median ratio aimsource/ideal: {ratio:.2f}x (target <= 1.2x: {'met' if ratio <= 1.2 else 'missed'})"
    )
    print(f"aimsource requests = minimum: {at_minimum}")
    print(f"second sync, nothing changed: {sum(again.counts.values())} requests {dict(again.counts)}")
    return 0 if at_minimum and all(leg.ok for leg in [*legs, again]) else 1


_IDEAL = (
    "import asyncio, sys; sys.path.insert(0, 'benchmarks'); import discovery; "
    "asyncio.run(discovery.ideal_client('{url}', concurrency={concurrency}, heads={heads}))"
)


if __name__ == "__main__":
    sys.exit(main())
