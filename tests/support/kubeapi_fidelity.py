"""A trace of the requests the operator makes, replayed against an API server, with answers normalised
so that two servers' answers can be compared (tests/support/tests/test_kubeapi_fidelity.py,
docs/dev/emulator-fidelity.md).

Each `Step` is one HTTP request; what varies between runs and servers by nature (uids, resource
versions, timestamps, continue tokens, the run's own names) is replaced by placeholders, so whatever
differs after normalising is a difference in behaviour. Steps may read values saved by earlier steps
(`{source_uid}`, `{source_rv}`...) in their paths and bodies.
"""

from __future__ import annotations

import collections
import json
import re
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

GROUP = "/apis/aim.eai.amd.com/v1alpha1"
SOURCES = f"{GROUP}/aimclustermodelsources"
MODELS = f"{GROUP}/aimclustermodels"
LABEL = "aimsource.test/run"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
WRITE = "fieldManager=aimsource"  # what our client adds to every write (kube/transport.py)

_UID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
_VOLATILE = {
    "resourceVersion": "<rv>",
    "continue": "<continue>",
    "creationTimestamp": "<time>",
    "deletionTimestamp": "<time>",
    "time": "<time>",
    "renewTime": "<time>",
    "acquireTime": "<time>",
    "firstTimestamp": "<time>",
    "lastTimestamp": "<time>",
    "eventTime": "<time>",
}

Body = Any | Callable[[Mapping[str, str]], Any]


@dataclass(frozen=True)
class Step:
    name: str
    method: str
    path: str  # formatted with the saved values: "{ns}", "{run}", "{source_uid}"...
    body: Body = None
    content_type: str = "application/json"
    save: Mapping[str, str] = field(default_factory=dict)  # saved name -> dotted path in the answer
    watch_seconds: float = 0.0  # > 0: a watch, read until the server ends it (timeoutSeconds)


@dataclass
class Answer:
    status: int
    body: Any
    warnings: list[str]


def _labels(run: str) -> dict[str, str]:
    return {LABEL: run}


def source(run: str, name: str) -> dict[str, Any]:
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMClusterModelSource",
        "metadata": {"name": f"{name}-{run}", "labels": _labels(run)},
        "spec": {"images": ["registry.example/org/model"], "syncInterval": "1h"},
    }


def model(run: str, name: str, owner_uid: str | None = None, **spec: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": f"{name}-{run}",
        "labels": {**_labels(run), "aim.eai.amd.com/model-source": f"src-{run}"},
    }
    if owner_uid:
        meta["ownerReferences"] = [
            {
                "apiVersion": "aim.eai.amd.com/v1alpha1",
                "kind": "AIMClusterModelSource",
                "name": f"src-{run}",
                "uid": owner_uid,
                "controller": True,
                "blockOwnerDeletion": False,
            }
        ]
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMClusterModel",
        "metadata": meta,
        "spec": spec or {"image": f"registry.example/org/model:{name}"},
    }


def lease(v: Mapping[str, str], holder: str, rv: str | None = None, renewed: str = "00") -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "leader", "namespace": v["ns"]}
    if rv is not None:
        meta["resourceVersion"] = rv
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": meta,
        "spec": {
            "holderIdentity": holder,
            "leaseDurationSeconds": 15,
            "renewTime": f"2030-01-01T00:00:{renewed}.000000Z",
            "acquireTime": "2030-01-01T00:00:00.000000Z",
        },
    }


def event(v: Mapping[str, str], namespace: str = "default") -> dict[str, Any]:
    """An Event about a source, as the operator posts it: in "default", the object being cluster-scoped."""
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"src-{v['run']}.1", "namespace": namespace},
        "involvedObject": {
            "apiVersion": "aim.eai.amd.com/v1alpha1",
            "kind": "AIMClusterModelSource",
            "name": f"src-{v['run']}",
            "uid": v["source_uid"],
        },
        "reason": "ModelsCreated",
        "message": "created 2 models",
        "type": "Normal",
        "source": {"component": "aimsource"},
        "reportingComponent": "aimsource",
        "reportingInstance": "replica-a",
        "count": 1,
        "firstTimestamp": "2030-01-01T00:00:00Z",
        "lastTimestamp": "2030-01-01T00:00:00Z",
    }


