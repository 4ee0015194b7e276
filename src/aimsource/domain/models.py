"""The body of an `AIMClusterModel` a source creates.

One function builds it so that the cluster store and the directory store (`aimsource sync --out`)
write the very same object. Names, labels and annotation keys (`domain.resources`) are the
reference implementation's (users select on them); the owner reference makes Kubernetes
garbage-collect a source's models when the source is deleted, and `blockOwnerDeletion` keeps the
source around until they are gone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aimsource.domain.references import canonical_image
from aimsource.domain.resources import (
    AMD_SOURCE_LABEL,
    API_VERSION,
    DIGEST_ANNOTATION,
    MANAGED_BY,
    MANAGED_BY_LABEL,
    MODEL_KIND,
    ORIGIN_AUTO_GENERATED,
    ORIGIN_LABEL,
    REGISTRY_ANNOTATION,
    REPOSITORY_ANNOTATION,
    SOURCE_KIND,
    SOURCE_LABEL,
    TAG_ANNOTATION,
)
from aimsource.domain.selection.moved import is_digest
from aimsource.domain.selection.planning import Candidate, ExistingModel


def model_body(
    candidate: Candidate,
    *,
    source_name: str,
    source_uid: str,
    digest: str | None,
    image_pull_secrets: Sequence[str],
) -> dict[str, Any]:
    """The full object to create; `digest` is the manifest digest seen at creation, if known.

    The source owns the model through an owner reference, which needs the source's uid. Without one
    (`aimsource sync --out` on a source that is not in any cluster: the GitOps path, where Git owns
    the models) no owner reference is written - the API server refuses an empty uid, and one that
    named no live object would have the garbage collector delete the model."""
    ref = candidate.ref
    annotations = {
        REGISTRY_ANNOTATION: ref.registry,
        REPOSITORY_ANNOTATION: ref.repository,
        TAG_ANNOTATION: ref.tag or "",
    }
    if digest is not None:
        annotations[DIGEST_ANNOTATION] = digest
    spec: dict[str, Any] = {"image": candidate.image}
    if image_pull_secrets:
        spec["imagePullSecrets"] = [{"name": name} for name in image_pull_secrets]
    spec["discovery"] = {"extractMetadata": True, "createServiceTemplates": True}
    return {
        "apiVersion": API_VERSION,
        "kind": MODEL_KIND,
        "metadata": {
            "name": candidate.name,
            "labels": {
                SOURCE_LABEL: source_name,
                AMD_SOURCE_LABEL: source_name,
                ORIGIN_LABEL: ORIGIN_AUTO_GENERATED,
                MANAGED_BY_LABEL: MANAGED_BY,
            },
            "annotations": annotations,
            **(
                {
                    "ownerReferences": [
                        {
                            "apiVersion": API_VERSION,
                            "kind": SOURCE_KIND,
                            "name": source_name,
                            "uid": source_uid,
                            "controller": True,
                            "blockOwnerDeletion": True,
                        }
                    ]
                }
                if source_uid
                else {}
            ),
        },
        "spec": spec,
    }


def existing_model(body: Mapping[str, Any]) -> ExistingModel | None:
    """What a model body (from the API or a manifest file) says of an existing model: the inverse
    of `model_body`. None when it has no `metadata.name` or `spec.image` that is a non-empty
    string; what that means is the caller's to say (the operator's index skips such a model, a
    directory of manifests is refused). The API server's schema never lets either be empty
    (`spec.image` has minLength 1), so one rule serves a cluster and a directory alike.

    The owning source is the `SOURCE_LABEL` label (`owning_source`), not the owner
    reference: a model written by `aimsource sync --out` has no owner reference (no uid outside a
    cluster) and still belongs to its source. Anything that is not a digest in the digest
    annotation (a hand-edited manifest, a user's model) is no digest."""
    metadata = body.get("metadata")
    spec = body.get("spec")
    name = metadata.get("name") if isinstance(metadata, Mapping) else None
    image = spec.get("image") if isinstance(spec, Mapping) else None
    if not isinstance(name, str) or not name or not isinstance(image, str) or not image:
        return None
    annotations = metadata.get("annotations") if isinstance(metadata, Mapping) else None
    digest = annotations.get(DIGEST_ANNOTATION) if isinstance(annotations, Mapping) else None
    return ExistingModel(
        name=name,
        image=canonical_image(image),
        source=owning_source(body),
        digest=digest if is_digest(digest) else None,
    )


def owning_source(body: Mapping[str, Any]) -> str | None:
    """The source a model body belongs to: its `SOURCE_LABEL` label when that is a
    non-empty string (no source has an empty name), else None (a model a person made)."""
    metadata = body.get("metadata")
    labels = metadata.get("labels") if isinstance(metadata, Mapping) else None
    source = labels.get(SOURCE_LABEL) if isinstance(labels, Mapping) else None
    return source if isinstance(source, str) and source else None
