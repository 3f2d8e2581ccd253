"""Data analysis (数据分析): the dashboard of a period, with the same figures a year earlier.

The dashboard aggregates everything in SQL over one subtree — the whole county, or a branch and
everything below it — for `period` and for the same period last year (同比,
`Period.same_period_last_year`). `dashboard_scope` settles the subtree and the periods once;
each section is then a function of its own (`members(db, scope)`, `ledger(db, scope)`, …), so
the GraphQL query computes only the sections it selects, while `dashboard` computes them all
(the xlsx export). Each aggregate reads both periods at once with conditional sums or month
buckets, so every section costs a fixed number of statements whatever the number of branches,
members or records:

    the root branch (when one is asked for or implied by the viewer's scope), branches by kind,
    members by type and status, education activities by type, visits, patrols and service
    actions by type and month, the ledger-keeping branches, ledger completeness of both periods
    (two statements, resolvers/ledger_completeness.py), directive recipients, honours by level,
    the assessment ranking of both periods (resolvers/assessment/: the branches and the
    catalog read once, both periods scored together by a fixed number of statements), and the
    subtree's branches with their open reminders (two statements).

The assessment ranking ranks every assessed branch of the county (the positions are the
county's, as `assessmentRanking` gives a secretary their place among all ranked) and lists the
subtree's branches the viewer may read. Open reminders are counted as they stand now: they
carry no previous value.

Roster figures (branches, members) are counted as they stand now: the platform keeps no dated
roster, so they carry no previous value. Scope: admins and inspectors read any branch or the
whole county; a secretary their subtree (by default their own branch), an officer their branch;
asking for a branch outside that is refused with `Forbidden`.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from access.errors import Forbidden
from access.scope import scope_of
from access.viewer import Viewer
from models import (
    Branch,
    BranchHonour,
    BranchKind,
    Directive,
    DirectiveRecipient,
    EducationActivity,
    EducationActivityType,
    HonourLevel,
    Member,
    PartyStatus,
    Patrol,
    PatrolKind,
    PersonnelType,
    ServiceAction,
    ServiceActionType,
    ServiceStatus,
    Visit,
    VisitCategory,
)
from resolvers.assessment import RankedScore, assessment_rankings
from resolvers.branch import get_branch
from resolvers.ledger_completeness import ledger_completeness_of_periods
from resolvers.period import Period, PeriodKind, day_start, local_date
from resolvers.supervision_metrics import open_and_overdue_reminder_counts

# Kinds that keep the standard branch ledger (党支部基础工作台账标准).
LEDGER_KINDS = (BranchKind.BRANCH, BranchKind.GENERAL_BRANCH)
# How many leading branches the dashboard's ranking shows as the top.
RANKING_TOP = 5


# --- figures ------------------------------------------------------------------------------------


def percent_change(value: float | None, previous: float | None) -> float | None:
    """(value - previous) / previous in percent, one decimal; None when there is no base."""
    if value is None or previous is None or previous == 0:
        return None
    return round((value - previous) / previous * 100, 1)


@dataclass(frozen=True, slots=True)
class Count:
    """A count in the period and in the comparison period (None: not kept per period)."""

    value: int
    previous: int | None = None

    @property
    def change(self) -> float | None:
        return percent_change(self.value, self.previous)


@dataclass(frozen=True, slots=True)
class Rate:
    """A share between 0 and 1; None when nothing was due."""

    value: float | None
    previous: float | None

    @property
    def change(self) -> float | None:
        return percent_change(self.value, self.previous)


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True, slots=True)
class Members:
    """The roster of the subtree as it stands (home branch in the subtree)."""

    total: int
    by_personnel_type: dict[PersonnelType, int]
    by_party_status: dict[PartyStatus, int]
    by_service_status: dict[ServiceStatus, int]


@dataclass(frozen=True, slots=True)
class Education:
    activities: Count
    audience: Count
    by_type: dict[EducationActivityType, tuple[Count, Count]]


@dataclass(frozen=True, slots=True)
class MonthFigures:
    """One month of the period beside the same month a year earlier."""

    month: Period
    visits: Count
    patrols: Count
    night_patrols: Count
    service_actions: Count
    difficulties_solved: Count
    banners_received: Count


@dataclass(frozen=True, slots=True)
class FieldRecords:
    visits: Count
    visit_people_reached: Count
    visits_by_category: dict[VisitCategory, Count]
    patrols: Count
    night_patrols: Count
    patrols_by_kind: dict[PatrolKind, Count]
    service_actions: Count
    service_people_reached: Count
    difficulties_solved: Count
    banners_received: Count
    # Per type: actions, difficulties solved, banners received.
    actions_by_type: dict[ServiceActionType, tuple[Count, Count, Count]]
    by_month: list[MonthFigures]


@dataclass(frozen=True, slots=True)
class LedgerBranchRow:
    """One ledger-keeping branch in the period: due sub-periods and how they stand."""

    branch: Branch
    expected: int
    present: int
    late: int
    missing: int
    pending: int

    @property
    def rate(self) -> float | None:
        """present / (present + missing): what was due by now, how much of it is there."""
        return _rate(self.present, self.present + self.missing)


@dataclass(frozen=True, slots=True)
class LedgerFigures:
    branches: int
    expected: Count
    present: Count
    late: Count
    missing: Count
    pending: Count
    rate: Rate
    by_branch: list[LedgerBranchRow]


@dataclass(frozen=True, slots=True)
class DirectiveFigures:
    """Recipient rows (every level) whose directive's deadline lies in the period and passed."""

    due: Count
    closed_on_time: Count
    closed_late: Count
    overdue_open: Count
    completion_rate: Rate


