"""Every object `kubectl apply -k deploy/` sends is valid for the Kubernetes API, field by field.

`kubectl kustomize` only assembles YAML; a misspelt field (`readinesProbe`) or a wrong type would
pass it and fail, or be dropped, on a real cluster. Without an API server on these machines, the
objects are checked in strict mode against the official OpenAPI schemas that the
`kubernetes-validate` package ships, for the oldest Kubernetes we support (1.29: the CRDs' CEL rule
is GA there) and the newest the package knows.
"""

from __future__ import annotations

from typing import Any

import kubernetes_validate  # a test extra: missing, the import fails the run
import pytest

from tests.deploy.manifests import DEPLOY, render

OLDEST_SUPPORTED = "1.29.0"


def _id(obj: dict[str, Any]) -> str:
    meta = obj["metadata"]
    where = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{obj['kind']}/{where}{meta['name']}"


@pytest.fixture(scope="module")
def objects() -> list[dict[str, Any]]:
    return render(DEPLOY)


@pytest.mark.parametrize("version", [OLDEST_SUPPORTED, "latest"])
def test_rendered_objects_match_the_kubernetes_schemas(version: str, objects: list[dict[str, Any]]) -> None:
    wanted = kubernetes_validate.latest_version() if version == "latest" else version
    problems = []
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, wanted, strict=True)
        except kubernetes_validate.ValidationError as exc:
            problems.append(f"{_id(obj)}: {exc.message} at {'.'.join(map(str, exc.path))}")
    assert not problems, "\n".join(problems)


def test_validator_rejects_a_misspelt_field(objects: list[dict[str, Any]]) -> None:
    # The check above must be able to fail: strict mode rejects a field the API does not know.
    (deployment,) = [obj for obj in objects if obj["kind"] == "Deployment"]
    broken = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, OLDEST_SUPPORTED, strict=True)
