"""GraphQL surface of smart assessment (智能考核): catalog, scores, ranking, trend, inspectors'
manual scores and adjustments. The rules are in resolvers/assessment/."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, cast

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.scalars import JSON

from access.errors import from_global_id, optional_global_id
from access.viewer import Viewer
from models import AssessmentItem as AssessmentItemRow
from models import RuleKind
from resolvers import assessment as ops
from resolvers.assessment import (
    AdjustmentEntry,
    BranchScore,
    History,
    ItemScore,
    ManualEntry,
    RankedScore,
)
from resolvers.period import Period, PeriodKind, local_date, period_input
from schema.branch import Branch
from schema.context import Info
from schema.errors import InvalidInput, read, write
from schema.node import Node, register_node, to_global_id

RuleKindEnum = strawberry.enum(
    RuleKind,
    name="AssessmentRuleKind",
    description="台账频次 · 数量目标 · 完成率 · 督导评分 (how an item is scored)",
)
PeriodKindEnum = strawberry.enum(
    PeriodKind, name="PeriodKind", description="月度 · 季度 · 年度 (month, quarter, year)"
)
PeriodArgument = Annotated[
    str,
    strawberry.argument(
        description='A year "2026", quarter "2026-Q2", month "2026-05", or an ISO 8601 duration '
        '"P12M" for the window ending today.'
    ),
]


@strawberry.type(description="考核项目: one scored item of the catalog (A01–A28 by default).")
class AssessmentItem(Node):
    code: str
    name: str
    points: int
    rule_kind: RuleKind
    rule_kind_label: str
    params: JSON = strawberry.field(
        description='The rule\'s parameters, e.g. {"ledger_item": "L02"} or {"metric": '
        '"visits_per_member", "target": 6, "per": "member", "period_scale": "year"}.'
    )
    sort_order: int
    active: bool

    @classmethod
    def from_model(cls, row: AssessmentItemRow) -> AssessmentItem:
        return cls(
            id=to_global_id("AssessmentItem", row.id),
            code=row.code,
            name=row.name,
            points=row.points,
            rule_kind=row.rule_kind,
            rule_kind_label=row.rule_kind.label,
            params=cast(JSON, dict(row.params)),
            sort_order=row.sort_order,
            active=row.active,
        )


@strawberry.type(description="One item's score for one branch and period, and why.")
class AssessmentScore:
    code: str
    name: str
    points: int
    rule_kind: RuleKind
    rule_kind_label: str
    score: float = strawberry.field(description="After adjustments, within [0, points].")
    base_score: float = strawberry.field(description="Before adjustments.")
    adjustment: float = strawberry.field(description="Sum of the adjustments on this item.")
    applicable: bool = strawberry.field(
        description="False when nothing was due (or the metric has no data source yet): the "
        "item then scores its full points."
    )
    explanation: str = strawberry.field(
        description="e.g. “L02 支部委员会会议: 应记 3 次(每月一次), 已记 2 次 → 2.7/4”."
    )
    done: int | None = strawberry.field(description="Entries present, count, or done.")
    total: int | None = strawberry.field(description="Entries due, members, or total.")
    pending: bool = strawberry.field(
        description="待督导评分: a manual item not scored yet. It counts 0 in `total` and is "
        "left out of `provisionalTotal`."
    )
    suggested_score: float | None = strawberry.field(
        description="What the item's suggestion source offers the inspector (A24: points × "
        "the brand checklist's criteria met / all); null without one. Never counted by itself."
    )
    suggestion: str | None = strawberry.field(
        description="Why, e.g. “品牌创建“六有一规范”达标 7/7 项, 建议 3.0 分”."
    )

    @classmethod
    def from_result(cls, s: ItemScore) -> AssessmentScore:
        return cls(
            code=s.item.code,
            name=s.item.name,
            points=s.item.points,
            rule_kind=s.item.rule_kind,
            rule_kind_label=s.item.rule_kind.label,
            score=s.score,
            base_score=s.base,
            adjustment=s.adjustment,
            applicable=s.applicable,
            explanation=s.explanation,
            done=s.done,
            total=s.total,
            pending=s.pending,
            suggested_score=s.suggested,
            suggestion=s.suggestion,
        )


@strawberry.type(description="督导评分: an inspector's score of a manual item, with the reason.")
class ManualScore(Node):
    item_code: str
    period: str
    score: float
    reason: str
    inspector: str = strawberry.field(description="The inspector's username.")
    created_at: datetime
    current: bool = strawberry.field(description="False once a later score superseded it.")
    superseded_at: datetime | None

    @classmethod
    def from_entry(cls, entry: ManualEntry) -> ManualScore:
        row = entry.row
        return cls(
            id=to_global_id("ManualScore", row.id),
            item_code=entry.item_code,
            period=row.period,
            score=row.score,
            reason=row.reason,
            inspector=entry.inspector,
            created_at=row.created_at,
            current=row.superseded_by_id is None,
            superseded_at=row.superseded_at,
        )


@strawberry.type(description="加减分: points added or deducted by an inspector, with the reason.")
class ScoreAdjustment(Node):
    item_code: str | None = strawberry.field(description="Null: on the total.")
    period: str
    delta: float
    reason: str
    inspector: str
    created_at: datetime

    @classmethod
    def from_entry(cls, entry: AdjustmentEntry) -> ScoreAdjustment:
        row = entry.row
        return cls(
            id=to_global_id("ScoreAdjustment", row.id),
            item_code=entry.item_code,
            period=row.period,
            delta=row.delta,
            reason=row.reason,
            inspector=entry.inspector,
            created_at=row.created_at,
        )


@strawberry.type
class AssessmentHistory:
    manual_scores: list[ManualScore] = strawberry.field(
        description="Item by item: the current score first, then the ones it superseded."
    )
    adjustments: list[ScoreAdjustment] = strawberry.field(description="Newest first.")

    @classmethod
    def from_result(cls, history: History) -> AssessmentHistory:
        return cls(
            manual_scores=[ManualScore.from_entry(e) for e in history.manual_scores],
            adjustments=[ScoreAdjustment.from_entry(e) for e in history.adjustments],
        )


@strawberry.type(
    description="What is scored and what is pending: the total so far over the scored items."
)
class ScoringProgress:
    provisional_total: float = strawberry.field(
        description="The total over the items scored so far (pending manual items left out; "
        "adjustments on the total included), out of scoredPoints."
    )
    scored_points: int = strawberry.field(description="The points of the items scored so far.")
    pending_count: int = strawberry.field(description="Manual items not scored yet.")
    pending_points: int = strawberry.field(description="Their points.")

    @classmethod
    def of(cls, result: BranchScore) -> ScoringProgress:
        pending = result.pending
        return cls(
            provisional_total=result.provisional_total,
            scored_points=result.scored_points,
            pending_count=len(pending),
            pending_points=sum(i.item.points for i in pending),
        )


@strawberry.type(description="考核结果: one branch's scored items for one period.")
class BranchAssessment:
    branch: Branch
    period: str
    period_label: str
    total: float = strawberry.field(
        description="Over every item, pending manual items counting 0 (see `progress`)."
    )
    points: int = strawberry.field(description="The active items' points (100).")
    total_adjustment: float = strawberry.field(description="Adjustments on no item.")
    scores: list[AssessmentScore]
    progress: ScoringProgress
    _branch_id: strawberry.Private[uuid.UUID]
    _period: strawberry.Private[Period]

    @classmethod
    def from_result(cls, result: BranchScore) -> BranchAssessment:
        return cls(
            branch=Branch.from_model(result.branch),
            period=str(result.period),
            period_label=result.period.label,
            total=result.total,
            points=result.points,
            total_adjustment=result.total_adjustment,
            scores=[AssessmentScore.from_result(s) for s in result.items],
            progress=ScoringProgress.of(result),
            _branch_id=result.branch.id,
            _period=result.period,
        )

    @strawberry.field(description="Every manual score and adjustment of this branch and period.")
    async def history(self, info: Info) -> AssessmentHistory:
        found = await read(
            info,
            lambda db, viewer: ops.assessment_history(db, viewer, self._branch_id, self._period),
        )
        return AssessmentHistory.from_result(found)


@strawberry.type
class AssessmentRankingRow:
    rank: int = strawberry.field(description="1 is the highest total; ties by the bureau's order.")
    branch: Branch
    total: float
    scores: list[AssessmentScore]
    progress: ScoringProgress

    @classmethod
    def from_result(cls, ranked: RankedScore) -> AssessmentRankingRow:
        return cls(
            rank=ranked.rank,
            branch=Branch.from_model(ranked.score.branch),
            total=ranked.score.total,
            scores=[AssessmentScore.from_result(s) for s in ranked.score.items],
            progress=ScoringProgress.of(ranked.score),
        )


@strawberry.type(description="考核排名: the assessed branches ranked by total for a period.")
class AssessmentRanking:
    period: str
    period_label: str
    items: list[AssessmentItem] = strawberry.field(description="The columns, in catalog order.")
    rows: list[AssessmentRankingRow] = strawberry.field(
        description="The branches you may read, highest total first."
    )
    ranked_count: int = strawberry.field(description="How many branches were ranked.")


@strawberry.type
class AssessmentTrendPoint:
    period: str
    period_label: str
    total: float
    scores: list[AssessmentScore]
    progress: ScoringProgress


@strawberry.type(description="考核趋势: a branch's totals period by period through a year.")
class AssessmentTrend:
    branch: Branch
    year: int
    granularity: PeriodKind
    points: list[AssessmentTrendPoint]

    @strawberry.field
    def granularity_label(self) -> str:
        return self.granularity.label


@strawberry.type
class AssessmentQuery:
    @strawberry.field(description="The assessment catalog in the bureau's order.")
    async def assessment_items(
        self, info: Info, include_inactive: bool = False
    ) -> list[AssessmentItem]:
        rows = await read(info, lambda db, _: ops.list_assessment_items(db, include_inactive))
        return [AssessmentItem.from_model(r) for r in rows]

    @strawberry.field(description="A branch's scored items with explanations and total.")
    async def assessment(
        self, info: Info, period: PeriodArgument, branch_id: strawberry.ID
    ) -> BranchAssessment:
        parsed = period_input(period, today=local_date(info.context.clock()))
        raw_branch = from_global_id(branch_id, "Branch", "branchId")
        ctx = info.context

        async def run(db: AsyncSession, viewer: Viewer) -> BranchScore:
            return await ops.branch_assessment(
                db,
                viewer,
                raw_branch,
                parsed,
                today=local_date(ctx.clock()),
                grace_days=ctx.settings.ledger_grace_days,
            )

        return BranchAssessment.from_result(await read(info, run))

    @strawberry.field(
        description="Assessed branches (of a subtree) ranked by total; you see the rows you "
        "may read, with their place among all ranked."
    )
    async def assessment_ranking(
        self, info: Info, period: PeriodArgument, branch_id: strawberry.ID | None = None
    ) -> AssessmentRanking:
        parsed = period_input(period, today=local_date(info.context.clock()))
        subtree = optional_global_id(branch_id, "Branch", "branchId")
        ctx = info.context

        async def run(db: AsyncSession, viewer: Viewer) -> ops.Ranking:
            return await ops.assessment_ranking(
                db,
                viewer,
                parsed,
                subtree_of=subtree,
                today=local_date(ctx.clock()),
                grace_days=ctx.settings.ledger_grace_days,
            )

        ranking = await read(info, run)
        return AssessmentRanking(
            period=str(ranking.period),
            period_label=ranking.period.label,
            items=[AssessmentItem.from_model(i) for i in ranking.items],
            rows=[AssessmentRankingRow.from_result(r) for r in ranking.rows],
            ranked_count=ranking.ranked,
        )

    @strawberry.field(description="A branch's totals for each month or quarter of a year.")
    async def assessment_trend(
        self,
        info: Info,
        branch_id: strawberry.ID,
        year: int,
        granularity: PeriodKind = PeriodKind.MONTH,
    ) -> AssessmentTrend:
        raw_branch = from_global_id(branch_id, "Branch", "branchId")
        ctx = info.context

        async def run(db: AsyncSession, viewer: Viewer) -> list[BranchScore]:
            return await ops.assessment_trend(
                db,
                viewer,
                raw_branch,
                year,
                granularity,
                today=local_date(ctx.clock()),
                grace_days=ctx.settings.ledger_grace_days,
            )

        scores = await read(info, run)
        return AssessmentTrend(
            branch=Branch.from_model(scores[0].branch),
            year=year,
            granularity=granularity,
            points=[
                AssessmentTrendPoint(
                    period=str(s.period),
                    period_label=s.period.label,
                    total=s.total,
                    scores=[AssessmentScore.from_result(i) for i in s.items],
                    progress=ScoringProgress.of(s),
                )
                for s in scores
            ],
        )


# --- mutations ----------------------------------------------------------------------------------


@strawberry.input(description="An inspector's score of a manual item (A24, A27, A28 by default).")
class SetManualScoreInput:
    branch_id: strawberry.ID
    period: str = strawberry.field(description="2026, 2026-Q2 or 2026-05.")
    item_code: str
    score: float = strawberry.field(description="0 to the item's points.")
    reason: str


@strawberry.input(description="Points added (positive) or deducted (negative), with the reason.")
class AdjustScoreInput:
    branch_id: strawberry.ID
    period: str
    delta: float
    reason: str
    item_code: str | None = strawberry.field(default=None, description="Null: on the total.")


@strawberry.input(description="Only the fields given change; the item is named by its code.")
class UpdateAssessmentItemInput:
    code: str
    name: str | None = None
    points: int | None = None
    rule_kind: RuleKind | None = None
    params: JSON | None = strawberry.field(
        default=None, description="Replaces the parameters; checked against the rule kind."
    )
    sort_order: int | None = None
    active: bool | None = None


@strawberry.type
class ManualScoreSaved:
    manual_score: ManualScore
    assessment: BranchAssessment


@strawberry.type
class ScoreAdjusted:
    adjustment: ScoreAdjustment
    assessment: BranchAssessment


@strawberry.type
class AssessmentItemsUpdated:
    items: list[AssessmentItem]


SetManualScoreResult = Annotated[
    ManualScoreSaved | InvalidInput, strawberry.union("SetManualScoreResult")
]
AdjustScoreResult = Annotated[ScoreAdjusted | InvalidInput, strawberry.union("AdjustScoreResult")]
UpdateAssessmentItemsResult = Annotated[
    AssessmentItemsUpdated | InvalidInput, strawberry.union("UpdateAssessmentItemsResult")
]


def _change(input: UpdateAssessmentItemInput) -> dict[str, Any]:
    return {
        "code": input.code,
        "name": input.name,
        "points": input.points,
        "rule_kind": input.rule_kind,
        "params": input.params,
        "sort_order": input.sort_order,
        "active": input.active,
    }


async def _assessment_after(
    info: Info, db: AsyncSession, viewer: Viewer, branch_id: uuid.UUID, period: str
) -> BranchAssessment:
    """The branch's scores as the write left them, read in the same transaction."""
    ctx = info.context
    result = await ops.branch_assessment(
        db,
        viewer,
        branch_id,
        period_input(period),
        today=local_date(ctx.clock()),
        grace_days=ctx.settings.ledger_grace_days,
    )
    return BranchAssessment.from_result(result)


