"""The AIMClusterModel body a source creates."""

from __future__ import annotations

from typing import Any

import pytest

from aimsource.domain.models import existing_model, model_body, owning_source
from aimsource.domain.references import parse_reference
from aimsource.domain.resources import SOURCE_LABEL
from aimsource.domain.selection.planning import ExistingModel, candidate_for


def body_for(
    image: str,
    *,
    digest: str | None = "sha256:" + "ab" * 32,
    secrets: tuple[str, ...] = (),
    default_registry: str = "docker.io",
) -> dict[str, Any]:
    ref = parse_reference(image, default_registry=default_registry)
    candidate = candidate_for(ref, selector_index=0, selector=image)
    return model_body(
        candidate, source_name="amd-models", source_uid="uid-123", digest=digest, image_pull_secrets=secrets
    )


def test_body_of_the_documented_example() -> None:
    assert body_for("amdenterpriseai/aim-qwen-qwen3-32b:0.8.5", secrets=("ghcr-secret",)) == {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMClusterModel",
        "metadata": {
            "name": "amdenterpriseai-aim-qwen-qwen3-32b-0-8-5-72f726",
            "labels": {
                "aim.eai.amd.com/model-source": "amd-models",
                "aim.eai.amd.com/cluster-model-source.name": "amd-models",
                "aim.eai.amd.com/origin": "auto-generated",
                "app.kubernetes.io/managed-by": "aimsource",
            },
            "annotations": {
                "aim.eai.amd.com/source-registry": "docker.io",
                "aim.eai.amd.com/source-repository": "amdenterpriseai/aim-qwen-qwen3-32b",
                "aim.eai.amd.com/source-tag": "0.8.5",
                "aim.eai.amd.com/source-digest": "sha256:" + "ab" * 32,
            },
            "ownerReferences": [
                {
                    "apiVersion": "aim.eai.amd.com/v1alpha1",
                    "kind": "AIMClusterModelSource",
                    "name": "amd-models",
                    "uid": "uid-123",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {
            "image": "amdenterpriseai/aim-qwen-qwen3-32b:0.8.5",
            "imagePullSecrets": [{"name": "ghcr-secret"}],
            "discovery": {"extractMetadata": True, "createServiceTemplates": True},
        },
    }


def test_digest_annotation_is_omitted_when_unknown() -> None:
    annotations = body_for("org/a:1.0", digest=None)["metadata"]["annotations"]
    assert "aim.eai.amd.com/source-digest" not in annotations
    assert annotations["aim.eai.amd.com/source-tag"] == "1.0"


def test_pull_secrets_are_omitted_when_none() -> None:
    assert "imagePullSecrets" not in body_for("org/a:1.0")["spec"]


def test_several_pull_secrets_are_copied_in_order() -> None:
    assert body_for("org/a:1.0", secrets=("one", "two"))["spec"]["imagePullSecrets"] == [
        {"name": "one"},
        {"name": "two"},
    ]


@pytest.mark.parametrize(
    ("image", "default", "spec_image", "registry", "repository"),
    [
        ("ghcr.io/silogen/x:0.8.1-rc1", "docker.io", "ghcr.io/silogen/x:0.8.1-rc1", "ghcr.io", "silogen/x"),
        ("org/x:1", "ghcr.io", "ghcr.io/org/x:1", "ghcr.io", "org/x"),
        ("ubuntu:22.04", "docker.io", "library/ubuntu:22.04", "docker.io", "library/ubuntu"),
        ("localhost:5000/x:dev", "docker.io", "localhost:5000/x:dev", "localhost:5000", "x"),
    ],
    ids=["ghcr", "ghcr-by-default", "official", "local"],
)
def test_image_and_annotations_follow_the_normalised_reference(
    image: str, default: str, spec_image: str, registry: str, repository: str
) -> None:
    body = body_for(image, default_registry=default)
    assert body["spec"]["image"] == spec_image
    annotations = body["metadata"]["annotations"]
    assert annotations["aim.eai.amd.com/source-registry"] == registry
    assert annotations["aim.eai.amd.com/source-repository"] == repository


def test_source_label_constant() -> None:
    assert SOURCE_LABEL == "aim.eai.amd.com/model-source"
    assert body_for("org/a:1")["metadata"]["labels"][SOURCE_LABEL] == "amd-models"


# --- existing_model: the inverse of model_body ---------------------------------------------------


def test_existing_model_reads_back_what_model_body_wrote() -> None:
    body = body_for("amdenterpriseai/aim-qwen-qwen3-32b:0.8.5", secrets=("ghcr-secret",))
    assert existing_model(body) == ExistingModel(
        name="amdenterpriseai-aim-qwen-qwen3-32b-0-8-5-72f726",
        image="docker.io/amdenterpriseai/aim-qwen-qwen3-32b:0.8.5",
        source="amd-models",
        digest="sha256:" + "ab" * 32,
    )


def test_existing_model_without_digest_or_owner_reference() -> None:
    """`aimsource sync --out` writes no owner reference: the label alone names the source."""
    body = body_for("org/a:1.0", digest=None)
    del body["metadata"]["ownerReferences"]
    model = existing_model(body)
    assert model is not None
    assert (model.source, model.digest) == ("amd-models", None)


def test_existing_model_of_a_persons_model() -> None:
    body = {"metadata": {"name": "mine"}, "spec": {"image": "org/a"}}
    assert existing_model(body) == ExistingModel(name="mine", image="docker.io/org/a:latest", source=None)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"metadata": {"name": "m"}},
        {"metadata": {"name": "m"}, "spec": {"image": ""}},
        {"metadata": {"name": "m"}, "spec": {"image": 7}},
        {"metadata": {"name": "m"}, "spec": "org/a:1"},
        {"metadata": {"name": ""}, "spec": {"image": "org/a:1"}},
        {"metadata": {}, "spec": {"image": "org/a:1"}},
        {"metadata": ["name"], "spec": {"image": "org/a:1"}},
        {"metadata": None, "spec": None},
    ],
    ids=[
        "empty",
        "no-spec",
        "empty-image",
        "number-image",
        "spec-not-object",
        "empty-name",
        "no-name",
        "metadata-not-object",
        "nulls",
    ],
)
def test_existing_model_of_a_malformed_body_is_none(body: dict[str, Any]) -> None:
    assert existing_model(body) is None


