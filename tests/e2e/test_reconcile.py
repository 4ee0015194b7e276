"""Sources in, models and status out: scenarios against one shared operator process.

Every scenario uses its own source and repository names, so they share one API server, one
operator and the session's registries; timings are short (`--min-sync-interval 1s`).
"""

from __future__ import annotations

import base64
import json
import time

from tests.e2e.cluster import Cluster
from tests.e2e.operator_process import OperatorProcess
from tests.e2e.scenario import (
    MODELS,
    REQUEST_ANNOTATION,
    SOURCES,
    all_images,
    condition,
    events_for,
    model,
    models_of,
    source,
    status,
    wait_synced,
)
from tests.support.registry_server import RunningRegistry


def push(registry: RunningRegistry, repo: str, *tags: str) -> None:
    with registry.pusher() as pusher:
        pusher.push_image(repo, tags)


def test_images_mode_creates_one_model_per_listed_image(
    shared_cluster: Cluster, shared_operator: OperatorProcess, registry: RunningRegistry, unique: str
) -> None:
    repo, host = f"e2e/{unique}", registry.host
    push(registry, repo, "1.0.0", "1.1.0", "2.0.0")
    shared_cluster.create(SOURCES, source(unique, images=[f"{host}/{repo}:1.0.0", f"{host}/{repo}:2.0.0"]))

    st = wait_synced(shared_cluster, shared_operator, unique, state="Ready")

    assert sorted(models_of(shared_cluster, unique).values()) == [
        f"{host}/{repo}:1.0.0",
        f"{host}/{repo}:2.0.0",
    ]
    assert (st["discoveredModels"], st["availableModels"], st["modelsLimitReached"]) == (2, 2, False)
    assert condition(st, "Ready")["status"] == "True"
    assert st["lastSyncTime"]
    body = shared_cluster.list(MODELS, labels=f"aim.eai.amd.com/model-source={unique}")[0]
    owner = body["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("AIMClusterModelSource", unique, True)
    assert body["metadata"]["annotations"]["aim.eai.amd.com/source-digest"].startswith("sha256:")
    shared_operator.wait(lambda: events_for(shared_cluster, unique), message="event")
    assert [e["reason"] for e in events_for(shared_cluster, unique)] == ["ModelsCreated"]
    meta = shared_cluster.get(SOURCES, unique)["metadata"]
    assert not meta.get("finalizers"), "a source must stay deletable while the operator is down"
    assert not [k for k in meta.get("annotations") or {} if "kopf" in k]


def test_filters_mode_applies_versions_and_exclusions(
    shared_cluster: Cluster, shared_operator: OperatorProcess, registry: RunningRegistry, unique: str
) -> None:
    repo, other, host = f"e2e/{unique}", f"e2e/{unique}-excluded", registry.host
    push(registry, repo, "0.8.4", "0.8.5", "0.9.0-rc1", "1.0.0", "latest")
    push(registry, other, "1.0.0")
    shared_cluster.create(
        SOURCES,
        source(
            unique,
            registry=host,
            filters=[
                {"image": repo, "versions": [">=0.8.5", "<1.0.0"]},
                {"image": other, "exclude": [other]},
            ],
        ),
    )

    st = wait_synced(shared_cluster, shared_operator, unique, state="Ready")

    assert sorted(models_of(shared_cluster, unique).values()) == [
        f"{host}/{repo}:0.8.5",
        f"{host}/{repo}:0.9.0-rc1",
    ]
    assert (st["discoveredModels"], st["availableModels"]) == (2, 2)
    assert len(st["selectors"]) == 2


def test_max_models_caps_creation_and_reports_the_rest(
    shared_cluster: Cluster, shared_operator: OperatorProcess, registry: RunningRegistry, unique: str
) -> None:
    repo, host = f"e2e/{unique}", registry.host
    push(registry, repo, "1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0")
    shared_cluster.create(SOURCES, source(unique, images=[f"{host}/{repo}"], max_models=2))

    st = wait_synced(shared_cluster, shared_operator, unique, state="Ready")

    assert sorted(models_of(shared_cluster, unique).values()) == [
        f"{host}/{repo}:1.3.0",
        f"{host}/{repo}:1.4.0",
    ]
    assert (st["discoveredModels"], st["availableModels"], st["modelsLimitReached"]) == (2, 5, True)
    limit = condition(st, "MaxModelsLimitReached")
    assert limit["status"] == "True"
    assert (
        limit["message"]
        == "Model creation limit reached (2 models created). 3 available images not created as models."
    )


def test_partial_failure_is_degraded_and_warns_once(
    shared_cluster: Cluster, shared_operator: OperatorProcess, registry: RunningRegistry, unique: str
) -> None:
    repo, host = f"e2e/{unique}", registry.host
    push(registry, repo, "1.0.0")
    shared_cluster.create(
        SOURCES,
        source(
            unique,
            interval="1s",
            images=[
                f"{host}/{repo}:1.0.0",
                f"{host}/e2e/{unique}-missing:1.0.0",
            ],
        ),
    )

    st = wait_synced(shared_cluster, shared_operator, unique, state="Degraded")
    wait_synced(shared_cluster, shared_operator, unique, state="Degraded", after=st["lastSyncTime"])

    assert list(models_of(shared_cluster, unique).values()) == [f"{host}/{repo}:1.0.0"]
    assert f"e2e/{unique}-missing" in condition(st, "Degraded")["message"]
    reasons = [e["reason"] for e in events_for(shared_cluster, unique)]
    assert reasons.count("SyncDegraded") == 1, reasons


def test_authentication_failure_is_failed_until_the_secret_is_fixed(
    shared_cluster: Cluster, shared_operator: OperatorProcess, htpasswd_registry: RunningRegistry, unique: str
) -> None:
    host, secret = htpasswd_registry.host, f"{unique}-creds"
    image = f"{host}/amdenterpriseai/aim-qwen-qwen3-32b:0.8.5"

    def write_secret(password: str) -> None:
        auth = base64.b64encode(f"{htpasswd_registry.username}:{password}".encode()).decode()
        config = json.dumps({"auths": {host: {"auth": auth}}}).encode()
        body = {
            "metadata": {"name": secret},
            "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": base64.b64encode(config).decode()},
        }
        if shared_cluster.find("secrets", secret, namespace="aim-system") is None:
            shared_cluster.create("secrets", body, namespace="aim-system")
        else:
            shared_cluster.patch("secrets", secret, {"data": body["data"]}, namespace="aim-system")

    write_secret("not-the-password")
    shared_cluster.create(SOURCES, source(unique, images=[image], secrets=[secret]))

    st = wait_synced(shared_cluster, shared_operator, unique, state="Failed")
    assert "authentication" in condition(st, "Ready")["message"].lower()
    shared_operator.wait(lambda: events_for(shared_cluster, unique), message="warning event")
    assert [e["reason"] for e in events_for(shared_cluster, unique)] == ["SyncFailed"]
    assert models_of(shared_cluster, unique) == {}

    assert htpasswd_registry.password is not None
    write_secret(htpasswd_registry.password)  # secrets are re-read on every (retried) sync
    st = wait_synced(shared_cluster, shared_operator, unique, state="Ready", timeout=30)

    assert list(models_of(shared_cluster, unique).values()) == [image]
    exposed = json.dumps([st, events_for(shared_cluster, unique)]) + shared_operator.log_text()
    for secret_text in htpasswd_registry.secret_strings():
        assert secret_text not in exposed


