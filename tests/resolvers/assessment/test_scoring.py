"""Scoring is pure: an item's score from the figures read for it, without a database."""

from __future__ import annotations

import uuid
from typing import Any

from models import AssessmentItem, Branch, BranchKind, RuleKind
from resolvers.assessment.metric import MetricInfo, MetricRegistry
from resolvers.assessment.scoring import BranchScore, rank, round1, score_item
from resolvers.period import Period, parse_period

MAY = parse_period("2026-05")
METRICS = MetricRegistry()
METRICS.declare("visits_per_member", MetricInfo("走访", "次"))


def item(kind: RuleKind, points: int = 10, **params: Any) -> AssessmentItem:
    return AssessmentItem(
        id=uuid.uuid4(), code="A01", name="走访", points=points, rule_kind=kind, params=params
    )


def score(it: AssessmentItem, period: Period = MAY, **figures: Any) -> tuple[float, bool, str]:
    found = score_item(
        it,
        period,
        completeness=figures.get("completeness"),
        value=figures.get("value"),
        manual=None,
        adjustment=figures.get("adjustment", 0.0),
        metrics=METRICS,
    )
    return found.score, found.applicable, found.explanation


def test_a_yearly_target_per_member_is_scaled_to_the_month() -> None:
    visits = item(
        RuleKind.COUNT_TARGET, metric="visits_per_member", target=12, per="member",
        period_scale="year",
    )  # fmt: skip
    # 5 visits by 10 members: 0.5 a member against a month's target of 1 → half the points.
    points, applicable, explanation = score(visits, value=(5, 10))
    assert (points, applicable) == (5.0, True)
    assert "人均 0.5 次" in explanation and "本期目标人均 1 次" in explanation


def test_a_metric_without_a_provider_scores_full_points_not_applicable() -> None:
    visits = item(RuleKind.COUNT_TARGET, metric="visits_per_member", target=6)
    assert score(visits, value=None)[:2] == (10.0, False)


def test_a_manual_item_not_yet_scored_is_zero_and_an_adjustment_is_capped() -> None:
    manual = item(RuleKind.MANUAL)
    assert score(manual)[:2] == (0.0, True)
    assert score(manual, adjustment=25.0)[0] == 10.0
    rate = item(RuleKind.RATE, metric="visits_per_member")
    assert score(rate, value=(3, 4), adjustment=-1.0)[0] == 6.5


def test_ties_rank_by_the_branchs_sort_order_then_name() -> None:
    def branch(name: str, order: int) -> Branch:
        return Branch(id=uuid.uuid4(), name=name, kind=BranchKind.BRANCH, sort_order=order)

    # No items: a branch's total is its adjustment on the total.
    scores = [
        BranchScore(branch(name, order), MAY, (), total_adjustment=total, points=100)
        for name, order, total in (
            ("乙", 2, 80.0),
            ("甲", 2, 80.0),
            ("丙", 1, 80.0),
            ("丁", 9, 90.0),
        )
    ]
    ranked = [(r.rank, r.score.branch.name) for r in rank(scores)]
    assert ranked == [(1, "丁"), (2, "丙"), (3, "乙"), (4, "甲")]


def test_scores_round_halves_up() -> None:
    assert round1(2.65) == 2.7 and round1(2.64) == 2.6


def test_pending_manual_items_are_left_out_of_the_provisional_total() -> None:
    scored = dataclass_item(RuleKind.RATE, "A21", points=60, metric="visits_per_member")
    pending = dataclass_item(RuleKind.MANUAL, "A28", points=40)

    def found(it: AssessmentItem, value: Any = None) -> Any:
        return score_item(
            it, MAY, completeness=None, value=value, manual=None, adjustment=0.0, metrics=METRICS
        )

    result = BranchScore(
        Branch(id=uuid.uuid4(), name="玫瑰", kind=BranchKind.BRANCH, sort_order=1),
        MAY,
        (found(scored, (3, 4)), found(pending)),
        total_adjustment=0.0,
        points=100,
    )

    assert [i.pending for i in result.items] == [False, True]
    assert result.total == 45.0  # the pending item counts 0 ...
    assert (result.provisional_total, result.scored_points) == (45.0, 60)  # ... or not at all
    assert [p.item.code for p in result.pending] == ["A28"]


def test_a24_offers_the_brand_checklist_as_the_suggested_score_until_scored() -> None:
    brand = dataclass_item(RuleKind.MANUAL, "A24", points=3, suggested_by="brand_checklist")

    found = score_item(
        brand, MAY, completeness=None, value=None, manual=None, adjustment=0.0,
        metrics=METRICS, checklist=(7, 7),
    )  # fmt: skip

    assert (found.score, found.pending, found.suggested) == (0.0, True, 3.0)
    assert found.suggestion == "品牌创建“六有一规范”达标 7/7 项, 建议 3.0 分"
    assert "待督导评分" in found.explanation and "7/7" in found.explanation
    partly = score_item(
        brand, MAY, completeness=None, value=None, manual=None, adjustment=0.0,
        metrics=METRICS, checklist=(4, 7),
    )  # fmt: skip
    assert partly.suggested == 1.7
    # An item without a suggestion source offers nothing.
    plain = score_item(
        dataclass_item(RuleKind.MANUAL, "A28"), MAY, completeness=None, value=None,
        manual=None, adjustment=0.0, metrics=METRICS, checklist=(7, 7),
    )  # fmt: skip
    assert plain.suggested is None


def dataclass_item(kind: RuleKind, code: str, points: int = 10, **params: Any) -> AssessmentItem:
    return AssessmentItem(
        id=uuid.uuid4(), code=code, name="督导评分", points=points, rule_kind=kind, params=params
    )
