"""docs/helm.md's "Switching from kustomize to Helm", run as written on a real control plane.

A control plane of the test's own (the shared one has deploy/'s objects from other tests under the
same names): `kubectl apply -k deploy/`, a source, then `helm install` fails as the page says; the
page's removal commands (install.md's, which a docs test keeps identical) and its `helm install`
line then succeed, and the CRDs and the source are still there.
"""

from __future__ import annotations

import re
import shlex

import pytest

from tests.deploy.helm import helm
from tests.deploy.manifests import DEPLOY
from tests.deploy.markdown import DOCS, code_blocks
from tests.support.realkube import RealKube, private_real_kube

SOURCES = "/apis/aim.eai.amd.com/v1alpha1/aimclustermodelsources"
CRDS = ("aimclustermodelsources.aim.eai.amd.com", "aimclustermodels.aim.eai.amd.com")


def _switch_section() -> str:
    text = (DOCS / "helm.md").read_text()
    match = re.search(r"^## Switching from kustomize to Helm\n(.*?)(?=^## )", text, re.MULTILINE | re.DOTALL)
    assert match
    return match.group(1)


def _commands(program: str) -> list[list[str]]:
    """The command lines of the section's shell blocks that run `program` (continuations joined)."""
    lines = []
    for lang, body in code_blocks(_switch_section()):
        if lang != "sh":
            continue
        for line in body.replace("\\\n", " ").splitlines():
            words = shlex.split(line)
            if words[:1] == [program]:
                lines.append(words[1:])
    return lines


@pytest.mark.real_kube
@pytest.mark.timeout(400)
def test_the_documented_switch_works_after_kubectl_apply_k_deploy() -> None:
    with private_real_kube() as kube:
        _switch(kube)


def _switch(kube: RealKube) -> None:
    kube.kubectl("apply", "--server-side", "-k", str(DEPLOY))
    for crd in CRDS:
        kube.kubectl("wait", "--for=condition=Established", "--timeout=60s", f"crd/{crd}")
    kube.ok(
        "POST",
        SOURCES,
        {
            "apiVersion": "aim.eai.amd.com/v1alpha1",
            "kind": "AIMClusterModelSource",
            "metadata": {"name": "kept-across-the-switch"},
            "spec": {"images": ["registry.example.com/amd/model"]},
        },
    )
    (install,) = _commands("helm")
    refused = helm(*install, kubeconfig=kube.kubeconfig, check=False)
    assert refused.returncode != 0
    assert "exists and cannot be imported into the current release" in refused.stderr
    kind_and_name = re.search(r'(\w+) "([\w-]+)" in namespace "aim-system" exists', refused.stderr)
    assert kind_and_name is not None
    assert f'{kind_and_name.group(1)} "{kind_and_name.group(2)}"' in _switch_section()  # the error quoted

    removals = _commands("kubectl")
    assert len(removals) == 3
    for words in removals:
        kube.kubectl(*words)

    installed = helm(*install, "--wait=false", kubeconfig=kube.kubeconfig)
    assert "STATUS: deployed" in installed.stdout
    for crd in CRDS:
        kube.kubectl("get", f"crd/{crd}")
    kube.ok("GET", f"{SOURCES}/kept-across-the-switch")
    for what in ("deployment/aimsource", "service/aimsource-webhook", "poddisruptionbudget/aimsource"):
        labels = kube.kubectl(
            "-n",
            "aim-system",
            "get",
            what,
            "-o",
            "jsonpath={.metadata.labels.app\\.kubernetes\\.io/managed-by}",
        )
        assert labels.stdout == "Helm", what
