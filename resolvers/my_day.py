"""An officer's day (今日待办): what waits for the viewer, gathered from the domains that own it.

Reminders, bulletins and held sync rows come from their own resolvers with the filters that
mean "waiting for me"; this module adds only what those do not answer: the viewer's directive
rows still to sign or report on, and counts of the viewer's field records in the bureau's
calendar week and month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from access.viewer import Viewer
from models import DirectiveRecipient, RecipientStatus, ReminderStatus
from resolvers.directive.query import count_my_directives, mine, my_directives
from resolvers.field_record import RecordFilter, count_records
from resolvers.pagination import Page, PageRequest
from resolvers.period import day_start
from resolvers.reminder import ReminderFilter
from resolvers.supervision import BulletinFilter
from resolvers.sync_admin import QuarantineFilter, own_quarantine
from sync.collection import PATROL, SERVICE_ACTION, VISIT

# Reminders still waiting: not yet seen (open), or seen and not yet done (acknowledged).
UNRESOLVED_REMINDERS = ReminderFilter(
    mine=True, statuses=(ReminderStatus.OPEN, ReminderStatus.ACKNOWLEDGED)
)
UNREAD_BULLETINS = BulletinFilter(unread=True)
# A directive row waits for a signature (签收) while pending, for reports until it is closed.
TO_SIGN = (RecipientStatus.PENDING,)
TO_REPORT = (RecipientStatus.SIGNED, RecipientStatus.IN_PROGRESS)
WAITING = (*TO_SIGN, *TO_REPORT)


def held_rows(viewer: Viewer) -> QuarantineFilter:
    """The viewer's own quarantined sync rows still waiting for an admin."""
    return own_quarantine(viewer, QuarantineFilter(pending_only=True))


@dataclass(frozen=True, slots=True)
class Window:
    """A span of bureau calendar days, [starts_on, ends_on), and the instants that bound it."""

    starts_on: date
    ends_on: date

    @property
    def since(self) -> datetime:
        return day_start(self.starts_on)

    @property
    def until(self) -> datetime:
        return day_start(self.ends_on)


def week_of(day: date) -> Window:
    """The calendar week (Monday to Sunday) that holds `day`."""
    monday = day - timedelta(days=day.weekday())
    return Window(monday, monday + timedelta(days=7))


def month_of(day: date) -> Window:
    """The calendar month that holds `day`."""
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Window(first, following)


async def waiting_directives(
    db: AsyncSession, viewer: Viewer, page: PageRequest
) -> Page[DirectiveRecipient]:
    """The directive rows the viewer acts for still to sign or report on, as `my_directives`
    lists them (newest dispatch first)."""
    return await my_directives(db, viewer, page, WAITING)


@dataclass(frozen=True, slots=True)
class DirectiveCounts:
    to_sign: int
    to_report: int


async def count_waiting_directives(db: AsyncSession, viewer: Viewer) -> DirectiveCounts:
    """How many of the viewer's directive rows wait for a signature, and for reports."""
    query = (
        select(DirectiveRecipient.status, func.count())
        .where(*mine(viewer, WAITING))
        .group_by(DirectiveRecipient.status)
    )
    by_status: dict[Any, int] = {status: int(n) for status, n in await db.execute(query)}
    return DirectiveCounts(
        to_sign=sum(by_status.get(s, 0) for s in TO_SIGN),
        to_report=sum(by_status.get(s, 0) for s in TO_REPORT),
    )


async def count_all_waiting_directives(db: AsyncSession, viewer: Viewer) -> int:
    """How many rows `waiting_directives` lists in all."""
    return await count_my_directives(db, viewer, WAITING)


@dataclass(frozen=True, slots=True)
class RecordCounts:
    """The viewer's own field records (those naming them as the officer) in a window."""

    window: Window
    visits: int
    patrols: int
    service_actions: int


async def count_own_records(db: AsyncSession, viewer: Viewer, window: Window) -> RecordCounts:
    """Counts the visits, patrols and service actions that name the viewer as their officer,
    dated within `window` (deleted ones left out). An account without a member has none."""
    if viewer.member_id is None:
        return RecordCounts(window, 0, 0, 0)
    flt = RecordFilter(since=window.since, until=window.until, officer_id=viewer.member_id)
    counts = [await count_records(db, viewer, c, flt) for c in (VISIT, PATROL, SERVICE_ACTION)]
    return RecordCounts(window, *counts)
