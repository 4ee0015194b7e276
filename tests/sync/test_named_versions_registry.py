"""Exact-version lists against a real docker-registry: one manifest HEAD per named version, no listing.

The counting front sits before the registry and logs every request, so the test sees exactly what
went over the wire.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from aimsource.registry.client import RegistryClient
from aimsource.sync.engine import sync_source
from tests.support.faults import FaultFront
from tests.sync.doubles import DictSecrets, MemoryStore, source

pytestmark = pytest.mark.registry

QWEN = "amdenterpriseai/aim-qwen-qwen3-32b"  # 0.8.3, 0.8.4, 0.8.5, 0.9.0-rc1, latest


@pytest.fixture
async def client() -> AsyncIterator[RegistryClient]:
    async with RegistryClient() as client:
        yield client


async def test_an_exact_list_makes_one_head_per_named_version_and_no_tags_request(
    client: RegistryClient, fault_front: FaultFront
) -> None:
    store = MemoryStore()
    result = await sync_source(
        source(
            {"registry": fault_front.host, "images": [QWEN], "versions": ["0.8.4", "=0.9.0-rc1", "1.0.0"]}
        ),
        lister=client,
        store=store,
        secrets=DictSecrets(),
        now=datetime.now(UTC),
        previous=None,
    )
    log = fault_front.log
    assert log.count(path="/tags/list") == 0
    heads = sorted(r.path for r in log.requests if r.method == "HEAD")
    assert heads == [f"/v2/{QWEN}/manifests/{tag}" for tag in ("0.8.4", "0.9.0-rc1", "1.0.0")]
    # Nothing else but the registry's version check: the digests recorded come from those HEADs.
    assert {r.path for r in log.requests} - set(heads) <= {"/v2/"}
    images = sorted(b["spec"]["image"].rsplit(":", 1)[1] for b in store.models.values())
    assert images == ["0.8.4", "0.9.0-rc1"]
    digests = {b["metadata"]["annotations"]["aim.eai.amd.com/source-digest"] for b in store.models.values()}
    assert all(d.startswith("sha256:") and len(d) == 71 for d in digests)
    assert result.status["status"] == "Ready"
    [selector] = result.status["selectors"]
    assert selector["notFound"] == ["1.0.0"]
    assert (selector["tagsListed"], selector["matched"], selector["created"]) == (2, 2, 2)
