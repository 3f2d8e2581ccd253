"""Study (理论学习): 第一议题 study records and study groups of a branch.

Same access rules as ledgers: admins and inspectors read everything, a secretary their subtree,
an officer their branch; admins and secretaries (within their subtree) write. A study record may
point at the meeting's ledger entry, which must be an L06 ("第一议题"学习) or L02 (支部委员会会议)
entry of the same branch.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from access.errors import Collector, ErrorCode, InputError
from access.scope import scope_of
from access.viewer import Viewer
from core.clock import Clock
from core.ids import new_id
from models import (
    Branch,
    LedgerEntry,
    LedgerItem,
    Member,
    StudyForm,
    StudyGroup,
    StudyGroupMember,
    StudyRecord,
    StudyRecordAttendee,
)
from resolvers.batch import group_by_key
from resolvers.branch import get_branch
from resolvers.ledger import check_attendees, check_day
from resolvers.member import MEMBER_COLUMNS, MemberRecord
from resolvers.pagination import Page, PageRequest, cursor_values, encode_cursor
from resolvers.period import Period, local_date

# A study is held at the meeting that has it as its first agenda item.
LINKABLE_ITEM_CODES = ("L06", "L02")


@dataclass(frozen=True, slots=True)
class StudyFilter:
    branch_id: uuid.UUID | None = None
    subtree_of: uuid.UUID | None = None
    forms: Sequence[StudyForm] = field(default_factory=tuple)
    period: Period | None = None


def _in_subtree(column: Any, root: uuid.UUID) -> ColumnElement[bool]:
    root_path = select(Branch.path).where(Branch.id == root).scalar_subquery()
    result: ColumnElement[bool] = column.in_(
        select(Branch.id).where(Branch.path.startswith(root_path))
    )
    return result


def _filtered(query: Select[Any], viewer: Viewer, flt: StudyFilter) -> Select[Any]:
    query = query.where(scope_of(viewer).clause(StudyRecord.branch_id))
    if flt.branch_id is not None:
        query = query.where(StudyRecord.branch_id == flt.branch_id)
    if flt.subtree_of is not None:
        query = query.where(_in_subtree(StudyRecord.branch_id, flt.subtree_of))
    if flt.forms:
        query = query.where(StudyRecord.form.in_(list(flt.forms)))
    if flt.period is not None:
        query = query.where(
            StudyRecord.held_on >= flt.period.start, StudyRecord.held_on < flt.period.end_exclusive
        )
    return query


async def list_study_records(
    db: AsyncSession, viewer: Viewer, flt: StudyFilter, page: PageRequest
) -> Page[StudyRecord]:
    """One page of study records, newest first."""
    query = _filtered(select(StudyRecord), viewer, flt)
    if page.after is not None:
        day, last_id = cursor_values(page.after, date.fromisoformat, uuid.UUID)
        key: ColumnElement[Any] = tuple_(StudyRecord.held_on, StudyRecord.id)
        query = query.where(key < tuple_(day, last_id))
    query = query.order_by(StudyRecord.held_on.desc(), StudyRecord.id.desc())
    rows = list((await db.scalars(query.limit(page.first + 1))).all())
    items = rows[: page.first]
    return Page(
        items=items,
        cursors=[encode_cursor([r.held_on.isoformat(), str(r.id)]) for r in items],
        has_next_page=len(rows) > page.first,
        has_previous_page=page.after is not None,
    )


async def count_study_records(db: AsyncSession, viewer: Viewer, flt: StudyFilter) -> int:
    """How many study records the viewer may read match the filter."""
    query = _filtered(select(func.count()).select_from(StudyRecord), viewer, flt)
    return int((await db.execute(query)).scalar_one())


async def get_study_record(
    db: AsyncSession, viewer: Viewer, record_id: uuid.UUID
) -> StudyRecord | None:
    """One study record; None when absent or outside what `list_study_records` shows."""
    query = _filtered(select(StudyRecord), viewer, StudyFilter())
    return (await db.scalars(query.where(StudyRecord.id == record_id))).one_or_none()


async def attendees_by_record_id(
    db: AsyncSession, viewer: Viewer, ids: Sequence[uuid.UUID]
) -> list[list[MemberRecord]]:
    """Attendees of each study record, by name, in one statement."""
    query = (
        select(StudyRecordAttendee.record_id, *MEMBER_COLUMNS)
        .join(Member, Member.id == StudyRecordAttendee.member_id)
        .where(StudyRecordAttendee.record_id.in_(ids), viewer.member_read_clause())
        .order_by(Member.name, Member.id)
    )
    rows = await db.execute(query)
    return group_by_key(ids, ((row[0], MemberRecord(*row[1:])) for row in rows))


async def members_by_group_id(
    db: AsyncSession, viewer: Viewer, ids: Sequence[uuid.UUID]
) -> list[list[MemberRecord]]:
    """Members of each study group, by name, in one statement."""
    query = (
        select(StudyGroupMember.group_id, *MEMBER_COLUMNS)
        .join(Member, Member.id == StudyGroupMember.member_id)
        .where(StudyGroupMember.group_id.in_(ids), viewer.member_read_clause())
        .order_by(Member.name, Member.id)
    )
    rows = await db.execute(query)
    return group_by_key(ids, ((row[0], MemberRecord(*row[1:])) for row in rows))


async def _check_link(
    db: AsyncSession, errors: Collector, branch: Branch, entry_id: uuid.UUID
) -> None:
    row = (
        await db.execute(
            select(LedgerEntry.branch_id, LedgerItem.code)
            .join(LedgerItem, LedgerItem.id == LedgerEntry.item_id)
            .where(LedgerEntry.id == entry_id)
        )
    ).first()
    if row is None:
        errors.add("ledgerEntryId", "台账记录不存在 (ledger entry not found)", ErrorCode.NOT_FOUND)
    elif row.branch_id != branch.id:
        errors.add(
            "ledgerEntryId",
            "只能关联本支部的台账记录 (the entry belongs to another branch)",
            ErrorCode.OUT_OF_SCOPE,
        )
    elif row.code not in LINKABLE_ITEM_CODES:
        errors.add(
            "ledgerEntryId",
            f"只能关联 {' 或 '.join(LINKABLE_ITEM_CODES)} 台账记录,此记录为 {row.code} "
            f"(only {' or '.join(LINKABLE_ITEM_CODES)} entries)",
            ErrorCode.INVALID_KIND,
        )


async def _replace_attendees(
    db: AsyncSession, record_id: uuid.UUID, member_ids: Sequence[uuid.UUID]
) -> None:
    await db.execute(delete(StudyRecordAttendee).where(StudyRecordAttendee.record_id == record_id))
    db.add_all(StudyRecordAttendee(record_id=record_id, member_id=m) for m in member_ids)


async def create_study_record(
    db: AsyncSession, viewer: Viewer, clock: Clock, data: Mapping[str, Any]
) -> StudyRecord:
    """Records a 第一议题 study session of a branch in the viewer's scope."""
    viewer.require_writer()
    branch = await get_branch(db, data["branch_id"], "branchId")
    viewer.require_covers(branch.path)
    errors = Collector()
    check_day(errors, "heldOn", data.get("held_on"), local_date(clock()))
    topic = errors.require_text("topic", data.get("topic"), 200)
    material = errors.optional_text("material", data.get("material"), 20_000)
    attendees = await check_attendees(db, errors, branch, data.get("attendee_ids") or ())
    if data.get("ledger_entry_id") is not None:
        await _check_link(db, errors, branch, data["ledger_entry_id"])
    errors.raise_if_any()
    now = clock()
    record = StudyRecord(
        id=new_id(),
        branch_id=branch.id,
        held_on=data["held_on"],
        topic=topic,
        material=material,
        form=data["form"],
        ledger_entry_id=data.get("ledger_entry_id"),
        created_by=viewer.account_id,
        created_at=now,
        updated_at=now,
    )
    db.add(record)
    await db.flush()
    await _replace_attendees(db, record.id, attendees)
    await db.flush()
    return record


