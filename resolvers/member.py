"""Members (党员管理): records, the party-status pipeline, transfers and task units."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any, Protocol

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    delete,
    func,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from access.errors import Collector, ErrorCode, InputError
from access.viewer import Viewer
from core.clock import Clock
from core.ids import new_id
from models import (
    Branch,
    Member,
    MemberTransfer,
    PartyStatus,
    PartyStatusChange,
    PersonnelType,
    Post,
    ServiceStatus,
    TaskUnitMembership,
)
from resolvers.batch import group_by_key
from resolvers.branch import get_branch
from resolvers.pagination import Page, PageRequest, cursor_values, encode_cursor
from resolvers.period import local_date

PHONE_RE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8})$")
POLICE_NUMBER_RE = re.compile(r"^[0-9A-Za-z-]{3,20}$")
ID_NUMBER_RE = re.compile(r"^\d{17}[\dX]$")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
MIN_FAST_TRACK_REASON = 4


def years_after(day: date, years: int) -> date:
    """The same calendar day `years` later (29 February falls to 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


# Steps with a minimum time in the previous status: cultivation of an activist, and probation.
MINIMUM_YEARS_BEFORE = {PartyStatus.CANDIDATE: 1, PartyStatus.FULL: 1}


def next_step_earliest(status: PartyStatus, since: date) -> date | None:
    """The earliest day a member in `status` since `since` may take the next pipeline step
    without 火线发展: a year after for a candidate (activists are cultivated a year) and for full
    membership (a year of probation), else the day the status began. None at the last step."""
    following = status.next()
    if following is None:
        return None
    years = MINIMUM_YEARS_BEFORE.get(following)
    return since if years is None else years_after(since, years)


class MemberFields(Protocol):
    """What reading a member needs: an ORM `Member` (after a write) or a lean `MemberRecord`."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def branch_id(self) -> uuid.UUID: ...
    @property
    def name(self) -> str: ...
    @property
    def personnel_type(self) -> PersonnelType: ...
    @property
    def party_status(self) -> PartyStatus: ...
    @property
    def party_status_since(self) -> date: ...
    @property
    def post(self) -> Post: ...
    @property
    def police_number(self) -> str | None: ...
    @property
    def birthday(self) -> date | None: ...
    @property
    def joined_party_on(self) -> date | None: ...
    @property
    def phone(self) -> str | None: ...
    @property
    def id_number(self) -> str | None: ...
    @property
    def service_status(self) -> ServiceStatus: ...
    @property
    def retired_on(self) -> date | None: ...


@dataclass(frozen=True, slots=True)
class MemberRecord:
    """A member row read without the ORM: hundreds per page, ~2x cheaper than mapped objects."""

    id: uuid.UUID
    branch_id: uuid.UUID
    name: str
    personnel_type: PersonnelType
    party_status: PartyStatus
    party_status_since: date
    post: Post
    police_number: str | None
    birthday: date | None
    joined_party_on: date | None
    phone: str | None
    id_number: str | None
    service_status: ServiceStatus
    retired_on: date | None


MEMBER_COLUMNS = tuple(getattr(Member, f.name) for f in fields(MemberRecord))


@dataclass(frozen=True, slots=True)
class MemberFilter:
    branch_id: uuid.UUID | None = None
    subtree_of: uuid.UUID | None = None
    party_statuses: Sequence[PartyStatus] = field(default_factory=tuple)
    personnel_type: PersonnelType | None = None
    service_status: ServiceStatus | None = None
    search: str | None = None


def _filtered(query: Select[Any], viewer: Viewer, flt: MemberFilter) -> Select[Any]:
    query = query.where(viewer.member_read_clause())
    if flt.branch_id is not None:
        query = query.where(Member.branch_id == flt.branch_id)
    if flt.subtree_of is not None:
        root_path = select(Branch.path).where(Branch.id == flt.subtree_of).scalar_subquery()
        subtree = select(Branch.id).where(Branch.path.startswith(root_path))
        query = query.where(Member.branch_id.in_(subtree))
    if flt.party_statuses:
        query = query.where(Member.party_status.in_(list(flt.party_statuses)))
    if flt.personnel_type is not None:
        query = query.where(Member.personnel_type == flt.personnel_type)
    if flt.service_status is not None:
        query = query.where(Member.service_status == flt.service_status)
    if flt.search and flt.search.strip():
        text = flt.search.strip()
        query = query.where(
            or_(Member.name.like(f"%{text}%"), Member.police_number.like(f"{text}%"))
        )
    return query


async def list_members(
    db: AsyncSession, viewer: Viewer, flt: MemberFilter, page: PageRequest
) -> Page[MemberRecord]:
    """One page of the members the viewer may read, ordered by name."""
    query = _filtered(select(*MEMBER_COLUMNS), viewer, flt)
    if page.after is not None:
        name, last_id = cursor_values(page.after, str, uuid.UUID)
        key: ColumnElement[Any] = tuple_(Member.name, Member.id)
        query = query.where(key > tuple_(name, last_id))
    result = await db.execute(query.order_by(Member.name, Member.id).limit(page.first + 1))
    rows = [MemberRecord(*row) for row in result]
    items = rows[: page.first]
    return Page(
        items=items,
        cursors=[encode_cursor([m.name, str(m.id)]) for m in items],
        has_next_page=len(rows) > page.first,
        has_previous_page=page.after is not None,
    )


async def count_members(db: AsyncSession, viewer: Viewer, flt: MemberFilter) -> int:
    """How many members the viewer may read match the filter."""
    query = _filtered(select(func.count()).select_from(Member), viewer, flt)
    return int((await db.execute(query)).scalar_one())


async def members_by_id(
    db: AsyncSession, viewer: Viewer, ids: Sequence[uuid.UUID]
) -> list[MemberRecord | None]:
    """Batch load by id; a member outside the viewer's scope comes back as None."""
    query = select(*MEMBER_COLUMNS).where(Member.id.in_(ids), viewer.member_read_clause())
    rows = {r.id: r for r in (MemberRecord(*row) for row in await db.execute(query))}
    return [rows.get(i) for i in ids]


def _unit_links(ids: Sequence[uuid.UUID]) -> CompoundSelect[tuple[uuid.UUID, uuid.UUID]]:
    """(unit_id, member_id) of each unit's members: its home members and, for a task unit,
    those assigned to it (a task unit is never a home branch, so no member is counted twice)."""
    home = select(Member.branch_id.label("unit_id"), Member.id.label("member_id")).where(
        Member.branch_id.in_(ids)
    )
    assigned = select(
        TaskUnitMembership.task_unit_id.label("unit_id"),
        TaskUnitMembership.member_id.label("member_id"),
    ).where(TaskUnitMembership.task_unit_id.in_(ids))
    return union_all(home, assigned)


@dataclass(frozen=True, slots=True)
class TaskUnitPlace:
    """A member's place in a task unit: who, their role in it (e.g. 队长), since when."""

    member: MemberRecord
    role: str | None
    joined_on: date


async def task_unit_places_by_unit_id(
    db: AsyncSession, viewer: Viewer, ids: Sequence[uuid.UUID]
) -> list[list[TaskUnitPlace]]:
    """Each task unit's assigned members with their role, by name; one statement. Members the
    viewer may not read are left out."""
    m = TaskUnitMembership
    query = (
        select(m.task_unit_id, m.role, m.joined_on, *MEMBER_COLUMNS)
        .join(Member, Member.id == m.member_id)
        .where(m.task_unit_id.in_(ids), viewer.member_read_clause())
        .order_by(m.task_unit_id, Member.name, Member.id)
    )
    return group_by_key(
        ids,
        (
            (row[0], TaskUnitPlace(MemberRecord(*row[3:]), row[1], row[2]))
            for row in await db.execute(query)
        ),
    )


async def members_by_branch_id(
    db: AsyncSession, viewer: Viewer, ids: Sequence[uuid.UUID]
) -> list[list[MemberRecord]]:
    """Members of each unit in one statement: home members, plus assigned members of task units."""
    links = _unit_links(ids).subquery()
    query = (
        select(links.c.unit_id, *MEMBER_COLUMNS)
        .join(Member, Member.id == links.c.member_id)
        .where(viewer.member_read_clause())
        .order_by(links.c.unit_id, Member.name, Member.id)
    )
    return group_by_key(ids, ((row[0], MemberRecord(*row[1:])) for row in await db.execute(query)))


async def member_counts_by_branch_id(
    db: AsyncSession, viewer: Viewer, ids: Sequence[uuid.UUID]
) -> list[int]:
    """Number of members per unit the viewer may read, as `members_by_branch_id` lists them:
    home members, plus the members assigned to a task unit."""
    links = _unit_links(ids).subquery()
    query = (
        select(links.c.unit_id, func.count())
        .join(Member, Member.id == links.c.member_id)
        .where(viewer.member_read_clause())
        .group_by(links.c.unit_id)
    )
    counts = {bid: int(n) for bid, n in (await db.execute(query))}
    return [counts.get(i, 0) for i in ids]


async def task_units_by_member_id(db: AsyncSession, ids: Sequence[uuid.UUID]) -> list[list[Branch]]:
    query = (
        select(TaskUnitMembership.member_id, Branch)
        .join(Branch, Branch.id == TaskUnitMembership.task_unit_id)
        .where(TaskUnitMembership.member_id.in_(ids))
        .order_by(Branch.sort_order, Branch.id)
    )
    return group_by_key(ids, ((member_id, unit) for member_id, unit in await db.execute(query)))


async def transfers_by_member_id(
    db: AsyncSession, ids: Sequence[uuid.UUID]
) -> list[list[MemberTransfer]]:
    query = (
        select(MemberTransfer)
        .where(MemberTransfer.member_id.in_(ids))
        .order_by(MemberTransfer.transferred_on, MemberTransfer.recorded_at)
    )
    return group_by_key(ids, ((t.member_id, t) for t in (await db.scalars(query)).all()))


async def status_history_by_member_id(
    db: AsyncSession, ids: Sequence[uuid.UUID]
) -> list[list[PartyStatusChange]]:
    query = (
        select(PartyStatusChange)
        .where(PartyStatusChange.member_id.in_(ids))
        .order_by(PartyStatusChange.effective_on, PartyStatusChange.recorded_at)
    )
    return group_by_key(ids, ((c.member_id, c) for c in (await db.scalars(query)).all()))


def id_number_valid(number: str) -> bool:
    """GB 11643 check: 17 digits, then the weighted-sum check character."""
    if not ID_NUMBER_RE.match(number):
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11] == number[17]


