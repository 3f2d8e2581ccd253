"""Scoring, pure (no I/O): an item's score from the figures read for it, a branch's total, ranks.

`ledger_frequency` scores present / due × points; `count_target` a count against the target
scaled to the period (per member when asked), capped at the points; `rate` done / total × points;
`manual` the inspector's current score (none yet → 0, "待督导评分", and the item is *pending*:
`BranchScore.provisional_total` leaves it out, so a mid-period total reads as what has been
scored so far; a manual item may name a suggestion, e.g. A24's brand checklist, offered to the
inspector as `suggested`, never counted by itself). When nothing was due or the
metric has no provider, the item scores its full points, marked not applicable (the package's
docstring says why). Adjustments apply on top, capped to [0, points]. Every item score carries
its explanation; scores have one decimal, halves up, the same on every machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from models import AssessmentItem, Branch, ManualScore, RuleKind
from resolvers.assessment.metric import MetricRegistry
from resolvers.ledger_completeness import ItemCompleteness
from resolvers.period import Period, PeriodKind

# Where a manual item's suggested score may come from (its params' "suggested_by").
BRAND_CHECKLIST = "brand_checklist"
SUGGESTIONS = frozenset({BRAND_CHECKLIST})

PERIOD_SCALES = {"month": PeriodKind.MONTH, "quarter": PeriodKind.QUARTER, "year": PeriodKind.YEAR}


def round1(value: float) -> float:
    """One decimal, halves up (2.65 → 2.7), the same on every machine."""
    return float(Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def fmt(value: float) -> str:
    """A count or target as people write it: 6, 2.5."""
    rounded = round1(value)
    return str(int(rounded)) if rounded == int(rounded) else f"{rounded:.1f}"


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
    # A manual item not scored yet (it counts 0 in `total`, and is left out of the provisional
    # total).
    pending: bool = False
    # What the item's suggestion source offers the inspector (A24: the brand checklist), and why.
    suggested: float | None = None
    suggestion: str | None = None


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

    @property
    def pending(self) -> list[ItemScore]:
        """Manual items not scored yet."""
        return [i for i in self.items if i.pending]

    @property
    def scored_points(self) -> int:
        """The points of the items scored so far (every item but the pending ones)."""
        return self.points - sum(i.item.points for i in self.pending)

    @property
    def provisional_total(self) -> float:
        """The total over the items scored so far, out of `scored_points`: what the branch has
        earned of what has been assessed, not pulled down by scores not yet given."""
        raw = sum(i.score for i in self.items if not i.pending) + self.total_adjustment
        return round1(min(max(raw, 0.0), float(self.scored_points)))


@dataclass(frozen=True, slots=True)
class RankedScore:
    rank: int
    score: BranchScore


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
    pending: bool = False
    suggested: float | None = None
    suggestion: str | None = None


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
        target = target * period.months / scale.months
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


def _suggestion(
    item: AssessmentItem, checklist: tuple[int, int] | None
) -> tuple[float, str] | None:
    """The score a manual item's suggestion source offers, with its reason; None without one."""
    if item.params.get("suggested_by") != BRAND_CHECKLIST or checklist is None:
        return None
    met, total = checklist
    if total == 0:
        return None
    score = round1(item.points * met / total)
    return score, f"品牌创建“六有一规范”达标 {met}/{total} 项, 建议 {score:.1f} 分"


def _manual_base(
    item: AssessmentItem, current: ManualScore | None, checklist: tuple[int, int] | None
) -> _Base:
    offered = _suggestion(item, checklist)
    suggested, why = offered if offered else (None, None)
    if current is None:
        facts = "待督导评分" + (f"({why})" if why else "")
        return _Base(0.0, True, item.code, item.name, facts, None, None, True, suggested, why)
    score = round1(min(max(current.score, 0.0), float(item.points)))
    facts = f"督导评分({current.reason})"
    return _Base(score, True, item.code, item.name, facts, None, None, False, suggested, why)


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
        pending=base.pending,
        suggested=base.suggested,
        suggestion=base.suggestion,
    )


def score_item(
    item: AssessmentItem,
    period: Period,
    *,
    completeness: ItemCompleteness | None,
    value: tuple[int, int] | None,
    manual: ManualScore | None,
    adjustment: float,
    metrics: MetricRegistry,
    checklist: tuple[int, int] | None = None,
) -> ItemScore:
    """One item's score of one branch and period from what was read for it: the ledger item's
    completeness (ledger rules), the metric's (done, total) or None when the metric has no
    provider (count and rate rules), the current manual score (manual rules), and the sum of
    the item's adjustments; `checklist`, the branch's brand criteria (met, total), for a manual
    item suggested by the brand checklist."""
    if item.rule_kind is RuleKind.LEDGER_FREQUENCY:
        base = _ledger_base(item, completeness)
    elif item.rule_kind is RuleKind.COUNT_TARGET:
        base = _count_base(item, period, value, metrics)
    elif item.rule_kind is RuleKind.RATE:
        base = _rate_base(item, value, metrics)
    else:
        base = _manual_base(item, manual, checklist)
    return _finish(item, base, adjustment)


def rank(scores: Sequence[BranchScore]) -> list[RankedScore]:
    """Highest total first; ties by the branch's sort order, then name (then id), so the same
    data always ranks the same way. Ranks are positions 1..n."""
    ordered = sorted(
        scores, key=lambda s: (-s.total, s.branch.sort_order, s.branch.name, str(s.branch.id))
    )
    return [RankedScore(position, score) for position, score in enumerate(ordered, start=1)]
