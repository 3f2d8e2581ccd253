"""GraphQL surface of the education base (党建教育基地): activities and their totals."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from access.errors import from_global_id, optional_global_id
from access.viewer import Viewer
from models import EducationActivity as EducationActivityRow
from models import EducationActivityType
from resolvers import education as ops
from resolvers.education import ActivityCount, ActivityFilter
from resolvers.period import period_input
from schema.branch import Branch
from schema.connection import Connection, connection_from_page, page_of
from schema.context import Info
from schema.errors import InvalidInput, read, write
from schema.node import Node, register_node, to_global_id

EducationActivityTypeEnum = strawberry.enum(
    EducationActivityType,
    name="EducationActivityType",
    description="开放日 · 荣休仪式 · 入党宣誓 · 参观学习 · 党课宣讲 · 其他",
)
PeriodArgument = Annotated[
    str | None,
    strawberry.argument(description='A year "2026", quarter "2026-Q2" or month "2026-05".'),
]


@strawberry.type(description="An activity at the party-building education base (615 m²).")
class EducationActivity(Node):
    title: str
    held_on: date
    type: EducationActivityType
    type_label: str
    audience_count: int
    notes: str | None
    created_at: datetime
    updated_at: datetime
    _row: strawberry.Private[EducationActivityRow]

    @classmethod
    def from_model(cls, row: EducationActivityRow) -> EducationActivity:
        return cls(
            id=to_global_id("EducationActivity", row.id),
            title=row.title,
            held_on=row.held_on,
            type=row.type,
            type_label=row.type.label,
            audience_count=row.audience_count,
            notes=row.notes,
            created_at=row.created_at,
            updated_at=row.updated_at,
            _row=row,
        )

    @strawberry.field(description="The branch that organised it.")
    async def branch(self, info: Info) -> Branch:
        row = await info.context.loaders.branch.load(self._row.branch_id)
        assert row is not None, "an activity's branch is a foreign key"
        return Branch.from_model(row)


@strawberry.type
class EducationCount:
    activities: int
    audience: int


@strawberry.type
class EducationTypeCount:
    type: EducationActivityType
    label: str
    activities: int
    audience: int


@strawberry.type
class EducationMonthCount:
    month: str = strawberry.field(description='"2026-05"')
    activities: int
    audience: int


@strawberry.type(description="Activities and audience of a period, by type and by month.")
class EducationTotals:
    period: str | None
    total: EducationCount
    by_type: list[EducationTypeCount]
    by_month: list[EducationMonthCount]


def _filter(
    period: str | None,
    types: list[EducationActivityType] | None,
    branch_id: strawberry.ID | None,
    subtree_of: strawberry.ID | None,
) -> ActivityFilter:
    parsed = period_input(period) if period is not None else None
    return ActivityFilter(
        since=parsed.start if parsed else None,
        until=parsed.end_exclusive if parsed else None,
        types=tuple(types or ()),
        branch_id=optional_global_id(branch_id, "Branch", "branchId"),
        subtree_of=optional_global_id(subtree_of, "Branch", "subtreeOf"),
    )


def _count(value: ActivityCount) -> EducationCount:
    return EducationCount(activities=value.activities, audience=value.audience)


@strawberry.type
class EducationQuery:
    @strawberry.field(description="Education-base activities you may see, newest first.")
    async def education_activities(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        period: PeriodArgument = None,
        types: list[EducationActivityType] | None = None,
        branch_id: strawberry.ID | None = None,
        subtree_of: strawberry.ID | None = None,
    ) -> Connection[EducationActivity]:
        request = page_of(info, first, after)
        flt = _filter(period, types, branch_id, subtree_of)
        page = await read(info, lambda db, viewer: ops.list_activities(db, viewer, flt, request))
        return connection_from_page(
            page,
            [EducationActivity.from_model(r) for r in page.items],
            lambda: read(info, lambda db, viewer: ops.count_activities(db, viewer, flt)),
        )

    @strawberry.field(description="Activities and audience summed for a period (in SQL).")
    async def education_totals(
        self,
        info: Info,
        period: PeriodArgument = None,
        types: list[EducationActivityType] | None = None,
        branch_id: strawberry.ID | None = None,
        subtree_of: strawberry.ID | None = None,
    ) -> EducationTotals:
        flt = _filter(period, types, branch_id, subtree_of)
        totals = await read(info, lambda db, viewer: ops.activity_totals(db, viewer, flt))
        return EducationTotals(
            period=str(period_input(period)) if period is not None else None,
            total=_count(totals.total),
            by_type=[
                EducationTypeCount(
                    type=kind,
                    label=kind.label,
                    activities=count.activities,
                    audience=count.audience,
                )
                for kind, count in sorted(totals.by_type.items(), key=lambda kv: kv[0].value)
            ],
            by_month=[
                EducationMonthCount(month=m, activities=c.activities, audience=c.audience)
                for m, c in totals.by_month.items()
            ],
        )


@strawberry.input
class CreateEducationActivityInput:
    branch_id: strawberry.ID
    title: str
    held_on: date
    type: EducationActivityType
    audience_count: int
    notes: str | None = None


@strawberry.input(description="Only the fields given change.")
class UpdateEducationActivityInput:
    id: strawberry.ID
    branch_id: strawberry.ID | None = strawberry.UNSET
    title: str | None = strawberry.UNSET
    held_on: date | None = strawberry.UNSET
    type: EducationActivityType | None = strawberry.UNSET
    audience_count: int | None = strawberry.UNSET
    notes: str | None = strawberry.UNSET


@strawberry.input
class DeleteEducationActivityInput:
    id: strawberry.ID


@strawberry.type
class EducationActivityPayload:
    activity: EducationActivity


@strawberry.type
class EducationActivityDeleted:
    id: strawberry.ID


EducationActivityResult = Annotated[
    EducationActivityPayload | InvalidInput, strawberry.union("EducationActivityResult")
]
DeleteEducationActivityResult = Annotated[
    EducationActivityDeleted | InvalidInput, strawberry.union("DeleteEducationActivityResult")
]


@strawberry.type
class EducationMutation:
    @strawberry.mutation(description="Records an activity at the base (secretary or admin).")
    async def create_education_activity(
        self, info: Info, input: CreateEducationActivityInput
    ) -> EducationActivityResult:
        async def run(db: AsyncSession, viewer: Viewer) -> EducationActivityPayload:
            data = strawberry.asdict(input)
            data["branch_id"] = from_global_id(input.branch_id, "Branch", "branchId")
            row = await ops.create_activity(db, viewer, info.context.clock, data)
            return EducationActivityPayload(activity=EducationActivity.from_model(row))

        return await write(info, run)

    @strawberry.mutation(description="Edits an activity.")
    async def update_education_activity(
        self, info: Info, input: UpdateEducationActivityInput
    ) -> EducationActivityResult:
        async def run(db: AsyncSession, viewer: Viewer) -> EducationActivityPayload:
            activity_id = from_global_id(input.id, "EducationActivity", "id")
            # asdict leaves out the fields the client did not send (UNSET).
            changes = strawberry.asdict(input)
            del changes["id"]
            if "branch_id" in changes:
                if input.branch_id is None:
                    changes["branch_id"] = None
                else:
                    changes["branch_id"] = from_global_id(input.branch_id, "Branch", "branchId")
            row = await ops.update_activity(db, viewer, info.context.clock, activity_id, changes)
            return EducationActivityPayload(activity=EducationActivity.from_model(row))

        return await write(info, run)

    @strawberry.mutation(description="Deletes an activity recorded in error.")
    async def delete_education_activity(
        self, info: Info, input: DeleteEducationActivityInput
    ) -> DeleteEducationActivityResult:
        async def run(db: AsyncSession, viewer: Viewer) -> EducationActivityDeleted:
            activity_id = from_global_id(input.id, "EducationActivity", "id")
            await ops.delete_activity(db, viewer, activity_id)
            return EducationActivityDeleted(id=input.id)

        return await write(info, run)


# --- node(id:) ------------------------------------------------------------------------------------


async def _activity_node(info: Info, activity_id: uuid.UUID) -> EducationActivity | None:
    row = await read(info, lambda db, viewer: ops.get_activity(db, viewer, activity_id))
    return EducationActivity.from_model(row) if row else None


register_node("EducationActivity", EducationActivity, _activity_node)
