"""`aimsource run`: assemble the operator's parts and run them on one event loop until stopped.

kopf watches the sources and `ModelWatch` the models (every replica); the Lease elector switches
the worker pool on and off; the metrics and health endpoints serve the platform. kopf owns
SIGINT/SIGTERM: when it stops, everything else is cancelled and the Lease is released, so a standby
takes over at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from typing import Any, cast

import kopf

from aimsource.domain.pushes.mirrored import as_canonical
from aimsource.kube import KubeClient, KubeConfig, KubeConfigError, load_kube_config
from aimsource.kube.client import FIELD_MANAGER
from aimsource.kube.lease import LeaseElector
from aimsource.operator import handlers
from aimsource.operator.coexistence.contests import Contests
from aimsource.operator.endpoints import (
    EndpointError,
    Guarded,
    Readiness,
    build_apps,
    start_endpoints,
    stop_endpoints,
)
from aimsource.operator.exiting import KopfRun, quiet_generator_exits
from aimsource.operator.logs import setup_logging
from aimsource.operator.metrics import Metrics
from aimsource.operator.reloading import RegistriesFile
from aimsource.operator.settings import OperatorSettings
from aimsource.operator.state.index import IndexedModelStore, model_image_reader
from aimsource.operator.state.inventory import ModelInventory
from aimsource.operator.state.model_watch import ModelWatch
from aimsource.operator.state.resync import CrdNotServedError, Resync
from aimsource.operator.syncing.leadership import WorkerSwitch
from aimsource.operator.syncing.reconciler import Reconciler, run_workers
from aimsource.operator.webhook.receiver import Receiver
from aimsource.operator.webhook.token import WebhookToken, secret_reader
from aimsource.registry.client import RegistryClient
from aimsource.sync.listing_budget import ListingBudget, TagBudget
from aimsource.sync.listing_cache import CachingTagLister

log = logging.getLogger("aimsource.operator")


class OperatorStartError(Exception):
    """The operator cannot start (no cluster configuration, a port taken); the message says why."""


class Operator:
    """The operator's state shared by kopf's handlers, the workers and the endpoints."""

    def __init__(
        self, settings: OperatorSettings, kube: KubeClient, registry: RegistryClient, metrics: Metrics
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.inventory = ModelInventory()
        self.store = IndexedModelStore(
            create=kube.create_model,
            clock=time.monotonic,
            read_image=model_image_reader(kube),
            by_image=self.inventory.by_image,
            by_source=self.inventory.by_source,
        )
        # The operator keeps the last good listing of each repository (the CLI keeps none).
        self.lister = CachingTagLister(
            registry,
            max_age=settings.stale_listing_max_age,
            max_entries=settings.listing_cache_max_entries,
            max_tags=settings.listing_cache_max_tags,
            observer=metrics,
            mirror_hosts=lambda name: [m.host for m in registry.registries.mirrors(name)],
        )
        self.reconciler = Reconciler(
            kube=kube,
            lister=self.lister,
            store=self.store,
            namespace=settings.namespace,
            metrics=metrics,
            policy=settings.schedule,
            max_syncs_per_host=settings.schedule.max_syncs_per_host,
            push_limits=settings.pushes,
            learn_repository=self.lister.learn,
            listing_budget=ListingBudget(
                max_tags=settings.registry.max_tags,
                per_sync=settings.sync_listing_tags,
                process=TagBudget(max(settings.listing_tags, settings.registry.max_tags)),
            ),
            contests=Contests(
                ours=FIELD_MANAGER,
                window=settings.competing_controller_window,
                enabled=not settings.contend_with_other_controllers,
                on_count=metrics.set_contested,
            ),
        )
        self.resync = Resync(
            kube=kube,
            inventory=self.inventory,
            sources=self.reconciler,
            on_models_changed=lambda: self.store.observed(None),
            interval=settings.schedule.resync_interval,
            crd_wait=settings.crd_wait,
        )
        self.model_watch = ModelWatch(kube=kube, resync=self.resync, on_event=self.model_event)
        self.switch = WorkerSwitch(
            lambda: run_workers(self.reconciler, settings.schedule.workers), on_change=metrics.set_leading
        )
        self.kopf_ready = asyncio.Event()
        self.kopf_run = KopfRun()
        self.stop_flag = asyncio.Event()
        self.failed = False
        self.elector_task: asyncio.Task[None] | None = None

    def elector_ended(self, task: asyncio.Task[None]) -> None:
        """Leader election never ends on its own: if it does, stop the operator (and exit non-zero)
        rather than run on as a replica that can never lead."""
        if task.cancelled():
            return
        self.failed = True
        log.error("leader election failed", exc_info=task.exception())
        self.stop_flag.set()

    # --- handlers.OperatorHooks ----------------------------------------------------------------
    def source_event(self, event_type: str | None, body: Mapping[str, Any]) -> None:
        self.reconciler.on_source_event(event_type, body)
        if event_type is None:  # only a (re-)listing sends these
            self.resync.relisted()

    def model_event(self, event_type: str, body: Mapping[str, Any]) -> None:
        """An event of the model watch (`ModelWatch`)."""
        deleted = event_type == "DELETED"
        model = self.inventory.apply(body, deleted=deleted)
        self.store.observed(None if model is None else model.image, deleted=deleted)

    async def stopping(self) -> None:
        """Stop syncing and give the Lease up; safe to call more than once."""
        # kopf waits on our stop_flag in a task of its own; stopped by a signal, it would give
        # that task 5 s to end before cancelling it (every SIGTERM took 5 s longer).
        self.stop_flag.set()
        if self.elector_task is not None:
            self.elector_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):  # a failure is logged already
                await self.elector_task
        await self.switch.stop()
        # The Lease is released and no sync runs: kopf gets a moment to end, not its 5 s for tasks.
        self.kopf_run.cut_after()

    # --- readiness -----------------------------------------------------------------------------
    def readiness(self) -> Readiness:
        if not self.resync.listed.is_set():
            return Readiness(False, "first lists of sources and models not complete")
        if not (self.kopf_ready.is_set() and self.model_watch.watching.is_set()):
            return Readiness(False, "not watching yet")
        if self.settings.leader_election:
            if self.elector_task is None or self.elector_task.done():
                return Readiness(False, "leader election is not running")
            return Readiness(True, "leader" if self.switch.leading else "standby")
        return Readiness(True, "leader (no election)")


def run_operator(settings: OperatorSettings) -> int:
    setup_logging(fmt=settings.log_format, level=settings.log_level)
    try:
        config = load_kube_config()
    except KubeConfigError as exc:
        raise OperatorStartError(str(exc)) from exc
    try:
        return asyncio.run(_run(settings, config))
    except (EndpointError, CrdNotServedError) as exc:
        raise OperatorStartError(str(exc)) from exc


async def _run(settings: OperatorSettings, config: KubeConfig) -> int:
    metrics = Metrics()
    registry_client = RegistryClient(
        settings.registry, registries=settings.registries, observer=metrics, endpoint_observer=metrics
    )
    async with KubeClient(config) as kube, registry_client as registry:
        op = Operator(settings, kube, registry, metrics)
        reload_task: asyncio.Task[None] | None = None
        if settings.registries_file:
            registries_file = RegistriesFile(
                settings.registries_file,
                apply=registry.configure,
                reported=metrics.registries_reloaded,
                interval=settings.registries_poll,
            )
            registries_file.poll()  # the file as it is now (the command line checked it already)
            reload_task = asyncio.create_task(registries_file.run(), name="registries-file")
        apps = build_apps(
            metrics=metrics,
            readiness=op.readiness,
            metrics_port=settings.metrics_port,
            health_port=settings.health_port,
        )
        token_task: asyncio.Task[None] | None = None
        guarded: dict[int, Guarded] = {}
        if settings.webhook_port:
            token = WebhookToken(secret_reader(kube, settings.namespace, settings.webhook_secret))
            await token.load()
            token_task = asyncio.create_task(token.run(), name="webhook-token")
            receiver = Receiver(
                token=token.current,
                leading=lambda: op.switch.leading,
                # A push from a mirror counts as a push to the registry it mirrors.
                on_pushes=lambda pushes: op.reconciler.on_pushes(as_canonical(pushes, registry.registries)),
                count=metrics.webhook_request,
                settings=settings.webhook,
                on_connection_closed=metrics.webhook_connection_closed,
            )
            apps[settings.webhook_port] = receiver.app()
            guarded[settings.webhook_port] = receiver.guards
        runners = await start_endpoints(apps, host=settings.listen_host, guarded=guarded)
        log.info(
            "operator starting",
            extra={
                "namespace": settings.namespace,
                "server": config.server,
                "leader_election": settings.leader_election,
                "workers": settings.schedule.workers,
                "max_syncs_per_host": settings.schedule.max_syncs_per_host,
                "webhook_port": settings.webhook_port,
                "contend_with_other_controllers": settings.contend_with_other_controllers,
            },
        )
        resync_task: asyncio.Task[None] | None = None
        watch_task: asyncio.Task[None] | None = None
        try:
            # Nothing syncs and nothing is watched before every existing source and model is known.
            await op.resync.initial()
            resync_task = asyncio.create_task(op.resync.run(), name="index-resync")
            watch_task = asyncio.create_task(op.model_watch.run(), name="model-watch")
            if settings.leader_election:
                elector = LeaseElector(
                    kube,
                    settings.lease,
                    on_started_leading=op.switch.start,
                    on_stopped_leading=op.switch.stop,
                )
                op.elector_task = asyncio.create_task(elector.run(), name="leader-election")
                op.elector_task.add_done_callback(op.elector_ended)
            else:
                op.switch.start()
            quiet_generator_exits(asyncio.get_running_loop())
            await op.kopf_run.run(
                kopf.operator(
                    registry=handlers.build_registry(config, op),
                    settings=handlers.kopf_settings(),
                    clusterwide=True,
                    standalone=True,
                    ready_flag=op.kopf_ready,
                    stop_flag=op.stop_flag,
                    # This replica's identity rather than kopf's guess, which starts from
                    # getpass.getuser(): for a uid without a passwd entry (65532 in our image, the uid
                    # OpenShift assigns) that raises KeyError and the operator dies at start
                    # (tests/deploy/test_image_run.py). kopf types it as peering.Identity, a NewType
                    # of str that it does not export.
                    identity=cast(Any, settings.lease.identity),
                )
            )
        finally:
            for task in (resync_task, watch_task):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            if token_task is not None:
                token_task.cancel()
            if reload_task is not None:
                reload_task.cancel()
            await op.stopping()
            await stop_endpoints(runners)
            log.info("operator stopped")
        return 1 if op.failed else 0
