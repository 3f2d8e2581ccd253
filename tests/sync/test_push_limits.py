"""Every free text a phone pushes has a maximum length (sync/collection.py, sync/push.py).

A text over its field's limit is quarantined with TOO_LONG, never stored nor refused by the
database (which would otherwise fail the batch, or on SQLite keep what PostgreSQL would not):
the texts of every collection, the instants kept as sent, and the list fields' JSON text, whose
elements may carry free text (a volunteer's name, a note on a track point).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import String, select
from sqlalchemy import inspect as sa_inspect

from access.scope import Scope
from core.clock import FrozenClock
from core.db import Sessionmaker
from models import SyncQuarantine
from sync.collection import COLLECTIONS, DIRECTIVE_PROGRESS, DIRECTIVE_RECEIPT, PATROL, WireField
from sync.push import PushRow, Writer, push
from tests.conftest import World
from tests.sync.test_push_isolation import good_document, new_recipient

LIMITED = [
    (key, f)
    for key, c in sorted(COLLECTIONS.items())
    for f in c.fields
    if f.kind in ("text", "datetime", "json")
]


def too_long(key: str, f: WireField, doc: dict[str, Any]) -> Any:
    """A value of `f` one character (or element) over its limit, valid in every other way."""
    if f.kind == "datetime":
        return "2026-05-01T10:00:00." + "1" * (f.max_length - 25) + "+08:00"
    if f.kind == "text":
        return "长" * (f.max_length + 1)
    filler = "长" * f.max_length
    if key == PATROL.key and f.name == "participants":
        # Member ids carry no free text: only their number can make the list too long.
        return json.dumps([doc["officerId"]] * (f.max_length // 40))
    if f.name == "track":
        return json.dumps(
            [{"t": "2026-05-01T21:00:00+08:00", "lat": 36.2, "lng": 116.4, "x": filler}]
        )
    return json.dumps([{"name": "刘建国", "role": "other", "note": filler}], ensure_ascii=False)


def at_limit(f: WireField) -> str | None:
    """A value exactly at the limit (none for list fields: their limit is on the encoded text)."""
    if f.kind == "datetime":
        return "2026-05-01T10:00:00." + "1" * (f.max_length - 26) + "+08:00"
    if f.kind == "text" and f.name != "recipientId":
        return "长" * f.max_length
    return None


@pytest.mark.parametrize(("key", "f"), LIMITED, ids=[f"{k}.{f.name}" for k, f in LIMITED])
async def test_every_free_text_of_every_pushed_collection_has_a_maximum_length(
    sessionmaker: Sessionmaker, world: World, clock: FrozenClock, key: str, f: WireField
) -> None:
    c = COLLECTIONS[key]
    column = sa_inspect(c.model).local_table.columns[
        f.text_column if f.kind == "datetime" else f.column
    ]
    if isinstance(column.type, String) and column.type.length is not None:
        assert f.max_length <= column.type.length  # the database never sees a longer one
    writer = Writer(
        world.secretary.id,
        None,
        Scope("subtree", world.meigui.id, world.meigui.path, writable=True),
        member_id=world.secretary_member.id,
    )
    recipients = [await new_recipient(sessionmaker, world, clock) for _ in range(3)]
    picks = iter(recipients * (c in (DIRECTIVE_RECEIPT, DIRECTIVE_PROGRESS)))
    docs = [good_document(c, world, i, lambda: next(picks)) for i in range(3)]
    over = {**docs[0], f.name: too_long(key, f, docs[0])}
    limit = at_limit(f)
    rows = [PushRow(over), PushRow(docs[1])]
    if limit is not None:
        rows.append(PushRow({**docs[2], f.name: limit}))

    outcome = await push(sessionmaker, c, writer, rows, clock())

    assert (outcome.written, outcome.quarantined) == (len(rows) - 1, 1)
    async with sessionmaker() as db:
        [kept] = (await db.execute(select(SyncQuarantine))).scalars()
        stored = set((await db.execute(select(c.model.id))).scalars())
    assert (f.name, "too_long") in {(r["field"], r["code"]) for r in kept.reasons}
    assert over["id"] not in stored
    assert {r.new["id"] for r in rows[1:]} <= stored