async def _writable_record(
    db: AsyncSession, viewer: Viewer, record_id: uuid.UUID
) -> tuple[StudyRecord, Branch]:
    viewer.require_writer()
    record = await db.get(StudyRecord, record_id)
    if record is None:
        raise InputError.one("id", "学习记录不存在 (study record not found)", ErrorCode.NOT_FOUND)
    branch = await get_branch(db, record.branch_id)
    viewer.require_covers(branch.path)
    return record, branch


async def update_study_record(
    db: AsyncSession, viewer: Viewer, clock: Clock, record_id: uuid.UUID, changes: Mapping[str, Any]
) -> StudyRecord:
    """Edits the given fields; `attendee_ids` replaces the list; a null link unlinks."""
    record, branch = await _writable_record(db, viewer, record_id)
    errors = Collector()
    values: dict[str, Any] = {}
    if "held_on" in changes:
        check_day(errors, "heldOn", changes["held_on"], local_date(clock()))
        values["held_on"] = changes["held_on"]
    if "topic" in changes:
        values["topic"] = errors.require_text("topic", changes["topic"], 200)
    if "material" in changes:
        values["material"] = errors.optional_text("material", changes["material"], 20_000)
    if changes.get("form") is not None:
        values["form"] = changes["form"]
    if "ledger_entry_id" in changes:
        if changes["ledger_entry_id"] is not None:
            await _check_link(db, errors, branch, changes["ledger_entry_id"])
        values["ledger_entry_id"] = changes["ledger_entry_id"]
    attendees = None
    if changes.get("attendee_ids") is not None:
        attendees = await check_attendees(db, errors, branch, changes["attendee_ids"])
    errors.raise_if_any()
    for key, value in values.items():
        setattr(record, key, value)
    record.updated_at = clock()
    if attendees is not None:
        await _replace_attendees(db, record.id, attendees)
    await db.flush()
    return record


