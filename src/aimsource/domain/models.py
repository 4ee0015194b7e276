"""The body of an `AIMClusterModel` a source creates.

One function builds it so that the cluster store and the directory store (`aimsource sync --out`)
write the very same object. Names, labels and annotation keys (`domain.resources`) are the
reference implementation's (users select on them); the owner reference makes Kubernetes
garbage-collect a source's models when the source is deleted, and `blockOwnerDeletion` keeps the
source around until they are gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aimsource.domain.planning import Candidate
from aimsource.domain.resources import (
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
