"""Peak memory of `aimsource preview` against a hostile registry, measured on a real process.

The CLI runs as its own process against the fault front (before a real docker-registry); its peak
resident set comes from the kernel (`wait4`'s `ru_maxrss`), so this checks the bound a Deployment's
memory limit enforces, not an estimate. Each test prints its figure (`pytest -s` shows them).
Bounds from issue 8: whatever a registry sends, under 150 MiB; a repository of a million tags lists
within 200 MiB.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from aimsource.registry.settings import RegistrySettings
from tests.support.faults import Fault, FaultFront

pytestmark = pytest.mark.registry

QWEN = "amdenterpriseai/aim-qwen-qwen3-32b"
MiB = 1024 * 1024


# Linux keeps a process's peak RSS across exec, and a child forked from pytest starts with pytest's
# peak (the fronts' pages live in this process). So the command runs under a small wrapper process
# that forks it: the figure is the command's own, plus at most the wrapper's ~10 MiB.
WRAPPER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execvpe(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss * 1024))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def measured(
    tmp_path: Path, command: list[str], env: dict[str, str] | None = None
) -> tuple[int, bytes, str, int]:
    """Run `command`; its exit code, stdout, stderr and peak RSS in bytes."""
    rss = tmp_path / "peak-rss.txt"
    stderr = tmp_path / "stderr.txt"
    with stderr.open("wb") as err:
        proc = subprocess.run(
            [sys.executable, "-c", WRAPPER, str(rss), *command],
            stdout=subprocess.PIPE,
            stderr=err,
            env=env,
            check=False,
            timeout=120,
        )
    return proc.returncode, proc.stdout, stderr.read_text(), int(rss.read_text())


@dataclass(frozen=True)
class Run:
    returncode: int
    peak_rss: int
    """Bytes."""
    output: dict[str, object]
    stderr: str


def preview(tmp_path: Path, front: FaultFront, *flags: str, env: dict[str, str] | None = None) -> Run:
    source = tmp_path / "source.yaml"
    source.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "aim.eai.amd.com/v1alpha1",
                "kind": "AIMClusterModelSource",
                "metadata": {"name": "hostile"},
                "spec": {"registry": front.host, "images": [QWEN], "versions": [">=0.8.4"]},
            }
        )
    )
    returncode, out, stderr, peak = measured(
        tmp_path,
        [sys.executable, "-m", "aimsource", "preview", str(source), "-o", "json", *flags],
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", **(env or {})},
    )
    document = json.loads(out) if out.strip() else {}
    return Run(returncode, peak, document, stderr)


def selector(run: Run) -> dict[str, object]:
    status = run.output["status"]
    assert isinstance(status, dict), run.stderr
    [found] = status["selectors"]
    assert isinstance(found, dict)
    return found


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        pytest.param(Fault.gzip_bomb(layers=2), "stacked content encodings (gzip, gzip)", id="gzip-gzip"),
        pytest.param(Fault.gzip_bomb(), "larger than 8388608 bytes", id="gzip-512MiB"),
        pytest.param(Fault.unknown_encoding("zstd"), "unknown content encoding 'zstd'", id="zstd"),
    ],
)
def test_a_compressed_bomb_stays_under_150_mib(
    tmp_path: Path, fault_front: FaultFront, fault: Fault, message: str
) -> None:
    fault_front.inject(fault, path="tags/list", times=100)
    run = preview(tmp_path, fault_front)
    print(
        f"\npeak RSS of `aimsource preview` against {fault.kind} {fault.target}: {run.peak_rss / MiB:.1f} MiB"
    )
    assert message in json.dumps(run.output), run.stderr
    assert run.peak_rss < 150 * MiB


LISTER = """
import asyncio, sys
from aimsource.domain.references import ImageRef
from aimsource.registry.client import RegistryClient
from aimsource.registry.settings import RegistrySettings

