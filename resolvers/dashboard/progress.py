"""The sections of how the work stands: ledger completeness, directives done by their
deadline, the assessment ranking and the open reminders."""

from __future__ import annotations

from sqlalchemy import and_, case, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from models import Branch, BranchKind, Directive, DirectiveRecipient
from resolvers.assessment import RankedScore, assessment_rankings
from resolvers.dashboard.figures import (
    AssessmentFigures,
    Count,
    DirectiveFigures,
    LedgerBranchRow,
    LedgerFigures,
    RankingEntry,
    Rate,
    ReminderFigures,
    rate_of,
)
from resolvers.dashboard.scope import DashboardScope, in_both, within
from resolvers.ledger_completeness import ledger_completeness_of_periods, recorded_rate
from resolvers.supervision_metrics import open_and_overdue_reminder_counts

# Kinds that keep the standard branch ledger (党支部基础工作台账标准).
LEDGER_KINDS = (BranchKind.BRANCH, BranchKind.GENERAL_BRANCH)


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
            recorded_rate(present.value, missing.value),
            recorded_rate(present.previous or 0, missing.previous or 0),
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
        due = and_(within(deadline, p, instants=True), passed)
        for extra in (true(), on_time, late, still_open):
            columns.append(func.sum(case((and_(due, extra), 1), else_=0)))
    query = (
        select(*columns)
        .select_from(r)
        .join(Directive, Directive.id == r.directive_id)
        .where(
            r.deleted.is_(False),
            in_scope(r.branch_id),
            in_both(deadline, period, previous, instants=True),
        )
    )
    values = [int(v or 0) for v in (await db.execute(query)).one()]
    now_, then = values[:4], values[4:]
    return DirectiveFigures(
        due=Count(now_[0], then[0]),
        closed_on_time=Count(now_[1], then[1]),
        closed_late=Count(now_[2], then[2]),
        overdue_open=Count(now_[3], then[3]),
        completion_rate=Rate(rate_of(now_[1], now_[0]), rate_of(then[1], then[0])),
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
