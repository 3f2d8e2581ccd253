"""sync/push.py against the database: how a batch is written."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from access.scope import Scope
from core.clock import FrozenClock
from core.db import Sessionmaker
from sync import collection as collections
from sync.pull import pull
from sync.push import PushRow, Writer, push
from tests.conftest import World
from tests.schema.test_sync import visit


async def test_new_rows_with_different_nulls_are_inserted_in_one_statement(
    engine: AsyncEngine, sessionmaker: Sessionmaker, world: World, clock: FrozenClock
) -> None:
    inserts: list[str] = []

    def count(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        if statement.startswith("INSERT INTO visit "):
            inserts.append(statement)

    docs = [
        visit(
            world,
            household=None if i % 2 else "张家",
            concerns=None if i % 3 else "修路",
            resolution=None if i % 5 else "已调解",
        )
        for i in range(30)
    ]
    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        writer = Writer(world.admin.id, None, Scope("all", writable=True))
        outcome = await push(
            sessionmaker, collections.VISIT, writer, [PushRow(d, None) for d in docs], clock()
        )
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert outcome.written == 30
    assert len(inserts) == 1
    async with sessionmaker() as db:
        stored = (await pull(db, Scope("all"), collections.VISIT, None, 100)).documents
    by_id = {d["id"]: d for d in stored}
    for doc in docs:
        assert {k: by_id[doc["id"]][k] for k in doc} == doc
