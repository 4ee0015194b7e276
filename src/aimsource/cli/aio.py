"""Running a coroutine to completion from a synchronous command."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Like `asyncio.run`, but on a private loop that leaves the thread's current loop alone.

    `asyncio.run` replaces the thread's event loop and then unsets it, orphaning whatever loop a
    host program (or a test harness) had set there; a command called in-process must not do that.
    """
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            loop.close()
