"""GraphQL surface of data analysis (数据分析): `dashboard(period, branchId)`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar, cast

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from access.errors import optional_global_id
from access.viewer import Viewer
from models import (
    BranchKind,
    EducationActivityType,
    HonourLevel,
    PartyStatus,
    PatrolKind,
    PersonnelType,
    ServiceActionType,
    ServiceStatus,
    VisitCategory,
)
from resolvers import dashboard as ops
from resolvers.period import local_date, period_input
from schema.branch import Branch, BranchKindEnum, HonourLevelEnum
from schema.context import Info
from schema.education import EducationActivityTypeEnum
from schema.errors import read
from schema.ledger import RECORDED_RATE
from schema.member import PartyStatusEnum, PersonnelTypeEnum, ServiceStatusEnum

T = TypeVar("T")

VisitCategoryEnum = strawberry.enum(
    VisitCategory,
    name="VisitCategory",
    description="入户走访 · 矛盾纠纷调解 · 反诈宣传 · 安全隐患排查 · 群众求助 · 关爱孤寡留守 · 校园安全",
)
PatrolKindEnum = strawberry.enum(PatrolKind, name="PatrolKind", description="日间巡逻 · 夜间巡逻")
ServiceActionTypeEnum = strawberry.enum(
    ServiceActionType,
    name="ServiceActionType",
    description="六项行动 (走访动起来 … 安防体验请进来) and the 护蕾行动 / 星空护学 campaigns",
)
# Registered by their own modules; named here so the dependency is visible.
_ENUMS = (
    BranchKindEnum,
    HonourLevelEnum,
    EducationActivityTypeEnum,
    PartyStatusEnum,
    PersonnelTypeEnum,
    ServiceStatusEnum,
)


@strawberry.type(description="A count in the period beside the same period last year (同比).")
class CountFigure:
    value: int
    previous: int | None = strawberry.field(
        description="The same period last year; null for roster figures, counted as they stand."
    )
    change: float | None = strawberry.field(
        description="(value - previous) / previous in percent; null when previous is 0 or null."
    )

    @classmethod
    def of(cls, figure: ops.Count) -> CountFigure:
        return cls(value=figure.value, previous=figure.previous, change=figure.change)


@strawberry.type(description="A share between 0 and 1 beside the same period last year.")
class RateFigure:
    value: float | None = strawberry.field(description="Null when nothing was due.")
    previous: float | None
    change: float | None = strawberry.field(
        description="Relative change in percent; null when previous is 0 or null."
    )

    @classmethod
    def of(cls, figure: ops.Rate) -> RateFigure:
        return cls(value=figure.value, previous=figure.previous, change=figure.change)


@strawberry.type
class BranchKindCount:
    kind: BranchKind
    label: str
    count: int


@strawberry.type
class PersonnelTypeCount:
    type: PersonnelType
    label: str
    count: int


@strawberry.type
class PartyStatusCount:
    status: PartyStatus
    label: str
    count: int


@strawberry.type
class ServiceStatusCount:
    status: ServiceStatus
    label: str
    count: int


@strawberry.type(description="Members whose home branch lies in the subtree, as they stand.")
class DashboardMembers:
    total: int
    active: int = strawberry.field(description="在职")
    retired: int = strawberry.field(description="退休")
    by_personnel_type: list[PersonnelTypeCount]
    by_party_status: list[PartyStatusCount]
    by_service_status: list[ServiceStatusCount]

    @classmethod
    def of(cls, members: ops.Members) -> DashboardMembers:
        return cls(
            total=members.total,
            active=members.by_service_status.get(ServiceStatus.ACTIVE, 0),
            retired=members.by_service_status.get(ServiceStatus.RETIRED, 0),
            by_personnel_type=[
                PersonnelTypeCount(type=t, label=t.label, count=members.by_personnel_type.get(t, 0))
                for t in PersonnelType
            ],
            by_party_status=[
                PartyStatusCount(status=s, label=s.label, count=members.by_party_status.get(s, 0))
                for s in PartyStatus
            ],
            by_service_status=[
                ServiceStatusCount(
                    status=s, label=s.label, count=members.by_service_status.get(s, 0)
                )
                for s in ServiceStatus
            ],
        )


@strawberry.type
class EducationTypeFigure:
    type: EducationActivityType
    label: str
    activities: CountFigure
    audience: CountFigure


@strawberry.type(description="党建教育基地: activities held and people received.")
class DashboardEducation:
    activities: CountFigure
    audience: CountFigure
    by_type: list[EducationTypeFigure]

    @classmethod
    def of(cls, education: ops.Education) -> DashboardEducation:
        c = CountFigure.of
        return cls(
            activities=c(education.activities),
            audience=c(education.audience),
            by_type=[
                EducationTypeFigure(type=t, label=t.label, activities=c(a), audience=c(b))
                for t in EducationActivityType
                for a, b in [education.by_type.get(t, (ops.Count(0, 0), ops.Count(0, 0)))]
            ],
        )


@strawberry.type
class VisitCategoryFigure:
    category: VisitCategory
    label: str
    count: CountFigure


@strawberry.type
class PatrolKindFigure:
    kind: PatrolKind
    label: str
    count: CountFigure


@strawberry.type
class ServiceActionTypeFigure:
    type: ServiceActionType
    label: str
    count: CountFigure
    difficulties_solved: CountFigure
    banners_received: CountFigure


@strawberry.type(description="One month of the period beside the same month last year.")
class DashboardMonth:
    month: str = strawberry.field(description='"2026-05"')
    label: str = strawberry.field(description="2026年5月")
    visits: CountFigure
    patrols: CountFigure
    night_patrols: CountFigure
    service_actions: CountFigure
    difficulties_solved: CountFigure
    banners_received: CountFigure


@strawberry.type(description="Field records (为民服务): visits, patrols and service actions.")
class DashboardFieldRecords:
    visits: CountFigure
    visit_people_reached: CountFigure
    visits_by_category: list[VisitCategoryFigure]
    patrols: CountFigure
    night_patrols: CountFigure
    patrols_by_kind: list[PatrolKindFigure]
    service_actions: CountFigure
    service_people_reached: CountFigure
    service_actions_by_type: list[ServiceActionTypeFigure]
    by_month: list[DashboardMonth]

    @classmethod
    def of(cls, f: ops.FieldRecords) -> DashboardFieldRecords:
        c = CountFigure.of
        return cls(
            visits=c(f.visits),
            visit_people_reached=c(f.visit_people_reached),
            visits_by_category=[
                VisitCategoryFigure(category=k, label=k.label, count=c(v))
                for k, v in f.visits_by_category.items()
            ],
            patrols=c(f.patrols),
            night_patrols=c(f.night_patrols),
            patrols_by_kind=[
                PatrolKindFigure(kind=k, label=k.label, count=c(v))
                for k, v in f.patrols_by_kind.items()
            ],
            service_actions=c(f.service_actions),
            service_people_reached=c(f.service_people_reached),
            service_actions_by_type=[
                ServiceActionTypeFigure(
                    type=t,
                    label=t.label,
                    count=c(n),
                    difficulties_solved=c(solved),
                    banners_received=c(banners),
                )
                for t, (n, solved, banners) in f.actions_by_type.items()
            ],
            by_month=[
                DashboardMonth(
                    month=str(m.month),
                    label=m.month.label,
                    visits=c(m.visits),
                    patrols=c(m.patrols),
                    night_patrols=c(m.night_patrols),
                    service_actions=c(m.service_actions),
                    difficulties_solved=c(m.difficulties_solved),
                    banners_received=c(m.banners_received),
                )
                for m in f.by_month
            ],
        )


@strawberry.type(description="One ledger-keeping branch in the period (current period only).")
class LedgerBranchFigure:
    branch: Branch
    expected: int
    present: int
    late: int
    missing: int
    pending: int = strawberry.field(description="Not yet due: empty, still within the grace days.")
    recorded_rate: float | None = strawberry.field(description=RECORDED_RATE)
    rate: float | None = strawberry.field(
        description="The recorded rate.", deprecation_reason="Use recordedRate (the same figure)."
    )


@strawberry.type(
    description="台账完成情况 over the subtree's 党支部 and 党总支 (resolvers/ledger_completeness.py)."
)
class DashboardLedger:
    branches: int = strawberry.field(description="Branches that keep the standard ledger.")
    expected: CountFigure = strawberry.field(description="Due sub-periods, pending included.")
    present: CountFigure = strawberry.field(description="Due sub-periods with an entry.")
    late: CountFigure = strawberry.field(description="Present, but recorded after the grace days.")
    missing: CountFigure
    pending: CountFigure = strawberry.field(
        description="Not yet due: empty, still within the grace days (counted apart)."
    )
    recorded_rate: RateFigure = strawberry.field(description=RECORDED_RATE)
    rate: RateFigure = strawberry.field(
        description="The recorded rate.", deprecation_reason="Use recordedRate (the same figure)."
    )
    by_branch: list[LedgerBranchFigure]

    @classmethod
    def of(cls, ledger: ops.LedgerFigures) -> DashboardLedger:
        c = CountFigure.of
        return cls(
            branches=ledger.branches,
            expected=c(ledger.expected),
            present=c(ledger.present),
            late=c(ledger.late),
            missing=c(ledger.missing),
            pending=c(ledger.pending),
            recorded_rate=RateFigure.of(ledger.rate),
            rate=RateFigure.of(ledger.rate),
            by_branch=[
                LedgerBranchFigure(
                    branch=Branch.from_model(row.branch),
                    expected=row.expected,
                    present=row.present,
                    late=row.late,
                    missing=row.missing,
                    pending=row.pending,
                    recorded_rate=row.rate,
                    rate=row.rate,
                )
                for row in ledger.by_branch
            ],
        )


@strawberry.type(
    description="上级指令 recipients of every level whose deadline lies in the period and passed."
)
class DashboardDirectives:
    due: CountFigure
    closed_on_time: CountFigure
    closed_late: CountFigure
    overdue_open: CountFigure
    completion_rate: RateFigure = strawberry.field(description="closed on time / due.")

    @classmethod
    def of(cls, d: ops.DirectiveFigures) -> DashboardDirectives:
        c = CountFigure.of
        return cls(
            due=c(d.due),
            closed_on_time=c(d.closed_on_time),
            closed_late=c(d.closed_late),
            overdue_open=c(d.overdue_open),
            completion_rate=RateFigure.of(d.completion_rate),
        )


@strawberry.type
class HonourLevelFigure:
    level: HonourLevel
    label: str
    count: CountFigure


@strawberry.type(description="An assessed branch's place among all the county's ranked branches.")
class DashboardRankingEntry:
    rank: int = strawberry.field(description="1 is the highest total; ties by the bureau's order.")
    branch: Branch
    score: float = strawberry.field(description="总分 (out of 100).")
    previous_rank: int | None = strawberry.field(description="The same period last year.")
    previous_score: float | None = strawberry.field(description="The same period last year.")

    @classmethod
    def of(cls, entry: ops.RankingEntry) -> DashboardRankingEntry:
        return cls(
            rank=entry.rank,
            branch=Branch.from_model(entry.branch),
            score=entry.score,
            previous_rank=entry.previous_rank,
            previous_score=entry.previous_score,
        )


@strawberry.type(
    description="考核排名 (智能考核): the subtree's branches with their place in the county."
)
class DashboardRanking:
    ranked_count: int = strawberry.field(description="Assessed branches ranked in the county.")
    top: list[DashboardRankingEntry] = strawberry.field(
        description=f"The first {ops.RANKING_TOP} of rows."
    )
    rows: list[DashboardRankingEntry] = strawberry.field(
        description="The subtree's assessed branches you may read, highest total first."
    )
    own: DashboardRankingEntry | None = strawberry.field(
        description="The assessed branch the subtree's root is or belongs to; null: the county."
    )

    @classmethod
    def of(cls, figures: ops.AssessmentFigures) -> DashboardRanking:
        return cls(
            ranked_count=figures.ranked,
            top=[DashboardRankingEntry.of(e) for e in figures.top],
            rows=[DashboardRankingEntry.of(e) for e in figures.rows],
            own=DashboardRankingEntry.of(figures.own) if figures.own else None,
        )


@strawberry.type(
    description="Reminders (督导提醒) of the subtree's branches not yet resolved, as they stand "
    "now: previous is null."
)
class DashboardReminders:
    open: CountFigure = strawberry.field(description="Open or acknowledged.")
    overdue: CountFigure = strawberry.field(description="Of those, due before today.")

    @classmethod
    def of(cls, reminders: ops.ReminderFigures) -> DashboardReminders:
        return cls(open=CountFigure.of(reminders.open), overdue=CountFigure.of(reminders.overdue))


class _Sections:
    """The sections of one dashboard, each computed when a field first asks for it and kept for
    the fields that read it too (fieldRecords, difficultiesSolved and bannersReceived read one
    section), so a query computes only the sections it selects, each at most once.

    One section at a time, each in a short session of its own: a dashboard holds one
    connection at a time, as it did when it computed every section in one session.
    """

    def __init__(self, scope: ops.DashboardScope) -> None:
        self.scope = scope
        self._found: dict[object, object] = {}
        self._lock = asyncio.Lock()

    async def get(
        self, info: Info, section: Callable[[AsyncSession, ops.DashboardScope], Awaitable[T]]
    ) -> T:
        async with self._lock:
            if section not in self._found:
                self._found[section] = await read(info, lambda db, _: section(db, self.scope))
            return cast(T, self._found[section])


@strawberry.type(description="数据分析: a period's figures for a subtree, each beside last year's.")
class Dashboard:
    period: str
    period_label: str
    previous_period: str = strawberry.field(description="The comparison period (同比).")
    branch: Branch | None = strawberry.field(description="The subtree's root; null: the county.")
    _sections: strawberry.Private[_Sections]

    @classmethod
    def of(cls, scope: ops.DashboardScope) -> Dashboard:
        return cls(
            period=str(scope.period),
            period_label=scope.period.label,
            previous_period=str(scope.previous_period),
            branch=Branch.from_model(scope.branch) if scope.branch else None,
            _sections=_Sections(scope),
        )

    @strawberry.field(description="党支部 in the subtree.")
    async def party_branches(self, info: Info) -> int:
        kinds = await self._sections.get(info, ops.branches_by_kind)
        return kinds.get(BranchKind.BRANCH, 0)

    @strawberry.field
    async def branches_by_kind(self, info: Info) -> list[BranchKindCount]:
        kinds = await self._sections.get(info, ops.branches_by_kind)
        return [
            BranchKindCount(kind=k, label=k.label, count=kinds[k]) for k in BranchKind if k in kinds
        ]

    @strawberry.field
    async def members(self, info: Info) -> DashboardMembers:
        return DashboardMembers.of(await self._sections.get(info, ops.members))

    @strawberry.field
    async def education(self, info: Info) -> DashboardEducation:
        return DashboardEducation.of(await self._sections.get(info, ops.education))

    @strawberry.field
    async def field_records(self, info: Info) -> DashboardFieldRecords:
        return DashboardFieldRecords.of(await self._sections.get(info, ops.field_records))

    @strawberry.field(description="解决群众困难")
    async def difficulties_solved(self, info: Info) -> CountFigure:
        records = await self._sections.get(info, ops.field_records)
        return CountFigure.of(records.difficulties_solved)

    @strawberry.field(description="收到锦旗")
    async def banners_received(self, info: Info) -> CountFigure:
        records = await self._sections.get(info, ops.field_records)
        return CountFigure.of(records.banners_received)

    @strawberry.field
    async def ledger(self, info: Info) -> DashboardLedger:
        return DashboardLedger.of(await self._sections.get(info, ops.ledger))

    @strawberry.field
    async def directives(self, info: Info) -> DashboardDirectives:
        return DashboardDirectives.of(await self._sections.get(info, ops.directives))

    @strawberry.field
    async def honours(self, info: Info) -> CountFigure:
        by_level = await self._sections.get(info, ops.honours_by_level)
        return CountFigure.of(ops.honours_total(by_level))

    @strawberry.field
    async def honours_by_level(self, info: Info) -> list[HonourLevelFigure]:
        by_level = await self._sections.get(info, ops.honours_by_level)
        return [
            HonourLevelFigure(level=level, label=level.label, count=CountFigure.of(n))
            for level, n in by_level.items()
        ]

    @strawberry.field
    async def assessment_ranking(self, info: Info) -> DashboardRanking:
        return DashboardRanking.of(await self._sections.get(info, ops.assessment_ranking))

    @strawberry.field
    async def open_reminders(self, info: Info) -> DashboardReminders:
        return DashboardReminders.of(await self._sections.get(info, ops.open_reminders))


@strawberry.type
class DashboardQuery:
    @strawberry.field(
        description=(
            "数据分析 for a period (2026, 2026-Q2, 2026-05, or an ISO 8601 duration such as P12M "
            "for the window ending today) and a subtree (default: all you may "
            "see; a secretary's own branch, an officer's branch), beside the same period last year."
        )
    )
    async def dashboard(
        self,
        info: Info,
        period: Annotated[
            str,
            strawberry.argument(
                description="2026, 2026-Q2, 2026-05, or P12M (the window ending today)."
            ),
        ],
        branch_id: strawberry.ID | None = None,
    ) -> Dashboard:
        ctx = info.context
        parsed = period_input(period, today=local_date(ctx.clock()))
        raw_branch = optional_global_id(branch_id, "Branch", "branchId")

        async def run(db: AsyncSession, viewer: Viewer) -> ops.DashboardScope:
            return await ops.dashboard_scope(
                db,
                viewer,
                parsed,
                raw_branch,
                now=ctx.clock(),
                grace_days=ctx.settings.ledger_grace_days,
            )

        # Only the scope now; each section when (and if) the query selects a field of it.
        return Dashboard.of(await read(info, run))
