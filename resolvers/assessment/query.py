"""Reading scores: a branch's, the ranking of the assessed branches, a branch's year.

Cost: the catalog, the ledger (two statements), one aggregate statement per metric in use, the
current manual scores and the adjustment sums: a bounded number of statements for any number of
branches and of periods. Several periods (the trend's months, the dashboard's period and a year
earlier) are scored together by `score_periods`: each of those statements reads all of them,
grouped by period in SQL, and each period's scores are the same as when it is scored alone.
Same data, same scores: nothing depends on row order, and rankings break ties by the branch's
sort order, then name. Who may read which branch is access/assessment.py's.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from access.assessment import readable, require_readable
from access.errors import ErrorCode, InputError
from access.viewer import Viewer
from models import AssessmentItem, Branch, BranchKind, ManualScore, RuleKind, ScoreAdjustment
from resolvers.assessment.catalog import list_assessment_items
from resolvers.assessment.metric import METRICS, MetricRegistry
from resolvers.assessment.scoring import (
    BRAND_CHECKLIST,
    BranchScore,
    RankedScore,
    rank,
    round1,
    score_item,
)
from resolvers.branch import get_branch
from resolvers.brand import checklist_completeness
from resolvers.ledger_completeness import ItemCompleteness, ledger_completeness_of_periods
from resolvers.metric_window import Window
from resolvers.period import Period, PeriodError, PeriodKind

# Branches that are assessed and ranked: 党支部 and 党总支.
ASSESSED_KINDS = (BranchKind.BRANCH, BranchKind.GENERAL_BRANCH)


@dataclass(frozen=True, slots=True)
class Ranking:
    period: Period
    items: list[AssessmentItem]
    # Only the rows the viewer may read; ranks are among all `ranked` branches asked for.
    rows: list[RankedScore]
    ranked: int


def check_assessed(branch: Branch, field: str) -> None:
    """Raises InputError (INVALID_KIND on `field`) unless the branch is one that is assessed."""
    if branch.kind not in ASSESSED_KINDS:
        raise InputError.one(
            field,
            f"只考核党支部和党总支,{branch.name}是{branch.kind.label} "
            "(only branches and general branches are assessed)",
            ErrorCode.INVALID_KIND,
        )


async def assessed_branches(db: AsyncSession, subtree_of: Branch | None = None) -> list[Branch]:
    """The assessed branches (of a subtree), in the bureau's order: sort order, then name."""
    query = select(Branch).where(Branch.kind.in_(ASSESSED_KINDS))
    if subtree_of is not None:
        query = query.where(Branch.path.startswith(subtree_of.path))
    query = query.order_by(Branch.sort_order, Branch.name, Branch.id)
    return list((await db.scalars(query)).all())


async def score_branches(
    db: AsyncSession,
    branches: Sequence[Branch],
    period: Period,
    *,
    today: date,
    grace_days: int,
    metrics: MetricRegistry = METRICS,
    items: Sequence[AssessmentItem] | None = None,
) -> list[BranchScore]:
    """Every active item's score of each branch (in the given order) for the period.

    No access check: callers decide which branches the viewer may see. A bounded number of
    statements whatever the number of branches (see the module's docstring). The one-period
    case of `score_periods`.
    """
    [scores] = await score_periods(
        db, branches, [period], today=today, grace_days=grace_days, metrics=metrics, items=items
    )
    return scores


