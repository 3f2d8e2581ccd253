"""GraphQL surface of care work (关爱民警辅警): collective birthdays and 警心110 requests."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from access.errors import from_global_id, optional_global_id
from access.viewer import Viewer
from models import HotlineCategory, HotlineStatus
from resolvers import care as ops
from resolvers.care import Birthday, HotlineFilter, HotlineRecord, NoteRecord
from schema.branch import Branch
from schema.connection import Connection, connection_from_page, page_of
from schema.context import Info
from schema.errors import InvalidInput, read, write
from schema.member import Member
from schema.node import Node, register_node, to_global_id

HotlineCategoryEnum = strawberry.enum(
    HotlineCategory,
    name="HotlineCategory",
    description="心理疏导 · 家庭困难 · 健康就医(警医绿色通道) · 工作压力 · 其他",
)
HotlineStatusEnum = strawberry.enum(
    HotlineStatus, name="HotlineStatus", description="已受理 → 处理中 → 已办结"
)


@strawberry.type(description="A member celebrating in the month.")
class BirthdayPerson:
    member: Member
    celebrated_on: date = strawberry.field(
        description="The birthday this year (29 February falls on 28 February in common years)."
    )
    _age: strawberry.Private[int]

    @classmethod
    def from_data(cls, data: Birthday) -> BirthdayPerson:
        return cls(
            member=Member.from_model(data.member), celebrated_on=data.celebrated_on, _age=data.age
        )

    @strawberry.field(
        description="The age they turn; null unless you see the member's personal data (with "
        "the month and day, the age gives away the date of birth)."
    )
    async def age(self, info: Info) -> int | None:
        return self._age if await self.member.sees_personal_data(info) else None


@strawberry.type(description="One 党支部's members celebrating together.")
class BirthdayGroup:
    branch: Branch
    members: list[BirthdayPerson]


@strawberry.type(description="每月集体生日: the month's birthdays, grouped by 党支部.")
class CollectiveBirthdays:
    month: str
    total: int
    groups: list[BirthdayGroup]


@strawberry.type(description="One handling step of a 警心110 request.")
class HotlineNote:
    status: HotlineStatus
    status_label: str
    note: str
    by_username: str | None
    recorded_at: datetime

    @classmethod
    def from_record(cls, record: NoteRecord) -> HotlineNote:
        row = record.note
        return cls(
            status=row.status,
            status_label=row.status.label,
            note=row.note,
            by_username=record.by_username,
            recorded_at=row.recorded_at,
        )


@strawberry.type(
    description="警心110 request. Confidential: admins, the member's secretary and the member."
)
class HotlineRequest(Node):
    received_at: datetime
    category: HotlineCategory
    category_label: str
    summary: str
    status: HotlineStatus
    status_label: str
    handled_by_username: str | None
    resolved_at: datetime | None
    _record: strawberry.Private[HotlineRecord]

    @classmethod
    def from_record(cls, record: HotlineRecord) -> HotlineRequest:
        row = record.request
        return cls(
            id=to_global_id("HotlineRequest", row.id),
            received_at=row.received_at,
            category=row.category,
            category_label=row.category.label,
            summary=row.summary,
            status=row.status,
            status_label=row.status.label,
            handled_by_username=record.handled_by_username,
            resolved_at=row.resolved_at,
            _record=record,
        )

    @strawberry.field(description="The member who asked, or on whose behalf it was recorded.")
    async def member(self, info: Info) -> Member | None:
        row = await info.context.loaders.member.load(self._record.request.member_id)
        return Member.from_model(row) if row else None

    @strawberry.field(description="Handling history, oldest first.")
    async def notes(self, info: Info) -> list[HotlineNote]:
        rows = await info.context.loaders.hotline_notes.load(self._record.request.id)
        return [HotlineNote.from_record(r) for r in rows]


@strawberry.type
class CareQuery:
    @strawberry.field(description='Members whose birthday falls in `month` ("2026-05"), by 党支部.')
    async def collective_birthdays(
        self,
        info: Info,
        month: str,
        branch_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only this branch's subtree.")
        ] = None,
        include_retired: bool = False,
    ) -> CollectiveBirthdays:
        root = optional_global_id(branch_id, "Branch", "branchId")
        data = await read(
            info,
            lambda db, viewer: ops.collective_birthdays(db, viewer, month, root, include_retired),
        )
        info.context.loaders.prime_branches([g.unit for g in data.groups])
        return CollectiveBirthdays(
            month=data.month,
            total=data.total,
            groups=[
                BirthdayGroup(
                    branch=Branch.from_model(g.unit),
                    members=[BirthdayPerson.from_data(b) for b in g.birthdays],
                )
                for g in data.groups
            ],
        )

    @strawberry.field(
        description="警心110 requests you may read (admins; secretaries: their members'; "
        "everyone: their own), newest first."
    )
    async def hotline_requests(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        status: list[HotlineStatus] | None = None,
        category: list[HotlineCategory] | None = None,
        member_id: strawberry.ID | None = None,
        subtree_of: strawberry.ID | None = None,
    ) -> Connection[HotlineRequest]:
        request = page_of(info, first, after)
        flt = HotlineFilter(
            statuses=tuple(status or ()),
            categories=tuple(category or ()),
            member_id=optional_global_id(member_id, "Member", "memberId"),
            subtree_of=optional_global_id(subtree_of, "Branch", "subtreeOf"),
        )
        page = await read(
            info, lambda db, viewer: ops.list_hotline_requests(db, viewer, flt, request)
        )
        return connection_from_page(
            page,
            [HotlineRequest.from_record(r) for r in page.items],
            lambda: read(info, lambda db, viewer: ops.count_hotline_requests(db, viewer, flt)),
        )

    @strawberry.field(description="One request; null when absent or not yours to read.")
    async def hotline_request(self, info: Info, id: strawberry.ID) -> HotlineRequest | None:
        return await _hotline_node(info, from_global_id(id, "HotlineRequest", "id"))


@strawberry.input(description="memberId defaults to yourself.")
class CreateHotlineRequestInput:
    category: HotlineCategory
    summary: str
    member_id: strawberry.ID | None = None
    received_at: datetime | None = strawberry.field(
        default=None,
        description="When the call came in (default: now); without an offset, Beijing time.",
    )


@strawberry.input
class HandleHotlineRequestInput:
    id: strawberry.ID
    status: HotlineStatus
    note: str


@strawberry.type
class HotlineRequestPayload:
    request: HotlineRequest


HotlineRequestResult = Annotated[
    HotlineRequestPayload | InvalidInput, strawberry.union("HotlineRequestResult")
]


@strawberry.type
class CareMutation:
    @strawberry.mutation(
        description="Records a 警心110 request: yours, or (admins, secretaries) a member's."
    )
    async def create_hotline_request(
        self, info: Info, input: CreateHotlineRequestInput
    ) -> HotlineRequestResult:
        async def run(db: AsyncSession, viewer: Viewer) -> HotlineRequestPayload:
            record = await ops.create_hotline_request(
                db,
                viewer,
                info.context.clock,
                optional_global_id(input.member_id, "Member", "memberId"),
                input.category,
                input.summary,
                input.received_at,
            )
            return HotlineRequestPayload(request=HotlineRequest.from_record(record))

        return await write(info, run)

    @strawberry.mutation(
        description="Adds a handling step and moves the status forward (admins, the secretary)."
    )
    async def handle_hotline_request(
        self, info: Info, input: HandleHotlineRequestInput
    ) -> HotlineRequestResult:
        async def run(db: AsyncSession, viewer: Viewer) -> HotlineRequestPayload:
            record = await ops.handle_hotline_request(
                db,
                viewer,
                info.context.clock,
                from_global_id(input.id, "HotlineRequest", "id"),
                input.status,
                input.note,
            )
            return HotlineRequestPayload(request=HotlineRequest.from_record(record))

        return await write(info, run)


# --- node(id:) ------------------------------------------------------------------------------------


async def _hotline_node(info: Info, request_id: uuid.UUID) -> HotlineRequest | None:
    record = await read(info, lambda db, viewer: ops.get_hotline_request(db, viewer, request_id))
    return HotlineRequest.from_record(record) if record else None


register_node("HotlineRequest", HotlineRequest, _hotline_node)
