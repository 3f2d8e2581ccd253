"""Housekeeping the serving process runs on a timer (today: purging old tombstones).

Every process runs it; the work is idempotent, so several processes on one database only repeat
a cheap statement. Errors are logged and the next round tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from core.observability import log

Job = Callable[[], Awaitable[object]]


@contextlib.asynccontextmanager
async def every(seconds: float, job: Job, name: str) -> AsyncIterator[asyncio.Task[None]]:
    """Runs `job` now and then every `seconds` while the context is open."""

    async def loop() -> None:
        while True:
            try:
                result = await job()
                log.info("maintenance_done", job=name, result=repr(result))
            except Exception as exc:  # a failed round must not stop the server or later rounds
                log.error("maintenance_failed", job=name, exc_info=exc)
            await asyncio.sleep(seconds)

    task = asyncio.create_task(loop(), name=f"maintenance:{name}")
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
