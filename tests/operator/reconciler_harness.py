"""The reconciler on the emulated API server, for tests/operator/test_reconciler*.py and
test_source_table*.py.

`Harness` runs one Reconciler in the test's loop against the emulator (real HTTP through our
KubeClient); the registry is a double of the sync's `TagLister` port, and the model index is fed
from the API the way the watch feeds it in the operator. The `harness` fixture is in conftest.py.
"""

from __future__ import annotations

from typing import Any

from aimsource.domain.pushes.payloads import Push
from aimsource.domain.selection.planning import ExistingModel
from aimsource.kube import KubeClient
from aimsource.operator.metrics import Metrics
from aimsource.operator.scheduling.schedule import Policy
from aimsource.operator.state.index import IndexedModelStore, existing_model, model_image_reader
from aimsource.operator.syncing.reconciler import Reconciler
from tests.support.kubeapi import KubeAPI
from tests.sync.doubles import RecordingLister

SOURCES, MODELS = "aimclustermodelsources", "aimclustermodels"
REPO = "reg.example.com/org/model"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class Harness:
    def __init__(self, api: KubeAPI, kube: KubeClient) -> None:
        self.api = api
        self.kube = kube
        self.clock = Clock()
        self.lister = RecordingLister(tags={REPO: ["1.0.0", "1.1.0"]})
        self.by_image: dict[str, list[ExistingModel]] = {}
        self.by_source: dict[str, list[str]] = {}
        self.store = store = IndexedModelStore(
            create=kube.create_model, clock=self.clock, read_image=model_image_reader(kube)
        )
        store.bind(by_image=self.by_image, by_source=self.by_source)
        self.metrics = Metrics()
        self.reconciler = Reconciler(
            kube=kube,
            lister=self.lister,
            store=store,
            namespace="aim-system",
            metrics=self.metrics,
            policy=Policy(),
            clock=self.clock,
        )

    def watch(self, name: str = "src") -> None:
        """Deliver what the watch would: the source as stored, and the models into the index."""
        self.by_image.clear()
        self.by_source.clear()
        for body in self.api.list(MODELS):
            model = existing_model(body)
            assert model is not None
            self.by_image.setdefault(model.image, []).append(model)
            if model.source:
                self.by_source.setdefault(model.source, []).append(model.name)
        self.store.observed(None)
        self.reconciler.on_source_event("MODIFIED", self.api.get(SOURCES, name))

    async def sync(self, name: str = "src") -> None:
        self.clock.now += 60
        self.api.reset_requests()
        await self.reconciler.sync_one(name)

    def status_writes(self) -> list[str]:
        return [r.verb for r in self.api.requests if r.subresource == "status"]

    def events(self) -> list[tuple[str, str]]:
        return [(e["type"], e["reason"]) for e in self.api.list("events", namespace="default")]


def new_source(api: KubeAPI, spec: dict[str, Any] | None = None) -> None:
    api.create(
        SOURCES,
        {
            "apiVersion": "aim.eai.amd.com/v1alpha1",
            "kind": "AIMClusterModelSource",
            "metadata": {"name": "src"},
            "spec": spec or {"images": [REPO]},
        },
    )


REGISTRY, _, REPOSITORY = REPO.partition("/")


def pushed(tag: str | None, repository: str = REPOSITORY) -> Push:
    return Push(REGISTRY, repository, tag)


async def settled(harness: Harness, spec: dict | None = None) -> dict:
    new_source(harness.api, spec)
    harness.watch()
    await harness.sync()
    harness.watch()
    status = harness.api.get(SOURCES, "src")["status"]
    assert status["status"] == "Ready"
    return status