async def delete_study_record(db: AsyncSession, viewer: Viewer, record_id: uuid.UUID) -> None:
    """Deletes a study record and its attendee list."""
    record, _ = await _writable_record(db, viewer, record_id)
    await db.execute(delete(StudyRecordAttendee).where(StudyRecordAttendee.record_id == record.id))
    await db.delete(record)
    await db.flush()


# --- study groups -------------------------------------------------------------------------------


async def list_study_groups(
    db: AsyncSession,
    viewer: Viewer,
    branch_id: uuid.UUID | None,
    subtree_of: uuid.UUID | None,
    page: PageRequest,
) -> tuple[Page[StudyGroup], int]:
    """One page of study groups the viewer may read, by name, and how many there are."""
    query = _readable_groups(viewer)
    if branch_id is not None:
        query = query.where(StudyGroup.branch_id == branch_id)
    if subtree_of is not None:
        query = query.where(_in_subtree(StudyGroup.branch_id, subtree_of))
    total = int(await db.scalar(select(func.count()).select_from(query.subquery())) or 0)
    if page.after is not None:
        name, last_id = cursor_values(page.after, str, uuid.UUID)
        key: ColumnElement[Any] = tuple_(StudyGroup.name, StudyGroup.id)
        query = query.where(key > tuple_(name, last_id))
    query = query.order_by(StudyGroup.name, StudyGroup.id).limit(page.first + 1)
    rows = list((await db.scalars(query)).all())
    items = rows[: page.first]
    return (
        Page(
            items=items,
            cursors=[encode_cursor([g.name, str(g.id)]) for g in items],
            has_next_page=len(rows) > page.first,
            has_previous_page=page.after is not None,
        ),
        total,
    )


def _readable_groups(viewer: Viewer) -> Select[StudyGroup]:
    return select(StudyGroup).where(scope_of(viewer).clause(StudyGroup.branch_id))


async def get_study_group(
    db: AsyncSession, viewer: Viewer, group_id: uuid.UUID
) -> StudyGroup | None:
    """One study group; None when absent or outside what `list_study_groups` shows."""
    query = _readable_groups(viewer).where(StudyGroup.id == group_id)
    return (await db.scalars(query)).one_or_none()


async def _replace_group_members(
    db: AsyncSession, group_id: uuid.UUID, member_ids: Sequence[uuid.UUID]
) -> None:
    await db.execute(delete(StudyGroupMember).where(StudyGroupMember.group_id == group_id))
    db.add_all(StudyGroupMember(group_id=group_id, member_id=m) for m in member_ids)


async def create_study_group(
    db: AsyncSession, viewer: Viewer, clock: Clock, data: Mapping[str, Any]
) -> StudyGroup:
    """Opens a study group in a branch of the viewer's scope, with members of its subtree."""
    viewer.require_writer()
    branch = await get_branch(db, data["branch_id"], "branchId")
    viewer.require_covers(branch.path)
    errors = Collector()
    name = errors.require_text("name", data.get("name"), 100)
    members = await check_attendees(db, errors, branch, data.get("member_ids") or (), "memberIds")
    errors.raise_if_any()
    assert name is not None
    now = clock()
    group = StudyGroup(id=new_id(), branch_id=branch.id, name=name, created_at=now, updated_at=now)
    db.add(group)
    await db.flush()
    await _replace_group_members(db, group.id, members)
    await db.flush()
    return group


async def _writable_group(
    db: AsyncSession, viewer: Viewer, group_id: uuid.UUID
) -> tuple[StudyGroup, Branch]:
    viewer.require_writer()
    group = await db.get(StudyGroup, group_id)
    if group is None:
        raise InputError.one("id", "学习小组不存在 (study group not found)", ErrorCode.NOT_FOUND)
    branch = await get_branch(db, group.branch_id)
    viewer.require_covers(branch.path)
    return group, branch


async def update_study_group(
    db: AsyncSession, viewer: Viewer, clock: Clock, group_id: uuid.UUID, changes: Mapping[str, Any]
) -> StudyGroup:
    """Renames a group and/or replaces its members."""
    group, branch = await _writable_group(db, viewer, group_id)
    errors = Collector()
    name = errors.require_text("name", changes["name"], 100) if "name" in changes else None
    members = None
    if changes.get("member_ids") is not None:
        members = await check_attendees(db, errors, branch, changes["member_ids"], "memberIds")
    errors.raise_if_any()
    if name is not None:
        group.name = name
    group.updated_at = clock()
    if members is not None:
        await _replace_group_members(db, group.id, members)
    await db.flush()
    return group


async def delete_study_group(db: AsyncSession, viewer: Viewer, group_id: uuid.UUID) -> None:
    """Disbands a group (its members stay members of their branches)."""
    group, _ = await _writable_group(db, viewer, group_id)
    await db.execute(delete(StudyGroupMember).where(StudyGroupMember.group_id == group.id))
    await db.delete(group)
    await db.flush()
