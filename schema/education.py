"""GraphQL surface of the education base (党建教育基地): the bases, the activities held at them
and their totals."""

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
from models import EducationBase as EducationBaseRow
from resolvers import education as ops
from resolvers.education import ActivityCount, ActivityFilter
from resolvers.period import Period, local_date, period_input
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
    strawberry.argument(
        description='A year "2026", quarter "2026-Q2", month "2026-05", or an ISO 8601 duration '
        '"P12M" for the window ending today.'
    ),
]


@strawberry.type(
    description="党建教育基地: a party-building education base (the county's: 615 m²)."
)
class EducationBase(Node):
    name: str
    area_m2: int = strawberry.field(description="Floor area in square metres.")
    address: str
    description: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_model(cls, row: EducationBaseRow) -> EducationBase:
        return cls(
            id=to_global_id("EducationBase", row.id),
            name=row.name,
            area_m2=row.area_m2,
            address=row.address,
            description=row.description,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @strawberry.field(
        description="Activities held at the base and their audience in a period (all time when "
        "none is given), among those you may read."
    )
    async def totals(self, info: Info, period: PeriodArgument = None) -> EducationCount:
        base_id = from_global_id(self.id, "EducationBase", "id")
        parsed = _period(info, period)
        flt = ActivityFilter(
            since=parsed.start if parsed else None,
            until=parsed.end_exclusive if parsed else None,
            base_id=base_id,
        )
        totals = await read(info, lambda db, viewer: ops.activity_totals(db, viewer, flt))
        return _count(totals.total)


@strawberry.type(description="An activity at a party-building education base.")
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

    @strawberry.field(description="The base it was held at (null for records from before bases).")
    async def base(self, info: Info) -> EducationBase | None:
        if self._row.base_id is None:
            return None
        row = await info.context.loaders.education_base.load(self._row.base_id)
        return EducationBase.from_model(row) if row else None


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
    info: Info,
    period: str | None,
    types: list[EducationActivityType] | None,
    branch_id: strawberry.ID | None,
    subtree_of: strawberry.ID | None,
    base_id: strawberry.ID | None = None,
) -> ActivityFilter:
    parsed = _period(info, period)
    return ActivityFilter(
        since=parsed.start if parsed else None,
        until=parsed.end_exclusive if parsed else None,
        types=tuple(types or ()),
        branch_id=optional_global_id(branch_id, "Branch", "branchId"),
        subtree_of=optional_global_id(subtree_of, "Branch", "subtreeOf"),
        base_id=optional_global_id(base_id, "EducationBase", "baseId"),
    )


def _period(info: Info, text: str | None) -> Period | None:
    return None if text is None else period_input(text, today=local_date(info.context.clock()))


def _count(value: ActivityCount) -> EducationCount:
    return EducationCount(activities=value.activities, audience=value.audience)


@strawberry.type
class EducationQuery:
    @strawberry.field(
        description="党建教育基地: the education bases, by name (everyone signed in)."
    )
    async def education_bases(self, info: Info) -> list[EducationBase]:
        rows = await read(info, lambda db, _: ops.list_bases(db))
        return [EducationBase.from_model(r) for r in rows]

    @strawberry.field(description="One education base; null when there is none with this id.")
    async def education_base(self, info: Info, id: strawberry.ID) -> EducationBase | None:
        base_id = from_global_id(id, "EducationBase", "id")
        row = await read(info, lambda db, _: ops.get_base(db, base_id))
        return EducationBase.from_model(row) if row else None

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
        base_id: strawberry.ID | None = None,
    ) -> Connection[EducationActivity]:
        request = page_of(info, first, after)
        flt = _filter(info, period, types, branch_id, subtree_of, base_id)
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
        base_id: strawberry.ID | None = None,
    ) -> EducationTotals:
        flt = _filter(info, period, types, branch_id, subtree_of, base_id)
        parsed = _period(info, period)
        totals = await read(info, lambda db, viewer: ops.activity_totals(db, viewer, flt))
        return EducationTotals(
            period=None if parsed is None else str(parsed),
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
    base_id: strawberry.ID | None = strawberry.field(
        default=None, description="The base it was held at; default: the county's only base."
    )


@strawberry.input(description="Only the fields given change.")
class UpdateEducationActivityInput:
    id: strawberry.ID
    branch_id: strawberry.ID | None = strawberry.UNSET
    title: str | None = strawberry.UNSET
    held_on: date | None = strawberry.UNSET
    type: EducationActivityType | None = strawberry.UNSET
    audience_count: int | None = strawberry.UNSET
    notes: str | None = strawberry.UNSET
    base_id: strawberry.ID | None = strawberry.UNSET


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
            data["base_id"] = optional_global_id(input.base_id, "EducationBase", "baseId")
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
            if "base_id" in changes:
                changes["base_id"] = optional_global_id(input.base_id, "EducationBase", "baseId")
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


async def _base_node(info: Info, base_id: uuid.UUID) -> EducationBase | None:
    row = await read(info, lambda db, _: ops.get_base(db, base_id))
    return EducationBase.from_model(row) if row else None


register_node("EducationActivity", EducationActivity, _activity_node)
register_node("EducationBase", EducationBase, _base_node)
