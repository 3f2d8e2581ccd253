"""Smart assessment (智能考核): every assessed branch's score per item for a period.

Scores are computed, never stored, from the catalog (models/assessment.py) and the records:

- `ledger_frequency`: the ledger item's due entries present in the period (resolvers/
  ledger_completeness.py), present / due × points. Late entries count as present; a month
  still within its grace days (pending) is not due yet.
- `count_target`: a metric's count against the target, capped at the points. A target is per
  year (`period_scale`) and scaled to the period (a month gets a twelfth); `per: "member"`
  divides the count by the branch's members first.
- `rate`: a metric's done / total × points.
- `manual`: the inspector's current score for the branch, item and period; none yet → 0,
  "待督导评分".

**Not applicable means full points.** When nothing was due (no ledger entry due this month, no
directive due, no probationary member) or the metric has no provider yet (reminders and spot
checks until the supervision module registers them), the item scores its full points, marked
not applicable. A branch is not marked down for work nobody asked of it; and since every branch
gets the same points, rankings are unchanged, while totals stay out of 100 and comparable across
periods (dropping the item would change the scale from one period to the next).

Adjustments (加减分) apply on top, capped to [0, points] per item; adjustments on no item apply
to the total, capped to [0, the active items' points]. Every item score carries its explanation.

Cost: the catalog, the ledger (two statements), one aggregate statement per metric in use, the
current manual scores and the adjustment sums: a bounded number of statements for any number of
branches and of periods. Several periods (the trend's months, the dashboard's period and a year
earlier) are scored together by `score_periods`: each of those statements reads all of them,
grouped by period in SQL, and each period's scores are the same as when it is scored alone. Same data, same scores: nothing depends on row order, and rankings break ties by the
branch's sort order, then name.

Access: admins and inspectors read every branch, a secretary the branches of their subtree (and
the assessed branch their own sits in), an officer the assessed branch they belong to.
Inspectors and admins enter manual scores and adjustments; admins edit the catalog.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from access.errors import Collector, ErrorCode, Forbidden, InputError
from access.viewer import Viewer
from core.clock import Clock
from core.ids import new_id
from models import (
    Account,
    AssessmentItem,
    Branch,
    BranchKind,
    LedgerItem,
    ManualScore,
    Role,
    RuleKind,
    ScoreAdjustment,
)
from resolvers.assessment_metric import METRICS, MetricRegistry
from resolvers.branch import get_branch
from resolvers.ledger_completeness import ItemCompleteness, ledger_completeness_of_periods
from resolvers.metric_window import Window
from resolvers.period import Period, PeriodError, PeriodKind, parse_period

# Branches that are assessed and ranked: 党支部 and 党总支.
ASSESSED_KINDS = (BranchKind.BRANCH, BranchKind.GENERAL_BRANCH)
TOTAL_POINTS = 100
REASON_MAX = 500
MAX_DELTA = 100.0
PERIOD_SCALES = {"month": PeriodKind.MONTH, "quarter": PeriodKind.QUARTER, "year": PeriodKind.YEAR}


def round1(value: float) -> float:
    """One decimal, halves up (2.65 → 2.7), the same on every machine."""
    return float(Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def fmt(value: float) -> str:
    """A count or target as people write it: 6, 2.5."""
    rounded = round1(value)
    return str(int(rounded)) if rounded == int(rounded) else f"{rounded:.1f}"


# --- results ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemScore:
    """One item of one branch: the score before and after adjustments, and why."""

    item: AssessmentItem
    base: float
    adjustment: float
    score: float
    applicable: bool
    explanation: str
    # What the score was computed from (count or done, total or base), when a metric was read.
    done: int | None = None
    total: int | None = None


@dataclass(frozen=True, slots=True)
class BranchScore:
    branch: Branch
    period: Period
    items: tuple[ItemScore, ...]
    # Adjustments entered for the branch as a whole (no item).
    total_adjustment: float
    points: int

    @property
    def total(self) -> float:
        raw = sum(i.score for i in self.items) + self.total_adjustment
        return round1(min(max(raw, 0.0), float(self.points)))


@dataclass(frozen=True, slots=True)
class RankedScore:
    rank: int
    score: BranchScore


@dataclass(frozen=True, slots=True)
class Ranking:
    period: Period
    items: list[AssessmentItem]
    # Only the rows the viewer may read; ranks are among all `ranked` branches asked for.
    rows: list[RankedScore]
    ranked: int


@dataclass(frozen=True, slots=True)
class ManualEntry:
    row: ManualScore
    item_code: str
    inspector: str  # the account's username


@dataclass(frozen=True, slots=True)
class AdjustmentEntry:
    row: ScoreAdjustment
    item_code: str | None
    inspector: str


@dataclass(frozen=True, slots=True)
class History:
    """Every manual score (each item's current one first, then those it superseded) and every
    adjustment (newest first) of a branch and period."""

    manual_scores: list[ManualEntry]
    adjustments: list[AdjustmentEntry]


# --- the catalog --------------------------------------------------------------------------------


async def list_assessment_items(
    db: AsyncSession, include_inactive: bool = False
) -> list[AssessmentItem]:
    """The catalog in the bureau's order."""
    query = select(AssessmentItem).order_by(AssessmentItem.sort_order, AssessmentItem.code)
    if not include_inactive:
        query = query.where(AssessmentItem.active.is_(True))
    return list((await db.scalars(query)).all())


async def get_assessment_item(db: AsyncSession, item_id: uuid.UUID) -> AssessmentItem | None:
    """One catalog item, active or not (the catalog is readable by everyone)."""
    return await db.get(AssessmentItem, item_id)


async def _items_by_code(db: AsyncSession, codes: Sequence[str]) -> dict[str, AssessmentItem]:
    wanted = sorted({c.strip().upper() for c in codes})
    rows = await db.scalars(select(AssessmentItem).where(AssessmentItem.code.in_(wanted)))
    return {r.code: r for r in rows}


def _unknown_item(code: str) -> str:
    return f"考核项目 {code} 不存在 (unknown assessment item code)"


def check_params(
    errors: Collector,
    kind: RuleKind,
    params: Mapping[str, Any] | None,
    field: str,
    ledger_codes: set[str],
    metrics: MetricRegistry = METRICS,
) -> dict[str, Any]:
    """The rule's parameters checked against its kind; returns them in canonical form."""
    raw = dict(params or {})

    def bad(message: str, code: ErrorCode = ErrorCode.INVALID) -> dict[str, Any]:
        errors.add(field, message, code)
        return raw

    allowed = {
        RuleKind.LEDGER_FREQUENCY: {"ledger_item"},
        RuleKind.COUNT_TARGET: {"metric", "target", "per", "period_scale"},
        RuleKind.RATE: {"metric"},
        RuleKind.MANUAL: set(),
    }[kind]
    extra = sorted(set(raw) - allowed)
    if extra:
        return bad(f"{kind.label}规则不认识参数 {', '.join(extra)} (unknown parameters)")
    if kind is RuleKind.MANUAL:
        return {}
    if kind is RuleKind.LEDGER_FREQUENCY:
        code = raw.get("ledger_item")
        if not isinstance(code, str) or not code.strip():
            return bad('须指定台账项目,如 {"ledger_item": "L02"} (ledger_item required)')
        code = code.strip().upper()
        if code not in ledger_codes:
            return bad(f"台账项目 {code} 不存在 (unknown ledger item code)", ErrorCode.NOT_FOUND)
        return {"ledger_item": code}
    metric = raw.get("metric")
    if not isinstance(metric, str) or not metrics.known(metric):
        return bad(
            f"指标须为 {', '.join(metrics.names())} 之一 (unknown metric)", ErrorCode.NOT_FOUND
        )
    if kind is RuleKind.RATE:
        return {"metric": metric}
    target = raw.get("target")
    if (
        isinstance(target, bool)
        or not isinstance(target, int | float)
        or not math.isfinite(target)
        or target <= 0
    ):
        return bad("目标须为正数 (target must be a positive number)", ErrorCode.OUT_OF_RANGE)
    per = raw.get("per")
    if per not in (None, "member"):
        return bad('per 只能为 "member" 或 null (per must be "member" or null)')
    scale = raw.get("period_scale")
    if scale is not None and scale not in PERIOD_SCALES:
        return bad("period_scale 须为 month、quarter、year 或 null")
    return {"metric": metric, "target": target, "per": per, "period_scale": scale}


async def update_assessment_items(
    db: AsyncSession, viewer: Viewer, clock: Clock, changes: Sequence[Mapping[str, Any]]
) -> list[AssessmentItem]:
    """Edits catalog items together (admins only); the active items must still add up to 100.

    Several items change in one call because moving points from one item to another is one
    change: the total is checked once all of them are applied. `changes[i]` has `code` and any
    of name, points, rule_kind, params, sort_order, active; problems of change i are addressed
    to `items[i].<field>` when there are several.
    """
    viewer.require_admin()
    items = {i.code: i for i in await list_assessment_items(db, include_inactive=True)}
    ledger_codes = set((await db.scalars(select(LedgerItem.code))).all())
    errors = Collector()
    several = len(changes) > 1
    planned: list[tuple[AssessmentItem, dict[str, Any]]] = []
    for index, change in enumerate(changes):
        p = f"items[{index}]." if several else ""
        code = str(change.get("code") or "").strip().upper()
        item = items.get(code)
        if item is None:
            errors.add(f"{p}code", _unknown_item(code), ErrorCode.NOT_FOUND)
            continue
        values: dict[str, Any] = {}
        if change.get("name") is not None:
            values["name"] = errors.require_text(f"{p}name", change["name"], 100)
        if change.get("points") is not None:
            points = change["points"]
            if not 1 <= points <= TOTAL_POINTS:
                errors.add(
                    f"{p}points", "分值须在 1 到 100 之间 (points 1–100)", ErrorCode.OUT_OF_RANGE
                )
            values["points"] = points
        for key in ("sort_order", "active"):
            if change.get(key) is not None:
                values[key] = change[key]
        kind = change.get("rule_kind") or item.rule_kind
        if change.get("rule_kind") is not None or change.get("params") is not None:
            params = change.get("params")
            if params is None:
                params = item.params if kind is item.rule_kind else {}
            values["rule_kind"] = kind
            values["params"] = check_params(errors, kind, params, f"{p}params", ledger_codes)
        planned.append((item, values))
    errors.raise_if_any()
    after = {code: (item.points, item.active) for code, item in items.items()}
    for item, values in planned:
        after[item.code] = (
            values.get("points", after[item.code][0]),
            values.get("active", after[item.code][1]),
        )
    total = sum(points for points, active in after.values() if active)
    if total != TOTAL_POINTS:
        raise InputError.one(
            "items" if several else "points",
            f"启用项目的分值合计须为 100 分,改后为 {total} 分 "
            f"(the active items' points must add up to 100, not {total})",
            ErrorCode.POINTS_TOTAL,
        )
    now = clock()
    for item, values in planned:
        for key, value in values.items():
            setattr(item, key, value)
        item.updated_at = now
    await db.flush()
    return [item for item, _ in planned]


# --- reading scores -----------------------------------------------------------------------------


def readable(viewer: Viewer, branch: Branch) -> bool:
    """Admins and inspectors: every branch; a secretary: their subtree and the branch they sit
    in; an officer: the assessed branch (or branches) their own branch belongs to."""
    if viewer.role in (Role.ADMIN, Role.INSPECTOR):
        return True
    own = viewer.branch_path
    if own is None:
        return False
    if viewer.role is Role.SECRETARY and branch.path.startswith(own):
        return True
    return viewer.role in (Role.SECRETARY, Role.OFFICER) and own.startswith(branch.path)


def _require_readable(viewer: Viewer, branch: Branch) -> None:
    if not readable(viewer, branch):
        raise Forbidden("该组织不在您的查看范围内 (outside what you may read)")


def _check_assessed(branch: Branch, field: str) -> None:
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


def _line(code: str, name: str, facts: str, score: float, points: int) -> str:
    return f"{code} {name}: {facts} → {score:.1f}/{points}"


@dataclass(frozen=True, slots=True)
class _Base:
    score: float
    applicable: bool
    # What the explanation names: the ledger item for ledger rules, else the assessment item.
    code: str
    name: str
    facts: str
    done: int | None = None
    total: int | None = None


def _not_applicable(item: AssessmentItem, why: str, code: str = "", name: str = "") -> _Base:
    return _Base(float(item.points), False, code or item.code, name or item.name, f"{why}, 不适用")


def _ledger_base(item: AssessmentItem, found: ItemCompleteness | None) -> _Base:
    code = str(item.params.get("ledger_item", ""))
    if found is None:
        return _not_applicable(item, "本期无到期记录", code, item.name)
    due = found.expected - len(found.pending)
    if due == 0:
        return _not_applicable(item, "本期记录尚未到期", found.code, found.name)
    present = found.present
    late = f"(含补记 {len(found.late)} 次)" if found.late else ""
    facts = f"应记 {due} 次({found.frequency.label}一次), 已记 {present} 次{late}"
    score = round1(item.points * present / due)
    return _Base(score, True, found.code, found.name, facts, present, due)


def _count_base(
    item: AssessmentItem,
    period: Period,
    value: tuple[int, int] | None,
    metrics: MetricRegistry,
) -> _Base:
    info = metrics.info(str(item.params.get("metric", "")))
    if value is None:
        return _not_applicable(item, f"{info.label}尚无数据来源")
    done, base = value
    target = float(item.params.get("target") or 0)
    scale = PERIOD_SCALES.get(str(item.params.get("period_scale")))
    if scale is not None:
        target = target * period.kind.months / scale.months
    if target <= 0:
        return _not_applicable(item, "目标为 0")
    if item.params.get("per") == "member":
        if base == 0:
            return _not_applicable(item, "无在职党员")
        per_member = done / base
        facts = (
            f"{info.label} {done} {info.unit}, 党员 {base} 人, 人均 {fmt(per_member)} {info.unit},"
            f" 本期目标人均 {fmt(target)} {info.unit}"
        )
        share = per_member / target
    else:
        facts = f"{info.label} {done} {info.unit}, 本期目标 {fmt(target)} {info.unit}"
        share = done / target
    score = round1(item.points * min(share, 1.0))
    return _Base(score, True, item.code, item.name, facts, done, base)


def _rate_base(
    item: AssessmentItem, value: tuple[int, int] | None, metrics: MetricRegistry
) -> _Base:
    info = metrics.info(str(item.params.get("metric", "")))
    if value is None:
        return _not_applicable(item, f"{info.label}尚无数据来源(督导模块未启用)")
    done, total = value
    if total == 0:
        return _not_applicable(item, "本期无应考核事项")
    facts = f"{info.label} {done}/{total} {info.unit}"
    score = round1(item.points * min(done / total, 1.0))
    return _Base(score, True, item.code, item.name, facts, done, total)


def _manual_base(item: AssessmentItem, current: ManualScore | None) -> _Base:
    if current is None:
        return _Base(0.0, True, item.code, item.name, "待督导评分")
    score = round1(min(max(current.score, 0.0), float(item.points)))
    return _Base(score, True, item.code, item.name, f"督导评分({current.reason})")


def _finish(item: AssessmentItem, base: _Base, adjustment: float) -> ItemScore:
    explanation = _line(base.code, base.name, base.facts, base.score, item.points)
    score = base.score
    if adjustment:
        raw = base.score + adjustment
        score = round1(min(max(raw, 0.0), float(item.points)))
        capped = "(按分值封顶)" if score != round1(raw) else ""
        explanation += f"; 督导调整 {adjustment:+.1f}{capped} → {score:.1f}/{item.points}"
    return ItemScore(
        item=item,
        base=base.score,
        adjustment=round1(adjustment),
        score=score,
        applicable=base.applicable,
        explanation=explanation,
        done=base.done,
        total=base.total,
    )


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

    out = []
    for n, period in enumerate(periods):
        name = names[n]
        result = []
        for branch in branches:
            scores = []
            for item in items:
                metric = str(item.params.get("metric", ""))
                found_values = values.get(metric)
                value = None if found_values is None else found_values[n].get(branch.id, (0, 0))
                if item.rule_kind is RuleKind.LEDGER_FREQUENCY:
                    code = str(item.params.get("ledger_item", ""))
                    base = _ledger_base(item, ledger[n][branch.id].get(code))
                elif item.rule_kind is RuleKind.COUNT_TARGET:
                    base = _count_base(item, period, value, metrics)
                elif item.rule_kind is RuleKind.RATE:
                    base = _rate_base(item, value, metrics)
                else:
                    base = _manual_base(item, current.get((name, branch.id, item.id)))
                adjustment = adjustments.get((name, branch.id, item.id), 0.0)
                scores.append(_finish(item, base, adjustment))
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


def rank(scores: Sequence[BranchScore]) -> list[RankedScore]:
    """Highest total first; ties by the branch's sort order, then name (then id), so the same
    data always ranks the same way. Ranks are positions 1..n."""
    ordered = sorted(
        scores, key=lambda s: (-s.total, s.branch.sort_order, s.branch.name, str(s.branch.id))
    )
    return [RankedScore(position, score) for position, score in enumerate(ordered, start=1)]


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
    _check_assessed(branch, field)
    _require_readable(viewer, branch)
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
    _check_assessed(branch, "branchId")
    _require_readable(viewer, branch)
    scored = await score_periods(db, [branch], periods, today=today, grace_days=grace_days)
    return [score for [score] in scored]


async def assessment_history(
    db: AsyncSession, viewer: Viewer, branch_id: uuid.UUID, period: Period
) -> History:
    """Every manual score and adjustment of a branch and period, newest first. Two statements."""
    branch = await get_branch(db, branch_id, "branchId")
    _require_readable(viewer, branch)
    manual = await db.execute(
        _manual_entries()
        .where(ManualScore.branch_id == branch.id, ManualScore.period == str(period))
        .order_by(AssessmentItem.sort_order, AssessmentItem.code)
    )
    adjustments = await db.execute(
        _adjustment_entries()
        .where(ScoreAdjustment.branch_id == branch.id, ScoreAdjustment.period == str(period))
        .order_by(ScoreAdjustment.created_at.desc(), ScoreAdjustment.id)
    )
    entries = {row.id: ManualEntry(row, code, name) for row, code, name in manual}
    return History(
        [entries[row.id] for row in newest_first([e.row for e in entries.values()])],
        [AdjustmentEntry(row, code, name) for row, code, name in adjustments],
    )


def _manual_entries() -> Select[ManualScore, str, str]:
    return (
        select(ManualScore, AssessmentItem.code, Account.username)
        .join(AssessmentItem, AssessmentItem.id == ManualScore.item_id)
        .join(Account, Account.id == ManualScore.inspector_id)
    )


def _adjustment_entries() -> Select[ScoreAdjustment, str, str]:
    return (
        select(ScoreAdjustment, AssessmentItem.code, Account.username)
        .outerjoin(AssessmentItem, AssessmentItem.id == ScoreAdjustment.item_id)
        .join(Account, Account.id == ScoreAdjustment.inspector_id)
    )


async def get_manual_score(
    db: AsyncSession, viewer: Viewer, score_id: uuid.UUID
) -> ManualEntry | None:
    """One manual score; None when absent or its branch's history is not readable (as in
    `assessment_history`). One statement."""
    query = (
        _manual_entries()
        .add_columns(Branch)
        .join(Branch, Branch.id == ManualScore.branch_id)
        .where(ManualScore.id == score_id)
    )
    found = (await db.execute(query)).one_or_none()
    if found is None or not readable(viewer, found[3]):
        return None
    return ManualEntry(found[0], found[1], found[2])


async def get_score_adjustment(
    db: AsyncSession, viewer: Viewer, adjustment_id: uuid.UUID
) -> AdjustmentEntry | None:
    """One adjustment; None when absent or its branch's history is not readable (as in
    `assessment_history`). One statement."""
    query = (
        _adjustment_entries()
        .add_columns(Branch)
        .join(Branch, Branch.id == ScoreAdjustment.branch_id)
        .where(ScoreAdjustment.id == adjustment_id)
    )
    found = (await db.execute(query)).one_or_none()
    if found is None or not readable(viewer, found[3]):
        return None
    return AdjustmentEntry(found[0], found[1], found[2])


def newest_first(rows: Sequence[ManualScore]) -> list[ManualScore]:
    """Manual scores item by item (in the order given), each item's current score
    first, then what it superseded, back to the first: the supersession chain, not timestamps,
    decides the order, so two scores entered within the same instant still read right."""
    by_successor = {r.superseded_by_id: r for r in rows if r.superseded_by_id is not None}
    out: list[ManualScore] = []
    for current in (r for r in rows if r.superseded_by_id is None):
        row: ManualScore | None = current
        while row is not None:
            out.append(row)
            row = by_successor.get(row.id)
    return out


# --- inspectors' writes -------------------------------------------------------------------------


def _require_inspector(viewer: Viewer) -> None:
    if viewer.role not in (Role.ADMIN, Role.INSPECTOR):
        raise Forbidden("仅督导和县局党委管理员可评分 (inspectors and admins only)")


def _period(errors: Collector, text: str | None) -> Period | None:
    try:
        return parse_period(text or "")
    except PeriodError as exc:
        errors.add("period", str(exc), ErrorCode.INVALID_PERIOD)
        return None


async def _assessed_branch(
    db: AsyncSession, errors: Collector, branch_id: uuid.UUID
) -> Branch | None:
    branch = await db.get(Branch, branch_id)
    if branch is None:
        errors.add("branchId", "组织不存在 (branch not found)", ErrorCode.NOT_FOUND)
        return None
    try:
        _check_assessed(branch, "branchId")
    except InputError as exc:
        errors.problems.extend(exc.problems)
        return None
    return branch


async def _lock(db: AsyncSession, branch: Branch) -> None:
    """Serialises scoring of one branch (PostgreSQL row lock; SQLite writes one at a time), so
    two inspectors scoring the same item at once leave one current score, not two."""
    await db.execute(select(Branch.id).where(Branch.id == branch.id).with_for_update())


async def set_manual_score(
    db: AsyncSession, viewer: Viewer, clock: Clock, data: Mapping[str, Any]
) -> ManualScore:
    """Records an inspector's score of a manual item; it supersedes the current one, which is
    kept. `data`: branch_id, period, item_code, score, reason."""
    _require_inspector(viewer)
    errors = Collector()
    period = _period(errors, data.get("period"))
    code = str(data.get("item_code") or "").strip().upper()
    item = (await _items_by_code(db, [code])).get(code)
    score = float(data.get("score", -1))
    if item is None:
        errors.add("itemCode", _unknown_item(code), ErrorCode.NOT_FOUND)
    elif item.rule_kind is not RuleKind.MANUAL:
        errors.add(
            "itemCode",
            f"{item.code} {item.name}按{item.rule_kind.label}自动计分,不能人工评分 "
            "(not a manual item: use adjustScore)",
            ErrorCode.INVALID_KIND,
        )
    elif not item.active:
        errors.add("itemCode", f"{item.code} 已停用 (item retired)", ErrorCode.INVALID)
    elif not (math.isfinite(score) and 0 <= score <= item.points):
        errors.add(
            "score",
            f"{item.code} 的评分须在 0 到 {item.points} 分之间 (score 0–{item.points})",
            ErrorCode.OUT_OF_RANGE,
        )
    reason = errors.require_text("reason", data.get("reason"), REASON_MAX)
    branch = await _assessed_branch(db, errors, data["branch_id"])
    errors.raise_if_any()
    assert item is not None and period is not None and branch is not None and reason
    await _lock(db, branch)
    earlier = (
        await db.scalars(
            select(ManualScore).where(
                ManualScore.branch_id == branch.id,
                ManualScore.item_id == item.id,
                ManualScore.period == str(period),
                ManualScore.superseded_by_id.is_(None),
            )
        )
    ).all()
    now = clock()
    row = ManualScore(
        id=new_id(),
        branch_id=branch.id,
        item_id=item.id,
        period=str(period),
        score=score,
        reason=reason,
        inspector_id=viewer.account_id,
        created_at=now,
    )
    db.add(row)
    await db.flush()
    for old in earlier:
        old.superseded_by_id = row.id
        old.superseded_at = now
    await db.flush()
    return row


async def adjust_score(
    db: AsyncSession, viewer: Viewer, clock: Clock, data: Mapping[str, Any]
) -> ScoreAdjustment:
    """Adds (or deducts) points for a branch and period, on an item or (no item) on the total,
    with the reason. `data`: branch_id, period, item_code (optional), delta, reason."""
    _require_inspector(viewer)
    errors = Collector()
    period = _period(errors, data.get("period"))
    code = str(data.get("item_code") or "").strip().upper()
    item = None
    if code:
        item = (await _items_by_code(db, [code])).get(code)
        if item is None:
            errors.add("itemCode", _unknown_item(code), ErrorCode.NOT_FOUND)
    delta = float(data.get("delta", 0))
    if not math.isfinite(delta) or delta == 0 or abs(delta) > MAX_DELTA:
        errors.add(
            "delta",
            "调整分值须为非零且不超过 ±100 分 (delta must be non-zero, at most ±100)",
            ErrorCode.OUT_OF_RANGE,
        )
    elif item is not None and abs(delta) > item.points:
        errors.add(
            "delta",
            f"{item.code} 的调整不能超过其分值 {item.points} 分 (more than the item's points)",
            ErrorCode.OUT_OF_RANGE,
        )
    reason = errors.require_text("reason", data.get("reason"), REASON_MAX)
    branch = await _assessed_branch(db, errors, data["branch_id"])
    errors.raise_if_any()
    assert period is not None and branch is not None and reason
    row = ScoreAdjustment(
        id=new_id(),
        branch_id=branch.id,
        item_id=item.id if item else None,
        period=str(period),
        delta=delta,
        reason=reason,
        inspector_id=viewer.account_id,
        created_at=clock(),
    )
    db.add(row)
    await db.flush()
    return row