def id_number_birthday(number: str) -> date | None:
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


async def _check_member_fields(
    db: AsyncSession,
    errors: Collector,
    clock: Clock,
    data: Mapping[str, Any],
    existing: Member | None,
) -> dict[str, Any]:
    """Validates the given fields of a create or update; returns the cleaned values."""
    out: dict[str, Any] = {}
    today = local_date(clock())
    if "name" in data or existing is None:
        out["name"] = errors.require_text("name", data.get("name"), 50)
    if "police_number" in data:
        number = errors.optional_text("policeNumber", data["police_number"], 20)
        if number and not POLICE_NUMBER_RE.match(number):
            errors.add(
                "policeNumber", "警号格式不正确 (letters, digits and -, 3 to 20)", ErrorCode.INVALID
            )
        elif number:
            query = select(Member.id).where(Member.police_number == number)
            if existing is not None:
                query = query.where(Member.id != existing.id)
            if (await db.execute(query.limit(1))).first() is not None:
                errors.add(
                    "policeNumber", "警号已被使用 (police number in use)", ErrorCode.DUPLICATE
                )
        out["police_number"] = number
    if "phone" in data:
        phone = errors.optional_text("phone", data["phone"], 20)
        if phone and not PHONE_RE.match(phone):
            errors.add(
                "phone", "电话号码格式不正确 (not a mobile or landline number)", ErrorCode.INVALID
            )
        out["phone"] = phone
    if "id_number" in data:
        number = errors.optional_text("idNumber", data["id_number"], 18)
        if number:
            number = number.upper()
            if not id_number_valid(number) or id_number_birthday(number) is None:
                errors.add(
                    "idNumber", "身份证号码无效 (not a valid resident ID number)", ErrorCode.INVALID
                )
            else:
                query = select(Member.id).where(Member.id_number == number)
                if existing is not None:
                    query = query.where(Member.id != existing.id)
                if (await db.execute(query.limit(1))).first() is not None:
                    errors.add(
                        "idNumber", "身份证号码已存在 (ID number in use)", ErrorCode.DUPLICATE
                    )
        out["id_number"] = number
    for key, fname in (
        ("birthday", "birthday"),
        ("joined_party_on", "joinedPartyOn"),
        ("retired_on", "retiredOn"),
    ):
        if key in data:
            value = data[key]
            if value is not None and value > today:
                errors.add(fname, "日期不能晚于今天 (date is in the future)", ErrorCode.IN_FUTURE)
            out[key] = value
    birthday = out.get("birthday", existing.birthday if existing else None)
    id_number = out.get("id_number", existing.id_number if existing else None)
    if (
        birthday
        and id_number
        and id_number_valid(id_number)
        and id_number_birthday(id_number) != birthday
    ):
        errors.add(
            "birthday", "生日与身份证号码不符 (does not match the ID number)", ErrorCode.INVALID
        )
    for key in ("personnel_type", "post", "service_status"):
        if key in data and data[key] is not None:
            out[key] = data[key]
    status = out.get("service_status", existing.service_status if existing else None)
    if (
        status is ServiceStatus.RETIRED
        and out.get("retired_on", existing.retired_on if existing else None) is None
    ):
        out["retired_on"] = today
    if status is ServiceStatus.ACTIVE and "service_status" in out:
        out["retired_on"] = None
    return out