def by_run(run: str) -> str:
    return f"labelSelector={LABEL}%3D{run}"


TRACE: tuple[Step, ...] = (
    # --- a source and its models, as the operator (and a user) writes them ---------------------
    Step(
        "create source",
        "POST",
        SOURCES + "?" + WRITE + "&fieldValidation=Strict",
        lambda v: source(v["run"], "src"),
        save={"source_uid": "metadata.uid", "source_rv": "metadata.resourceVersion"},
    ),
    Step(
        "create source again",
        "POST",
        SOURCES + "?" + WRITE + "&fieldValidation=Strict",
        lambda v: source(v["run"], "src"),
    ),
    Step(
        "create model",
        "POST",
        MODELS + "?" + WRITE + "&fieldValidation=Strict",
        lambda v: model(v["run"], "m1", v["source_uid"]),
    ),
    Step(
        "create second model",
        "POST",
        MODELS + "?" + WRITE + "&fieldValidation=Strict",
        lambda v: model(v["run"], "m2", v["source_uid"]),
    ),
    Step(
        "create model with unknown field, Strict",
        "POST",
        MODELS + "?" + WRITE + "&fieldValidation=Strict",
        lambda v: model(v["run"], "m3", image="registry.example/org/model:m3", colour="blue"),
    ),
    Step(
        "create model with unknown field, Warn",
        "POST",
        MODELS + "?" + WRITE + "&fieldValidation=Warn",
        lambda v: model(v["run"], "m4", image="registry.example/org/model:m4", colour="blue"),
    ),
    Step(
        "create model without image",
        "POST",
        MODELS + "?" + WRITE + "&fieldValidation=Strict",
        lambda v: model(v["run"], "m5", servedModel="x"),
    ),
    Step(
        "create model with a bad name",
        "POST",
        MODELS + "?" + WRITE,
        lambda v: dict(model(v["run"], "m6"), metadata={"name": f"Bad_Name-{v['run']}"}),
    ),
    Step(
        "bad fieldValidation",
        "POST",
        MODELS + "?" + WRITE + "&fieldValidation=Loud",
        lambda v: model(v["run"], "m7"),
    ),
    Step("get missing model", "GET", MODELS + "/missing-{run}"),
    # --- status writes: merge, and the uid-guarded JSON patch of kube/client.py -------------------
    Step(
        "merge patch status",
        "PATCH",
        SOURCES + "/src-{run}/status?" + WRITE,
        {"status": {"status": "Ready", "discoveredModels": 2}},
        MERGE,
    ),
    Step(
        "merge patch spec through status",
        "PATCH",
        SOURCES + "/src-{run}/status?" + WRITE,
        {"spec": {"syncInterval": "2h"}},
        MERGE,
    ),
    Step(
        "JSON patch status, uid test passes",
        "PATCH",
        SOURCES + "/src-{run}/status?" + WRITE,
        lambda v: [
            {"op": "test", "path": "/metadata/uid", "value": v["source_uid"]},
            {"op": "add", "path": "/status", "value": {"status": "Degraded", "discoveredModels": 1}},
        ],
        JSON_PATCH,
    ),
    Step(
        "JSON patch status, uid test fails",
        "PATCH",
        SOURCES + "/src-{run}/status?" + WRITE,
        [
            {"op": "test", "path": "/metadata/uid", "value": "00000000-0000-0000-0000-000000000000"},
            {"op": "add", "path": "/status", "value": {"status": "Failed"}},
        ],
        JSON_PATCH,
    ),
    Step(
        "JSON patch status of a missing source",
        "PATCH",
        SOURCES + "/gone-{run}/status?" + WRITE,
        [{"op": "test", "path": "/metadata/uid", "value": "00000000-0000-0000-0000-000000000000"}],
        JSON_PATCH,
    ),
    Step(
        "merge patch spec",
        "PATCH",
        SOURCES + "/src-{run}?" + WRITE,
        {
            "metadata": {"annotations": {"aim.eai.amd.com/sync-requested-at": "2030-01-01T00:00:00Z"}},
            "spec": {"maxModels": 5},
        },
        MERGE,
    ),
    Step(
        "patch with a wrong content type",
        "PATCH",
        SOURCES + "/src-{run}?" + WRITE,
        {"spec": {"maxModels": 6}},
        "application/json",
    ),
    Step("get source", "GET", SOURCES + "/src-{run}"),
    # --- lists as the operator pages and filters them ----------------------------------------
    Step(
        "list models by label, limit 1",
        "GET",
        MODELS + "?" + by_run("{run}") + "&limit=1",
        save={"continue": "metadata.continue"},
    ),
    Step("list models, continue", "GET", MODELS + "?" + by_run("{run}") + "&limit=1&continue={continue}"),
    Step("list models, bad continue", "GET", MODELS + "?limit=1&continue=bm9wZQ"),
    Step("list source by name", "GET", SOURCES + "?fieldSelector=metadata.name%3Dsrc-{run}&limit=1"),
    Step("list by an unsupported field", "GET", MODELS + "?fieldSelector=spec.image%3Dx"),
    Step("list by a bad label selector", "GET", MODELS + "?labelSelector=a%3D%3D%3Db"),
    # --- watches: from a resourceVersion (replayed changes), with bookmarks; the initial events --
    Step(
        "watch models from the source's rv",
        "GET",
        MODELS
        + "?watch=true&"
        + by_run("{run}")
        + "&resourceVersion={source_rv}&allowWatchBookmarks=true&timeoutSeconds=2",
        watch_seconds=2,
    ),
    Step(
        "watch sources with initial events",
        "GET",
        SOURCES
        + "?watch=true&"
        + by_run("{run}")
        + "&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true"
        + "&timeoutSeconds=2",
        watch_seconds=2,
    ),
    Step(
        "watch with a bad resourceVersion",
        "GET",
        MODELS + "?watch=true&resourceVersion=abc&timeoutSeconds=1",
        watch_seconds=1,
    ),
    # --- a pull secret, events, the Lease ------------------------------------------------------
    Step(
        "create secret",
        "POST",
        "/api/v1/namespaces/{ns}/secrets?" + WRITE,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "pull"},
            "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": "e30="},
        },
    ),
    Step("get secret", "GET", "/api/v1/namespaces/{ns}/secrets/pull"),
    Step("get missing secret", "GET", "/api/v1/namespaces/{ns}/secrets/absent"),
    Step("create event", "POST", "/api/v1/namespaces/default/events?" + WRITE, event),
    Step(
        "create event of a cluster-scoped object elsewhere",
        "POST",
        "/api/v1/namespaces/{ns}/events?" + WRITE,
        lambda v: event(v, v["ns"]),
    ),
    Step(
        "patch event count",
        "PATCH",
        "/api/v1/namespaces/default/events/src-{run}.1?" + WRITE,
        {"count": 2, "lastTimestamp": "2030-01-01T00:01:00Z"},
        "application/strategic-merge-patch+json",
    ),
    Step("get missing lease", "GET", "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases/leader"),
    Step(
        "create lease",
        "POST",
        "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases?" + WRITE,
        lambda v: lease(v, "replica-a"),
        save={"lease_rv": "metadata.resourceVersion"},
    ),
    Step(
        "update lease",
        "PUT",
        "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases/leader?" + WRITE,
        lambda v: lease(v, "replica-a", v["lease_rv"], renewed="02"),  # a renewal: a new resourceVersion
    ),
    Step(
        "update lease with a stale resourceVersion",
        "PUT",
        "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases/leader?" + WRITE,
        lambda v: lease(v, "replica-b", v["lease_rv"]),
    ),
    Step(
        "update lease without resourceVersion",
        "PUT",
        "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases/leader?" + WRITE,
        lambda v: lease(v, "replica-b"),
    ),
    Step(
        "create lease in a missing namespace",
        "POST",
        "/apis/coordination.k8s.io/v1/namespaces/absent-{run}/leases?" + WRITE,
        lambda v: dict(lease(v, "x"), metadata={"name": "leader"}),
    ),
    Step("delete event", "DELETE", "/api/v1/namespaces/default/events/src-{run}.1"),
    # --- deletions -------------------------------------------------------------------------------
    Step("delete model, foreground", "DELETE", MODELS + "/m2-{run}?propagationPolicy=Foreground"),
    Step(
        "delete source, background",
        "DELETE",
        SOURCES + "/src-{run}",
        {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Background"},
    ),
    Step("delete missing source", "DELETE", SOURCES + "/src-{run}"),
    Step(
        "delete with a uid precondition",
        "DELETE",
        MODELS + "/m4-{run}",
        {
            "apiVersion": "v1",
            "kind": "DeleteOptions",
            "preconditions": {"uid": "00000000-0000-0000-0000-000000000000"},
        },
    ),
)