@dataclass(frozen=True, slots=True)
class RankingEntry:
    """An assessed branch's place in the county's ranking, and a year earlier."""

    rank: int
    branch: Branch
    score: float
    previous_rank: int | None
    previous_score: float | None


@dataclass(frozen=True, slots=True)
class AssessmentFigures:
    """智能考核 ranking: positions among all `ranked` assessed branches of the county."""

    ranked: int
    # The subtree's assessed branches the viewer may read, best first.
    rows: list[RankingEntry]
    # The assessed branch the subtree's root is or belongs to (None for the county, or a
    # subtree with no assessed branch at or above its root).
    own: RankingEntry | None

    @property
    def top(self) -> list[RankingEntry]:
        return self.rows[:RANKING_TOP]


@dataclass(frozen=True, slots=True)
class ReminderFigures:
    """Reminders of the subtree's branches not yet resolved, as they stand now."""

    open: Count
    overdue: Count


@dataclass(frozen=True, slots=True)
class Dashboard:
    period: Period
    previous_period: Period
    # The subtree's root; None for the whole county.
    branch: Branch | None
    branches_by_kind: dict[BranchKind, int]
    members: Members
    education: Education
    field_records: FieldRecords
    ledger: LedgerFigures
    directives: DirectiveFigures
    honours: Count
    honours_by_level: dict[HonourLevel, Count]
    assessment_ranking: AssessmentFigures
    open_reminders: ReminderFigures


# --- scope --------------------------------------------------------------------------------------


BranchClause = Callable[[InstrumentedAttribute[uuid.UUID]], ColumnElement[bool]]


@dataclass(frozen=True, slots=True)
class DashboardScope:
    """What every section reads: who asks, the subtree (its root, None for the whole county,
    and a SQL condition on a `branch_id` column), the period and the same period last year, and
    the moment the dashboard is computed at."""

    viewer: Viewer
    branch: Branch | None
    in_scope: BranchClause
    period: Period
    previous_period: Period
    now: datetime
    grace_days: int

    @property
    def today(self) -> date:
        return local_date(self.now)


