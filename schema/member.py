"""GraphQL surface of members: records, pipeline, transfers, task units."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from access.errors import from_global_id, optional_global_id
from access.viewer import Viewer, mask_id_number, mask_phone
from models import MemberTransfer as MemberTransferRow
from models import PartyStatus, PersonnelType, Post, Role, ServiceStatus
from models import PartyStatusChange as PartyStatusChangeRow
from resolvers import member as ops
from resolvers.member import MemberFields, MemberFilter
from schema.branch import Branch
from schema.connection import Connection, connection_from_page, page_of
from schema.context import Info
from schema.errors import InvalidInput, read, write
from schema.node import Node, register_node, to_global_id

PartyStatusEnum = strawberry.enum(
    PartyStatus,
    name="PartyStatus",
    description="发展党员: 入党申请人 → 入党积极分子 → 发展对象 → 预备党员 → 正式党员",
)
PersonnelTypeEnum = strawberry.enum(PersonnelType, name="PersonnelType", description="民警 · 辅警")
PostEnum = strawberry.enum(Post, name="Post", description="Post in the branch (书记, 副书记, ...)")
ServiceStatusEnum = strawberry.enum(ServiceStatus, name="ServiceStatus", description="在职 · 退休")


@strawberry.type(description="党员: a member of a party branch (or one on the way to joining).")
class Member(Node):
    name: str
    personnel_type: PersonnelType
    party_status: PartyStatus
    party_status_since: date
    post: Post
    police_number: str | None
    joined_party_on: date | None
    service_status: ServiceStatus
    _row: strawberry.Private[MemberFields]

    @classmethod
    def from_model(cls, row: MemberFields) -> Member:
        return cls(
            id=to_global_id("Member", row.id),
            name=row.name,
            personnel_type=row.personnel_type,
            party_status=row.party_status,
            party_status_since=row.party_status_since,
            post=row.post,
            police_number=row.police_number,
            joined_party_on=row.joined_party_on,
            service_status=row.service_status,
            _row=row,
        )

    @strawberry.field
    def party_status_label(self) -> str:
        return self._row.party_status.label

    @strawberry.field
    def personnel_type_label(self) -> str:
        return self._row.personnel_type.label

    @strawberry.field(description="The next step of the pipeline; null for a full member.")
    def next_party_status(self) -> PartyStatus | None:
        return self._row.party_status.next()

    @strawberry.field(
        description="The next step's label (积极分子 · 发展对象 · …); null for a full member."
    )
    def next_party_status_label(self) -> str | None:
        step = self._row.party_status.next()
        return None if step is None else step.label

    @strawberry.field(
        description="The earliest day the next pipeline step is allowed without 火线发展: a "
        "year after becoming an activist (to candidate) or probationary (to full member), else "
        "the day the current status began. Null for a full member."
    )
    def next_step_earliest_on(self) -> date | None:
        return ops.next_step_earliest(self._row.party_status, self._row.party_status_since)

    @strawberry.field
    def post_label(self) -> str:
        return self._row.post.label

    @strawberry.field(description="在职 · 退休")
    def service_status_label(self) -> str:
        return self._row.service_status.label

    async def sees_personal_data(self, info: Info) -> bool:
        """Whether the viewer reads this member's personal data unmasked (not a field)."""
        viewer = info.context.require_viewer()
        path = None
        if viewer.role is Role.SECRETARY:  # only their decision depends on the member's branch
            branch = await info.context.loaders.branch.load(self._row.branch_id)
            path = branch.path if branch else None
        return viewer.sees_personal_data(self._row.id, path)

    @strawberry.field(
        description="Masked (138****5678) unless you are an admin, their secretary or them."
    )
    async def phone(self, info: Info) -> str | None:
        if await self.sees_personal_data(info):
            return self._row.phone
        return mask_phone(self._row.phone)

    @strawberry.field(
        description="身份证号. Unless you are an admin, their secretary or them, only the region "
        "and the birthday's month and day show (370124****0422****)."
    )
    async def id_number(self, info: Info) -> str | None:
        if await self.sees_personal_data(info):
            return self._row.id_number
        return mask_id_number(self._row.id_number)

    @strawberry.field(
        description="Null unless you are an admin, their secretary or them: the year is theirs "
        "to tell. collectiveBirthdays gives the month and day."
    )
    async def birthday(self, info: Info) -> date | None:
        return self._row.birthday if await self.sees_personal_data(info) else None

    @strawberry.field(
        description="Null unless you are an admin, their secretary or them: retirement comes "
        "at a statutory age, so its date tells the date of birth. serviceStatus says whether."
    )
    async def retired_on(self, info: Info) -> date | None:
        return self._row.retired_on if await self.sees_personal_data(info) else None

    @strawberry.field(description="Home branch.")
    async def branch(self, info: Info) -> Branch:
        row = await info.context.loaders.branch.load(self._row.branch_id)
        assert row is not None, "a member's branch is a foreign key"
        return Branch.from_model(row)

    @strawberry.field(description="Task units the member was assigned to.")
    async def task_units(self, info: Info) -> list[Branch]:
        rows = await info.context.loaders.task_units.load(self._row.id)
        return [Branch.from_model(r) for r in rows]

    @strawberry.field(description="组织关系转接 history, oldest first.")
    async def transfers(self, info: Info) -> list[MemberTransfer]:
        rows = await info.context.loaders.transfers.load(self._row.id)
        return [MemberTransfer.from_model(r) for r in rows]

    @strawberry.field(description="Every step of the party-status pipeline, oldest first.")
    async def status_history(self, info: Info) -> list[PartyStatusChange]:
        rows = await info.context.loaders.status_history.load(self._row.id)
        return [PartyStatusChange.from_model(r) for r in rows]


