"""The kopf side: how kopf logs in, what it watches, and the thin handlers that feed our state.

Only event handlers are registered - no change handlers, timers, daemons or indexes - so kopf
never adds a finalizer to a source (a source stays deletable while the operator is down) and never
patches objects for its own bookkeeping; the persistence settings point at annotations anyway, so
that nothing of kopf's can land in `status`, which the CRD would prune. Every handler is a
coroutine: kopf runs synchronous handlers in threads, and ours touch loop-bound state.

kopf watches the sources only. The models are watched by the operator itself
(`state.model_watch`), which is cheaper per event, and indexed by it (`state.inventory`), not by
kopf's indexes, because the index must also be reconciled against LISTs: a watch sends no DELETED
for what went away while it was down. Event type None marks a source of a (re-)listing (`resync`
counts on it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol, cast

import kopf

from aimsource.domain.resources import GROUP, SOURCE_PLURAL, VERSION
from aimsource.kube import KubeConfig
from aimsource.operator.state.resync import PAGE_SIZE

ANNOTATION_PREFIX = "aimsource.eai.amd.com"


class OperatorHooks(Protocol):
    """What the handlers hand their events to (implemented in `main`)."""

    def source_event(self, event_type: str | None, body: Mapping[str, Any]) -> None: ...
    async def stopping(self) -> None: ...


def connection_info(config: KubeConfig) -> kopf.ConnectionInfo:
    """kopf logs in with exactly what our own client uses (in-cluster or kubeconfig)."""
    token = config.token
    if config.token_file:
        with open(config.token_file) as f:
            token = f.read().strip()
    return kopf.ConnectionInfo(
        server=config.server,
        ca_path=config.ca_file,
        ca_data=config.ca_data,
        insecure=config.insecure or None,
        username=config.username,
        password=config.password,
        scheme="Bearer" if token else None,
        token=token,
        certificate_path=config.client_cert_file,
        certificate_data=config.client_cert_data,
        private_key_path=config.client_key_file,
        private_key_data=config.client_key_data,
        default_namespace=config.namespace,
    )


class NoEssenceStorage(kopf.AnnotationsDiffBaseStorage):
    """Annotations as the diff base (never written: kopf writes it only for change handlers), but
    no essence built. kopf builds every event's essence - a deep copy of the whole body, its
    managedFields included - for change and daemon handlers, which we do not register (when kopf
    still watched the models, that was 0.5 s of the operator's 8 s of CPU in a first sync of 2,000
    models, benchmarks/first_sync.py). An empty essence makes every diff empty, which matters to
    nothing here: event handlers are called on every event whatever the diff."""

    def build(
        self, *, body: kopf.Body, extra_fields: Iterable[kopf.FieldSpec] | None = None
    ) -> kopf.BodyEssence:
        return {}


def kopf_settings() -> kopf.OperatorSettings:
    """kopf settings for an operator that only watches."""
    settings = kopf.OperatorSettings()
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=ANNOTATION_PREFIX)
    settings.persistence.diffbase_storage = NoEssenceStorage(prefix=ANNOTATION_PREFIX)
    settings.posting.enabled = False  # our events are posted by the reconciler, on change only
    settings.scanning.disabled = True  # the CRDs come with the operator; no RBAC to watch CRDs
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.watching.connect_timeout = 10
    # Initial lists and re-lists in pages (limit/continue): kopf keeps one page in memory at a time.
    settings.watching.chunk_size = PAGE_SIZE
    settings.networking.request_timeout = 60
    settings.peering.standalone = True  # our Lease elects the leader; every replica watches
    # On exit, events still queued only feed the in-memory index of a process that is ending:
    # not worth kopf's default 2 s before the cleanup releases the Lease (operator/exiting.py).
    settings.queueing.exit_timeout = 0.3
    return settings


def build_registry(config: KubeConfig, hooks: OperatorHooks) -> kopf.OperatorRegistry:
    registry = kopf.OperatorRegistry()

    # kopf passes each handler many keyword arguments of its own (typed Any by kopf itself); these
    # handlers take what they use by name and ignore the rest.
    @kopf.on.login(registry=registry)
    async def login(**_: Any) -> kopf.ConnectionInfo:
        return connection_info(config)

    @kopf.on.cleanup(registry=registry)
    async def cleanup(**_: Any) -> None:
        # kopf gives tasks it did not start 5 s to finish on its own before cancelling them; the
        # workers must stop (and the Lease be released) the moment the operator is told to stop.
        await hooks.stopping()

    @kopf.on.event(GROUP, VERSION, SOURCE_PLURAL, registry=registry)
    async def source_event(type: str | None, body: kopf.Body, **_: Any) -> None:
        hooks.source_event(type, _plain(body))

    return registry


def _plain(body: kopf.Body) -> dict[str, Any]:
    """A detached plain-dict copy: kopf's Body is a live view that changes under our feet."""
    return cast(dict[str, Any], _copy(dict(body)))


def _copy(value: object) -> object:
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value
