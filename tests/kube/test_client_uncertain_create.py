"""A create the server committed but answered with an error: the retry's 409 is resolved by reading.

The emulated API commits the POST and then answers 500 (a webhook timing out after the write, an
API server failing mid-answer); our transport retries the POST, gets 409 AlreadyExists, and
`create_model` reads the model: our source label and our owner uid make it ours, created.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import kmock
from kmock._internal.filtering import FnCriteria

from aimsource.kube import KubeClient
from tests.support.kubeapi import KubeAPI

SOURCE_UID = "0b7c6a84-5f0e-4c55-8e1a-1a2b3c4d5e6f"


OTHER_UID = "11111111-2222-3333-4444-555555555555"


def model(
    name: str, *, source: str = "src", uid: str = SOURCE_UID, image: str = "org/img:1.0.0"
) -> dict[str, Any]:
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMClusterModel",
        "metadata": {
            "name": name,
            "labels": {"aim.eai.amd.com/model-source": source},
            "ownerReferences": [
                {
                    "apiVersion": "aim.eai.amd.com/v1alpha1",
                    "kind": "AIMClusterModelSource",
                    "name": source,
                    "uid": uid,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {"image": image},
    }


class CommitThenFail:
    """Matches the first POST of a model: stores it, then lets the reaction answer 500."""

    def __init__(self, api: KubeAPI) -> None:
        self.api = api
        self.hits = 0
        self._lock = threading.Lock()

    def matches(self, request: kmock.Request) -> bool:
        res = request.resource
        if request.method.value.upper() != "POST" or res is None or res.plural != "aimclustermodels":
            return False
        with self._lock:
            if self.hits:
                return False
            self.hits += 1
        self.api.create("aimclustermodels", json.loads(request.body or b"{}"))
        return True


def commit_then_fail(api: KubeAPI) -> CommitThenFail:
    fault = CommitThenFail(api)
    (
        api.handler[FnCriteria(fault.matches)][:1]
        << 500
        << {
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "reason": "InternalError",
            "message": "Internal error occurred: context deadline exceeded",
            "code": 500,
        }
    )
    return fault


async def test_a_committed_create_whose_answer_was_lost_counts_as_created(
    kube_api: KubeAPI, kube_client: KubeClient
) -> None:
    fault = commit_then_fail(kube_api)
    assert await kube_client.create_model(model("m1")) is True
    assert fault.hits == 1
    # The first POST was answered by the fault (committed, 500); the store served the retry (409).
    assert kube_api.count("create", "aimclustermodels") == 1
    assert kube_api.count("get", "aimclustermodels") == 1  # the read that resolved the 409
    labels = kube_api.get("aimclustermodels", "m1")["metadata"]["labels"]
    assert labels["aim.eai.amd.com/model-source"] == "src"


async def test_a_409_for_another_sources_model_is_not_ours(
    kube_api: KubeAPI, kube_client: KubeClient
) -> None:
    kube_api.create("aimclustermodels", model("m1", source="other", uid=OTHER_UID))
    assert await kube_client.create_model(model("m1")) is False


async def test_a_409_for_a_model_of_an_earlier_source_of_the_same_name_is_not_ours(
    kube_api: KubeAPI, kube_client: KubeClient
) -> None:
    # The source was deleted and recreated: same label, another uid; the garbage collector owns that one.
    kube_api.create("aimclustermodels", model("m1", uid=OTHER_UID))
    assert await kube_client.create_model(model("m1")) is False


async def test_a_409_for_a_persons_model_is_not_ours(kube_api: KubeAPI, kube_client: KubeClient) -> None:
    body = model("m1")
    del body["metadata"]["ownerReferences"]
    kube_api.create("aimclustermodels", body)
    assert await kube_client.create_model(model("m1")) is False
