"""The emulator (tests/support/kubeapi*.py) and the real kube-apiserver answer the same request trace
(tests/support/kubeapi_fidelity.py); every way they differ must be a known one, listed in KNOWN here and in
docs/dev/emulator-fidelity.md. A new difference fails, and so does a listed one that went away: fix
the emulator, or list the difference with why the tests that use the emulator can live with it.
"""

from __future__ import annotations

import json
import ssl
from typing import Any

import httpx

from tests.support.kubeapi import KubeAPI
from tests.support.kubeapi_fidelity import compare, replay
from tests.support.realkube import RealKube

MESSAGE = "error messages are worded differently; no client of ours parses them (they are shown as they are)"

# (step, path) -> why it may differ. A path covers everything under it; step "*" means any step, and
# then the path may also be the end of the difference's path.
KNOWN: dict[tuple[str, str], str] = {
    ("*", "metadata.managedFields"): "the emulator keeps no managedFields (no server-side apply either)",
    (
        "create model with unknown field, Warn",
        "warnings",
    ): "no Warning header for fields dropped under fieldValidation=Warn (our client always sends Strict)",
    ("JSON patch status, uid test fails", "body.details"): "kube-apiserver sends empty details",
    (
        "JSON patch status, uid test fails",
        "body.message",
    ): "kube-apiserver's message for a failed `test` is generic; kube/client.py tells a failed uid test"
    " from other 422s by reading the source again, on both",
    (
        "delete model, foreground",
        "body",
    ): "no foreground deletion: the emulator deletes at once (and answers a Status); the real server"
    " answers the object with deletionTimestamp and the foregroundDeletion finalizer until GC is done",
    ("create model with a bad name", "body.message"): MESSAGE,
    ("create model with a bad name", "body.details.causes[0].message"): MESSAGE,
    ("list by a bad label selector", "body.message"): MESSAGE,
    ("list by an unsupported field", "body.message"): MESSAGE,
    ("list models, bad continue", "body.message"): MESSAGE,
    ("patch with a wrong content type", "body.message"): MESSAGE,
    ("update lease without resourceVersion", "body.message"): MESSAGE,
    ("update lease without resourceVersion", "body.details.causes[0].message"): MESSAGE,
    (
        "update lease without resourceVersion",
        "body.details.kind",
    ): "kube-apiserver names the resource (leases) for this one, the kind elsewhere",
    (
        "list source by name",
        "body.metadata.continue",
    ): 'kube-apiserver writes "continue": "" on a custom resource list that asked for a limit; same meaning',
    (
        "watch with a bad resourceVersion",
        "status",
    ): "kube-apiserver answers 500 to an unparsable watch resourceVersion; the emulator's 400 is kept",
    ("watch with a bad resourceVersion", "body"): "see the status code",
}


def is_known(step: str, path: str) -> tuple[str, str] | None:
    for known_step, known_path in KNOWN:
        if known_step not in ("*", step):
            continue
        if path == known_path or path.startswith((known_path + ".", known_path + "[")):
            return (known_step, known_path)
        if known_step == "*" and (
            path.endswith("." + known_path) or f".{known_path}." in path or f".{known_path}[" in path
        ):
            return (known_step, known_path)
    return None


def real_client(kube: RealKube) -> httpx.Client:
    pki = kube.directory / "pki"
    context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    context.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
    return httpx.Client(base_url=kube.server, timeout=30, verify=context)


def shown(found: dict[tuple[str, str], tuple[Any, Any]]) -> str:
    return "\n".join(
        f"{step} | {path} | emulator: {json.dumps(e)[:300]} | real: {json.dumps(r)[:300]}"
        for (step, path), (e, r) in sorted(found.items())
    )


def test_the_emulator_answers_the_operator_trace_as_the_real_server_does(
    real_kube_crds: RealKube, namespace: str, run_id: str, cleanup_cluster_objects: str
) -> None:
    real_values = {"ns": namespace, "run": run_id}
    with real_client(real_kube_crds) as client:
        real = replay(client, real_values)
    emulator_values = {"ns": namespace, "run": run_id}
    with KubeAPI(namespaces=(namespace,)) as api, httpx.Client(base_url=api.url, timeout=30) as client:
        emulated = replay(client, emulator_values)
        assert not api.internal_errors, api.internal_errors

    found = compare(emulated, real, emulator_values, real_values)
    print("\nemulator vs real kube-apiserver:\n" + shown(found))
    new = {key: value for key, value in found.items() if is_known(*key) is None}
    seen = {is_known(*key) for key in found}
    assert not new, "new differences (fix the emulator, or list them in KNOWN and the doc):\n" + shown(new)
    assert not set(KNOWN) - seen, (
        f"listed differences no longer seen (update KNOWN and the doc): {sorted(set(KNOWN) - seen)}"
    )
    # The trace did what it says on the real server (so that agreeing means something).
    assert real["create source"].status == 201
    assert real["JSON patch status, uid test passes"].status == 200
    assert real["JSON patch status, uid test fails"].status == 422
    assert real["update lease with a stale resourceVersion"].status == 409
    assert real["create model with unknown field, Strict"].status == 400