def test_spec_change_syncs_at_once_and_keeps_old_models(
    shared_cluster: Cluster, shared_operator: OperatorProcess, registry: RunningRegistry, unique: str
) -> None:
    repo, host = f"e2e/{unique}", registry.host
    push(registry, repo, "1.0.0", "2.0.0")
    shared_cluster.create(SOURCES, source(unique, images=[f"{host}/{repo}:1.0.0"]))
    wait_synced(shared_cluster, shared_operator, unique, state="Ready")

    shared_cluster.patch(SOURCES, unique, {"spec": {"images": [f"{host}/{repo}:2.0.0"]}})
    st = wait_synced(shared_cluster, shared_operator, unique, state="Ready", timeout=10)  # interval is 1h

    assert st["observedGeneration"] == 2
    assert sorted(models_of(shared_cluster, unique).values()) == [
        f"{host}/{repo}:1.0.0",
        f"{host}/{repo}:2.0.0",
    ]
    assert (st["discoveredModels"], st["availableModels"]) == (2, 1)  # append-only: the old one stays


def test_sync_request_annotation_syncs_now(
    shared_cluster: Cluster, shared_operator: OperatorProcess, registry: RunningRegistry, unique: str
) -> None:
    repo, host = f"e2e/{unique}", registry.host
    push(registry, repo, "1.0.0")
    shared_cluster.create(SOURCES, source(unique, images=[f"{host}/{repo}"]))
    wait_synced(shared_cluster, shared_operator, unique, state="Ready")
    push(registry, repo, "1.1.0")
    time.sleep(1.1)  # lastSyncTime has a resolution of one second

    shared_cluster.patch(SOURCES, unique, {"metadata": {"annotations": {REQUEST_ANNOTATION: "now-please"}}})

    # The interval is 1h: only the request can explain a sync within seconds.
    shared_operator.wait(
        lambda: len(models_of(shared_cluster, unique)) == 2, timeout=10, message="requested sync"
    )