@strawberry.type
class AssessmentMutation:
    @strawberry.mutation(
        description="Scores a manual item (inspectors, admins); supersedes the current score, "
        "which is kept in the history."
    )
    async def set_manual_score(
        self, info: Info, input: SetManualScoreInput
    ) -> SetManualScoreResult:
        async def run(db: AsyncSession, viewer: Viewer) -> ManualScoreSaved:
            branch_id = from_global_id(input.branch_id, "Branch", "branchId")
            data = strawberry.asdict(input) | {"branch_id": branch_id}
            row = await ops.set_manual_score(db, viewer, info.context.clock, data)
            entry = ManualEntry(row, input.item_code.strip().upper(), viewer.username)
            return ManualScoreSaved(
                manual_score=ManualScore.from_entry(entry),
                assessment=await _assessment_after(info, db, viewer, branch_id, row.period),
            )

        return await write(info, run)

    @strawberry.mutation(
        description="Adds or deducts points for a branch and period (inspectors, admins), on "
        "an item or on the total; every adjustment is kept."
    )
    async def adjust_score(self, info: Info, input: AdjustScoreInput) -> AdjustScoreResult:
        async def run(db: AsyncSession, viewer: Viewer) -> ScoreAdjusted:
            branch_id = from_global_id(input.branch_id, "Branch", "branchId")
            data = strawberry.asdict(input) | {"branch_id": branch_id}
            row = await ops.adjust_score(db, viewer, info.context.clock, data)
            code = (input.item_code or "").strip().upper() or None
            entry = AdjustmentEntry(row, code, viewer.username)
            return ScoreAdjusted(
                adjustment=ScoreAdjustment.from_entry(entry),
                assessment=await _assessment_after(info, db, viewer, branch_id, row.period),
            )

        return await write(info, run)

    @strawberry.mutation(
        description="Edits one catalog item (admins); the active items' points must stay 100."
    )
    async def update_assessment_item(
        self, info: Info, input: UpdateAssessmentItemInput
    ) -> UpdateAssessmentItemsResult:
        async def run(db: AsyncSession, viewer: Viewer) -> AssessmentItemsUpdated:
            rows = await ops.update_assessment_items(
                db, viewer, info.context.clock, [_change(input)]
            )
            return AssessmentItemsUpdated(items=[AssessmentItem.from_model(r) for r in rows])

        return await write(info, run)

    @strawberry.mutation(
        description="Edits several catalog items at once (admins), e.g. moving points from one "
        "item to another; the total is checked after all of them."
    )
    async def update_assessment_items(
        self, info: Info, input: list[UpdateAssessmentItemInput]
    ) -> UpdateAssessmentItemsResult:
        async def run(db: AsyncSession, viewer: Viewer) -> AssessmentItemsUpdated:
            changes = [_change(i) for i in input]
            rows = await ops.update_assessment_items(db, viewer, info.context.clock, changes)
            return AssessmentItemsUpdated(items=[AssessmentItem.from_model(r) for r in rows])

        return await write(info, run)


# --- node(id:) ------------------------------------------------------------------------------------


async def _item_node(info: Info, item_id: uuid.UUID) -> AssessmentItem | None:
    row = await read(info, lambda db, _: ops.get_assessment_item(db, item_id))
    return AssessmentItem.from_model(row) if row else None


async def _manual_score_node(info: Info, score_id: uuid.UUID) -> ManualScore | None:
    entry = await read(info, lambda db, viewer: ops.get_manual_score(db, viewer, score_id))
    return ManualScore.from_entry(entry) if entry else None


async def _adjustment_node(info: Info, adjustment_id: uuid.UUID) -> ScoreAdjustment | None:
    entry = await read(info, lambda db, viewer: ops.get_score_adjustment(db, viewer, adjustment_id))
    return ScoreAdjustment.from_entry(entry) if entry else None


register_node("AssessmentItem", AssessmentItem, _item_node)
register_node("ManualScore", ManualScore, _manual_score_node)
register_node("ScoreAdjustment", ScoreAdjustment, _adjustment_node)
