"""Leader election on a coordination.k8s.io/v1 Lease, with client-go's rules.

Only the holder of the Lease syncs. A candidate takes the Lease when it is
absent, released (no holder) or expired; expiry is judged by when *this*
process last saw the record change plus the lease duration (client-go's
observed-time rule), never by comparing the holder's timestamps with our clock,
so clock skew between nodes cannot make two leaders. Every write carries the
resourceVersion that was read, so two candidates racing for one Lease get one
winner and one 409.

The holder renews every `retry_period`. It stops leading at once when the
renewal meets a conflict or finds another holder, and when no renewal has
succeeded for `renew_deadline` (which is shorter than the lease duration, so it
stops before anyone else may take over). On shutdown it releases the Lease so a
standby takes over without waiting for expiry.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import inspect
import logging
import os
import random
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from aimsource.domain.options import values
from aimsource.domain.options.declared import option
from aimsource.kube.client import KubeClient
from aimsource.kube.config import DEFAULT_OPERATOR_NAMESPACE
from aimsource.kube.errors import AlreadyExistsError, ConflictError, KubeError, NotFoundError
from aimsource.kube.names import name_segment, namespace_segment

logger = logging.getLogger("aimsource.lease")

Callback = Callable[[], Awaitable[None] | None]


def default_identity() -> str:
    """The pod name (HOSTNAME) plus the process id, unique among replicas and restarts."""
    return f"{os.environ.get('HOSTNAME') or socket.gethostname()}_{os.getpid()}"


DEFAULT_LEASE_DURATION = 15.0
RENEW_DEADLINE = 2 / 3
RETRY_PERIOD = 2 / 15
LATENCY_BUDGET = 0.15
STALL_TOLERANCE_SHARE = RENEW_DEADLINE - RETRY_PERIOD - LATENCY_BUDGET
"""Shares of the lease duration; the defaults are client-go's (lease 15 s, renew deadline 10 s,
retry 2 s). The holder stops leading when no renewal succeeded for the renew deadline, and renews
every retry period; so its loop may stall (a long synchronous step, CPU throttling under the
Deployment's limit) for the deadline, less one retry period, less the time a renewal takes (GET +
PUT; LATENCY_BUDGET, measured under a starved loop on a real API server at well under a second:
tests/realkube/test_semantics_lease.py) without losing the Lease: 5.75 s by default. A standby
checks the Lease every half retry period and, once it knows when the Lease expires, wakes then: it
takes over at most the lease duration plus one of its checks (16.2 s by default) after the last
renewal of a leader that died, about 5 s after that leader stopped syncing."""
STALL_TOLERANCE = DEFAULT_LEASE_DURATION * STALL_TOLERANCE_SHARE


@dataclass(frozen=True)
class LeaseSettings:
    """Where the Lease is and how fast it moves (the operator's timings unless told otherwise)."""

    namespace: str = DEFAULT_OPERATOR_NAMESPACE
    """The operator namespace."""
    name: str = field(
        default="aimsource-leader",
        metadata=option(
            "--lease-name",
            "NAME",
            values.text,
            "name of the leader-election Lease (RBAC lets the operator update only this one)",
            detail="; if you change it, change the name in `deploy/operator/role.yaml` too",
        ),
    )
    """The Lease's name in that namespace."""
    identity: str = field(
        default_factory=default_identity,
        metadata=option(
            "--identity",
            "NAME",
            values.text,
            "this replica's name in the Lease",
            default_text="hostname-pid",
            chart=None,
        ),
    )
    """This candidate's holderIdentity."""
    lease_duration: float = field(
        default=DEFAULT_LEASE_DURATION,
        metadata=option(
            "--lease-duration",
            "DURATION",
            values.positive_duration,
            "how long a Lease stays valid without renewal",
            detail=": a standby takes over at most this long plus a second after the leader dies "
            "([lifecycle.md](lifecycle.md#leader-election)); the leader renews every 2/15 of it and "
            "gives up after two thirds (client-go's 2 s and 10 s of 15 s), so its event loop may stall "
            "for over a third of it without losing the Lease",
            via="lasting",
        ),
    )
    """Seconds a standby waits, after last seeing the record change, before taking the Lease."""
    renew_deadline: float = DEFAULT_LEASE_DURATION * RENEW_DEADLINE
    """Seconds the holder keeps trying to renew before it stops leading."""
    retry_period: float = DEFAULT_LEASE_DURATION * RETRY_PERIOD
    """Seconds between two attempts to acquire or renew."""

    def lasting(self, duration: float) -> LeaseSettings:
        """These settings with a lease of `duration` seconds, its renew deadline and retry period
        the same shares of it as by default (`--lease-duration`)."""
        return replace(
            self,
            lease_duration=duration,
            renew_deadline=duration * RENEW_DEADLINE,
            retry_period=duration * RETRY_PERIOD,
        )

    def __post_init__(self) -> None:
        if not 0 < self.retry_period < self.renew_deadline < self.lease_duration:
            raise ValueError("lease timings must satisfy 0 < retry_period < renew_deadline < lease_duration")


def _micro_time() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LeaseElector:
    """`await elector.run()` (cancel it to stop); the callbacks say when leading starts and stops."""

    def __init__(
        self,
        client: KubeClient,
        settings: LeaseSettings | None = None,
        *,
        on_started_leading: Callback | None = None,
        on_stopped_leading: Callback | None = None,
    ) -> None:
        self._client = client
        self.settings = settings or LeaseSettings()
        self._on_started = on_started_leading
        self._on_stopped = on_stopped_leading
        self._leader = False
        self._observed: tuple[Any, ...] | None = None
        self._observed_at = 0.0
        # Checked and escaped: InvalidNameError (a KubeError) here, at start-up, rather than odd paths later.
        self._path = (
            f"/apis/coordination.k8s.io/v1/namespaces/{namespace_segment(self.settings.namespace)}"
            f"/leases/{name_segment(self.settings.name, 'lease name')}"
        )

    @property
    def identity(self) -> str:
        return self.settings.identity

    async def run(self) -> None:
        """Campaign, lead, and campaign again after losing; releases the Lease when cancelled."""
        try:
            while True:
                await self._campaign()
                await self._lead()
        finally:
            if self._leader:
                await self._stop_leading("shutting down")
                # Bounded: a release that cannot finish quickly (the API is gone, or a request
                # cancelled mid-flight left the connection pool stuck) must not hold up shutdown;
                # the Lease then simply expires after its duration.
                with contextlib.suppress(KubeError, asyncio.CancelledError, TimeoutError):
                    async with asyncio.timeout(self.settings.renew_deadline):
                        await asyncio.shield(self.release())

    async def _campaign(self) -> None:
        while True:
            try:
                if await self.try_acquire_or_renew():
                    self._leader = True
                    logger.info("Started leading", extra={"identity": self.identity})
                    await _call(self._on_started)
                    return
            except KubeError as e:
                logger.warning("Could not acquire the lease: %s", e)
            await asyncio.sleep(self._next_look())

    def _next_look(self) -> float:
        """Seconds until a standby looks at the Lease again: every half retry period (jittered), or
        just after the observed record expires, whichever comes first, so that a takeover comes
        at most one look after the expiry rather than a whole retry period."""
        period = self.settings.retry_period / 2 * (1 + 0.2 * random.random())
        if self._observed is None:
            return period
        duration = self._observed[4] or self.settings.lease_duration
        until_expiry = self._observed_at + float(duration) - asyncio.get_running_loop().time()
        return max(0.01, min(period, until_expiry + 0.01))

    async def _lead(self) -> None:
        loop = asyncio.get_running_loop()
        renewed_at = loop.time()
        while self._leader:
            await asyncio.sleep(self.settings.retry_period)
            remaining = renewed_at + self.settings.renew_deadline - loop.time()
            if remaining <= 0:
                await self._stop_leading("no renewal succeeded within the renew deadline")
                return
            try:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
                # that arrives as the renewal completes, and the elector would never stop.
                async with asyncio.timeout(remaining):
                    renewed = await self.try_acquire_or_renew()
            except ConflictError:
                await self._stop_leading("the lease was changed by another candidate (conflict)")
                return
            except TimeoutError:
                await self._stop_leading("no renewal succeeded within the renew deadline")
                return
            except KubeError as e:
                logger.warning("Lease renewal failed, retrying until the renew deadline: %s", e)
                continue
            if not renewed:
                await self._stop_leading("the lease is held by another candidate")
                return
            renewed_at = loop.time()

    async def _stop_leading(self, why: str) -> None:
        self._leader = False
        logger.warning("Stopped leading: %s", why)
        await _call(self._on_stopped)

    async def try_acquire_or_renew(self) -> bool:
        """One attempt: True when we hold the Lease afterwards. ConflictError when another write won."""
        now = _micro_time()
        spec: dict[str, Any] = {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": _seconds(self.settings.lease_duration),
            "acquireTime": now,
            "renewTime": now,
            "leaseTransitions": 0,
        }
        try:
            lease = await self._client.request("GET", self._path)
        except NotFoundError:
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": self.settings.name, "namespace": self.settings.namespace},
                "spec": spec,
            }
            try:
                await self._client.request("POST", self._path.rsplit("/", 1)[0], json=body)
            except AlreadyExistsError:
                return False
            self._observe(spec)
            return True
        old = lease.get("spec") or {}
        self._observe(old)
        holder = old.get("holderIdentity") or ""
        if holder and holder != self.identity and not self._expired(old):
            return False
        if holder == self.identity:
            spec["acquireTime"] = old.get("acquireTime") or now
            spec["leaseTransitions"] = old.get("leaseTransitions") or 0
        else:
            spec["leaseTransitions"] = (old.get("leaseTransitions") or 0) + 1
        lease["spec"] = spec  # metadata.resourceVersion stays: a stale write gets 409
        await self._client.request("PUT", self._path, json=lease)
        self._observe(spec)
        return True

    async def release(self) -> None:
        """Give the Lease up (empty holder), so that a standby takes it at once."""
        lease = await self._client.request("GET", self._path)
        spec = lease.get("spec") or {}
        if spec.get("holderIdentity") != self.identity:
            return
        now = _micro_time()
        lease["spec"] = dict(spec, holderIdentity="", leaseDurationSeconds=1, renewTime=now, acquireTime=now)
        await self._client.request("PUT", self._path, json=lease)
        logger.info("Released the lease")

    def _observe(self, spec: dict[str, Any]) -> None:
        record = (
            spec.get("holderIdentity"),
            spec.get("renewTime"),
            spec.get("acquireTime"),
            spec.get("leaseTransitions"),
            spec.get("leaseDurationSeconds"),
        )
        if record != self._observed:
            self._observed = record
            self._observed_at = asyncio.get_running_loop().time()  # the loop's clock: fake under looptime

    def _expired(self, spec: dict[str, Any]) -> bool:
        duration = spec.get("leaseDurationSeconds") or self.settings.lease_duration
        return bool(self._observed_at + float(duration) <= asyncio.get_running_loop().time())


def _seconds(value: float) -> int:
    return max(1, round(value))


async def _call(callback: Callback | None) -> None:
    if callback is not None:
        result = callback()
        if inspect.isawaitable(result):
            await result