async def score_periods(
    db: AsyncSession,
    branches: Sequence[Branch],
    periods: Sequence[Period],
    *,
    today: date,
    grace_days: int,
    metrics: MetricRegistry = METRICS,
    items: Sequence[AssessmentItem] | None = None,
) -> list[list[BranchScore]]:
    """`score_branches` of each period (in the order given), from the statements of one: the
    ledger, each metric, the manual scores and the adjustments are each read for all periods
    at once, aggregated per branch and period in SQL. `items`: the active catalog when the
    caller has read it already (else it is read here).

    Each period's scores are exactly those `score_branches` gives for it alone.
    """
    if items is None:
        items = await list_assessment_items(db)
    ids = [b.id for b in branches]
    if not ids or not periods:
        return [[] for _ in periods]
    points = sum(i.points for i in items)
    by_kind: dict[RuleKind, list[AssessmentItem]] = {k: [] for k in RuleKind}
    for item in items:
        by_kind[item.rule_kind].append(item)

    ledger: list[dict[uuid.UUID, dict[str, ItemCompleteness]]] = [
        {i: {} for i in ids} for _ in periods
    ]
    if by_kind[RuleKind.LEDGER_FREQUENCY]:
        found = await ledger_completeness_of_periods(
            db, ids, periods, today=today, grace_days=grace_days
        )
        ledger = [{b: {c.code: c for c in rows} for b, rows in f.items()} for f in found]

    # A running period is counted up to today; one that has not begun counts nothing yet.
    windows = [Window(p.start, min(p.end_exclusive, today + timedelta(days=1))) for p in periods]
    begun = [i for i, w in enumerate(windows) if w.start < w.end]
    values: dict[str, list[dict[uuid.UUID, tuple[int, int]]] | None] = {}
    for name in sorted(
        {
            str(i.params.get("metric"))
            for i in by_kind[RuleKind.COUNT_TARGET] + by_kind[RuleKind.RATE]
        }
    ):
        provider = metrics.provider(name)
        if provider is None:
            values[name] = None
            continue
        answer = await provider(db, ids, [windows[i] for i in begun]) if begun else []
        per_period: list[dict[uuid.UUID, tuple[int, int]]] = [{} for _ in periods]
        for i, figures in zip(begun, answer, strict=True):
            per_period[i] = figures
        values[name] = per_period

    names = [str(p) for p in periods]
    current: dict[tuple[str, uuid.UUID, uuid.UUID], ManualScore] = {}
    if by_kind[RuleKind.MANUAL]:
        rows = await db.scalars(
            select(ManualScore).where(
                ManualScore.period.in_(sorted(set(names))),
                ManualScore.branch_id.in_(ids),
                ManualScore.item_id.in_([i.id for i in by_kind[RuleKind.MANUAL]]),
                ManualScore.superseded_by_id.is_(None),
            )
        )
        current = {(r.period, r.branch_id, r.item_id): r for r in rows}

    sums = await db.execute(
        select(
            ScoreAdjustment.period,
            ScoreAdjustment.branch_id,
            ScoreAdjustment.item_id,
            func.sum(ScoreAdjustment.delta),
        )
        .where(ScoreAdjustment.period.in_(sorted(set(names))), ScoreAdjustment.branch_id.in_(ids))
        .group_by(ScoreAdjustment.period, ScoreAdjustment.branch_id, ScoreAdjustment.item_id)
    )
    adjustments = {(p, b, i): float(d or 0) for p, b, i, d in sums}

    # The brand checklist as it stands, for manual items it suggests a score for (A24).
    checklists: dict[uuid.UUID, tuple[int, int]] = {}
    if any(i.params.get("suggested_by") == BRAND_CHECKLIST for i in by_kind[RuleKind.MANUAL]):
        found_lists = await checklist_completeness(db, ids)
        checklists = {b: (c.met, c.total) for b, c in zip(ids, found_lists, strict=True)}

    out = []
    for n, period in enumerate(periods):
        name = names[n]
        result = []
        for branch in branches:
            scores = []
            for item in items:
                metric = values.get(str(item.params.get("metric", "")))
                ledger_item = str(item.params.get("ledger_item", ""))
                scores.append(
                    score_item(
                        item,
                        period,
                        completeness=ledger[n][branch.id].get(ledger_item),
                        value=None if metric is None else metric[n].get(branch.id, (0, 0)),
                        manual=current.get((name, branch.id, item.id)),
                        adjustment=adjustments.get((name, branch.id, item.id), 0.0),
                        metrics=metrics,
                        checklist=checklists.get(branch.id),
                    )
                )
            result.append(
                BranchScore(
                    branch=branch,
                    period=period,
                    items=tuple(scores),
                    total_adjustment=round1(adjustments.get((name, branch.id, None), 0.0)),
                    points=points,
                )
            )
        out.append(result)
    return out


async def branch_assessment(
    db: AsyncSession,
    viewer: Viewer,
    branch_id: uuid.UUID,
    period: Period,
    *,
    today: date,
    grace_days: int,
    field: str = "branchId",
) -> BranchScore:
    """One assessed branch's scores for the period, if the viewer may read it."""
    branch = await get_branch(db, branch_id, field)
    check_assessed(branch, field)
    require_readable(viewer, branch)
    [score] = await score_branches(db, [branch], period, today=today, grace_days=grace_days)
    return score


async def assessment_ranking(
    db: AsyncSession,
    viewer: Viewer,
    period: Period,
    *,
    subtree_of: uuid.UUID | None,
    today: date,
    grace_days: int,
) -> Ranking:
    """All assessed branches (of a subtree) ranked by total; the rows the viewer may read.

    A secretary or officer sees their own rows with their place among all the branches ranked.
    """
    [ranking] = await assessment_rankings(
        db, viewer, [period], subtree_of=subtree_of, today=today, grace_days=grace_days
    )
    return ranking


async def assessment_rankings(
    db: AsyncSession,
    viewer: Viewer,
    periods: Sequence[Period],
    *,
    subtree_of: uuid.UUID | None,
    today: date,
    grace_days: int,
) -> list[Ranking]:
    """`assessment_ranking` of each period (in the order given), with the statements of one:
    the branches and the catalog read once, every period scored together (`score_periods`)."""
    root = None if subtree_of is None else await get_branch(db, subtree_of, "branchId")
    branches = await assessed_branches(db, root)
    items = await list_assessment_items(db)
    scored = await score_periods(
        db, branches, periods, today=today, grace_days=grace_days, items=items
    )
    rankings = []
    for period, scores in zip(periods, scored, strict=True):
        ranked = rank(scores)
        rankings.append(
            Ranking(
                period=period,
                items=list(items),
                rows=[r for r in ranked if readable(viewer, r.score.branch)],
                ranked=len(ranked),
            )
        )
    return rankings


async def assessment_trend(
    db: AsyncSession,
    viewer: Viewer,
    branch_id: uuid.UUID,
    year: int,
    granularity: PeriodKind,
    *,
    today: date,
    grace_days: int,
) -> list[BranchScore]:
    """A branch's scores for each month, quarter (or the year) of a year, in order.

    All the periods are scored together (`score_periods`): the statements of one period,
    however many periods the year has."""
    try:
        periods = Period.whole_year(year).sub_periods(granularity)
    except PeriodError as exc:
        raise InputError.one("year", str(exc), ErrorCode.INVALID_PERIOD) from exc
    branch = await get_branch(db, branch_id, "branchId")
    check_assessed(branch, "branchId")
    require_readable(viewer, branch)
    scored = await score_periods(db, [branch], periods, today=today, grace_days=grace_days)
    return [score for [score] in scored]
