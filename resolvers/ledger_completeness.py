"""Ledger completeness: per branch and period, which required entries are present, late, missing.

The rule, for every active required item with a schedule (monthly, quarterly, yearly; items
recorded `on_event` are never due):

- The item's **sub-periods** are the calendar months, quarters or years of its frequency.
- A sub-period is **due in a period** when its last day (its due date) falls inside the period.
  So a monthly item is due 3 times in a quarter and 12 times in a year; a quarterly item 4 times
  in a year, once in a quarter, and in a month only when that month ends a quarter (March, June,
  September, December); a yearly item only in December, Q4 or the year. The whole sub-period
  counts: an annual 组织生活会 held in March is present when December's ledger is checked.
- A due sub-period is **present** when the branch has at least one entry of the item dated
  (`occurred_on`) within it; **late** when it is present but its first entry was recorded
  (`created_at`, on the bureau's calendar) more than `grace_days` after the sub-period ended;
  **missing** when it has no entry and its grace days are over; **pending** when it has no entry
  yet and the grace days have not run out (the current month, say).

**The recorded rate** (台账记录率) is the one ledger rate everywhere (`ledgerCompleteness`, the
dashboard, each branch's row): present / (present + missing), the share recorded of the
sub-periods that have fallen due — pending ones are not due yet, so they count neither way and
are reported as their own count. Late entries count as recorded. Nothing fallen due: no rate
(None), never a made-up 0 or 1.

Everything is read with two statements whatever the number of branches and periods: the catalog,
and one aggregate of entries per (branch, item, month) over the months the due sub-periods
cover. `ledger_completeness_of_periods` answers several periods at once (the assessment trend's
twelve months, the dashboard's period and a year earlier) from those same two statements; each
period's answer is exactly what `ledger_completeness` gives for that period alone.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import LedgerEntry, LedgerFrequency, LedgerItem
from resolvers.period import Period, PeriodKind, local_date

FREQUENCY_KIND = {
    LedgerFrequency.MONTHLY: PeriodKind.MONTH,
    LedgerFrequency.QUARTERLY: PeriodKind.QUARTER,
    LedgerFrequency.YEARLY: PeriodKind.YEAR,
}


class SubPeriodStatus(enum.StrEnum):
    PRESENT = "present"
    LATE = "late"
    MISSING = "missing"
    PENDING = "pending"

    @property
    def label(self) -> str:
        return {"present": "已记录", "late": "补记", "missing": "缺失", "pending": "未到期"}[self]


@dataclass(frozen=True, slots=True)
class SubPeriodState:
    period: Period
    entries: int
    first_recorded_at: datetime | None
    # The last day an entry may be recorded without being late: the sub-period's end + grace.
    deadline: date
    status: SubPeriodStatus


@dataclass(frozen=True, slots=True)
class ItemCompleteness:
    """One required item of one branch in one period; `expected` counts its due sub-periods."""

    item_id: uuid.UUID
    code: str
    name: str
    frequency: LedgerFrequency
    sub_periods: tuple[SubPeriodState, ...]

    @property
    def expected(self) -> int:
        return len(self.sub_periods)

    def _with(self, *statuses: SubPeriodStatus) -> list[Period]:
        return [s.period for s in self.sub_periods if s.status in statuses]

    @property
    def present(self) -> int:
        """Due sub-periods with an entry, late ones included."""
        return len(self._with(SubPeriodStatus.PRESENT, SubPeriodStatus.LATE))

    @property
    def entries(self) -> int:
        return sum(s.entries for s in self.sub_periods)

    @property
    def missing(self) -> list[Period]:
        return self._with(SubPeriodStatus.MISSING)

    @property
    def late(self) -> list[Period]:
        return self._with(SubPeriodStatus.LATE)

    @property
    def pending(self) -> list[Period]:
        return self._with(SubPeriodStatus.PENDING)

    @property
    def recorded_rate(self) -> float | None:
        """present / (present + missing): see the module's docstring."""
        return recorded_rate(self.present, len(self.missing))


def recorded_rate(present: int, missing: int) -> float | None:
    """The recorded rate: present / (present + missing); None when nothing has fallen due."""
    due = present + missing
    return present / due if due else None


def due_sub_periods(frequency: LedgerFrequency, period: Period) -> list[Period]:
    """The sub-periods of an item of this frequency whose due date falls inside `period`."""
    kind = FREQUENCY_KIND.get(frequency)
    if kind is None:
        return []
    if period.is_span:
        return period.ending_within(kind)
    if kind.months <= period.kind.months:
        return period.sub_periods(kind)
    enclosing = Period.containing(kind, period.end)
    return [enclosing] if enclosing.end == period.end else []


def _month_ranges(months: Sequence[Period]) -> list[tuple[date, date]]:
    """Ascending distinct months merged into [start, end) ranges of consecutive months."""
    ranges: list[tuple[date, date]] = []
    for m in months:
        if ranges and ranges[-1][1] == m.start:
            ranges[-1] = (ranges[-1][0], m.end_exclusive)
        else:
            ranges.append((m.start, m.end_exclusive))
    return ranges