async def dashboard_scope(
    db: AsyncSession,
    viewer: Viewer,
    period: Period,
    branch_id: uuid.UUID | None,
    *,
    now: datetime,
    grace_days: int,
) -> DashboardScope:
    """The dashboard's subtree (None: the viewer's whole scope) and period, which every section
    reads. Raises Forbidden outside the viewer's scope and InputError (NOT_FOUND on `branchId`)
    for an unknown branch. One statement when a branch is asked for or implied, else none."""
    root, in_scope = await _subtree(db, viewer, branch_id)
    return DashboardScope(
        viewer=viewer,
        branch=root,
        in_scope=in_scope,
        period=period,
        previous_period=period.same_period_last_year(),
        now=now,
        grace_days=grace_days,
    )


async def _subtree(
    db: AsyncSession, viewer: Viewer, branch_id: uuid.UUID | None
) -> tuple[Branch | None, BranchClause]:
    """The subtree's root and a SQL condition on a `branch_id` column for the subtree."""
    scope = scope_of(viewer)
    if scope.kind == "none":
        raise Forbidden("无权查看数据分析 (no branch to analyse)")
    root: Branch | None
    if branch_id is not None:
        root = await get_branch(db, branch_id, "branchId")
        if not scope.covers(root.id, root.path):
            raise Forbidden("该组织不在您的查看范围内 (outside what you may read)")
    elif scope.kind == "all":
        root = None
    else:
        assert scope.branch_id is not None
        root = await get_branch(db, scope.branch_id, "branchId")
    if root is None:
        return None, lambda column: true()
    if scope.kind == "branch":
        # Officers read their own branch's records only (access/scope.py), not those below it.
        only = root.id
        return root, lambda column: column == only
    subtree = select(Branch.id).where(Branch.path.startswith(root.path))
    return root, lambda column: column.in_(subtree)


# --- helpers ------------------------------------------------------------------------------------


def _within(column: Any, period: Period, *, instants: bool) -> ColumnElement[bool]:
    start: Any = day_start(period.start) if instants else period.start
    end: Any = day_start(period.end_exclusive) if instants else period.end_exclusive
    return and_(column >= start, column < end)


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


# --- the dashboard ------------------------------------------------------------------------------


async def dashboard(
    db: AsyncSession,
    viewer: Viewer,
    period: Period,
    branch_id: uuid.UUID | None,
    *,
    now: datetime,
    grace_days: int,
) -> Dashboard:
    """The dashboard of `period` for a subtree (None: the viewer's whole scope), with the same
    figures for the same period last year: every section, one after another (the xlsx export;
    the GraphQL query computes only the sections it selects). Raises Forbidden outside the
    viewer's scope and InputError (NOT_FOUND on `branchId`) for an unknown branch."""
    scope = await dashboard_scope(db, viewer, period, branch_id, now=now, grace_days=grace_days)
    kinds = await branches_by_kind(db, scope)
    members_ = await members(db, scope)
    education_ = await education(db, scope)
    records = await field_records(db, scope)
    ledger_ = await ledger(db, scope)
    directives_ = await directives(db, scope)
    honours = await honours_by_level(db, scope)
    ranking = await assessment_ranking(db, scope)
    reminders = await open_reminders(db, scope)
    return Dashboard(
        period=period,
        previous_period=scope.previous_period,
        branch=scope.branch,
        branches_by_kind=kinds,
        members=members_,
        education=education_,
        field_records=records,
        ledger=ledger_,
        directives=directives_,
        honours=honours_total(honours),
        honours_by_level=honours,
        assessment_ranking=ranking,
        open_reminders=reminders,
    )


# --- the sections, each computed on its own -----------------------------------------------------


async def branches_by_kind(db: AsyncSession, scope: DashboardScope) -> dict[BranchKind, int]:
    """The subtree's branches per kind, as they stand. One statement."""
    in_scope = scope.in_scope
    return {
        BranchKind(kind): int(n)
        for kind, n in await db.execute(
            select(Branch.kind, func.count()).where(in_scope(Branch.id)).group_by(Branch.kind)
        )
    }