def _check_home_branch(errors: Collector, branch: Branch, field: str) -> None:
    if branch.kind.is_task_unit:
        errors.add(
            field,
            "任务单元不能作为党员的所在支部 (a task unit cannot be a home branch)",
            ErrorCode.INVALID_KIND,
        )


async def create_member(
    db: AsyncSession, viewer: Viewer, clock: Clock, data: Mapping[str, Any]
) -> Member:
    """Registers a member in a home branch within the viewer's scope, recording their status."""
    viewer.require_writer()
    branch = await get_branch(db, data["branch_id"], "branchId")
    viewer.require_covers(branch.path)
    errors = Collector()
    _check_home_branch(errors, branch, "branchId")
    fields = await _check_member_fields(db, errors, clock, data, None)
    status: PartyStatus = data.get("party_status") or PartyStatus.APPLICANT
    since: date = data.get("party_status_since") or local_date(clock())
    if since > local_date(clock()):
        errors.add(
            "partyStatusSince", "日期不能晚于今天 (date is in the future)", ErrorCode.IN_FUTURE
        )
    if status in (PartyStatus.PROBATIONARY, PartyStatus.FULL) and not fields.get("joined_party_on"):
        errors.add(
            "joinedPartyOn",
            "预备党员和正式党员须填写入党日期 (required for probationary and full members)",
            ErrorCode.REQUIRED,
        )
    errors.raise_if_any()
    now = clock()
    member = Member(
        id=new_id(),
        branch_id=branch.id,
        party_status=status,
        party_status_since=since,
        personnel_type=fields.pop("personnel_type", PersonnelType.POLICE),
        post=fields.pop("post", Post.MEMBER),
        service_status=fields.pop("service_status", ServiceStatus.ACTIVE),
        created_at=now,
        updated_at=now,
        **fields,
    )
    db.add(member)
    db.add(
        PartyStatusChange(
            id=new_id(),
            member_id=member.id,
            from_status=None,
            to_status=status,
            effective_on=since,
            fast_track=False,
            reason="登记 (registered)",
            by_account_id=viewer.account_id,
            recorded_at=now,
        )
    )
    await db.flush()
    return member


