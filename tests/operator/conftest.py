"""Close the event loop that looptime leaves behind in synchronous tests.

looptime's `pytest_pyfunc_call` asks pytest-asyncio's policy for the current loop in every test; in
a synchronous test that creates a new loop which nobody closes, and its garbage collection during a
later async test fails that test with "ResourceWarning: unclosed event loop" (warnings are errors).
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Generator
from typing import Any

import pytest


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Generator[None, Any, Any]:
    try:
        return (yield)
    finally:
        if pyfuncitem.get_closest_marker("asyncio") is None:
            close_stray_loop()


def close_stray_loop() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        policy = asyncio.get_event_loop_policy()
        try:
            loop = policy.get_event_loop()
        except RuntimeError:
            return
        if not loop.is_running() and not loop.is_closed():
            loop.close()
            policy.set_event_loop(None)
