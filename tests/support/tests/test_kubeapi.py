"""The emulated Kubernetes API behaves like the real one where clients notice, over real HTTP.

Each test names the API server behaviour it pins down; the expectations are those of
kube-apiserver (status codes, Status reasons, metadata rules), not of our own code.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.kubeapi import KubeAPI

GROUP = "/apis/aim.eai.amd.com/v1alpha1"
SOURCES = f"{GROUP}/aimclustermodelsources"
MODELS = f"{GROUP}/aimclustermodels"
SECRETS = "/api/v1/namespaces/aim-system/secrets"
LEASES = "/apis/coordination.k8s.io/v1/namespaces/aim-system/leases"
MERGE = {"Content-Type": "application/merge-patch+json"}


@pytest.fixture
def http(kube_api: KubeAPI) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=kube_api.url, timeout=5) as client:
        yield client


def source(name: str = "src", **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMClusterModelSource",
        "metadata": {"name": name, "labels": labels},
        "spec": {"images": ["org/img:1.0.0"]},
    }


def model(name: str, *, owners: list[dict[str, Any]] = (), **labels: str) -> dict[str, Any]:  # type: ignore[assignment]
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMClusterModel",
        "metadata": {"name": name, "labels": labels, "ownerReferences": list(owners)},
        "spec": {"image": f"org/{name}:1"},
    }


def owner_ref(obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": obj["metadata"]["name"],
        "uid": obj["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def watch(http: httpx.Client, path: str, **params: str) -> list[dict[str, Any]]:
    """The events of a watch that ends after `timeoutSeconds` (server side)."""
    params = {"watch": "true", "timeoutSeconds": "0.3", **params}
    with http.stream("GET", path, params=params) as response:
        assert response.status_code == 200
        return [json.loads(line) for line in response.iter_lines() if line.strip()]


# --- create, read, identity --------------------------------------------------------------------


def test_create_answers_201_with_server_set_metadata(http: httpx.Client) -> None:
    first = http.post(SOURCES, json=source("a"))
    second = http.post(SOURCES, json=source("b"))
    assert (first.status_code, second.status_code) == (201, 201)
    meta_a, meta_b = first.json()["metadata"], second.json()["metadata"]
    assert meta_a["uid"] != meta_b["uid"]
    assert int(meta_b["resourceVersion"]) > int(meta_a["resourceVersion"])
    assert meta_a["generation"] == 1
    assert time.strptime(meta_a["creationTimestamp"], "%Y-%m-%dT%H:%M:%SZ")


def test_create_of_a_taken_name_is_409_already_exists(http: httpx.Client) -> None:
    http.post(SOURCES, json=source())
    answer = http.post(SOURCES, json=source())
    assert answer.status_code == 409
    assert answer.json() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "code": 409,
        "reason": "AlreadyExists",
        "message": 'aimclustermodelsources.aim.eai.amd.com "src" already exists',
        "details": {"name": "src", "group": "aim.eai.amd.com", "kind": "aimclustermodelsources"},
    }


@pytest.mark.parametrize(
    ("path", "message"),
    [
        pytest.param(
            f"{SOURCES}/nope", 'aimclustermodelsources.aim.eai.amd.com "nope" not found', id="custom"
        ),
        pytest.param(f"{SECRETS}/nope", 'secrets "nope" not found', id="core"),
        pytest.param(
            "/apis/nope.io/v1/things", "the server could not find the requested resource", id="resource"
        ),
    ],
)
def test_missing_things_are_404_not_found_status(http: httpx.Client, path: str, message: str) -> None:
    answer = http.get(path)
    assert answer.status_code == 404
    status = answer.json()
    assert (status["kind"], status["reason"], status["message"]) == ("Status", "NotFound", message)


def test_namespaced_create_needs_an_existing_namespace(http: httpx.Client) -> None:
    answer = http.post("/api/v1/namespaces/elsewhere/secrets", json={"metadata": {"name": "s"}})
    assert (answer.status_code, answer.json()["message"]) == (404, 'namespaces "elsewhere" not found')


def test_invalid_name_is_422(http: httpx.Client) -> None:
    answer = http.post(SOURCES, json=source("Upper_Case"))
    assert (answer.status_code, answer.json()["reason"]) == (422, "Invalid")


@pytest.mark.parametrize(
    "labels",
    [
        pytest.param({"aim.eai.amd.com/model-source": "s" * 64}, id="value-too-long"),
        pytest.param({"bad key!": "x"}, id="bad-key"),
        pytest.param({"ok": "-leading-dash"}, id="bad-value"),
    ],
)
def test_invalid_labels_are_422(http: httpx.Client, labels: dict[str, str]) -> None:
    answer = http.post(MODELS, json=model("m", **labels))
    assert (answer.status_code, answer.json()["reason"]) == (422, "Invalid")
    assert "metadata.labels" in answer.json()["message"]


def test_secret_string_data_is_stored_as_base64_data(http: httpx.Client) -> None:
    created = http.post(SECRETS, json={"metadata": {"name": "s"}, "stringData": {"k": "v"}}).json()
    assert (created["data"], created["type"], "stringData" in created) == ({"k": "dg=="}, "Opaque", False)


# --- resourceVersion and generation -------------------------------------------------------------


def test_stale_resource_version_in_a_patch_is_409_conflict(http: httpx.Client) -> None:
    rv = http.post(SOURCES, json=source()).json()["metadata"]["resourceVersion"]
    labelled = http.patch(f"{SOURCES}/src", json={"metadata": {"labels": {"a": "1"}}}, headers=MERGE)
    assert labelled.status_code == 200
    stale = http.patch(
        f"{SOURCES}/src", json={"metadata": {"resourceVersion": rv, "labels": {"a": "2"}}}, headers=MERGE
    )
    assert (stale.status_code, stale.json()["reason"]) == (409, "Conflict")
    assert "the object has been modified" in stale.json()["message"]
    assert http.get(f"{SOURCES}/src").json()["metadata"]["labels"] == {"a": "1"}


def test_update_checks_resource_version(http: httpx.Client) -> None:
    lease = http.post(LEASES, json={"metadata": {"name": "l"}, "spec": {"holderIdentity": "a"}}).json()
    lease["spec"]["holderIdentity"] = "b"
    assert http.put(f"{LEASES}/l", json=lease).status_code == 200
    lease["spec"]["holderIdentity"] = "c"  # still carries the resourceVersion read before the first update
    assert http.put(f"{LEASES}/l", json=lease).status_code == 409
    del lease["metadata"]["resourceVersion"]  # Leases refuse unconditional updates (kube-apiserver 1.37)
    assert http.put(f"{LEASES}/l", json=lease).status_code == 422
    secret = http.post("/api/v1/namespaces/aim-system/secrets", json={"metadata": {"name": "s"}}).json()
    del secret["metadata"]["resourceVersion"]  # most built-in resources allow them
    updated = http.put("/api/v1/namespaces/aim-system/secrets/s", json=dict(secret, data={"a": "Yg=="}))
    assert updated.status_code == 200


def test_custom_resources_refuse_updates_without_resource_version(http: httpx.Client) -> None:
    obj = http.post(SOURCES, json=source()).json()
    del obj["metadata"]["resourceVersion"]
    assert http.put(f"{SOURCES}/src", json=obj).status_code == 422


@pytest.mark.parametrize(
    ("path", "patch", "bumped"),
    [
        pytest.param("", {"spec": {"maxModels": 5}}, True, id="spec-change"),
        pytest.param("", {"metadata": {"labels": {"a": "b"}}}, False, id="labels"),
        pytest.param("", {"metadata": {"annotations": {"a": "b"}}}, False, id="annotations"),
        pytest.param("/status", {"status": {"status": "Ready"}}, False, id="status"),
        pytest.param("", {"spec": {"images": ["org/img:1.0.0"]}}, False, id="same-spec"),
    ],
)
def test_generation_moves_with_spec_only(
    http: httpx.Client, path: str, patch: dict[str, Any], bumped: bool
) -> None:
    http.post(SOURCES, json=source())
    after = http.patch(f"{SOURCES}/src{path}", json=patch, headers=MERGE).json()
    assert after["metadata"]["generation"] == (2 if bumped else 1)


def test_a_write_that_changes_nothing_keeps_the_resource_version(http: httpx.Client) -> None:
    rv = http.post(SOURCES, json=source()).json()["metadata"]["resourceVersion"]
    again = http.patch(f"{SOURCES}/src", json={"spec": {"images": ["org/img:1.0.0"]}}, headers=MERGE).json()
    assert again["metadata"]["resourceVersion"] == rv


# --- status subresource -------------------------------------------------------------------------


def test_status_subresource_changes_only_status(http: httpx.Client) -> None:
    http.post(SOURCES, json=source())
    patched = http.patch(
        f"{SOURCES}/src/status",
        headers=MERGE,
        json={"status": {"status": "Ready"}, "spec": {"maxModels": 1}, "metadata": {"labels": {"x": "y"}}},
    )
    assert patched.json()["status"] == {"status": "Ready"}
    assert patched.json()["spec"]["maxModels"] == 100  # the default, not the 1 sent to /status
    assert patched.json()["metadata"]["labels"] == {}


def test_main_resource_writes_ignore_status(http: httpx.Client) -> None:
    created = http.post(SOURCES, json=dict(source(), status={"status": "Forged"})).json()
    assert "status" not in created  # ignored on create
    http.patch(f"{SOURCES}/src/status", json={"status": {"status": "Ready"}}, headers=MERGE)
    patched = http.patch(f"{SOURCES}/src", json={"status": {"status": "Forged"}}, headers=MERGE).json()
    assert patched["status"] == {"status": "Ready"}


def test_put_status_replaces_the_status(http: httpx.Client) -> None:
    http.post(SOURCES, json=source())
    obj = http.patch(
        f"{SOURCES}/src/status", json={"status": {"status": "Ready", "availableModels": 2}}, headers=MERGE
    ).json()
    obj["status"] = {"status": "Failed"}
    assert http.put(f"{SOURCES}/src/status", json=obj).json()["status"] == {"status": "Failed"}


def test_a_uid_in_a_status_merge_patch_is_ignored(http: httpx.Client) -> None:
    # kube-apiserver: the status strategy of a custom resource copies the stored object over the
    # patched one (PrepareForUpdate) before the immutable-uid validation, so the uid is no guard here.
    http.post(SOURCES, json=source())
    patched = http.patch(
        f"{SOURCES}/src/status",
        headers=MERGE,
        json={"metadata": {"uid": "someone-else"}, "status": {"status": "Ready"}},
    )
    assert patched.status_code == 200
    assert patched.json()["metadata"]["uid"] != "someone-else"
    assert patched.json()["status"] == {"status": "Ready"}


def test_a_json_patch_testing_another_uid_is_422_and_writes_nothing(http: httpx.Client) -> None:
    created = http.post(SOURCES, json=source()).json()
    answer = http.patch(
        f"{SOURCES}/src/status",
        headers={"Content-Type": "application/json-patch+json"},
        json=[
            {"op": "test", "path": "/metadata/uid", "value": "someone-else"},
            {"op": "add", "path": "/status", "value": {"status": "Ready"}},
        ],
    )
    assert (answer.status_code, answer.json()["reason"]) == (422, "Invalid")
    after = http.get(f"{SOURCES}/src").json()
    assert "status" not in after
    assert after["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


# --- patch formats ------------------------------------------------------------------------------


DEFAULTS = {"registry": "docker.io", "syncInterval": "1h", "maxModels": 100}
PULL_A = [{"name": "a"}]


@pytest.mark.parametrize(
    ("content_type", "patch", "expected"),
    [
        pytest.param(
            "application/merge-patch+json",
            {"spec": {"versions": None, "maxModels": 3}},
            {"images": ["x"], "imagePullSecrets": PULL_A, "maxModels": 3},
            id="merge-null-deletes",
        ),
        pytest.param(
            "application/merge-patch+json",
            {"spec": {"imagePullSecrets": [{"name": "b"}]}},
            {"images": ["x"], "versions": [">=1"], "imagePullSecrets": [{"name": "b"}]},
            id="merge-lists-replace",
        ),
        pytest.param(
            "application/strategic-merge-patch+json",
            {"spec": {"imagePullSecrets": [{"name": "b"}]}},
            {"images": ["x"], "versions": [">=1"], "imagePullSecrets": [{"name": "a"}, {"name": "b"}]},
            id="strategic-merges-named-lists",
        ),
        pytest.param(
            "application/json-patch+json",
            [
                {"op": "test", "path": "/spec/images/0", "value": "x"},
                {"op": "add", "path": "/spec/images/-", "value": "z"},
                {"op": "remove", "path": "/spec/versions"},
            ],
            {"images": ["x", "z"], "imagePullSecrets": PULL_A},
            id="json-patch",
        ),
    ],
)
def test_patch_formats(http: httpx.Client, content_type: str, patch: Any, expected: dict[str, Any]) -> None:
    spec = {"images": ["x"], "versions": [">=1"], "imagePullSecrets": PULL_A}
    http.post(SOURCES, json=dict(source(), spec=spec))
    answer = http.patch(f"{SOURCES}/src", json=patch, headers={"Content-Type": content_type})
    assert answer.status_code == 200
    assert answer.json()["spec"] == {**DEFAULTS, **expected}


def test_strategic_merge_merges_conditions_by_type(http: httpx.Client) -> None:
    http.post(SOURCES, json=source())
    conditions = [{"type": "Ready", "status": "True"}, {"type": "Degraded", "status": "False"}]
    http.patch(f"{SOURCES}/src/status", json={"status": {"conditions": conditions}}, headers=MERGE)
    answer = http.patch(
        f"{SOURCES}/src/status",
        json={"status": {"conditions": [{"type": "Ready", "status": "False"}]}},
        headers={"Content-Type": "application/strategic-merge-patch+json"},
    )
    assert answer.json()["status"]["conditions"] == [
        {"type": "Ready", "status": "False"},
        {"type": "Degraded", "status": "False"},
    ]


def test_unknown_patch_type_is_415(http: httpx.Client) -> None:
    http.post(SOURCES, json=source())
    answer = http.patch(f"{SOURCES}/src", json={}, headers={"Content-Type": "application/apply-patch+yaml"})
    assert answer.status_code == 415


# --- the CRD's schema: pruning, defaults, validation ----------------------------------------------


def test_create_applies_the_crd_defaults(http: httpx.Client) -> None:
    assert http.post(SOURCES, json=source()).json()["spec"] == {"images": ["org/img:1.0.0"], **DEFAULTS}


def test_fields_the_crd_does_not_declare_are_pruned(http: httpx.Client) -> None:
    created = http.post(SOURCES, json=dict(source(), spec={"images": ["x"], "typo": 1})).json()
    assert "typo" not in created["spec"]
    status = http.patch(
        f"{SOURCES}/src/status", headers=MERGE, json={"status": {"status": "Ready", "kopf": {"progress": {}}}}
    ).json()["status"]
    assert status == {"status": "Ready"}  # kopf's own bookkeeping would not survive on a real cluster


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        pytest.param("", {"spec": {"images": ["x"], "maxModels": 0}}, "spec.maxModels", id="minimum"),
        pytest.param(
            "", {"spec": {"images": ["x"], "syncInterval": "1 day"}}, "spec.syncInterval", id="pattern"
        ),
        pytest.param(
            "",
            {"spec": {"images": ["x"], "filters": [{"image": "y"}]}},
            "exactly one of spec.images or spec.filters",
            id="cel-rule",
        ),
        pytest.param(
            "", {"spec": {"images": None}}, "exactly one of spec.images or spec.filters", id="cel-rule-none"
        ),
        pytest.param("/status", {"status": {"status": "Sleeping"}}, "status.status", id="status-enum"),
    ],
)
def test_objects_the_crd_refuses_are_422(
    http: httpx.Client, path: str, body: dict[str, Any], message: str
) -> None:
    http.post(SOURCES, json=source())
    answer = http.patch(f"{SOURCES}/src{path}", headers=MERGE, json=body)
    assert (answer.status_code, answer.json()["reason"]) == (422, "Invalid")
    assert message in answer.json()["message"]
    assert answer.json()["message"].startswith('AIMClusterModelSource.aim.eai.amd.com "src" is invalid: ')


def test_strict_field_validation_refuses_unknown_fields_on_create(http: httpx.Client) -> None:
    body = dict(source(), spec={"images": ["x"], "typo": 1, "filtres": []})
    answer = http.post(SOURCES, json=body, params={"fieldValidation": "Strict", "fieldManager": "me"})
    assert (answer.status_code, answer.json()["reason"]) == (400, "BadRequest")
    assert answer.json()["message"] == (
        'AIMClusterModelSource in version "v1alpha1" cannot be handled as a'
        " AIMClusterModelSource: strict decoding error: unknown field"
        ' "spec.typo", unknown field "spec.filtres"'
    )
    assert http.get(f"{SOURCES}/src").status_code == 404
    ignored = http.post(SOURCES, json=body, params={"fieldValidation": "Ignore"})
    assert ignored.status_code == 201  # pruned, as without the parameter


def test_field_validation_and_manager_are_checked_and_recorded(kube_api: KubeAPI, http: httpx.Client) -> None:
    answer = http.post(SOURCES, json=source(), params={"fieldValidation": "strict"})
    assert (answer.status_code, answer.json()["reason"]) == (422, "Invalid")  # as kube-apiserver answers it
    assert answer.json()["details"]["causes"][0]["field"] == "fieldValidation"
    answer = http.post(SOURCES, json=source(), params={"fieldManager": "m" * 129})
    assert answer.status_code == 400
    kube_api.reset_requests()
    http.post(
        SOURCES,
        json=source(),
        params={"fieldManager": "tool", "fieldValidation": "Strict"},
        headers={"User-Agent": "tool/1.0"},
    )
    [record] = kube_api.requests
    assert (record.query, record.user_agent) == (
        {"fieldManager": "tool", "fieldValidation": "Strict"},
        "tool/1.0",
    )


def test_create_of_an_invalid_object_is_refused(http: httpx.Client) -> None:
    answer = http.post(SOURCES, json=dict(source(), spec={"images": []}))
    assert answer.status_code == 422
    assert http.get(f"{SOURCES}/src").status_code == 404


# --- lists: selectors and pages -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("selector", "names"),
    [
        pytest.param("tier=gold", ["a"], id="equals"),
        pytest.param("tier==gold", ["a"], id="double-equals"),
        pytest.param("tier!=gold", ["b", "c"], id="not-equals"),
        pytest.param("tier", ["a", "b"], id="exists"),
        pytest.param("!tier", ["c"], id="not-exists"),
        pytest.param("tier in (gold, silver)", ["a", "b"], id="in"),
        pytest.param("tier notin (gold)", ["b", "c"], id="notin"),
        pytest.param("tier,env=prod", ["b"], id="and"),
    ],
)
def test_label_selectors_on_list(http: httpx.Client, selector: str, names: list[str]) -> None:
    http.post(MODELS, json=model("a", tier="gold"))
    http.post(MODELS, json=model("b", tier="silver", env="prod"))
    http.post(MODELS, json=model("c", env="dev"))
    listing = http.get(MODELS, params={"labelSelector": selector}).json()
    assert [obj["metadata"]["name"] for obj in listing["items"]] == names
    assert (listing["kind"], listing["apiVersion"]) == ("AIMClusterModelList", "aim.eai.amd.com/v1alpha1")


@pytest.mark.parametrize(
    ("selector", "status", "names"),
    [
        pytest.param("metadata.name=b", 200, ["b"], id="name"),
        pytest.param("metadata.name!=b", 200, ["a"], id="not-name"),
        pytest.param("spec.image=x", 400, None, id="unsupported-field"),
    ],
)
def test_field_selectors_on_list(
    http: httpx.Client, selector: str, status: int, names: list[str] | None
) -> None:
    http.post(MODELS, json=model("a"))
    http.post(MODELS, json=model("b"))
    answer = http.get(MODELS, params={"fieldSelector": selector})
    assert answer.status_code == status
    if names is not None:
        assert [obj["metadata"]["name"] for obj in answer.json()["items"]] == names


def test_list_pages_with_limit_and_continue(http: httpx.Client) -> None:
    for name in "abcde":
        http.post(MODELS, json=model(name))
    seen, params = [], {"limit": "2"}
    while True:
        page = http.get(MODELS, params=params).json()
        seen.append([obj["metadata"]["name"] for obj in page["items"]])
        if not page["metadata"].get("continue"):
            break
        params["continue"] = page["metadata"]["continue"]
    assert seen == [["a", "b"], ["c", "d"], ["e"]]


# --- watch --------------------------------------------------------------------------------------


def test_watch_from_a_resource_version_streams_only_later_changes(http: httpx.Client) -> None:
    http.post(SOURCES, json=source("old"))
    rv = http.get(SOURCES).json()["metadata"]["resourceVersion"]
    http.post(SOURCES, json=source("new"))
    http.patch(f"{SOURCES}/new", json={"spec": {"maxModels": 2}}, headers=MERGE)
    http.delete(f"{SOURCES}/new")
    events = watch(http, SOURCES, resourceVersion=rv)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("ADDED", "new"),
        ("MODIFIED", "new"),
        ("DELETED", "new"),
    ]
    versions = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert versions == sorted(versions)
    assert versions[0] > int(rv)


def test_watch_without_resource_version_starts_with_the_current_objects(http: httpx.Client) -> None:
    http.post(SOURCES, json=source("a"))
    http.post(SOURCES, json=source("b"))
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in watch(http, SOURCES)] == [
        ("ADDED", "a"),
        ("ADDED", "b"),
    ]


def test_label_selected_watch_sees_objects_enter_and_leave(http: httpx.Client) -> None:
    rv = http.post(MODELS, json=model("m")).json()["metadata"]["resourceVersion"]
    http.patch(f"{MODELS}/m", json={"metadata": {"labels": {"pick": "yes"}}}, headers=MERGE)
    http.patch(f"{MODELS}/m", json={"metadata": {"annotations": {"x": "1"}}}, headers=MERGE)
    http.patch(f"{MODELS}/m", json={"metadata": {"labels": {"pick": None}}}, headers=MERGE)
    events = watch(http, MODELS, resourceVersion=rv, labelSelector="pick=yes")
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "DELETED"]


def test_field_selected_watch_sees_one_object(http: httpx.Client) -> None:
    http.post(MODELS, json=model("a"))
    http.post(MODELS, json=model("b"))
    events = watch(http, MODELS, fieldSelector="metadata.name=b")
    assert [e["object"]["metadata"]["name"] for e in events] == ["b"]


def test_namespaced_watch_sees_its_namespace_only(http: httpx.Client) -> None:
    http.post("/api/v1/namespaces/default/secrets", json={"metadata": {"name": "elsewhere"}})
    http.post(SECRETS, json={"metadata": {"name": "here"}})
    assert [e["object"]["metadata"]["name"] for e in watch(http, SECRETS)] == ["here"]
    assert len(watch(http, "/api/v1/secrets")) == 2  # cluster-wide: all namespaces


def test_initial_events_end_with_a_bookmark(http: httpx.Client) -> None:
    http.post(SOURCES, json=source("a"))
    events = watch(
        http,
        SOURCES,
        sendInitialEvents="true",
        resourceVersionMatch="NotOlderThan",
        allowWatchBookmarks="true",
    )
    assert [e["type"] for e in events][:2] == ["ADDED", "BOOKMARK"]
    assert events[1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


def test_idle_watch_gets_bookmarks_when_it_allows_them(kube_api: KubeAPI, http: httpx.Client) -> None:
    kube_api.handler.bookmark_interval = 0.1
    rv = http.post(SOURCES, json=source("a")).json()["metadata"]["resourceVersion"]
    http.post(MODELS, json=model("elsewhere"))  # moves the resourceVersion, not this watch's resource
    events = watch(http, SOURCES, resourceVersion=rv, allowWatchBookmarks="true")
    assert events
    assert {e["type"] for e in events} == {"BOOKMARK"}
    assert int(events[0]["object"]["metadata"]["resourceVersion"]) > int(rv)
    assert watch(http, SOURCES, resourceVersion=rv) == []  # no bookmarks unless asked for


def test_watch_from_a_compacted_resource_version_is_410(kube_api: KubeAPI, http: httpx.Client) -> None:
    kube_api.store.max_log = 2
    for name in "abcd":
        http.post(MODELS, json=model(name))
    [event] = watch(http, MODELS, resourceVersion="1")
    assert (event["type"], event["object"]["code"], event["object"]["reason"]) == ("ERROR", 410, "Expired")


# --- deletion and garbage collection ------------------------------------------------------------


def test_finalizers_hold_deletion_until_removed(http: httpx.Client) -> None:
    http.post(MODELS, json=dict(model("m"), metadata={"name": "m", "finalizers": ["x/y"]}))
    deleting = http.delete(f"{MODELS}/m").json()
    assert deleting["metadata"]["deletionTimestamp"]
    assert http.get(f"{MODELS}/m").status_code == 200
    http.patch(f"{MODELS}/m", json={"metadata": {"finalizers": None}}, headers=MERGE)
    assert http.get(f"{MODELS}/m").status_code == 404


def test_deleting_an_owner_deletes_its_dependents_in_the_background(
    kube_api: KubeAPI, http: httpx.Client
) -> None:
    owner = http.post(SOURCES, json=source("owner")).json()
    other = http.post(SOURCES, json=source("other")).json()
    http.post(MODELS, json=model("owned", owners=[owner_ref(owner)]))
    http.post(MODELS, json=model("shared", owners=[owner_ref(owner), owner_ref(other)]))
    http.post(MODELS, json=model("unrelated"))
    assert http.delete(f"{SOURCES}/owner").status_code == 200
    kube_api.wait_for(lambda: kube_api.find("aimclustermodels", "owned") is None, timeout=5)
    assert sorted(kube_api.names("aimclustermodels")) == ["shared", "unrelated"]
    shared = kube_api.get("aimclustermodels", "shared")
    assert [ref["name"] for ref in shared["metadata"]["ownerReferences"]] == ["other"]


GHOST = {
    "apiVersion": "aim.eai.amd.com/v1alpha1",
    "kind": "AIMClusterModelSource",
    "name": "ghost",
    "uid": "00000000-0000-0000-0000-000000000000",
}
"""An owner that never existed: its dependents are garbage at once."""


def test_a_dependent_of_an_owner_that_never_existed_is_collected(
    kube_api: KubeAPI, http: httpx.Client
) -> None:
    http.post(MODELS, json=model("dangling", owners=[GHOST]))
    kube_api.wait_for(lambda: kube_api.find("aimclustermodels", "dangling") is None, timeout=5)


def test_orphan_propagation_keeps_dependents(kube_api: KubeAPI, http: httpx.Client) -> None:
    owner = http.post(SOURCES, json=source("owner")).json()
    http.post(MODELS, json=model("owned", owners=[owner_ref(owner)]))
    http.delete(f"{SOURCES}/owner", params={"propagationPolicy": "Orphan"})
    # A fence instead of a pause: the collector runs whole passes over every object, so once it
    # has collected this later dependent of a ghost it has also judged `owned`, after the delete.
    http.post(MODELS, json=model("fence", owners=[GHOST]))
    kube_api.wait_for(lambda: kube_api.find("aimclustermodels", "fence") is None, timeout=5)
    assert kube_api.find("aimclustermodels", "owned") is not None, "the orphaned dependent was collected"
    assert kube_api.get("aimclustermodels", "owned")["metadata"]["ownerReferences"] == []


# --- discovery ----------------------------------------------------------------------------------


def test_discovery_lists_the_groups_kopf_and_we_use(http: httpx.Client) -> None:
    assert http.get("/api").json()["versions"] == ["v1"]
    groups = {g["name"]: g for g in http.get("/apis").json()["groups"]}
    assert {"aim.eai.amd.com", "coordination.k8s.io", "events.k8s.io", "apiextensions.k8s.io"} <= set(groups)
    assert groups["aim.eai.amd.com"]["preferredVersion"]["groupVersion"] == "aim.eai.amd.com/v1alpha1"
    core = {r["name"]: r for r in http.get("/api/v1").json()["resources"]}
    assert {"secrets", "events", "namespaces"} <= set(core)
    assert core["secrets"]["namespaced"] is True


def test_discovery_describes_our_custom_resources(http: httpx.Client) -> None:
    listing = http.get(GROUP).json()
    resources = {r["name"]: r for r in listing["resources"]}
    assert listing["groupVersion"] == "aim.eai.amd.com/v1alpha1"
    assert set(resources) == {
        "aimclustermodelsources",
        "aimclustermodelsources/status",
        "aimclustermodels",
        "aimclustermodels/status",
    }
    sources = resources["aimclustermodelsources"]
    assert (sources["kind"], sources["namespaced"], sources["shortNames"], sources["categories"]) == (
        "AIMClusterModelSource",
        False,
        ["aimclsrc"],
        ["aim"],
    )
    assert "watch" in sources["verbs"]


def test_a_crd_created_at_run_time_is_served(http: httpx.Client) -> None:
    crd = {
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "kind": "Widget"},
            "versions": [{"name": "v1", "served": True, "storage": True}],
        },
    }
    assert http.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json=crd).status_code == 201
    assert http.get("/apis/example.com/v1").json()["resources"][0]["name"] == "widgets"
    assert (
        http.post(
            "/apis/example.com/v1/namespaces/default/widgets", json={"metadata": {"name": "w"}}
        ).status_code
        == 201
    )
    http.delete("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com")
    assert http.get("/apis/example.com/v1/namespaces/default/widgets/w").status_code == 404


def test_events_exist_in_both_api_groups(http: httpx.Client) -> None:
    body = {
        "metadata": {"name": "e1"},
        "reason": "Test",
        "message": "m",
        "involvedObject": {"kind": "AIMClusterModelSource", "name": "src"},
    }
    assert http.post("/api/v1/namespaces/default/events", json=body).status_code == 201
    assert (
        http.post(
            "/apis/events.k8s.io/v1/namespaces/default/events",
            json={"metadata": {"name": "e2"}, "reason": "Test", "note": "m"},
        ).status_code
        == 201
    )


# --- counting and access ------------------------------------------------------------------------


def test_requests_are_counted_by_verb_and_resource(kube_api: KubeAPI, http: httpx.Client) -> None:
    kube_api.reset_requests()
    http.post(SOURCES, json=source())
    http.get(SOURCES)
    http.get(f"{SOURCES}/src")
    http.patch(f"{SOURCES}/src/status", json={"status": {}}, headers=MERGE)
    watch(http, SOURCES, timeoutSeconds="0.1")
    assert [(r.verb, r.plural, r.subresource) for r in kube_api.requests] == [
        ("create", "aimclustermodelsources", None),
        ("list", "aimclustermodelsources", None),
        ("get", "aimclustermodelsources", None),
        ("patch", "aimclustermodelsources", "status"),
        ("watch", "aimclustermodelsources", None),
    ]
    assert kube_api.count("list") == 1
    assert kube_api.count("patch", "aimclustermodelsources", subresource=None) == 0


def test_token_is_required_when_configured() -> None:
    with KubeAPI(token="t0k3n") as api, httpx.Client(base_url=api.url) as http:
        assert http.get(SOURCES).status_code == 401
        assert http.get(SOURCES, headers={"Authorization": "Bearer t0k3n"}).status_code == 200
