"""GraphQL surface of the organisation: branches, task units, honours."""

from __future__ import annotations

import uuid
from datetime import date
from typing import TYPE_CHECKING, Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from access.errors import from_global_id, optional_global_id
from access.viewer import Viewer
from models import Branch as BranchRow
from models import BranchHonour as BranchHonourRow
from models import BranchKind, HonourLevel, Post
from resolvers import branch as ops
from resolvers.branch import BranchFilter
from schema.connection import Connection, connection_from_page, page_of
from schema.context import Info
from schema.errors import InvalidInput, read, write
from schema.node import Node, register_node, to_global_id

if TYPE_CHECKING:
    from schema.member import Member

BranchKindEnum = strawberry.enum(
    BranchKind,
    name="BranchKind",
    description="党委 · 机关党委 · 党总支 · 党支部 · 党小组 · 临时党小组 · 党员突击队 · 攻坚队",
)
HonourLevelEnum = strawberry.enum(HonourLevel, name="HonourLevel")

MemberRef = Annotated["Member", strawberry.lazy("schema.member")]


@strawberry.type(description="An honour a branch received (e.g. 全省“枫桥式公安派出所”).")
class Honour(Node):
    title: str
    level: HonourLevel
    level_label: str
    awarded_on: date

    @classmethod
    def from_model(cls, row: BranchHonourRow) -> Honour:
        return cls(
            id=to_global_id("Honour", row.id),
            title=row.title,
            level=row.level,
            level_label=row.level.label,
            awarded_on=row.awarded_on,
        )


@strawberry.type(description="A member's place in a task unit (抽调).")
class TaskUnitMember:
    member: MemberRef
    role: str | None = strawberry.field(description="Their role in the unit, e.g. 队长.")
    joined_on: date


@strawberry.type(description="党组织: a committee, branch, group or time-bounded task unit.")
class Branch(Node):
    name: str
    kind: BranchKind
    kind_label: str = strawberry.field(description="Chinese label of the kind, e.g. 党支部.")
    unit_name: str | None = strawberry.field(description="The police unit, e.g. 玫瑰派出所.")
    brand_name: str | None
    brand_slogan: str | None
    depth: int
    starts_on: date | None = strawberry.field(description="Task units: when the unit was formed.")
    ends_on: date | None = strawberry.field(description="Task units: when the unit stands down.")
    _row: strawberry.Private[BranchRow]

    @classmethod
    def from_model(cls, row: BranchRow) -> Branch:
        return cls(
            id=to_global_id("Branch", row.id),
            name=row.name,
            kind=row.kind,
            kind_label=row.kind.label,
            unit_name=row.unit_name,
            brand_name=row.brand_name,
            brand_slogan=row.brand_slogan,
            depth=row.depth,
            starts_on=row.starts_on,
            ends_on=row.ends_on,
            _row=row,
        )

    @strawberry.field
    def is_task_unit(self) -> bool:
        return self._row.kind.is_task_unit

    @strawberry.field(description="The parent organisation; null for the bureau committee.")
    async def parent(self, info: Info) -> Branch | None:
        if self._row.parent_id is None:
            return None
        row = await info.context.loaders.branch.load(self._row.parent_id)
        return Branch.from_model(row) if row else None

    @strawberry.field(description="Direct sub-organisations, in the bureau's order.")
    async def children(self, info: Info) -> list[Branch]:
        rows = await info.context.loaders.children.load(self._row.id)
        info.context.loaders.prime_branches(rows)
        return [Branch.from_model(r) for r in rows]

    @strawberry.field(description="Home members; for a task unit, the members assigned to it.")
    async def members(self, info: Info) -> list[MemberRef]:
        from schema.member import Member

        info.context.require_viewer()
        rows = await info.context.loaders.members.load(self._row.id)
        return [Member.from_model(r) for r in rows]

    @strawberry.field(
        description="Number of members you may see, as `members` lists them: home members; "
        "for a task unit, the members assigned to it."
    )
    async def member_count(self, info: Info) -> int:
        info.context.require_viewer()
        return await info.context.loaders.member_count.load(self._row.id)

    @strawberry.field(
        description="支部书记: the home member whose post is 书记; null when there is none, "
        "for a task unit, or when you may not see them."
    )
    async def secretary(self, info: Info) -> MemberRef | None:
        from schema.member import Member

        info.context.require_viewer()
        if self._row.kind.is_task_unit:
            return None
        rows = await info.context.loaders.members.load(self._row.id)
        found = next((r for r in rows if r.post is Post.SECRETARY), None)
        return None if found is None else Member.from_model(found)

    @strawberry.field(
        description="Task units: the members assigned to it with their role (e.g. 队长), by "
        "name; empty for other branches."
    )
    async def task_unit_members(self, info: Info) -> list[TaskUnitMember]:
        from schema.member import Member

        info.context.require_viewer()
        if not self._row.kind.is_task_unit:
            return []
        places = await info.context.loaders.task_unit_places.load(self._row.id)
        return [
            TaskUnitMember(member=Member.from_model(p.member), role=p.role, joined_on=p.joined_on)
            for p in places
        ]

    @strawberry.field
    async def honours(self, info: Info) -> list[Honour]:
        rows = await info.context.loaders.honours.load(self._row.id)
        return [Honour.from_model(r) for r in rows]


