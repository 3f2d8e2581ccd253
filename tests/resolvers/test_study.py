"""Study records and groups: bad input is refused field by field and nothing is written."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from access.errors import ErrorCode, InputError
from access.viewer import Viewer, viewer_for
from core.clock import FrozenClock
from core.db import Sessionmaker, writing
from demo.seed import seed_catalogs
from models import (
    Account,
    Branch,
    StudyForm,
    StudyGroup,
    StudyGroupMember,
    StudyRecord,
    StudyRecordAttendee,
)
from resolvers import study as ops
from tests.conftest import World


def as_viewer(account: Account, branch: Branch | None = None) -> Viewer:
    return viewer_for(account, None, branch, branch)


async def count(sessionmaker: Sessionmaker, model: Any) -> int:
    async with sessionmaker() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


def codes(error: InputError) -> dict[str | None, ErrorCode]:
    return {p.field: p.code for p in error.problems}


@pytest.fixture
async def catalog(sessionmaker: Sessionmaker, clock: FrozenClock) -> None:
    await seed_catalogs(sessionmaker, clock)


async def test_bad_study_records_are_refused_field_by_field_and_nothing_written(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, catalog: None
) -> None:
    secretary = as_viewer(world.secretary, world.meigui)
    cases: list[tuple[dict[str, Any], dict[str | None, ErrorCode]]] = [
        ({"topic": "  "}, {"topic": ErrorCode.REQUIRED}),
        ({"topic": "学" * 201}, {"topic": ErrorCode.TOO_LONG}),
        ({"held_on": date(2026, 11, 29)}, {"heldOn": ErrorCode.IN_FUTURE}),
        ({"held_on": date(1999, 1, 1)}, {"heldOn": ErrorCode.OUT_OF_RANGE}),
        ({"attendee_ids": [world.yushan_member.id]}, {"attendeeIds": ErrorCode.OUT_OF_SCOPE}),
        ({"attendee_ids": [uuid.uuid4()]}, {"attendeeIds": ErrorCode.NOT_FOUND}),
        ({"ledger_entry_id": uuid.uuid4()}, {"ledgerEntryId": ErrorCode.NOT_FOUND}),
    ]
    for change, expected in cases:
        data = {
            "branch_id": world.meigui.id,
            "held_on": date(2026, 11, 3),
            "topic": "第一议题",
            "form": StudyForm.BRANCH,
            "attendee_ids": [world.meigui_member.id],
            **change,
        }
        with pytest.raises(InputError) as caught:
            async with writing(sessionmaker) as db:
                await ops.create_study_record(db, secretary, clock, data)
        assert codes(caught.value) == expected, change
    assert await count(sessionmaker, StudyRecord) == 0
    assert await count(sessionmaker, StudyRecordAttendee) == 0


async def test_bad_study_groups_are_refused_and_nothing_written(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    secretary = as_viewer(world.secretary, world.meigui)
    base = {"branch_id": world.meigui.id, "name": "青年民警理论学习小组", "member_ids": []}
    cases: list[tuple[dict[str, Any], dict[str | None, ErrorCode]]] = [
        ({"name": ""}, {"name": ErrorCode.REQUIRED}),
        ({"name": "组" * 101}, {"name": ErrorCode.TOO_LONG}),
        ({"member_ids": [world.yushan_member.id]}, {"memberIds": ErrorCode.OUT_OF_SCOPE}),
    ]
    for change, expected in cases:
        with pytest.raises(InputError) as caught:
            async with writing(sessionmaker) as db:
                await ops.create_study_group(db, secretary, clock, {**base, **change})
        assert codes(caught.value) == expected, change
    assert await count(sessionmaker, StudyGroup) == 0

    async with writing(sessionmaker) as db:
        group = await ops.create_study_group(db, secretary, clock, base)
    with pytest.raises(InputError) as caught:
        async with writing(sessionmaker) as db:
            await ops.update_study_group(
                db, secretary, clock, group.id, {"name": " ", "member_ids": [uuid.uuid4()]}
            )
    assert codes(caught.value) == {"name": ErrorCode.REQUIRED, "memberIds": ErrorCode.NOT_FOUND}
    async with sessionmaker() as db:
        stored = await db.get(StudyGroup, group.id)
        assert stored is not None and stored.name == "青年民警理论学习小组"
    assert await count(sessionmaker, StudyGroupMember) == 0
