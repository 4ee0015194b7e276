"""Peak memory of one sync of 100 filters on 100 hostile repositories, measured on a real process.

`aimsource sync --out` runs as its own process against the fault front, which answers each of 100
repositories with 50,000 distinct tags of 120 characters (5 million tags, 600 MB of tag text in
all). The sync's budget of tags (`sync.listing_budget`) keeps what its listings hold bounded;
the peak resident set comes from the kernel (`wait4`), as in tests/registry/test_client_memory_bounds.py.
The figure is printed (`pytest -s`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

from tests.registry.test_client_memory_bounds import MiB, measured
from tests.support.faults import Fault, FaultFront

pytestmark = pytest.mark.registry

REPOSITORIES = 100
TAGS = 50_000
CEILING = 200 * MiB


def test_a_hundred_filters_on_hostile_repositories_stay_under_200_mib(
    tmp_path: Path, fault_front: FaultFront
) -> None:
    fault_front.inject(Fault.pages(TAGS, tag_length=120, last=True), path="tags/list", times=REPOSITORIES)
    source = tmp_path / "source.yaml"
    source.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "aim.eai.amd.com/v1alpha1",
                "kind": "AIMClusterModelSource",
                "metadata": {"name": "hostile", "uid": "0b1c2d3e-0000-4000-8000-000000000001"},
                "spec": {
                    "registry": fault_front.host,
                    "filters": [{"image": f"hostile/r{i}"} for i in range(REPOSITORIES)],
                    "maxModels": 5,
                },
            }
        )
    )
    command = [sys.executable, "-m", "aimsource", "sync", str(source), "--out", str(tmp_path / "models")]
    returncode, stdout, stderr, peak = measured(
        tmp_path, [*command, "-o", "json"], env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    )
    listings = fault_front.log.count()
    print(
        f"\npeak RSS of `aimsource sync --out`, {REPOSITORIES} filters on {REPOSITORIES} repositories of"
        f" {TAGS:,} tags of 120 characters: {peak / MiB:.1f} MiB ({listings} requests reached the registry)"
    )
    assert returncode in (0, 1), stderr  # Ready, or Degraded by the truncated selectors
    [status] = json.loads(stdout).values()
    listed = [entry.get("tagsListed", 0) for entry in status["selectors"]]
    assert sum(listed) <= 200_000  # the sync's budget of tags
    assert any(entry.get("truncated") for entry in status["selectors"])
    assert peak < CEILING
