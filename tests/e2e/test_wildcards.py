"""AMD's two wildcard end-to-end scenarios, run against `aimsource run` started with deploy/'s
arguments, on the emulator and on the real control plane, with a registries file that mirrors
docker.io and ghcr.io to a local registry (no request ever leaves the machine):

(a) seven repositories `amdenterpriseai/aim-*` with tag 0.8.4, one of them `aim-base`; filter
    `amdenterpriseai/aim-*`, `exclude: [amdenterpriseai/aim-base]`, `versions: ["0.8.4"]`,
    `maxModels: 5`: Ready, five models, the cap reached and said so;
(b) `registry: ghcr.io`, filter `amd-enterprise-ai/aim-private-*`, no pull secret: Failed, Ready
    False, no models (GitHub's packages API needs a token; none is sent anywhere).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.e2e.cluster import Cluster
from tests.e2e.operator_process import running_operator
from tests.e2e.scenario import SOURCES, models_of, source, wait_synced
from tests.e2e.test_mirrors import deploy_arguments
from tests.support.registry_server import RunningRegistry, start_registry

FAMILIES = ("base", "deepseek", "gemma", "llama", "mistral", "phi", "qwen")


@pytest.fixture(scope="module")
def amd_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    """A registry of its own, so that its catalog holds exactly AMD's seven repositories."""
    with start_registry("anonymous", workdir=tmp_path_factory.mktemp("amd-registry")) as registry:
        with registry.pusher() as pusher:
            for family in FAMILIES:
                pusher.push_image(f"amdenterpriseai/aim-{family}", ["0.8.4", "0.8.3"])
        yield registry


def air_gapped(path: Path, mirror: str) -> None:
    """docker.io and ghcr.io served by `mirror` only; their repositories found in its catalog."""
    entry = {"mirrors": [mirror], "fallback": False, "repositoryDiscovery": "catalog"}
    path.write_text(
        yaml.safe_dump(
            {"registries": {"docker.io": entry, "ghcr.io": {"mirrors": [mirror], "fallback": False}}}
        )
    )


def test_amds_wildcard_scenarios(
    cluster: Cluster, kubeconfig: Path, tmp_path: Path, unique: str, amd_registry: RunningRegistry
) -> None:
    (tmp_path / "registries").mkdir()
    args, path = deploy_arguments(tmp_path / "registries")
    air_gapped(path, amd_registry.base_url)
    capped, private = f"{unique}-a", f"{unique}-b"
    with running_operator(kubeconfig, tmp_path, extra=args) as op:
        amd_filter = {
            "image": "amdenterpriseai/aim-*",
            "exclude": ["amdenterpriseai/aim-base"],
            "versions": ["0.8.4"],
        }
        cluster.create(SOURCES, source(capped, filters=[amd_filter], max_models=5))
        cluster.create(
            SOURCES,
            source(private, registry="ghcr.io", filters=[{"image": "amd-enterprise-ai/aim-private-*"}]),
        )

        st = wait_synced(cluster, op, capped, state="Ready", timeout=60)
        assert (st["discoveredModels"], st["availableModels"], st["modelsLimitReached"]) == (5, 6, True)
        limit = next(c for c in st["conditions"] if c["type"] == "MaxModelsLimitReached")
        assert (limit["status"], limit["reason"]) == ("True", "LimitReached")
        assert st["selectors"][0]["repositories"] == {"seen": 7, "matched": 6, "excluded": 1}
        models = models_of(cluster, capped)
        assert sorted(models.values()) == [f"amdenterpriseai/aim-{f}:0.8.4" for f in FAMILIES[1:6]]
        for model in cluster.list("aimclustermodels", labels=f"aim.eai.amd.com/model-source={capped}"):
            labels = model["metadata"]["labels"]
            assert labels["aim.eai.amd.com/origin"] == "auto-generated"
            assert labels["aim.eai.amd.com/cluster-model-source.name"] == capped

        st = wait_synced(cluster, op, private, state="Failed", timeout=60)
        ready = next(c for c in st["conditions"] if c["type"] == "Ready")
        assert ready["status"] == "False"
        assert st["selectors"][0]["error"]["reason"] == "AuthenticationFailed"
        assert "read:packages" in st["selectors"][0]["error"]["message"]
        assert models_of(cluster, private) == {}
        assert op.metric("aimsource_registry_requests_total", host="registry-1.docker.io") == 0
        assert op.metric("aimsource_registry_requests_total", host="api.github.com") == 0
        assert op.metric("aimsource_registry_requests_total", host="hub.docker.com") == 0