async def _writable_member(
    db: AsyncSession, viewer: Viewer, member_id: uuid.UUID, field: str = "id"
) -> tuple[Member, Branch]:
    viewer.require_writer()
    member = await db.get(Member, member_id)
    if member is None:
        raise InputError.one(field, "党员不存在 (member not found)", ErrorCode.NOT_FOUND)
    branch = await get_branch(db, member.branch_id)
    viewer.require_covers(branch.path)
    return member, branch


async def update_member(
    db: AsyncSession, viewer: Viewer, clock: Clock, member_id: uuid.UUID, changes: Mapping[str, Any]
) -> Member:
    """Edits a member's record. Status and branch change only through their own operations."""
    member, _ = await _writable_member(db, viewer, member_id)
    errors = Collector()
    fields = await _check_member_fields(db, errors, clock, changes, member)
    errors.raise_if_any()
    for key, value in fields.items():
        setattr(member, key, value)
    member.updated_at = clock()
    await db.flush()
    return member


async def transfer_member(
    db: AsyncSession,
    viewer: Viewer,
    clock: Clock,
    member_id: uuid.UUID,
    to_branch_id: uuid.UUID,
    transferred_on: date | None,
    reason: str | None,
) -> Member:
    """组织关系转接: moves the home branch and keeps the move in the member's history."""
    member, _ = await _writable_member(db, viewer, member_id, "memberId")
    target = await get_branch(db, to_branch_id, "toBranchId")
    viewer.require_covers(target.path)
    errors = Collector()
    _check_home_branch(errors, target, "toBranchId")
    if target.id == member.branch_id:
        errors.add("toBranchId", "已在该组织 (already in this branch)", ErrorCode.SAME_BRANCH)
    on = transferred_on or local_date(clock())
    if on > local_date(clock()):
        errors.add("transferredOn", "日期不能晚于今天 (date is in the future)", ErrorCode.IN_FUTURE)
    clean_reason = errors.optional_text("reason", reason, 200)
    errors.raise_if_any()
    now = clock()
    db.add(
        MemberTransfer(
            id=new_id(),
            member_id=member.id,
            from_branch_id=member.branch_id,
            to_branch_id=target.id,
            transferred_on=on,
            reason=clean_reason,
            by_account_id=viewer.account_id,
            recorded_at=now,
        )
    )
    member.branch_id = target.id
    member.updated_at = now
    await db.flush()
    return member