@strawberry.type
class MemberTransfer:
    transferred_on: date
    reason: str | None
    recorded_at: datetime
    _row: strawberry.Private[MemberTransferRow]

    @classmethod
    def from_model(cls, row: MemberTransferRow) -> MemberTransfer:
        return cls(
            transferred_on=row.transferred_on,
            reason=row.reason,
            recorded_at=row.recorded_at,
            _row=row,
        )

    @strawberry.field
    async def from_branch(self, info: Info) -> Branch | None:
        row = await info.context.loaders.branch.load(self._row.from_branch_id)
        return Branch.from_model(row) if row else None

    @strawberry.field
    async def to_branch(self, info: Info) -> Branch | None:
        row = await info.context.loaders.branch.load(self._row.to_branch_id)
        return Branch.from_model(row) if row else None


@strawberry.type(description="One step of the pipeline; fastTrack marks 火线发展 with its reason.")
class PartyStatusChange:
    from_status: PartyStatus | None
    from_status_label: str | None
    to_status: PartyStatus
    to_status_label: str
    effective_on: date
    fast_track: bool
    reason: str | None
    recorded_at: datetime

    @classmethod
    def from_model(cls, row: PartyStatusChangeRow) -> PartyStatusChange:
        return cls(
            from_status=row.from_status,
            from_status_label=row.from_status.label if row.from_status else None,
            to_status=row.to_status,
            to_status_label=row.to_status.label,
            effective_on=row.effective_on,
            fast_track=row.fast_track,
            reason=row.reason,
            recorded_at=row.recorded_at,
        )


@strawberry.type
class MemberQuery:
    @strawberry.field(description="Members you may see, ordered by name; a cursor connection.")
    async def members(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        branch_id: strawberry.ID | None = None,
        subtree_of: strawberry.ID | None = None,
        party_status: list[PartyStatus] | None = None,
        personnel_type: PersonnelType | None = None,
        service_status: ServiceStatus | None = None,
        search: Annotated[
            str | None,
            strawberry.argument(description="Part of the name, or the start of the police number."),
        ] = None,
    ) -> Connection[Member]:
        request = page_of(info, first, after)
        flt = MemberFilter(
            branch_id=optional_global_id(branch_id, "Branch", "branchId"),
            subtree_of=optional_global_id(subtree_of, "Branch", "subtreeOf"),
            party_statuses=tuple(party_status or ()),
            personnel_type=personnel_type,
            service_status=service_status,
            search=search,
        )
        page = await read(info, lambda db, viewer: ops.list_members(db, viewer, flt, request))
        return connection_from_page(
            page,
            [Member.from_model(r) for r in page.items],
            lambda: read(info, lambda db, viewer: ops.count_members(db, viewer, flt)),
        )

    @strawberry.field(
        description="One member by global id; null when absent or outside your scope."
    )
    async def member(self, info: Info, id: strawberry.ID) -> Member | None:
        info.context.require_viewer()
        return await _member_node(info, from_global_id(id, "Member", "id"))


@strawberry.input
class CreateMemberInput:
    branch_id: strawberry.ID
    name: str
    personnel_type: PersonnelType = PersonnelType.POLICE
    party_status: PartyStatus = PartyStatus.APPLICANT
    party_status_since: date | None = None
    post: Post = Post.MEMBER
    police_number: str | None = None
    birthday: date | None = None
    joined_party_on: date | None = None
    phone: str | None = None
    id_number: str | None = None
    service_status: ServiceStatus = ServiceStatus.ACTIVE


@strawberry.input(
    description="Only the fields given change. Status and branch have their own mutations."
)
class UpdateMemberInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    personnel_type: PersonnelType | None = strawberry.UNSET
    post: Post | None = strawberry.UNSET
    police_number: str | None = strawberry.UNSET
    birthday: date | None = strawberry.UNSET
    joined_party_on: date | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    id_number: str | None = strawberry.UNSET
    service_status: ServiceStatus | None = strawberry.UNSET
    retired_on: date | None = strawberry.UNSET


