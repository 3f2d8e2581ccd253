"""Supervision figures for the assessment (A22, A23) and the dashboard, aggregated in SQL.

Each function is one statement grouped by branch, whatever the number of branches; branches with
nothing to count come back as zeros. No access check: callers decide which branches to ask about.
"On time" compares bureau calendar days (`answered_on <= due_on`, `rectified_on <= deadline`), so
the same SQL runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Reminder, ReminderStatus, SpotCheckFinding


def _zeros(branch_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, tuple[int, int]]:
    return {b: (0, 0) for b in branch_ids}


async def reminders_answered_on_time(
    db: AsyncSession, branch_ids: Sequence[uuid.UUID], start: date, end: date
) -> dict[uuid.UUID, tuple[int, int]]:
    """Per branch: (reminders due in [start, end] answered — acknowledged, resolved by a person,
    or fulfilled — on or before their due day, reminders due in [start, end]).

    A reminder that lapsed (nobody answered, and the system closed it) counts as not on time.
    """
    result = _zeros(branch_ids)
    if not branch_ids:
        return result
    on_time = and_(Reminder.answered_on.is_not(None), Reminder.answered_on <= Reminder.due_on)
    query = (
        select(Reminder.branch_id, func.sum(case((on_time, 1), else_=0)), func.count())
        .where(
            Reminder.branch_id.in_(list(branch_ids)),
            Reminder.due_on >= start,
            Reminder.due_on <= end,
            Reminder.deleted.is_(False),
        )
        .group_by(Reminder.branch_id)
    )
    for branch_id, answered, due in await db.execute(query):
        result[branch_id] = (int(answered or 0), int(due))
    return result


async def findings_rectified_on_time(
    db: AsyncSession, branch_ids: Sequence[uuid.UUID], start: date, end: date
) -> dict[uuid.UUID, tuple[int, int]]:
    """Per branch: (spot-check findings with a deadline in [start, end] rectified on or before
    the deadline, findings with a deadline in [start, end])."""
    result = _zeros(branch_ids)
    if not branch_ids:
        return result
    f = SpotCheckFinding
    on_time = and_(f.rectified_on.is_not(None), f.rectified_on <= f.deadline)
    query = (
        select(f.branch_id, func.sum(case((on_time, 1), else_=0)), func.count())
        .where(f.branch_id.in_(list(branch_ids)), f.deadline >= start, f.deadline <= end)
        .group_by(f.branch_id)
    )
    for branch_id, rectified, due in await db.execute(query):
        result[branch_id] = (int(rectified or 0), int(due))
    return result


def _still_open(branch_ids: Sequence[uuid.UUID]) -> ColumnElement[bool]:
    return and_(
        Reminder.branch_id.in_(list(branch_ids)),
        Reminder.status != ReminderStatus.RESOLVED,
        Reminder.deleted.is_(False),
    )


async def open_reminder_counts(
    db: AsyncSession, branch_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """Per branch: reminders not yet resolved (open or acknowledged)."""
    result = {b: 0 for b in branch_ids}
    if not branch_ids:
        return result
    query = (
        select(Reminder.branch_id, func.count())
        .where(_still_open(branch_ids))
        .group_by(Reminder.branch_id)
    )
    for branch_id, count in await db.execute(query):
        result[branch_id] = int(count)
    return result


async def open_and_overdue_reminder_counts(
    db: AsyncSession, branch_ids: Sequence[uuid.UUID], today: date
) -> dict[uuid.UUID, tuple[int, int]]:
    """Per branch: (reminders not yet resolved, of which due before `today`), one statement.

    The first figure is `open_reminder_counts`'; the dashboard reads both at once.
    """
    result = _zeros(branch_ids)
    if not branch_ids:
        return result
    overdue = Reminder.due_on < today
    query = (
        select(Reminder.branch_id, func.count(), func.sum(case((overdue, 1), else_=0)))
        .where(_still_open(branch_ids))
        .group_by(Reminder.branch_id)
    )
    for branch_id, count, late in await db.execute(query):
        result[branch_id] = (int(count), int(late or 0))
    return result
