"""A prompt, quiet exit: `operator/exiting.py` (kopf's run cut short, its watch-stream close error
at exit kept out of the error log). The exit of `aimsource run` on SIGTERM mid-sync, on the real
control plane, is timed in tests/realkube/test_fair_share.py."""

from __future__ import annotations

import asyncio
import logging

import pytest

from aimsource.operator.exiting import KopfRun, quiet_generator_exits


async def infinite_watch():  # named as kopf's watch stream
    yield 1


async def some_stream():
    yield 1


async def test_a_cut_run_returns_quietly_after_the_grace() -> None:
    run = KopfRun()
    forever = asyncio.Event()
    loop = asyncio.get_running_loop()
    started = loop.time()
    task = asyncio.create_task(run.run(forever.wait()))
    await asyncio.sleep(0.01)
    run.cut_after(0.2)
    await asyncio.wait_for(task, 2)
    assert 0.2 <= loop.time() - started < 1.0


async def test_a_run_that_ends_first_is_not_cut_and_a_cancelled_caller_still_raises() -> None:
    run = KopfRun()
    await run.run(asyncio.sleep(0))
    run.cut_after(0.01)  # nothing left to cut
    await asyncio.sleep(0.05)

    other = KopfRun()
    task = asyncio.create_task(other.run(asyncio.Event().wait()))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_only_kopfs_watch_stream_close_error_is_quietened(caplog: pytest.LogCaptureFixture) -> None:
    loop = asyncio.get_running_loop()
    before = loop.get_exception_handler()
    quiet_generator_exits(loop)
    try:
        caplog.set_level(logging.DEBUG)
        message = "an error occurred during closing of asynchronous generator"
        error = RuntimeError("generator didn't stop after athrow()")
        kopfs, ours = infinite_watch(), some_stream()
        loop.call_exception_handler(
            {"message": f"{message} {kopfs!r}", "asyncgen": kopfs, "exception": error}
        )
        loop.call_exception_handler({"message": f"{message} {ours!r}", "asyncgen": ours, "exception": error})
        records = [(r.name, r.levelname, r.getMessage()) for r in caplog.records]
        assert ("aimsource.operator", "DEBUG", "kopf watch stream closed at exit") in records
        errors = [r for r in records if r[1] == "ERROR"]
        assert len(errors) == 1
        assert "some_stream" in errors[0][2]
    finally:
        loop.set_exception_handler(before)
        await kopfs.aclose()
        await ours.aclose()