def test_new_tag_is_picked_up_after_the_interval(
    shared_cluster: Cluster, shared_operator: OperatorProcess, registry: RunningRegistry, unique: str
) -> None:
    repo, host = f"e2e/{unique}", registry.host
    push(registry, repo, "1.0.0")
    shared_cluster.create(SOURCES, source(unique, interval="2s", images=[f"{host}/{repo}"]))
    wait_synced(shared_cluster, shared_operator, unique, state="Ready")

    push(registry, repo, "1.1.0")

    shared_operator.wait(
        lambda: len(models_of(shared_cluster, unique)) == 2, timeout=8, message="new tag synced"
    )
    # The status is written after the sync's creates: wait for it rather than race it.
    shared_operator.wait(
        lambda: status(shared_cluster, unique).get("availableModels") == 2, timeout=5, message="status"
    )


def test_model_deleted_by_a_user_returns_at_the_next_scheduled_sync_not_at_once(
    shared_cluster: Cluster, shared_operator: OperatorProcess, registry: RunningRegistry, unique: str
) -> None:
    repo, host = f"e2e/{unique}", registry.host
    push(registry, repo, "1.0.0")
    shared_cluster.create(SOURCES, source(unique, interval="5s", images=[f"{host}/{repo}:1.0.0"]))
    wait_synced(shared_cluster, shared_operator, unique, state="Ready")
    (name,) = models_of(shared_cluster, unique)
    syncs_before = len(shared_operator.logged("sync started", source=unique))

    shared_cluster.delete(MODELS, name)
    deleted_at = time.monotonic()

    time.sleep(1.5)
    assert models_of(shared_cluster, unique) == {}, "the model came back at once"
    assert len(shared_operator.logged("sync started", source=unique)) == syncs_before
    shared_operator.wait(
        lambda: name in models_of(shared_cluster, unique), timeout=10, message="model re-created"
    )
    assert time.monotonic() - deleted_at > 2.0


