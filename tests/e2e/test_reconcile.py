"""Sources in, models and status out: scenarios against one shared operator process."""

from __future__ import annotations

import pytest

from tests.e2e.operator_process import OperatorProcess
from tests.e2e.scenario import MODELS, SOURCES, condition, events_for, models_of, source, wait_synced
from tests.support.kubeapi import KubeAPI
from tests.support.registry_server import RunningRegistry

pytestmark = pytest.mark.e2e


def test_images_mode_creates_one_model_per_listed_image(
    shared_api: KubeAPI, shared_operator: OperatorProcess, registry: RunningRegistry, unique: str
) -> None:
    repo = f"e2e/{unique}"
    with registry.pusher() as pusher:
        pusher.push_image(repo, ("1.0.0", "1.1.0", "2.0.0"))
    host = registry.host
    shared_api.create(SOURCES, source(unique, images=[f"{host}/{repo}:1.0.0", f"{host}/{repo}:2.0.0"]))

    st = wait_synced(shared_api, shared_operator, unique, state="Ready")

    assert sorted(models_of(shared_api, unique).values()) == [f"{host}/{repo}:1.0.0", f"{host}/{repo}:2.0.0"]
    assert (st["discoveredModels"], st["availableModels"], st["modelsLimitReached"]) == (2, 2, False)
    assert condition(st, "Ready")["status"] == "True"
    model = shared_api.list(MODELS, labels=f"aim.eai.amd.com/model-source={unique}")[0]
    owner = model["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("AIMClusterModelSource", unique, True)
    assert [e["reason"] for e in events_for(shared_api, unique)] == ["ModelsCreated"]