def _dig(obj: Any, path: str) -> Any:
    for part in path.split("."):
        obj = obj.get(part) if isinstance(obj, Mapping) else None
    return obj


def replay(client: httpx.Client, values: dict[str, str]) -> dict[str, Answer]:
    """Every step of TRACE against the server behind `client`; `values` holds "ns" and "run"."""
    answers: dict[str, Answer] = {}
    for step in TRACE:
        quoted = collections.defaultdict(str, {k: urllib.parse.quote(v, safe="") for k, v in values.items()})
        path = step.path.format_map(quoted)
        body = step.body(values) if callable(step.body) else step.body
        headers = {"Accept": "application/json"}
        content = None
        if body is not None:
            content = json.dumps(body).encode()
            headers["Content-Type"] = step.content_type
        if step.watch_seconds:
            answers[step.name] = _watch(client, path, step.watch_seconds)
            continue
        response = client.request(step.method, path, content=content, headers=headers)
        try:
            decoded = response.json()
        except ValueError:
            decoded = response.text
        answers[step.name] = Answer(response.status_code, decoded, response.headers.get_list("Warning"))
        for name, where in step.save.items():
            found = _dig(decoded, where)
            if found is not None:
                values[name] = str(found)
    return answers


def _watch(client: httpx.Client, path: str, seconds: float) -> Answer:
    events: list[Any] = []
    deadline = time.monotonic() + seconds + 10  # the server ends it; this is a guard only
    with client.stream("GET", path, headers={"Accept": "application/json"}) as response:
        if response.status_code != 200:
            response.read()
            return Answer(response.status_code, response.json(), response.headers.get_list("Warning"))
        for line in response.iter_lines():
            if line.strip():
                events.append(json.loads(line))
            if time.monotonic() > deadline:
                break
    return Answer(200, {"events": events}, response.headers.get_list("Warning"))


