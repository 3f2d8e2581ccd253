"""Supervision figures for the assessment and the dashboard: one grouped statement each."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from core.clock import FrozenClock
from core.db import Sessionmaker, writing
from models import (
    Branch,
    FindingStatus,
    Reminder,
    ReminderKind,
    ReminderStatus,
    SpotCheck,
    SpotCheckFinding,
)
from resolvers.metric_window import Window
from resolvers.supervision_metrics import (
    findings_rectified_on_time,
    open_and_overdue_reminder_counts,
    open_reminder_counts,
    reminders_answered_on_time,
)
from tests.conftest import World

Q4 = [Window(date(2026, 10, 1), date(2027, 1, 1))]


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


def reminder(
    clock: FrozenClock,
    branch: Branch,
    due_on: date,
    answered_on: date | None = None,
    status: ReminderStatus = ReminderStatus.OPEN,
) -> Reminder:
    return Reminder(
        id=str(uuid.uuid4()),
        kind=ReminderKind.LEDGER_OVERDUE,
        dedup_key=str(uuid.uuid4()),
        title="提醒",
        branch_id=branch.id,
        due_on=due_on,
        status=status,
        answered_on=answered_on,
        updated_at=1,
        deleted=False,
        created_at=clock(),
    )


async def test_reminders_answered_on_time_per_branch_in_one_statement(
    sessionmaker: Sessionmaker, engine: AsyncEngine, clock: FrozenClock, world: World
) -> None:
    resolved, acknowledged = ReminderStatus.RESOLVED, ReminderStatus.ACKNOWLEDGED
    async with writing(sessionmaker) as db:
        db.add_all(
            [
                # 玫瑰: on the due day, a day late, never, and one due outside the range.
                reminder(clock, world.meigui, date(2026, 11, 10), date(2026, 11, 10), resolved),
                reminder(clock, world.meigui, date(2026, 11, 10), date(2026, 11, 11), acknowledged),
                reminder(clock, world.meigui, date(2026, 12, 1)),
                reminder(clock, world.meigui, date(2027, 1, 5), date(2027, 1, 1), resolved),
                # 榆山: answered early.
                reminder(clock, world.yushan, date(2026, 10, 1), date(2026, 9, 28), acknowledged),
            ]
        )

    async with sessionmaker() as db:
        with statements(engine) as seen:
            [figures] = await reminders_answered_on_time(
                db, [world.meigui.id, world.yushan.id, world.organ.id], Q4
            )
        open_counts = await open_reminder_counts(db, [world.meigui.id, world.yushan.id])
        with statements(engine) as seen_open:
            open_overdue = await open_and_overdue_reminder_counts(
                db, [world.meigui.id, world.yushan.id], date(2026, 11, 10)
            )

    assert len(seen) == 1
    assert figures == {world.meigui.id: (1, 3), world.yushan.id: (1, 1), world.organ.id: (0, 0)}
    assert open_counts == {world.meigui.id: 2, world.yushan.id: 1}
    # Open ones due before 2026-11-10 are overdue: 玫瑰's is due that day, 榆山's on 10-01.
    assert len(seen_open) == 1
    assert open_overdue == {world.meigui.id: (2, 0), world.yushan.id: (1, 1)}


async def test_findings_rectified_on_time_per_branch_in_one_statement(
    sessionmaker: Sessionmaker, engine: AsyncEngine, clock: FrozenClock, world: World
) -> None:
    check = SpotCheck(
        id=uuid.uuid4(),
        branch_id=world.meigui.id,
        inspector_id=world.inspector.id,
        checked_on=date(2026, 10, 20),
        period="2026-Q4",
        summary="抽查",
        created_at=clock(),
    )

    def finding(deadline: date, rectified_on: date | None) -> SpotCheckFinding:
        return SpotCheckFinding(
            id=uuid.uuid4(),
            spot_check_id=check.id,
            branch_id=world.meigui.id,
            text="问题",
            deadline=deadline,
            status=FindingStatus.RECTIFIED if rectified_on else FindingStatus.OPEN,
            rectified_on=rectified_on,
            created_at=clock(),
        )

    async with writing(sessionmaker) as db:
        db.add(check)
        await db.flush()
        db.add_all(
            [
                finding(date(2026, 11, 1), date(2026, 11, 1)),
                finding(date(2026, 11, 1), date(2026, 11, 2)),
                finding(date(2026, 11, 30), None),
                finding(date(2027, 2, 1), date(2026, 11, 1)),  # deadline outside Q4
            ]
        )

    async with sessionmaker() as db:
        with statements(engine) as seen:
            [figures] = await findings_rectified_on_time(db, [world.meigui.id, world.yushan.id], Q4)

    assert len(seen) == 1
    assert figures == {world.meigui.id: (1, 3), world.yushan.id: (0, 0)}


async def test_metrics_of_no_branches_ask_nothing(
    sessionmaker: Sessionmaker, engine: AsyncEngine
) -> None:
    async with sessionmaker() as db:
        with statements(engine) as seen:
            assert await reminders_answered_on_time(db, [], Q4) == [{}]
            assert await findings_rectified_on_time(db, [], Q4) == [{}]
            assert await open_reminder_counts(db, []) == {}
            assert await open_and_overdue_reminder_counts(db, [], date(2026, 11, 1)) == {}
    assert seen == []


async def test_reminders_and_findings_due_the_day_after_a_window_are_not_in_it(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    # Windows are [start, end): due on 1 November is November's, not October's.
    check = SpotCheck(
        id=uuid.uuid4(),
        branch_id=world.meigui.id,
        inspector_id=world.inspector.id,
        checked_on=date(2026, 10, 20),
        period="2026-Q4",
        summary="抽查",
        created_at=clock(),
    )
    async with writing(sessionmaker) as db:
        db.add_all([check, reminder(clock, world.meigui, date(2026, 11, 1))])
        await db.flush()
        db.add(
            SpotCheckFinding(
                id=uuid.uuid4(),
                spot_check_id=check.id,
                branch_id=world.meigui.id,
                text="问题",
                deadline=date(2026, 11, 1),
                status=FindingStatus.OPEN,
                created_at=clock(),
            )
        )
    october = Window(date(2026, 10, 1), date(2026, 11, 1))
    november = Window(date(2026, 11, 1), date(2026, 12, 1))
    async with sessionmaker() as db:
        reminders = await reminders_answered_on_time(db, [world.meigui.id], [october, november])
        findings = await findings_rectified_on_time(db, [world.meigui.id], [october, november])
    assert reminders == findings == [{world.meigui.id: (0, 0)}, {world.meigui.id: (0, 1)}]