@strawberry.type
class BranchQuery:
    @strawberry.field(description="Branches in tree order, filtered; a cursor connection.")
    async def branches(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        kind: BranchKind | None = None,
        subtree_of: strawberry.ID | None = None,
        search: str | None = None,
    ) -> Connection[Branch]:
        request = page_of(info, first, after, width=3)
        flt = BranchFilter(
            kind=kind,
            subtree_of=optional_global_id(subtree_of, "Branch", "subtreeOf"),
            search=search,
        )
        page = await read(info, lambda db, viewer: ops.list_branches(db, viewer, flt, request))
        info.context.loaders.prime_branches(page.items)
        return connection_from_page(
            page,
            [Branch.from_model(r) for r in page.items],
            lambda: read(info, lambda db, viewer: ops.count_branches(db, viewer, flt)),
        )

    @strawberry.field(description="One branch by global id.")
    async def branch(self, info: Info, id: strawberry.ID) -> Branch | None:
        info.context.require_viewer()
        return await _branch_node(info, from_global_id(id, "Branch", "id"))


@strawberry.input
class CreateBranchInput:
    parent_id: strawberry.ID | None
    kind: BranchKind
    name: str
    unit_name: str | None = None
    brand_name: str | None = None
    brand_slogan: str | None = None
    sort_order: int | None = None
    starts_on: date | None = None
    ends_on: date | None = None


@strawberry.input(description="Only the fields given are changed; null clears an optional field.")
class UpdateBranchInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    parent_id: strawberry.ID | None = strawberry.UNSET
    unit_name: str | None = strawberry.UNSET
    brand_name: str | None = strawberry.UNSET
    brand_slogan: str | None = strawberry.UNSET
    sort_order: int | None = strawberry.UNSET
    starts_on: date | None = strawberry.UNSET
    ends_on: date | None = strawberry.UNSET


@strawberry.input
class AddHonourInput:
    branch_id: strawberry.ID
    title: str
    level: HonourLevel
    awarded_on: date


@strawberry.input
class RemoveHonourInput:
    id: strawberry.ID


@strawberry.type
class BranchPayload:
    branch: Branch


@strawberry.type
class HonourPayload:
    branch: Branch
    honour: Honour


BranchResult = Annotated[BranchPayload | InvalidInput, strawberry.union("BranchResult")]
HonourResult = Annotated[HonourPayload | InvalidInput, strawberry.union("HonourResult")]


@strawberry.type
class BranchMutation:
    @strawberry.mutation(description="Opens a branch, group or task unit.")
    async def create_branch(self, info: Info, input: CreateBranchInput) -> BranchResult:
        async def run(db: AsyncSession, viewer: Viewer) -> BranchPayload:
            data = strawberry.asdict(input)
            data["parent_id"] = optional_global_id(input.parent_id, "Branch", "parentId")
            row = await ops.create_branch(db, viewer, info.context.clock, data)
            return BranchPayload(branch=Branch.from_model(row))

        return await write(info, run)

    @strawberry.mutation(description="Edits a branch; moving it re-roots its subtree (admins).")
    async def update_branch(self, info: Info, input: UpdateBranchInput) -> BranchResult:
        async def run(db: AsyncSession, viewer: Viewer) -> BranchPayload:
            branch_id = from_global_id(input.id, "Branch", "id")
            # asdict leaves out the fields the client did not send (UNSET).
            changes = strawberry.asdict(input)
            del changes["id"]
            if "parent_id" in changes:
                changes["parent_id"] = optional_global_id(input.parent_id, "Branch", "parentId")
            row = await ops.update_branch(db, viewer, info.context.clock, branch_id, changes)
            return BranchPayload(branch=Branch.from_model(row))

        return await write(info, run)

    @strawberry.mutation(
        description="Records an honour of a branch (admins, or the committee above it)."
    )
    async def add_honour(self, info: Info, input: AddHonourInput) -> HonourResult:
        async def run(db: AsyncSession, viewer: Viewer) -> HonourPayload:
            branch_id: uuid.UUID = from_global_id(input.branch_id, "Branch", "branchId")
            honour = await ops.add_honour(
                db,
                viewer,
                info.context.clock,
                branch_id,
                input.title,
                input.level,
                input.awarded_on,
            )
            branch = await ops.get_branch(db, branch_id)
            return HonourPayload(branch=Branch.from_model(branch), honour=Honour.from_model(honour))

        return await write(info, run)

    @strawberry.mutation(
        description="Deletes an honour recorded in error (admins, or the committee above it)."
    )
    async def remove_honour(self, info: Info, input: RemoveHonourInput) -> BranchResult:
        async def run(db: AsyncSession, viewer: Viewer) -> BranchPayload:
            honour_id = from_global_id(input.id, "Honour", "id")
            branch = await ops.remove_honour(db, viewer, honour_id)
            return BranchPayload(branch=Branch.from_model(branch))

        return await write(info, run)


# --- node(id:) ------------------------------------------------------------------------------------


async def _branch_node(info: Info, branch_id: uuid.UUID) -> Branch | None:
    row = await info.context.loaders.branch.load(branch_id)
    return Branch.from_model(row) if row else None


async def _honour_node(info: Info, honour_id: uuid.UUID) -> Honour | None:
    row = await read(info, lambda db, _: ops.get_honour(db, honour_id))
    return Honour.from_model(row) if row else None


register_node("Branch", Branch, _branch_node)
register_node("Honour", Honour, _honour_node)
