"""The sections of records kept in the period: education activities, field records (visits,
patrols, service actions, also by month) and honours, each beside the same period last year.
Each reads both periods at once, with conditional sums or month buckets."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    BranchHonour,
    EducationActivity,
    EducationActivityType,
    HonourLevel,
    Patrol,
    PatrolKind,
    ServiceAction,
    ServiceActionType,
    Visit,
    VisitCategory,
)
from resolvers.dashboard.figures import Count, Education, FieldRecords, MonthFigures
from resolvers.dashboard.scope import BranchClause, DashboardScope, in_both, within
from resolvers.period import Period, PeriodKind, day_start


async def education(db: AsyncSession, scope: DashboardScope) -> Education:
    """Education activities held and people received, by type, in both periods. One statement."""
    in_scope, period, previous = scope.in_scope, scope.period, scope.previous_period
    e = EducationActivity
    now_, then = (within(e.held_on, p, instants=False) for p in (period, previous))
    query = (
        select(
            e.type,
            func.sum(case((now_, 1), else_=0)),
            func.sum(case((now_, e.audience_count), else_=0)),
            func.sum(case((then, 1), else_=0)),
            func.sum(case((then, e.audience_count), else_=0)),
        )
        .where(in_scope(e.branch_id), in_both(e.held_on, period, previous, instants=False))
        .group_by(e.type)
    )
    by_type = {
        EducationActivityType(kind): (
            Count(int(a or 0), int(c or 0)),
            Count(int(b or 0), int(d or 0)),
        )
        for kind, a, b, c, d in await db.execute(query)
    }
    return Education(
        activities=Count(
            sum(a.value for a, _ in by_type.values()),
            sum(a.previous or 0 for a, _ in by_type.values()),
        ),
        audience=Count(
            sum(b.value for _, b in by_type.values()),
            sum(b.previous or 0 for _, b in by_type.values()),
        ),
        by_type=by_type,
    )


async def honours_by_level(db: AsyncSession, scope: DashboardScope) -> dict[HonourLevel, Count]:
    """Honours awarded to the subtree's branches per level, in both periods. One statement."""
    in_scope, period, previous = scope.in_scope, scope.period, scope.previous_period
    h = BranchHonour
    now_, then = (within(h.awarded_on, p, instants=False) for p in (period, previous))
    query = (
        select(
            h.level,
            func.sum(case((now_, 1), else_=0)),
            func.sum(case((then, 1), else_=0)),
        )
        .where(in_scope(h.branch_id), in_both(h.awarded_on, period, previous, instants=False))
        .group_by(h.level)
    )
    found = {
        HonourLevel(level): Count(int(a or 0), int(b or 0))
        for level, a, b in await db.execute(query)
    }
    return {level: found.get(level, Count(0, 0)) for level in HonourLevel}


def honours_total(by_level: dict[HonourLevel, Count]) -> Count:
    """All levels' honours together."""
    return Count(
        sum(c.value for c in by_level.values()),
        sum(c.previous or 0 for c in by_level.values()),
    )


def _months(period: Period) -> list[Period]:
    return period.sub_periods(PeriodKind.MONTH)


def _month_bucket(column: Any, months: list[Period]) -> Any:
    """The index of a record's month in `months` (ascending, possibly with a gap the WHERE
    clause leaves out): plain comparisons, the same SQL on SQLite and PostgreSQL."""
    return case(
        *((column < day_start(m.end_exclusive), i) for i, m in enumerate(months[:-1])),
        else_=len(months) - 1,
    )


def _pairs(
    rows: Iterable[tuple[Any, ...]], n_months: int
) -> tuple[dict[Any, list[int]], dict[Any, list[int]]]:
    """Rows (key, bucket, *sums) → per key, the sums of the current and of the previous period.

    Buckets 0..n-1 are the previous period's months, n..2n-1 the current period's.
    """
    current: dict[Any, list[int]] = {}
    previous: dict[Any, list[int]] = {}
    for key, bucket, *sums in rows:
        target = current if int(bucket) >= n_months else previous
        acc = target.setdefault(key, [0] * len(sums))
        for i, value in enumerate(sums):
            acc[i] += int(value or 0)
    return current, previous


def _count(
    current: dict[Any, list[int]], previous: dict[Any, list[int]], key: Any, i: int
) -> Count:
    return Count(current.get(key, [0] * (i + 1))[i], previous.get(key, [0] * (i + 1))[i])


