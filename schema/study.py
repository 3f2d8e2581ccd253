"""GraphQL surface of study (理论学习): 第一议题 study records and study groups."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from access.errors import from_global_id, optional_global_id
from access.viewer import Viewer
from models import StudyForm
from models import StudyGroup as StudyGroupRow
from models import StudyRecord as StudyRecordRow
from resolvers import study as ops
from resolvers.period import local_date, period_input
from resolvers.study import StudyFilter
from schema.branch import Branch
from schema.connection import Connection, connection_from_page, page_of
from schema.context import Info
from schema.errors import InvalidInput, read, write
from schema.ledger import LedgerEntry
from schema.member import Member
from schema.node import Node, register_node, to_global_id

StudyFormEnum = strawberry.enum(
    StudyForm, name="StudyForm", description="中心组领学 · 支部组学 · 青年理论学习小组跟进学"
)


@strawberry.type(description="第一议题 study record: what was studied, how, and who attended.")
class StudyRecord(Node):
    held_on: date
    topic: str
    material: str | None
    form: StudyForm
    created_at: datetime
    updated_at: datetime
    _row: strawberry.Private[StudyRecordRow]

    @classmethod
    def from_model(cls, row: StudyRecordRow) -> StudyRecord:
        return cls(
            id=to_global_id("StudyRecord", row.id),
            held_on=row.held_on,
            topic=row.topic,
            material=row.material,
            form=row.form,
            created_at=row.created_at,
            updated_at=row.updated_at,
            _row=row,
        )

    @strawberry.field
    def form_label(self) -> str:
        return self.form.label

    @strawberry.field
    async def branch(self, info: Info) -> Branch:
        row = await info.context.loaders.branch.load(self._row.branch_id)
        assert row is not None, "a study record's branch is a foreign key"
        return Branch.from_model(row)

    @strawberry.field
    async def attendees(self, info: Info) -> list[Member]:
        rows = await info.context.loaders.study_attendees.load(self._row.id)
        return [Member.from_model(r) for r in rows]

    @strawberry.field(description="The meeting's ledger entry (L06 or L02), when linked.")
    async def ledger_entry(self, info: Info) -> LedgerEntry | None:
        entry_id = self._row.ledger_entry_id
        if entry_id is None:
            return None
        row = await info.context.loaders.ledger_entry.load(entry_id)
        return LedgerEntry.from_model(row) if row else None


@strawberry.type(description="学习小组, e.g. 青年民警理论学习小组.")
class StudyGroup(Node):
    name: str
    _row: strawberry.Private[StudyGroupRow]

    @classmethod
    def from_model(cls, row: StudyGroupRow) -> StudyGroup:
        return cls(id=to_global_id("StudyGroup", row.id), name=row.name, _row=row)

    @strawberry.field
    async def branch(self, info: Info) -> Branch:
        row = await info.context.loaders.branch.load(self._row.branch_id)
        assert row is not None, "a study group's branch is a foreign key"
        return Branch.from_model(row)

    @strawberry.field
    async def members(self, info: Info) -> list[Member]:
        rows = await info.context.loaders.study_group_members.load(self._row.id)
        return [Member.from_model(r) for r in rows]


@strawberry.type
class StudyQuery:
    @strawberry.field(description="第一议题 study records you may read, newest first.")
    async def study_records(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        branch_id: strawberry.ID | None = None,
        subtree_of: strawberry.ID | None = None,
        form: list[StudyForm] | None = None,
        period: Annotated[
            str | None,
            strawberry.argument(
                description="2026, 2026-Q2, 2026-05, or P12M (the window ending today)."
            ),
        ] = None,
    ) -> Connection[StudyRecord]:
        request = page_of(info, first, after)
        flt = StudyFilter(
            branch_id=optional_global_id(branch_id, "Branch", "branchId"),
            subtree_of=optional_global_id(subtree_of, "Branch", "subtreeOf"),
            forms=tuple(form or ()),
            period=None
            if period is None
            else period_input(period, today=local_date(info.context.clock())),
        )
        page = await read(info, lambda db, viewer: ops.list_study_records(db, viewer, flt, request))
        return connection_from_page(
            page,
            [StudyRecord.from_model(r) for r in page.items],
            lambda: read(info, lambda db, viewer: ops.count_study_records(db, viewer, flt)),
        )

    @strawberry.field(description="Study groups you may read, by name.")
    async def study_groups(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        branch_id: strawberry.ID | None = None,
        subtree_of: strawberry.ID | None = None,
    ) -> Connection[StudyGroup]:
        request = page_of(info, first, after)
        branch = optional_global_id(branch_id, "Branch", "branchId")
        subtree = optional_global_id(subtree_of, "Branch", "subtreeOf")
        page, total = await read(
            info, lambda db, viewer: ops.list_study_groups(db, viewer, branch, subtree, request)
        )

        async def count() -> int:
            return total

        return connection_from_page(page, [StudyGroup.from_model(r) for r in page.items], count)


@strawberry.input
class CreateStudyRecordInput:
    branch_id: strawberry.ID
    held_on: date
    topic: str
    form: StudyForm
    material: str | None = None
    attendee_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    ledger_entry_id: strawberry.ID | None = strawberry.field(
        default=None, description="An L06 or L02 entry of the same branch."
    )


@strawberry.input(description="Only the fields given change; ledgerEntryId: null unlinks.")
class UpdateStudyRecordInput:
    id: strawberry.ID
    held_on: date | None = strawberry.UNSET
    topic: str | None = strawberry.UNSET
    form: StudyForm | None = strawberry.UNSET
    material: str | None = strawberry.UNSET
    attendee_ids: list[strawberry.ID] | None = strawberry.UNSET
    ledger_entry_id: strawberry.ID | None = strawberry.UNSET


@strawberry.input
class CreateStudyGroupInput:
    branch_id: strawberry.ID
    name: str
    member_ids: list[strawberry.ID] = strawberry.field(default_factory=list)


@strawberry.input(description="Only the fields given change; memberIds replaces the list.")
class UpdateStudyGroupInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    member_ids: list[strawberry.ID] | None = strawberry.UNSET


@strawberry.type
class StudyRecordPayload:
    record: StudyRecord


@strawberry.type
class StudyGroupPayload:
    group: StudyGroup


@strawberry.type
class StudyDeleted:
    id: strawberry.ID


StudyRecordResult = Annotated[
    StudyRecordPayload | InvalidInput, strawberry.union("StudyRecordResult")
]
StudyGroupResult = Annotated[StudyGroupPayload | InvalidInput, strawberry.union("StudyGroupResult")]
DeleteStudyResult = Annotated[StudyDeleted | InvalidInput, strawberry.union("DeleteStudyResult")]


def _ids(values: Any, type_name: str, field: str) -> list[uuid.UUID]:
    return [from_global_id(v, type_name, field) for v in values]


@strawberry.type
class StudyMutation:
    @strawberry.mutation(description="Records a 第一议题 study session.")
    async def create_study_record(
        self, info: Info, input: CreateStudyRecordInput
    ) -> StudyRecordResult:
        async def run(db: AsyncSession, viewer: Viewer) -> StudyRecordPayload:
            data = strawberry.asdict(input)
            data["branch_id"] = from_global_id(input.branch_id, "Branch", "branchId")
            data["attendee_ids"] = _ids(input.attendee_ids, "Member", "attendeeIds")
            data["ledger_entry_id"] = optional_global_id(
                input.ledger_entry_id, "LedgerEntry", "ledgerEntryId"
            )
            row = await ops.create_study_record(db, viewer, info.context.clock, data)
            return StudyRecordPayload(record=StudyRecord.from_model(row))

        return await write(info, run)

    @strawberry.mutation(description="Edits a study record.")
    async def update_study_record(
        self, info: Info, input: UpdateStudyRecordInput
    ) -> StudyRecordResult:
        async def run(db: AsyncSession, viewer: Viewer) -> StudyRecordPayload:
            record_id = from_global_id(input.id, "StudyRecord", "id")
            changes = strawberry.asdict(input)
            del changes["id"]
            if changes.get("attendee_ids") is not None:
                changes["attendee_ids"] = _ids(changes["attendee_ids"], "Member", "attendeeIds")
            if "ledger_entry_id" in changes:
                changes["ledger_entry_id"] = optional_global_id(
                    input.ledger_entry_id or None, "LedgerEntry", "ledgerEntryId"
                )
            row = await ops.update_study_record(db, viewer, info.context.clock, record_id, changes)
            return StudyRecordPayload(record=StudyRecord.from_model(row))

        return await write(info, run)

    @strawberry.mutation(description="Deletes a study record.")
    async def delete_study_record(self, info: Info, id: strawberry.ID) -> DeleteStudyResult:
        async def run(db: AsyncSession, viewer: Viewer) -> StudyDeleted:
            await ops.delete_study_record(db, viewer, from_global_id(id, "StudyRecord", "id"))
            return StudyDeleted(id=id)

        return await write(info, run)

    @strawberry.mutation(description="Opens a study group.")
    async def create_study_group(
        self, info: Info, input: CreateStudyGroupInput
    ) -> StudyGroupResult:
        async def run(db: AsyncSession, viewer: Viewer) -> StudyGroupPayload:
            data = strawberry.asdict(input)
            data["branch_id"] = from_global_id(input.branch_id, "Branch", "branchId")
            data["member_ids"] = _ids(input.member_ids, "Member", "memberIds")
            row = await ops.create_study_group(db, viewer, info.context.clock, data)
            return StudyGroupPayload(group=StudyGroup.from_model(row))

        return await write(info, run)

    @strawberry.mutation(description="Renames a study group or replaces its members.")
    async def update_study_group(
        self, info: Info, input: UpdateStudyGroupInput
    ) -> StudyGroupResult:
        async def run(db: AsyncSession, viewer: Viewer) -> StudyGroupPayload:
            group_id = from_global_id(input.id, "StudyGroup", "id")
            changes = strawberry.asdict(input)
            del changes["id"]
            if changes.get("member_ids") is not None:
                changes["member_ids"] = _ids(changes["member_ids"], "Member", "memberIds")
            row = await ops.update_study_group(db, viewer, info.context.clock, group_id, changes)
            return StudyGroupPayload(group=StudyGroup.from_model(row))

        return await write(info, run)

    @strawberry.mutation(description="Disbands a study group.")
    async def delete_study_group(self, info: Info, id: strawberry.ID) -> DeleteStudyResult:
        async def run(db: AsyncSession, viewer: Viewer) -> StudyDeleted:
            await ops.delete_study_group(db, viewer, from_global_id(id, "StudyGroup", "id"))
            return StudyDeleted(id=id)

        return await write(info, run)


# --- node(id:) ------------------------------------------------------------------------------------


async def _record_node(info: Info, record_id: uuid.UUID) -> StudyRecord | None:
    row = await read(info, lambda db, viewer: ops.get_study_record(db, viewer, record_id))
    return StudyRecord.from_model(row) if row else None


async def _group_node(info: Info, group_id: uuid.UUID) -> StudyGroup | None:
    row = await read(info, lambda db, viewer: ops.get_study_group(db, viewer, group_id))
    return StudyGroup.from_model(row) if row else None


register_node("StudyRecord", StudyRecord, _record_node)
register_node("StudyGroup", StudyGroup, _group_node)