@pytest.mark.parametrize(
    "metadata",
    [
        {"labels": {SOURCE_LABEL: ""}},
        {"labels": {SOURCE_LABEL: 3}},
        {"labels": ["aim.eai.amd.com/model-source"]},
        {"labels": None},
    ],
    ids=["empty", "number", "labels-not-object", "null"],
)
def test_no_owning_source_unless_the_label_is_a_name(metadata: dict[str, Any]) -> None:
    body = {"metadata": {"name": "m", **metadata}, "spec": {"image": "org/a:1"}}
    assert owning_source(body) is None
    model = existing_model(body)
    assert model is not None
    assert model.source is None


@pytest.mark.parametrize(
    "digest",
    ["sha256:" + "AB" * 32, "sha256:abc", "latest", 42, None],
    ids=["upper", "short", "tag", "number", "null"],
)
def test_a_digest_annotation_that_is_no_digest_is_ignored(digest: object) -> None:
    body = body_for("org/a:1.0")
    body["metadata"]["annotations"]["aim.eai.amd.com/source-digest"] = digest
    model = existing_model(body)
    assert model is not None
    assert model.digest is None


def test_annotations_that_are_not_an_object_give_no_digest() -> None:
    body = body_for("org/a:1.0")
    body["metadata"]["annotations"] = "sha256:" + "ab" * 32
    model = existing_model(body)
    assert model is not None
    assert model.digest is None
