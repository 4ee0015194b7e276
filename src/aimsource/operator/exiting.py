"""A prompt, quiet exit: kopf's run is cut short once our own shutdown is done.

On SIGTERM kopf stops its watchers, runs our cleanup (`Operator.stopping`: workers cancelled, the
Lease released), then waits up to 5 s for every task started after it ("hung" tasks) before it
cancels them. Under load - a busy model watch during a big sync - a watcher can be one of them, and
every such exit took 5 s more (measured: 5.6 s and 6.6 s after the signal; kopf_settings also
shortens kopf's wait for queued events before the cleanup, 2 s by default). Once the Lease is
released and the workers are gone nothing is left worth waiting for, so `KopfRun.cut_after` cancels
kopf's run after a short grace.

A watcher cancelled while it handles an event leaves kopf's watch-stream generator suspended; the
loop closes it when `asyncio.run` ends, and kopf's `streaming_block` answers the close with
"generator didn't stop after athrow()", which asyncio logs as an error with a traceback. Nothing is
lost (the process is exiting and the stream had nothing more to deliver), so `quiet_generator_exits`
logs that one case at DEBUG; every other loop error is reported as before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger("aimsource.operator")

GRACE = 0.3
"""Seconds kopf may still take after our shutdown is done before its run is cancelled."""

_CLOSING = "an error occurred during closing of asynchronous generator"
_KOPF_STREAMS = frozenset({"infinite_watch", "continuous_watch", "watch_objs"})


def quiet_generator_exits(loop: asyncio.AbstractEventLoop) -> None:
    """Log kopf's watch-stream close errors at exit at DEBUG; the rest as the loop did."""

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        agen = context.get("asyncgen")
        name = getattr(agen, "__qualname__", "") or getattr(getattr(agen, "ag_code", None), "co_name", "")
        module = getattr(getattr(agen, "ag_frame", None), "f_globals", {}).get("__name__", "")
        if str(context.get("message", "")).startswith(_CLOSING) and (
            name in _KOPF_STREAMS or str(module).startswith("kopf.")
        ):
            log.debug("kopf watch stream closed at exit", extra={"error": str(context.get("exception"))})
            return
        loop.default_exception_handler(context)

    loop.set_exception_handler(handler)


class KopfRun:
    """kopf's `operator()` in a task of its own, which our shutdown may cut short."""

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None
        self._cut = False

    async def run(self, operator: Coroutine[Any, Any, None]) -> None:
        """Runs kopf until it returns, or until `cut_after` cancelled it (then returns quietly)."""
        self._task = asyncio.create_task(operator, name="kopf")
        try:
            await self._task
        except asyncio.CancelledError:
            if not self._cut or not self._task.cancelled():
                raise  # we were cancelled ourselves
            log.info("kopf's exit cut short", extra={"grace": GRACE})

    def cut_after(self, grace: float = GRACE) -> None:
        """Cancel kopf's run if it is still going `grace` seconds from now."""
        if self._task is None or self._task.done():
            return
        asyncio.get_running_loop().call_later(grace, self._cancel)

    def _cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._cut = True
            self._task.cancel()