def normalise(value: Any, values: Mapping[str, str], key: str = "") -> Any:
    """Placeholders for what varies by nature: uids, versions, times, tokens, this run's names."""
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if k in _VOLATILE and isinstance(v, str) and v:
                out[k] = _VOLATILE[k]
            elif k == "managedFields" and isinstance(v, list):
                out[k] = [
                    {f: e.get(f) for f in ("manager", "operation", "subresource", "apiVersion")} for e in v
                ]
            else:
                out[k] = normalise(v, values, k)
        return out
    if isinstance(value, list):
        return [normalise(v, values, key) for v in value]
    if isinstance(value, str):
        text = value.replace(values["run"], "RUN").replace(values["ns"], "NS")
        text = _UID.sub("<uid>", text)
        return _TIME.sub("<time>", text)
    return value


def differences(a: Any, b: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Where two normalised answers differ: (dotted path, a's value, b's value); a missing key is
    reported at its own path, and lists of different lengths as a whole."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        found = []
        for k in sorted(set(a) | set(b)):
            sub = f"{path}.{k}" if path else str(k)
            if k not in a or k not in b:
                found.append((sub, a.get(k, "<absent>"), b.get(k, "<absent>")))
            else:
                found.extend(differences(a[k], b[k], sub))
        return found
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [
            d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y, f"{path}[{i}]")
        ]
    return [] if a == b else [(path, a, b)]


def compare(
    emulator: Mapping[str, Answer], real: Mapping[str, Answer], ev: Mapping[str, str], rv: Mapping[str, str]
) -> dict[tuple[str, str], tuple[Any, Any]]:
    """Every difference of the two replays, by (step, path): path "status" for the HTTP code,
    "warnings" for Warning headers, "body...." inside the answer."""
    found: dict[tuple[str, str], tuple[Any, Any]] = {}
    for step in TRACE:
        e, r = emulator[step.name], real[step.name]
        left = {"status": e.status, "warnings": normalise(e.warnings, ev), "body": normalise(e.body, ev)}
        right = {"status": r.status, "warnings": normalise(r.warnings, rv), "body": normalise(r.body, rv)}
        for path, x, y in differences(left, right):
            found[(step.name, path)] = (x, y)
    return found