def _total(current: dict[Any, list[int]], previous: dict[Any, list[int]], i: int) -> Count:
    return Count(sum(v[i] for v in current.values()), sum(v[i] for v in previous.values()))


async def _bucketed(
    db: AsyncSession,
    in_scope: BranchClause,
    model: Any,
    moment: Any,
    key: Any,
    sums: list[Any],
    months: list[Period],
    period: Period,
    previous: Period,
) -> list[tuple[Any, ...]]:
    """(key, month bucket, *sums) of a synced collection's live records in both periods.

    Bucketed in a subquery and grouped outside it: PostgreSQL would not match a GROUP BY on the
    CASE with the select list's own (it binds their parameters separately).
    """
    inner = (
        select(
            key.label("key"),
            _month_bucket(moment, months).label("bucket"),
            *(s.label(f"s{i}") for i, s in enumerate(sums)),
        )
        .where(
            model.deleted.is_(False),
            in_scope(model.branch_id),
            in_both(moment, period, previous, instants=True),
        )
        .subquery()
    )
    query = select(
        inner.c.key,
        inner.c.bucket,
        func.count(),
        *(func.sum(inner.c[f"s{i}"]) for i in range(len(sums))),
    ).group_by(inner.c.key, inner.c.bucket)
    return [tuple(row) for row in await db.execute(query)]


async def field_records(db: AsyncSession, scope: DashboardScope) -> FieldRecords:
    """Visits, patrols and service actions by kind and by month, in both periods. Three
    statements."""
    in_scope, period, previous = scope.in_scope, scope.period, scope.previous_period
    cur_months, prev_months = _months(period), _months(previous)
    months = prev_months + cur_months
    n = len(cur_months)
    args = (months, period, previous)
    visits = await _bucketed(
        db, in_scope, Visit, Visit.visited_at, Visit.category, [Visit.people_reached], *args
    )
    patrols = await _bucketed(db, in_scope, Patrol, Patrol.started_at, Patrol.kind, [], *args)
    s = ServiceAction
    actions = await _bucketed(
        db,
        in_scope,
        s,
        s.happened_at,
        s.type,
        [s.people_reached, s.difficulties_solved, s.banners_received],
        *args,
    )

    v_now, v_then = _pairs(visits, n)
    p_now, p_then = _pairs(patrols, n)
    a_now, a_then = _pairs(actions, n)
    night = PatrolKind.NIGHT.value

    def monthly(rows: list[tuple[Any, ...]], i: int, only: Any = None) -> list[int]:
        totals = [0] * len(months)
        for key, bucket, *values in rows:
            if only is None or key == only:
                totals[int(bucket)] += int(values[i] or 0)
        return totals

    v_month = monthly(visits, 0)
    p_month, n_month = monthly(patrols, 0), monthly(patrols, 0, night)
    a_month, d_month, b_month = monthly(actions, 0), monthly(actions, 2), monthly(actions, 3)
    by_month = [
        MonthFigures(
            month=cur_months[i],
            visits=Count(v_month[n + i], v_month[i]),
            patrols=Count(p_month[n + i], p_month[i]),
            night_patrols=Count(n_month[n + i], n_month[i]),
            service_actions=Count(a_month[n + i], a_month[i]),
            difficulties_solved=Count(d_month[n + i], d_month[i]),
            banners_received=Count(b_month[n + i], b_month[i]),
        )
        for i in range(n)
    ]
    return FieldRecords(
        visits=_total(v_now, v_then, 0),
        visit_people_reached=_total(v_now, v_then, 1),
        visits_by_category={c: _count(v_now, v_then, c.value, 0) for c in VisitCategory},
        patrols=_total(p_now, p_then, 0),
        night_patrols=_count(p_now, p_then, night, 0),
        patrols_by_kind={k: _count(p_now, p_then, k.value, 0) for k in PatrolKind},
        service_actions=_total(a_now, a_then, 0),
        service_people_reached=_total(a_now, a_then, 1),
        difficulties_solved=_total(a_now, a_then, 2),
        banners_received=_total(a_now, a_then, 3),
        actions_by_type={
            t: (
                _count(a_now, a_then, t.value, 0),
                _count(a_now, a_then, t.value, 2),
                _count(a_now, a_then, t.value, 3),
            )
            for t in ServiceActionType
        },
        by_month=by_month,
    )
