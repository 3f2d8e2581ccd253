"""Supervision figures for the assessment (A22, A23) and the dashboard, aggregated in SQL.

Each function is one statement grouped by branch, whatever the number of branches; branches with
nothing to count come back as zeros. No access check: callers decide which branches to ask about.
"On time" compares bureau calendar days (`answered_on <= due_on`, `rectified_on <= deadline`), so
the same SQL runs on SQLite and PostgreSQL. The two assessment metrics keep the metric contract
(resolvers/assessment/metric.py): windows of days [start, end), one statement for all of them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Reminder, ReminderStatus, SpotCheckFinding
from resolvers.metric_window import Answer, Window, WindowTable, pairs


def _zeros(branch_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, tuple[int, int]]:
    return {b: (0, 0) for b in branch_ids}


async def reminders_answered_on_time(
    db: AsyncSession, branch_ids: Sequence[uuid.UUID], windows: Sequence[Window]
) -> Answer:
    """Per window and branch: (reminders due in the window answered — acknowledged, resolved by
    a person, or fulfilled — on or before their due day, reminders due in the window).

    A reminder that lapsed (nobody answered, and the system closed it) counts as not on time.
    """
    if not branch_ids or not windows:
        return [_zeros(branch_ids) for _ in windows]
    t = WindowTable(windows)
    on_time = and_(Reminder.answered_on.is_not(None), Reminder.answered_on <= Reminder.due_on)
    query = (
        select(Reminder.branch_id, t.c.w, func.sum(case((on_time, 1), else_=0)), func.count())
        .join(t.table, t.during(Reminder.due_on, instants=False))
        .where(Reminder.branch_id.in_(list(branch_ids)), Reminder.deleted.is_(False))
        .group_by(Reminder.branch_id, t.c.w)
    )
    found = await pairs(db, query, len(windows))
    return [_zeros(branch_ids) | one for one in found]


async def findings_rectified_on_time(
    db: AsyncSession, branch_ids: Sequence[uuid.UUID], windows: Sequence[Window]
) -> Answer:
    """Per window and branch: (spot-check findings with a deadline in the window rectified on
    or before the deadline, findings with a deadline in the window)."""
    if not branch_ids or not windows:
        return [_zeros(branch_ids) for _ in windows]
    t = WindowTable(windows)
    f = SpotCheckFinding
    on_time = and_(f.rectified_on.is_not(None), f.rectified_on <= f.deadline)
    query = (
        select(f.branch_id, t.c.w, func.sum(case((on_time, 1), else_=0)), func.count())
        .join(t.table, t.during(f.deadline, instants=False))
        .where(f.branch_id.in_(list(branch_ids)))
        .group_by(f.branch_id, t.c.w)
    )
    found = await pairs(db, query, len(windows))
    return [_zeros(branch_ids) | one for one in found]


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