async def advance_party_status(
    db: AsyncSession,
    viewer: Viewer,
    clock: Clock,
    member_id: uuid.UUID,
    to_status: PartyStatus,
    effective_on: date | None,
    fast_track_reason: str | None,
) -> Member:
    """Moves a member one step along the pipeline.

    A step before its minimum time (one year as activist, one year of probation) is refused with
    the earliest allowed date, unless it is recorded as 火线发展 with a reason.
    """
    member, _ = await _writable_member(db, viewer, member_id, "memberId")
    errors = Collector()
    today = local_date(clock())
    on = effective_on or today
    expected = member.party_status.next()
    if to_status != expected:
        if expected is None:
            message = f"已是{member.party_status.label},无法再转为{to_status.label} (already at the last step)"
        else:
            message = (
                f"当前为{member.party_status.label},下一步只能是{expected.label} "
                f"(from {member.party_status.value} the next step is {expected.value})"
            )
        raise InputError.one("toStatus", message, ErrorCode.INVALID_TRANSITION)
    if on > today:
        errors.add("effectiveOn", "日期不能晚于今天 (date is in the future)", ErrorCode.IN_FUTURE)
    if on < member.party_status_since:
        errors.add(
            "effectiveOn",
            "早于当前状态的开始日期 (before the current status began)",
            ErrorCode.INVALID,
        )
    reason = errors.optional_text("fastTrackReason", fast_track_reason, 500)
    fast_track = False
    years = MINIMUM_YEARS_BEFORE.get(to_status)
    earliest = next_step_earliest(member.party_status, member.party_status_since)
    if years is not None and earliest is not None and on < earliest:
        if reason is None:
            errors.add(
                "effectiveOn",
                f"{member.party_status.label}须满{years}年,最早 {earliest.isoformat()} 可转为"
                f"{to_status.label};火线发展须填写理由 "
                f"(too early: earliest {earliest.isoformat()}, or give a fast-track reason)",
                ErrorCode.TOO_EARLY,
            )
        elif len(reason) < MIN_FAST_TRACK_REASON:
            errors.add(
                "fastTrackReason", "火线发展理由过短 (give a real reason)", ErrorCode.INVALID
            )
        else:
            fast_track = True
    errors.raise_if_any()
    now = clock()
    db.add(
        PartyStatusChange(
            id=new_id(),
            member_id=member.id,
            from_status=member.party_status,
            to_status=to_status,
            effective_on=on,
            fast_track=fast_track,
            reason=reason,
            by_account_id=viewer.account_id,
            recorded_at=now,
        )
    )
    member.party_status = to_status
    member.party_status_since = on
    if to_status is PartyStatus.PROBATIONARY:
        member.joined_party_on = on
    member.updated_at = now
    await db.flush()
    return member