async def ledger_completeness(
    db: AsyncSession,
    branch_ids: Sequence[uuid.UUID],
    period: Period,
    *,
    today: date,
    grace_days: int,
) -> dict[uuid.UUID, list[ItemCompleteness]]:
    """Completeness of each branch's ledger for `period`, items in catalog order.

    Items with nothing due in the period (a yearly item in Q2) are left out. `today` is the
    bureau's calendar day (`local_date(clock())`): it decides whether an empty
    sub-period is already missing or still pending. No access check: callers decide which
    branches the viewer may see.
    """
    [found] = await ledger_completeness_of_periods(
        db, branch_ids, [period], today=today, grace_days=grace_days
    )
    return found


async def ledger_completeness_of_periods(
    db: AsyncSession,
    branch_ids: Sequence[uuid.UUID],
    periods: Sequence[Period],
    *,
    today: date,
    grace_days: int,
) -> list[dict[uuid.UUID, list[ItemCompleteness]]]:
    """`ledger_completeness` of each period (in the order given; they may overlap), from two
    statements whatever the number of periods and branches."""
    items = (
        await db.scalars(
            select(LedgerItem)
            .where(
                LedgerItem.active.is_(True),
                LedgerItem.required.is_(True),
                LedgerItem.frequency != LedgerFrequency.ON_EVENT,
            )
            .order_by(LedgerItem.sort_order, LedgerItem.code)
        )
    ).all()
    due = [{item.id: due_sub_periods(item.frequency, p) for item in items} for p in periods]
    results: list[dict[uuid.UUID, list[ItemCompleteness]]] = [
        {b: [] for b in branch_ids} for _ in periods
    ]
    due_items = {item.id for d in due for item in items if d[item.id]}
    if not due_items or not branch_ids:
        return results
    # Every month a due sub-period covers, of any period: the entries are counted per month
    # once, and each period sums the months of its own sub-periods.
    months = sorted(
        {
            m
            for d in due
            for subs in d.values()
            for sub in subs
            for m in sub.sub_periods(PeriodKind.MONTH)
        }
    )
    index = {m: i for i, m in enumerate(months)}
    # The month of each entry, as an index into `months`: plain comparisons, so the same SQL
    # runs on SQLite and PostgreSQL; months outside `months` are left out by the WHERE clause.
    whens = [(LedgerEntry.occurred_on < m.end_exclusive, i) for i, m in enumerate(months[:-1])]
    bucket = case(*whens, else_=len(months) - 1) if whens else literal(0)
    inner = (
        select(
            LedgerEntry.branch_id,
            LedgerEntry.item_id,
            bucket.label("month"),
            LedgerEntry.created_at,
        )
        .where(
            LedgerEntry.branch_id.in_(list(branch_ids)),
            LedgerEntry.item_id.in_(sorted(due_items)),
            or_(
                *(
                    and_(LedgerEntry.occurred_on >= start, LedgerEntry.occurred_on < end)
                    for start, end in _month_ranges(months)
                )
            ),
        )
        .subquery()
    )
    query = select(
        inner.c.branch_id,
        inner.c.item_id,
        inner.c.month,
        func.count(),
        func.min(inner.c.created_at),
    ).group_by(inner.c.branch_id, inner.c.item_id, inner.c.month)
    counts: dict[tuple[uuid.UUID, uuid.UUID, int], tuple[int, datetime]] = {
        (branch_id, item_id, int(month)): (int(n), first)
        for branch_id, item_id, month, n, first in await db.execute(query)
    }
    for d, result in zip(due, results, strict=True):
        # What each due item needs, worked out once for all branches: its sub-periods with
        # their months' indexes and deadlines.
        plan = [
            (
                item,
                [
                    (
                        sub,
                        [index[m] for m in sub.sub_periods(PeriodKind.MONTH)],
                        sub.end + timedelta(days=grace_days),
                    )
                    for sub in d[item.id]
                ],
            )
            for item in items
            if d[item.id]
        ]
        for branch_id in branch_ids:
            for item, subs in plan:
                states = []
                for sub, month_indexes, deadline in subs:
                    entries = 0
                    first: datetime | None = None
                    for month in month_indexes:
                        found = counts.get((branch_id, item.id, month))
                        if found is not None:
                            entries += found[0]
                            first = found[1] if first is None else min(first, found[1])
                    if first is not None:
                        late = local_date(first) > deadline
                        status = SubPeriodStatus.LATE if late else SubPeriodStatus.PRESENT
                    elif today > deadline:
                        status = SubPeriodStatus.MISSING
                    else:
                        status = SubPeriodStatus.PENDING
                    states.append(SubPeriodState(sub, entries, first, deadline, status))
                result[branch_id].append(
                    ItemCompleteness(item.id, item.code, item.name, item.frequency, tuple(states))
                )
    return results