def test_model_made_by_a_user_is_respected(
    shared_cluster: Cluster, shared_operator: OperatorProcess, registry: RunningRegistry, unique: str
) -> None:
    repo, host = f"e2e/{unique}", registry.host
    push(registry, repo, "1.0.0", "2.0.0")
    mine = shared_cluster.create(MODELS, model(f"{unique}-mine", f"{host}/{repo}:1.0.0"))
    shared_cluster.create(SOURCES, source(unique, images=[f"{host}/{repo}:1.0.0", f"{host}/{repo}:2.0.0"]))

    st = wait_synced(shared_cluster, shared_operator, unique, state="Ready")

    assert list(models_of(shared_cluster, unique).values()) == [f"{host}/{repo}:2.0.0"]
    assert shared_cluster.get(MODELS, f"{unique}-mine") == mine  # not adopted, not modified
    assert st["discoveredModels"] == 2  # its own model plus the user's
    assert all_images(shared_cluster).count(f"{host}/{repo}:1.0.0") == 1


def test_two_sources_selecting_one_image_do_not_fight(
    shared_cluster: Cluster, shared_operator: OperatorProcess, registry: RunningRegistry, unique: str
) -> None:
    repo, host = f"e2e/{unique}", registry.host
    push(registry, repo, "1.0.0")
    image = f"{host}/{repo}:1.0.0"
    shared_cluster.create(SOURCES, source(f"{unique}-a", interval="1s", images=[image]))
    shared_cluster.create(SOURCES, source(f"{unique}-b", interval="1s", images=[image]))
    first_a = wait_synced(shared_cluster, shared_operator, f"{unique}-a", state="Ready")
    first_b = wait_synced(shared_cluster, shared_operator, f"{unique}-b", state="Ready")
    (only,) = [m for m in shared_cluster.list(MODELS) if m["spec"]["image"] == image]

    wait_synced(shared_cluster, shared_operator, f"{unique}-a", after=first_a["lastSyncTime"])
    wait_synced(shared_cluster, shared_operator, f"{unique}-b", after=first_b["lastSyncTime"])

    assert [m for m in shared_cluster.list(MODELS) if m["spec"]["image"] == image] == [only]
    for name in (f"{unique}-a", f"{unique}-b"):
        st = status(shared_cluster, name)
        assert (st["status"], st["discoveredModels"]) == ("Ready", 1)


def test_deleting_a_source_deletes_its_models(
    shared_cluster: Cluster, shared_operator: OperatorProcess, registry: RunningRegistry, unique: str
) -> None:
    repo, host = f"e2e/{unique}", registry.host
    push(registry, repo, "1.0.0", "1.1.0")
    shared_cluster.create(SOURCES, source(unique, images=[f"{host}/{repo}"]))
    wait_synced(shared_cluster, shared_operator, unique, state="Ready")
    assert len(models_of(shared_cluster, unique)) == 2

    shared_cluster.delete(SOURCES, unique)

    # The real garbage collector starts watching a new CRD's objects at its next discovery sync
    # (every 30 s), so right after the CRDs were installed it may take that long.
    timeout = 10 if shared_cluster.is_emulator else 45
    shared_operator.wait(
        lambda: models_of(shared_cluster, unique) == {}, timeout=timeout, message="models collected"
    )
    time.sleep(1.5)
    assert models_of(shared_cluster, unique) == {}, "the deleted source was synced again"


def test_metrics_and_logs_describe_the_syncs(
    shared_cluster: Cluster, shared_operator: OperatorProcess, registry: RunningRegistry, unique: str
) -> None:
    repo, host = f"e2e/{unique}", registry.host
    push(registry, repo, "1.0.0")
    shared_cluster.create(SOURCES, source(unique, images=[f"{host}/{repo}:1.0.0"]))
    wait_synced(shared_cluster, shared_operator, unique, state="Ready")

    assert shared_operator.metric("aimsource_syncs_total", result="Ready") >= 1
    assert shared_operator.metric("aimsource_models_created_total") >= 1
    assert shared_operator.metric("aimsource_registry_requests_total", host=host, code="200") >= 1
    assert shared_operator.metric("aimsource_sources", status="Ready") >= 1
    assert shared_operator.metric("aimsource_sync_duration_seconds_count") >= 1
    finished = shared_operator.logged("sync finished", source=unique)
    assert finished[0]["status"] == "Ready"
    assert shared_operator.logged("sync started", source=unique)[0]["why"] == "created"
