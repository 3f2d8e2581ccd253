"""Housekeeping on a timer while serving."""

from __future__ import annotations

import asyncio

from app.maintenance import every


async def test_job_runs_at_once_then_again_and_a_failed_round_does_not_stop_it() -> None:
    calls: list[int] = []

    async def job() -> int:
        calls.append(len(calls))
        if len(calls) == 1:
            raise RuntimeError("the database was away")
        return len(calls)

    async with every(0.01, job, "test") as task:
        for _ in range(500):
            if len(calls) >= 3:
                break
            await asyncio.sleep(0.01)
    assert len(calls) >= 3
    assert task.cancelled()