async def add_task_unit_member(
    db: AsyncSession,
    viewer: Viewer,
    clock: Clock,
    task_unit_id: uuid.UUID,
    member_id: uuid.UUID,
    role: str | None,
    joined_on: date | None,
) -> Branch:
    """Adds a member of any branch to a task unit in the viewer's scope."""
    unit = await get_branch(db, task_unit_id, "taskUnitId")
    viewer.require_covers(unit.path)
    errors = Collector()
    if not unit.kind.is_task_unit:
        errors.add(
            "taskUnitId", "只有任务单元可以抽调党员 (not a task unit)", ErrorCode.INVALID_KIND
        )
    member = await db.get(Member, member_id)
    if member is None:
        errors.add("memberId", "党员不存在 (member not found)", ErrorCode.NOT_FOUND)
    clean_role = errors.optional_text("role", role, 50)
    existing = await db.execute(
        select(TaskUnitMembership.id).where(
            TaskUnitMembership.task_unit_id == task_unit_id,
            TaskUnitMembership.member_id == member_id,
        )
    )
    if existing.first() is not None:
        errors.add("memberId", "已在该任务单元 (already in this unit)", ErrorCode.DUPLICATE)
    errors.raise_if_any()
    db.add(
        TaskUnitMembership(
            id=new_id(),
            task_unit_id=task_unit_id,
            member_id=member_id,
            role=clean_role,
            joined_on=joined_on or local_date(clock()),
            created_at=clock(),
        )
    )
    await db.flush()
    return unit


async def remove_task_unit_member(
    db: AsyncSession, viewer: Viewer, task_unit_id: uuid.UUID, member_id: uuid.UUID
) -> Branch:
    """Takes a member out of a task unit; their home branch is untouched."""
    unit = await get_branch(db, task_unit_id, "taskUnitId")
    viewer.require_covers(unit.path)
    result = await db.execute(
        delete(TaskUnitMembership).where(
            TaskUnitMembership.task_unit_id == task_unit_id,
            TaskUnitMembership.member_id == member_id,
        )
    )
    if getattr(result, "rowcount", 0) == 0:
        raise InputError.one(
            "memberId", "该党员不在此任务单元 (not in this unit)", ErrorCode.NOT_FOUND
        )
    return unit
