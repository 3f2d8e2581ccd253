"""Reading the conflict log for a record: its competing versions, batched and scoped."""

from __future__ import annotations

import uuid
from typing import Any

from app.clock import FrozenClock
from app.db import Sessionmaker
from models import Branch, Role
from resolvers.sync_admin import competing_versions_by_document
from resolvers.viewer import Viewer
from sync.collection import VISIT, global_id
from sync.push import PushRow, Writer, push
from sync.scope import Scope
from tests.conftest import World


def secretary_of(branch: Branch) -> Viewer:
    return Viewer(uuid.uuid4(), "secretary", Role.SECRETARY, None, None, branch.id, branch.path)


def visit(world: World, **overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "branchId": global_id("Branch", world.meigui.id),
        "officerId": global_id("Member", world.officer_member.id),
        "village": "玫瑰村",
        "category": "household",
        "concerns": "路灯坏了\n待处理",
        "status": "open",
        "peopleReached": 1,
        "visitedAt": "2026-05-01T10:00:00+08:00",
    }
    return doc | overrides


async def test_competing_versions_are_read_only_for_records_in_the_viewers_scope(
    sessionmaker: Sessionmaker, world: World, clock: FrozenClock
) -> None:
    admin = Writer(world.admin.id, None, Scope("all", writable=True))
    officer = Writer(world.officer.id, None, Scope("all", writable=True))
    base, other = visit(world), visit(world, concerns="井盖松动")
    await push(sessionmaker, VISIT, admin, [PushRow(base), PushRow(other)], clock())
    await push(
        sessionmaker,
        VISIT,
        admin,
        [PushRow({**base, "concerns": "路灯坏了\n已派电工"}, base)],
        clock(),
    )
    await push(
        sessionmaker,
        VISIT,
        officer,
        [PushRow({**base, "concerns": "路灯坏了\n已修复"}, base)],
        clock(),
    )
    keys = [("visit", base["id"]), ("visit", other["id"]), ("patrol", base["id"])]

    async with sessionmaker() as db:
        seen = await competing_versions_by_document(db, secretary_of(world.meigui), keys)
    assert [[(v.field, v.lines, v.username) for v in found] for found in seen] == [
        [("concerns", ("已修复",), "officer.meigui")],
        [],
        [],  # the same id in another collection is another document
    ]

    # The visit moves to 榆山 (its conflict was logged in 玫瑰): the record's branch now decides.
    moved = {
        **base,
        "concerns": "路灯坏了\n已派电工",
        "branchId": global_id("Branch", world.yushan.id),
    }
    await push(
        sessionmaker,
        VISIT,
        admin,
        [PushRow(moved, {**base, "concerns": "路灯坏了\n已派电工"})],
        clock(),
    )
    async with sessionmaker() as db:
        assert await competing_versions_by_document(db, secretary_of(world.meigui), keys[:1]) == [
            []
        ]
        [[version]] = await competing_versions_by_document(db, secretary_of(world.yushan), keys[:1])
    assert version.text == "路灯坏了\n已修复"
