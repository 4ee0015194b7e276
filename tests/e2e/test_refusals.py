"""Refused creates and name conflicts against a running operator: one model lost, never the sync.

The emulated API refuses the create of one chosen model (as an admission webhook would), or a
user's model already holds a model's name for another image (on both backends); the operator must
create the others, write an honest Degraded status, and — for a refusal — try again at the next sync.
"""

from __future__ import annotations

import pytest

from aimsource.domain.naming import model_name
from aimsource.domain.references import parse_reference
from tests.e2e.cluster import Cluster
from tests.e2e.operator_process import OperatorProcess
from tests.e2e.scenario import (
    MODELS,
    SOURCES,
    condition,
    events_for,
    model,
    models_of,
    source,
    wait_synced,
)
from tests.support.kubeapi_refusals import refuse_creates
from tests.support.registry_server import RunningRegistry

WEBHOOK = 'admission webhook "images.policy.example.com" denied the request: image not allowed'


def push(registry: RunningRegistry, repo: str, *tags: str) -> None:
    with registry.pusher() as pusher:
        pusher.push_image(repo, tags)


def name_of(image: str) -> str:
    return model_name(parse_reference(image))


# Emulator only: the refusal (and its hit count) is the emulator's fault injection. On the real
# server a ValidatingAdmissionPolicy refuses a model the same way; tests/realkube covers that.
@pytest.mark.emulator_only
def test_a_refused_model_is_reported_the_others_created_and_it_is_retried(
    shared_cluster: Cluster, shared_operator: OperatorProcess, registry: RunningRegistry, unique: str
) -> None:
    repo, host = f"e2e/{unique}", registry.host
    push(registry, repo, "1.0.0", "1.1.0", "1.2.0")
    refused = name_of(f"{host}/{repo}:1.1.0")
    refusal = refuse_creates(
        shared_cluster.emulator, MODELS, {refused}, code=403, reason="Forbidden", message=WEBHOOK
    )
    shared_cluster.create(SOURCES, source(unique, images=[f"{host}/{repo}"]))

    st = wait_synced(shared_cluster, shared_operator, unique, state="Degraded")

    assert sorted(models_of(shared_cluster, unique).values()) == [
        f"{host}/{repo}:1.0.0",
        f"{host}/{repo}:1.2.0",
    ]
    assert (st["discoveredModels"], st["availableModels"]) == (2, 3)
    [entry] = st["selectors"][0]["refused"]
    assert (entry["model"], entry["image"], entry["reason"]) == (refused, f"{host}/{repo}:1.1.0", "Forbidden")
    assert entry["message"].endswith(WEBHOOK)
    degraded = condition(st, "Degraded")
    assert (degraded["status"], degraded["reason"]) == ("True", "ModelCreateRefused")
    assert refused in degraded["message"]

    # Degraded syncs are retried (backoff from --retry-base 1s): the refused model is asked for again.
    shared_operator.wait(lambda: refusal.hits >= 2, timeout=20, message="the refused create retried")
    refusal.lift()  # the webhook's policy now admits it

    st = wait_synced(shared_cluster, shared_operator, unique, state="Ready", timeout=30)
    assert len(models_of(shared_cluster, unique)) == 3
    assert "refused" not in st["selectors"][0]

    def reasons() -> list[str]:
        return [e["reason"] for e in events_for(shared_cluster, unique)]

    # Events follow the status write: wait for the second sync's ModelsCreated.
    shared_operator.wait(lambda: reasons().count("ModelsCreated") == 2, timeout=10, message="events")
    assert reasons().count("SyncDegraded") == 1, reasons()


def test_a_name_held_by_a_model_of_another_image_is_a_conflict_warned_once(
    shared_cluster: Cluster, shared_operator: OperatorProcess, registry: RunningRegistry, unique: str
) -> None:
    repo, host = f"e2e/{unique}", registry.host
    push(registry, repo, "1.0.0", "1.1.0")
    taken = name_of(f"{host}/{repo}:1.1.0")
    squatter = f"evil.example/{repo}:1.1.0"
    shared_cluster.create(MODELS, model(taken, squatter))
    shared_cluster.create(SOURCES, source(unique, interval="1s", images=[f"{host}/{repo}"]))

    st = wait_synced(shared_cluster, shared_operator, unique, state="Degraded")
    for _ in range(2):  # two more syncs: the conflict is still there, and still announced once
        st = wait_synced(shared_cluster, shared_operator, unique, state="Degraded", after=st["lastSyncTime"])

    assert list(models_of(shared_cluster, unique).values()) == [f"{host}/{repo}:1.0.0"]
    held = shared_cluster.get(MODELS, taken)
    assert held["spec"]["image"] == squatter  # the model in the way is left alone
    assert (held["metadata"].get("labels") or {}) == {}
    assert st["selectors"][0]["conflicts"] == [
        {"model": taken, "image": f"{host}/{repo}:1.1.0", "existingImage": squatter}
    ]
    degraded = condition(st, "Degraded")
    assert (degraded["status"], degraded["reason"]) == ("True", "ModelNameConflict")
    assert (st["discoveredModels"], st["availableModels"]) == (1, 2)
    warnings = [e for e in events_for(shared_cluster, unique) if e["type"] == "Warning"]
    assert [e["reason"] for e in warnings] == ["ModelNameConflict"]
    assert taken in warnings[0]["message"]
    assert squatter in warnings[0]["message"]
    assert f"{host}/{repo}:1.1.0" in warnings[0]["message"]