async def main() -> None:
    async with RegistryClient(RegistrySettings(max_tags=int(sys.argv[2]))) as client:
        listing = await client.list_tags(ImageRef(sys.argv[1], sys.argv[3]), credential=None)
    print(len(listing.tags), len(set(listing.tags)), listing.truncated)

asyncio.run(main())
"""


def list_in_a_process(tmp_path: Path, front: FaultFront, max_tags: int) -> tuple[str, int]:
    returncode, out, stderr, peak = measured(
        tmp_path, [sys.executable, "-c", LISTER, front.host, str(max_tags), QWEN]
    )
    assert returncode == 0, stderr
    return out.decode().strip(), peak


def test_a_million_tag_repository_lists_within_200_mib(tmp_path: Path, fault_front: FaultFront) -> None:
    """The registry client alone, keeping every one of a million tags (the cap raised to 1M)."""
    fault_front.inject(Fault.pages(250_000), path="tags/list", times=4)
    out, peak = list_in_a_process(tmp_path, fault_front, 1_000_000)
    print(f"\npeak RSS listing 4 pages x 250,000 tags, all kept: {peak / MiB:.1f} MiB")
    assert out == "1000000 1000000 True"  # at the cap with a next link still offered: truncated
    assert peak < 200 * MiB


def test_the_default_cap_keeps_a_million_tag_listing_small(tmp_path: Path, fault_front: FaultFront) -> None:
    fault_front.inject(Fault.pages(250_000), path="tags/list", times=4)
    out, peak = list_in_a_process(tmp_path, fault_front, RegistrySettings().max_tags)
    print(f"\npeak RSS listing a 1M-tag repository at the default cap (100,000): {peak / MiB:.1f} MiB")
    assert out == "100000 100000 True"
    assert peak < 100 * MiB
    assert fault_front.log.count(path=f"/v2/{QWEN}/tags/list") == 1  # the cap stops the reading too


def test_preview_of_a_million_tag_repository_is_truncated_at_the_cap(
    tmp_path: Path, fault_front: FaultFront
) -> None:
    """The whole CLI: the figure includes deciding, planning and rendering 100,000 tags."""
    fault_front.inject(Fault.pages(250_000), path="tags/list", times=4)
    run = preview(tmp_path, fault_front)
    figure = run.peak_rss / MiB
    print(f"\npeak RSS of `aimsource preview` on a 1M-tag repository (cap 100,000): {figure:.1f} MiB")
    found = selector(run)
    assert found["truncated"] is True
    assert found["tagsListed"] == 100_000
    assert "truncated at the cap of 100000 tags" in run.stderr
    assert len(run.output["tags"]) == 100_000  # type: ignore[arg-type]  # every decision was printed
    assert run.peak_rss < 200 * MiB


def test_sync_of_a_million_tag_repository_within_200_mib(tmp_path: Path, fault_front: FaultFront) -> None:
    """`aimsource sync --out`: listing, deciding and planning 100,000 tags, writing maxModels models."""
    fault_front.inject(Fault.pages(250_000), path="tags/list", times=4)
    source = tmp_path / "source.yaml"
    source.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "aim.eai.amd.com/v1alpha1",
                "kind": "AIMClusterModelSource",
                "metadata": {"name": "hostile", "uid": "0b1c2d3e-0000-4000-8000-000000000000"},
                "spec": {"registry": fault_front.host, "images": [QWEN], "maxModels": 5},
            }
        )
    )
    out = tmp_path / "models"
    command = [sys.executable, "-m", "aimsource", "sync", str(source), "--out", str(out), "-o", "json"]
    returncode, stdout, stderr, peak = measured(
        tmp_path, command, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    )
    print(f"\npeak RSS of `aimsource sync --out` on a 1M-tag repository (cap 100,000): {peak / MiB:.1f} MiB")
    [status] = json.loads(stdout).values()
    assert (returncode, status["status"]) == (0, "Ready"), stderr
    assert status["selectors"][0]["tagsListed"] == 100_000, stderr
    assert status["selectors"][0]["matched"] == 100_000
    assert len(list(out.iterdir())) == 5
    assert peak < 200 * MiB