async def members(db: AsyncSession, scope: DashboardScope) -> Members:
    """The subtree's roster as it stands, by personnel type, party and service status. One
    statement."""
    in_scope = scope.in_scope
    query = select(
        Member.personnel_type, Member.party_status, Member.service_status, func.count()
    ).where(in_scope(Member.branch_id))
    query = query.group_by(Member.personnel_type, Member.party_status, Member.service_status)
    by_type: dict[PersonnelType, int] = defaultdict(int)
    by_status: dict[PartyStatus, int] = defaultdict(int)
    by_service: dict[ServiceStatus, int] = defaultdict(int)
    for kind, status, service, n in await db.execute(query):
        by_type[PersonnelType(kind)] += int(n)
        by_status[PartyStatus(status)] += int(n)
        by_service[ServiceStatus(service)] += int(n)
    return Members(sum(by_type.values()), dict(by_type), dict(by_status), dict(by_service))


def _in_both(column: Any, period: Period, previous: Period, *, instants: bool) -> Any:
    return or_(
        _within(column, period, instants=instants), _within(column, previous, instants=instants)
    )


async def education(db: AsyncSession, scope: DashboardScope) -> Education:
    """Education activities held and people received, by type, in both periods. One statement."""
    in_scope, period, previous = scope.in_scope, scope.period, scope.previous_period
    e = EducationActivity
    now_, then = (_within(e.held_on, p, instants=False) for p in (period, previous))
    query = (
        select(
            e.type,
            func.sum(case((now_, 1), else_=0)),
            func.sum(case((now_, e.audience_count), else_=0)),
            func.sum(case((then, 1), else_=0)),
            func.sum(case((then, e.audience_count), else_=0)),
        )
        .where(in_scope(e.branch_id), _in_both(e.held_on, period, previous, instants=False))
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
            _in_both(moment, period, previous, instants=True),
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


async def ledger(db: AsyncSession, scope: DashboardScope) -> LedgerFigures:
    """Ledger completeness of the subtree's ledger-keeping branches in both periods. Three
    statements (the branches, then resolvers/ledger_completeness.py's two)."""
    in_scope, period, previous = scope.in_scope, scope.period, scope.previous_period
    branches = list(
        await db.scalars(
            select(Branch)
            .where(in_scope(Branch.id), Branch.kind.in_(LEDGER_KINDS))
            .order_by(Branch.depth, Branch.sort_order, Branch.id)
        )
    )
    ids = [b.id for b in branches]

    now_rows: list[LedgerBranchRow] = []
    then_rows: list[LedgerBranchRow] = []
    if ids:
        both = await ledger_completeness_of_periods(
            db, ids, [period, previous], today=scope.today, grace_days=scope.grace_days
        )
        now_rows, then_rows = (
            [
                LedgerBranchRow(
                    branch=b,
                    expected=sum(i.expected for i in found[b.id]),
                    present=sum(i.present for i in found[b.id]),
                    late=sum(len(i.late) for i in found[b.id]),
                    missing=sum(len(i.missing) for i in found[b.id]),
                    pending=sum(len(i.pending) for i in found[b.id]),
                )
                for b in branches
            ]
            for found in both
        )

    def total(attr: str) -> Count:
        return Count(
            sum(getattr(r, attr) for r in now_rows), sum(getattr(r, attr) for r in then_rows)
        )

    present, missing = total("present"), total("missing")
    return LedgerFigures(
        branches=len(ids),
        expected=total("expected"),
        present=present,
        late=total("late"),
        missing=missing,
        pending=total("pending"),
        rate=Rate(
            _rate(present.value, present.value + missing.value),
            _rate(present.previous or 0, (present.previous or 0) + (missing.previous or 0)),
        ),
        by_branch=now_rows,
    )


async def directives(db: AsyncSession, scope: DashboardScope) -> DirectiveFigures:
    """Directive recipients of every level whose deadline lies in either period and passed.
    One statement."""
    in_scope, period, previous = scope.in_scope, scope.period, scope.previous_period
    now = scope.now
    r = DirectiveRecipient
    deadline = Directive.deadline
    passed = deadline <= now
    on_time = and_(r.closed_at.is_not(None), r.closed_at <= deadline)
    late = and_(r.closed_at.is_not(None), r.closed_at > deadline)
    still_open = r.closed_at.is_(None)
    columns = []
    for p in (period, previous):
        due = and_(_within(deadline, p, instants=True), passed)
        for extra in (true(), on_time, late, still_open):
            columns.append(func.sum(case((and_(due, extra), 1), else_=0)))
    query = (
        select(*columns)
        .select_from(r)
        .join(Directive, Directive.id == r.directive_id)
        .where(
            r.deleted.is_(False),
            in_scope(r.branch_id),
            _in_both(deadline, period, previous, instants=True),
        )
    )
    values = [int(v or 0) for v in (await db.execute(query)).one()]
    now_, then = values[:4], values[4:]
    return DirectiveFigures(
        due=Count(now_[0], then[0]),
        closed_on_time=Count(now_[1], then[1]),
        closed_late=Count(now_[2], then[2]),
        overdue_open=Count(now_[3], then[3]),
        completion_rate=Rate(_rate(now_[1], now_[0]), _rate(then[1], then[0])),
    )


async def honours_by_level(db: AsyncSession, scope: DashboardScope) -> dict[HonourLevel, Count]:
    """Honours awarded to the subtree's branches per level, in both periods. One statement."""
    in_scope, period, previous = scope.in_scope, scope.period, scope.previous_period
    h = BranchHonour
    now_, then = (_within(h.awarded_on, p, instants=False) for p in (period, previous))
    query = (
        select(
            h.level,
            func.sum(case((now_, 1), else_=0)),
            func.sum(case((then, 1), else_=0)),
        )
        .where(in_scope(h.branch_id), _in_both(h.awarded_on, period, previous, instants=False))
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


async def assessment_ranking(db: AsyncSession, scope: DashboardScope) -> AssessmentFigures:
    """The county's ranking for the period and a year earlier, narrowed to the subtree: the
    statements of resolvers/assessment/'s ranking of both periods together."""
    root = scope.branch
    now_, then = await assessment_rankings(
        db,
        scope.viewer,
        [scope.period, scope.previous_period],
        subtree_of=None,
        today=scope.today,
        grace_days=scope.grace_days,
    )
    before = {r.score.branch.id: r for r in then.rows}

    def entry(ranked: RankedScore) -> RankingEntry:
        earlier = before.get(ranked.score.branch.id)
        return RankingEntry(
            rank=ranked.rank,
            branch=ranked.score.branch,
            score=ranked.score.total,
            previous_rank=earlier.rank if earlier else None,
            previous_score=earlier.score.total if earlier else None,
        )

    rows = [
        entry(r) for r in now_.rows if root is None or r.score.branch.path.startswith(root.path)
    ]
    own = None
    if root is not None:
        above = [r for r in now_.rows if root.path.startswith(r.score.branch.path)]
        if above:
            own = entry(max(above, key=lambda r: len(r.score.branch.path)))
    return AssessmentFigures(ranked=now_.ranked, rows=rows, own=own)


async def open_reminders(db: AsyncSession, scope: DashboardScope) -> ReminderFigures:
    """Reminders of the subtree's branches not yet resolved, as they stand. Two statements."""
    ids = list(await db.scalars(select(Branch.id).where(scope.in_scope(Branch.id))))
    found = (await open_and_overdue_reminder_counts(db, ids, scope.today)).values()
    return ReminderFigures(
        open=Count(sum(n for n, _ in found), None),
        overdue=Count(sum(late for _, late in found), None),
    )