@strawberry.input
class TransferMemberInput:
    member_id: strawberry.ID
    to_branch_id: strawberry.ID
    transferred_on: date | None = None
    reason: str | None = None


@strawberry.input(
    description="One step forward; before its minimum time only with fastTrackReason (火线发展)."
)
class AdvancePartyStatusInput:
    member_id: strawberry.ID
    to_status: PartyStatus
    effective_on: date | None = None
    fast_track_reason: str | None = None


@strawberry.input
class TaskUnitMemberInput:
    task_unit_id: strawberry.ID
    member_id: strawberry.ID
    role: str | None = None
    joined_on: date | None = None


@strawberry.type
class MemberPayload:
    member: Member


@strawberry.type
class TaskUnitPayload:
    task_unit: Branch


MemberResult = Annotated[MemberPayload | InvalidInput, strawberry.union("MemberResult")]
TaskUnitResult = Annotated[TaskUnitPayload | InvalidInput, strawberry.union("TaskUnitResult")]


@strawberry.type
class MemberMutation:
    @strawberry.mutation(description="Registers a member in a home branch.")
    async def create_member(self, info: Info, input: CreateMemberInput) -> MemberResult:
        async def run(db: AsyncSession, viewer: Viewer) -> MemberPayload:
            data = strawberry.asdict(input)
            data["branch_id"] = from_global_id(input.branch_id, "Branch", "branchId")
            row = await ops.create_member(db, viewer, info.context.clock, data)
            return MemberPayload(member=Member.from_model(row))

        return await write(info, run)

    @strawberry.mutation(description="Edits a member's record.")
    async def update_member(self, info: Info, input: UpdateMemberInput) -> MemberResult:
        async def run(db: AsyncSession, viewer: Viewer) -> MemberPayload:
            member_id = from_global_id(input.id, "Member", "id")
            # asdict leaves out the fields the client did not send (UNSET).
            changes = strawberry.asdict(input)
            del changes["id"]
            row = await ops.update_member(db, viewer, info.context.clock, member_id, changes)
            return MemberPayload(member=Member.from_model(row))

        return await write(info, run)

    @strawberry.mutation(description="组织关系转接: moves a member to another home branch.")
    async def transfer_member(self, info: Info, input: TransferMemberInput) -> MemberResult:
        async def run(db: AsyncSession, viewer: Viewer) -> MemberPayload:
            row = await ops.transfer_member(
                db,
                viewer,
                info.context.clock,
                from_global_id(input.member_id, "Member", "memberId"),
                from_global_id(input.to_branch_id, "Branch", "toBranchId"),
                input.transferred_on,
                input.reason,
            )
            return MemberPayload(member=Member.from_model(row))

        return await write(info, run)

    @strawberry.mutation(description="Advances the party-status pipeline by one step.")
    async def advance_party_status(
        self, info: Info, input: AdvancePartyStatusInput
    ) -> MemberResult:
        async def run(db: AsyncSession, viewer: Viewer) -> MemberPayload:
            row = await ops.advance_party_status(
                db,
                viewer,
                info.context.clock,
                from_global_id(input.member_id, "Member", "memberId"),
                input.to_status,
                input.effective_on,
                input.fast_track_reason,
            )
            return MemberPayload(member=Member.from_model(row))

        return await write(info, run)

    @strawberry.mutation(description="Assigns a member (from any branch) to a task unit.")
    async def add_task_unit_member(self, info: Info, input: TaskUnitMemberInput) -> TaskUnitResult:
        async def run(db: AsyncSession, viewer: Viewer) -> TaskUnitPayload:
            unit = await ops.add_task_unit_member(
                db,
                viewer,
                info.context.clock,
                from_global_id(input.task_unit_id, "Branch", "taskUnitId"),
                from_global_id(input.member_id, "Member", "memberId"),
                input.role,
                input.joined_on,
            )
            return TaskUnitPayload(task_unit=Branch.from_model(unit))

        return await write(info, run)

    @strawberry.mutation(description="Takes a member out of a task unit.")
    async def remove_task_unit_member(
        self, info: Info, input: TaskUnitMemberInput
    ) -> TaskUnitResult:
        async def run(db: AsyncSession, viewer: Viewer) -> TaskUnitPayload:
            unit = await ops.remove_task_unit_member(
                db,
                viewer,
                from_global_id(input.task_unit_id, "Branch", "taskUnitId"),
                from_global_id(input.member_id, "Member", "memberId"),
            )
            return TaskUnitPayload(task_unit=Branch.from_model(unit))

        return await write(info, run)


async def _member_node(info: Info, member_id: uuid.UUID) -> Member | None:
    """The scoped loader: null outside the viewer's member scope, as in `members`."""
    row = await info.context.loaders.member.load(member_id)
    return Member.from_model(row) if row else None


register_node("Member", Member, _member_node)

__all__ = ["Member", "MemberMutation", "MemberQuery"]
