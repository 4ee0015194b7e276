"""One sync of a source naming `docker.io`, read at mirrors (real docker-registry processes).

What the status says: the endpoint that served each selector when it was not the registry, the
mirrors tried when all failed with `fallback: false`; models keep the canonical `docker.io` names.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import pytest

from aimsource.domain.registries.parsing import parse_registries
from aimsource.registry.client import RegistryClient
from aimsource.registry.settings import RegistrySettings
from aimsource.sync.engine import sync_source
from tests.support.faults import Fault, FaultFront
from tests.support.registry_server import RunningRegistry
from tests.support.serving import free_port
from tests.sync.doubles import DictSecrets, MemoryStore, source

pytestmark = pytest.mark.registry

QWEN = "amdenterpriseai/aim-qwen-qwen3-32b"
FAST = RegistrySettings(max_attempts=2, backoff_base=0.01, backoff_cap=0.05)


async def test_a_docker_io_source_synced_at_its_mirror_keeps_docker_io_names(
    htpasswd_registry: RunningRegistry,
) -> None:
    mirror = FaultFront(htpasswd_registry.base_url)
    with mirror:
        config = parse_registries(
            f"registries:\n  docker.io:\n    mirrors: [{mirror.base_url}]\n    fallback: false\n",
            origin="registries.yaml",
            file_exists=os.path.isfile,
        )
        # The pull secret has the mirror's credentials under the mirror's host, as a user writes it.
        pull = {"auths": {mirror.host: htpasswd_registry.docker_config()["auths"][htpasswd_registry.host]}}
        secrets = DictSecrets({"corp-mirror": json.dumps(pull).encode()})
        store = MemoryStore()
        async with RegistryClient(FAST, registries=config) as client:
            result = await sync_source(
                source(
                    {"images": [QWEN], "versions": [">=0.8.4"], "imagePullSecrets": [{"name": "corp-mirror"}]}
                ),
                lister=client,
                store=store,
                secrets=secrets,
                now=datetime.now(UTC),
                previous=None,
            )
    assert result.status["status"] == "Ready", result.status
    [selector] = result.status["selectors"]
    assert selector["endpoint"] == mirror.base_url
    images = sorted(b["spec"]["image"] for b in store.models.values())
    # docker.io names, as users write them (and as nodes pull them through their own mirrors)
    assert images == [f"{QWEN}:0.8.4", f"{QWEN}:0.8.5", f"{QWEN}:0.9.0-rc1"]


async def test_every_mirror_down_without_fallback_fails_the_selector_naming_them(
    fault_front: FaultFront,
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    fault_front.inject(Fault.error(503), times=10)
    config = parse_registries(
        f"registries:\n  docker.io:\n    mirrors: [{dead}, {fault_front.base_url}]\n    fallback: false\n",
        origin="registries.yaml",
    )
    async with RegistryClient(FAST, registries=config) as client:
        result = await sync_source(
            source({"images": [QWEN]}),
            lister=client,
            store=MemoryStore(),
            secrets=DictSecrets(),
            now=datetime.now(UTC),
            previous=None,
        )
    [selector] = result.status["selectors"]
    assert selector["error"]["reason"] == "Unreachable"
    message = selector["error"]["message"]
    assert "every mirror of docker.io failed and fallback is off" in message
    assert dead in message
    assert fault_front.base_url in message
    assert "endpoint" not in selector
    assert result.status["status"] == "Failed"


async def test_pinned_and_exact_version_selectors_name_the_mirror_that_answered_their_heads(
    fault_front: FaultFront,
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    config = parse_registries(
        f"registries:\n  docker.io:\n    mirrors: [{dead}, {fault_front.base_url}]\n    fallback: false\n",
        origin="registries.yaml",
    )
    async with RegistryClient(FAST, registries=config) as client:
        result = await sync_source(
            source({"images": [f"{QWEN}:0.8.5", QWEN], "versions": ["0.8.4", "0.8.5"]}),
            lister=client,
            store=MemoryStore(),
            secrets=DictSecrets(),
            now=datetime.now(UTC),
            previous=None,
        )
    assert [s["endpoint"] for s in result.status["selectors"]] == [fault_front.base_url] * 2
    assert fault_front.log.count(path="tags/list") == 0  # HEADs only
