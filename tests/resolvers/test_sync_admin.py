"""Releasing a quarantined row is a write like a phone's push (resolvers/sync_admin.py), done
once."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import select, text

from app.clock import FrozenClock
from app.db import Sessionmaker
from models import Account, SyncConflict, SyncQuarantine, Visit
from resolvers import sync_admin as ops
from resolvers.account import viewer_for
from resolvers.errors import InputError
from resolvers.viewer import Viewer
from sync.collection import VISIT, global_id
from sync.push import PushRow, Writer, push
from sync.scope import Scope
from tests.conftest import World


def as_viewer(account: Account) -> Viewer:
    return viewer_for(account, None, None, None)


def visit(world: World, **overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "branchId": global_id("Branch", world.meigui.id),
        "officerId": global_id("Member", world.officer_member.id),
        "village": "玫瑰村",
        "category": "household",
        "concerns": "c0",
        "status": "open",
        "peopleReached": 1,
        "visitedAt": "2026-05-01T10:00:00+08:00",
        "deleted": False,
    }
    doc.update(overrides)
    return doc


def officer(world: World) -> Writer:
    scope = Scope("branch", world.meigui.id, world.meigui.path, True, world.officer_member.id)
    return Writer(world.officer.id, None, scope, member_id=world.officer_member.id)


async def both_waiting(
    sessionmaker: Sessionmaker, backend: str, tasks: list[asyncio.Task[str]]
) -> None:
    """Until two sessions wait on locks (PostgreSQL); SQLite shows no waits, so the tasks get a
    moment to reach theirs (the outcome must be the same however far they got)."""
    if backend != "postgresql":
        await asyncio.sleep(0.2)
        return
    async with sessionmaker() as watcher:
        for _ in range(200):
            waiting = await watcher.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted"))
            if (waiting or 0) >= 2 or any(t.done() for t in tasks):
                return
            await asyncio.sleep(0.01)


async def quarantined_edit(
    sessionmaker: Sessionmaker, world: World, clock: FrozenClock
) -> tuple[dict[str, Any], SyncQuarantine]:
    v = visit(world)
    await push(sessionmaker, VISIT, officer(world), [PushRow(v)], clock())
    bad = {**v, "status": "done", "resolution": "已调解"}
    assert (
        await push(sessionmaker, VISIT, officer(world), [PushRow(bad, v)], clock())
    ).quarantined == 1
    async with sessionmaker() as db:
        [row] = (await db.execute(select(SyncQuarantine))).scalars()
    return v, row


async def test_two_releases_of_one_quarantined_row_at_once_apply_exactly_once(
    sessionmaker: Sessionmaker, world: World, clock: FrozenClock, backend: str
) -> None:
    v, row = await quarantined_edit(sessionmaker, world, clock)
    admin = as_viewer(world.admin)
    fixes = [{**v, "status": "resolved", "resolution": text} for text in ("甲方案", "乙方案")]

    async def release(fix: dict[str, Any]) -> str:
        try:
            released, done = await ops.release_quarantined(
                sessionmaker, admin, row.id, fix, clock()
            )
        except InputError as error:
            return error.problems[0].code.value
        assert done is not None and released.resolution == "applied"
        return str(fix["resolution"])

    async with sessionmaker.begin() as db:
        # Hold the visit (PostgreSQL) or the write lock (SQLite), so that both releases are
        # under way before either can write.
        if backend == "postgresql":
            await db.execute(text("SELECT id FROM visit WHERE id = :id FOR UPDATE"), v)
        else:
            await db.execute(text("UPDATE data_version SET version = version"))
        tasks = [asyncio.create_task(release(fix)) for fix in fixes]
        await both_waiting(sessionmaker, backend, tasks)
    answers = await asyncio.gather(*tasks)

    [winner] = [a for a in answers if a != "invalid_transition"]
    assert sorted(answers) == sorted([winner, "invalid_transition"])
    async with sessionmaker() as db:
        stored = await db.get(Visit, v["id"])
        logged = (await db.execute(select(SyncConflict))).scalars().all()
        kept = await db.get(SyncQuarantine, row.id)
    assert stored is not None and stored.resolution == winner
    assert logged == []  # the loser's write never landed, not even as a conflict
    assert kept is not None and kept.resolution == "applied"
