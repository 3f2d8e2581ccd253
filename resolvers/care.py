"""Care for officers (关爱民警辅警): the monthly collective birthday and 警心110 requests.

Hotline requests are confidential. They are read by admins, by the secretary over the member's
home branch (their subtree covers it), and by the member themself; nobody else learns that a
request exists: lists leave it out and a lookup by id answers "not found". Only admins and that
secretary handle them, and nobody handles their own.
"""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, extract, false, func, or_, select, true, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from access.errors import Collector, ErrorCode, Forbidden, InputError
from access.viewer import Viewer
from core.clock import Clock
from core.ids import new_id
from models import (
    Account,
    Branch,
    HotlineCategory,
    HotlineNote,
    HotlineRequest,
    HotlineStatus,
    Member,
    Role,
    ServiceStatus,
)
from resolvers.batch import group_by_key
from resolvers.brand import BRAND_KINDS
from resolvers.member import MEMBER_COLUMNS, MemberRecord
from resolvers.pagination import Page, PageRequest, aware_datetime, cursor_values, encode_cursor
from resolvers.period import BUREAU_TZ, PeriodKind, period_input

MAX_SUMMARY = 2000
MAX_NOTE = 2000

# --- collective birthdays -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Birthday:
    """A member celebrating in the month: on `celebrated_on`, turning `age`."""

    member: MemberRecord
    celebrated_on: date
    age: int


@dataclass(frozen=True, slots=True)
class BirthdayGroup:
    """The members of one 党支部 (its 党小组 included) celebrating together."""

    unit: Branch
    birthdays: list[Birthday]


@dataclass(frozen=True, slots=True)
class CollectiveBirthdays:
    month: str
    groups: list[BirthdayGroup]

    @property
    def total(self) -> int:
        return sum(len(g.birthdays) for g in self.groups)


def parse_month(text: str, field_name: str = "month") -> tuple[int, int]:
    """(year, month) of "2026-05" (resolvers/period.py), or an INVALID_PERIOD error addressed to
    `field_name` for anything else, a quarter or a year included."""
    period = period_input(text, field_name)
    if period.kind is not PeriodKind.MONTH:
        raise InputError.one(
            field_name,
            "月份格式应为 2026-05 (month must look like 2026-05)",
            ErrorCode.INVALID_PERIOD,
        )
    return period.year, period.first_month


def celebrated_on(birthday: date, year: int) -> date:
    """The birthday in `year`; 29 February is kept on 28 February in common years."""
    if birthday.month == 2 and birthday.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return birthday.replace(year=year)


async def collective_birthdays(
    db: AsyncSession,
    viewer: Viewer,
    month: str,
    subtree_of: uuid.UUID | None = None,
    include_retired: bool = False,
) -> CollectiveBirthdays:
    """Members the viewer may read whose birthday falls in `month`, grouped by their 党支部.

    Two statements: the members (month matched in SQL), then the branches on their paths to
    find each one's 党支部 (a member of a 党小组 celebrates with the branch above it).
    """
    year, month_number = parse_month(month)
    query = (
        select(*MEMBER_COLUMNS, Branch.path)
        .join(Branch, Branch.id == Member.branch_id)
        .where(
            viewer.member_read_clause(),
            Member.birthday.is_not(None),
            extract("month", Member.birthday) == month_number,
        )
        .order_by(extract("day", Member.birthday), Member.name, Member.id)
    )
    if not include_retired:
        query = query.where(Member.service_status == ServiceStatus.ACTIVE)
    if subtree_of is not None:
        root_path = select(Branch.path).where(Branch.id == subtree_of).scalar_subquery()
        query = query.where(Branch.path.startswith(root_path))
    rows = [(MemberRecord(*row[:-1]), str(row[-1])) for row in await db.execute(query)]
    path_ids = {uuid.UUID(hex_id) for _, path in rows for hex_id in path.strip("/").split("/")}
    branches: dict[uuid.UUID, Branch] = {}
    if path_ids:
        found = await db.scalars(select(Branch).where(Branch.id.in_(path_ids)))
        branches = {b.id: b for b in found}
    groups: dict[uuid.UUID, list[Birthday]] = {}
    for member, path in rows:
        unit = _unit_of(path, branches)
        assert member.birthday is not None
        when = celebrated_on(member.birthday, year)
        groups.setdefault(unit, []).append(Birthday(member, when, year - member.birthday.year))
    ordered = sorted(
        groups, key=lambda i: (branches[i].depth, branches[i].sort_order, str(branches[i].id))
    )
    return CollectiveBirthdays(
        f"{year:04d}-{month_number:02d}",
        [BirthdayGroup(branches[i], groups[i]) for i in ordered],
    )


def _unit_of(path: str, branches: dict[uuid.UUID, Branch]) -> uuid.UUID:
    """The deepest 党支部 / 党总支 on the path; the home branch when there is none."""
    ids = [uuid.UUID(hex_id) for hex_id in path.strip("/").split("/")]
    for branch_id in reversed(ids):
        if branches[branch_id].kind in BRAND_KINDS:
            return branch_id
    return ids[-1]


# --- 警心110 hotline -----------------------------------------------------------------------------


def hotline_read_clause(viewer: Viewer) -> ColumnElement[bool]:
    """SQL condition on `HotlineRequest` rows this viewer may read."""
    if viewer.is_admin:
        return true()
    own = HotlineRequest.member_id == viewer.member_id if viewer.member_id is not None else false()
    if viewer.role is Role.SECRETARY and viewer.branch_path:
        subtree = select(Branch.id).where(Branch.path.startswith(viewer.branch_path))
        members = select(Member.id).where(Member.branch_id.in_(subtree))
        return or_(own, HotlineRequest.member_id.in_(members))
    return own


@dataclass(frozen=True, slots=True)
class HotlineRecord:
    request: HotlineRequest
    handled_by_username: str | None


@dataclass(frozen=True, slots=True)
class HotlineFilter:
    statuses: Sequence[HotlineStatus] = ()
    categories: Sequence[HotlineCategory] = ()
    member_id: uuid.UUID | None = None
    subtree_of: uuid.UUID | None = None


def _filtered(query: Select[Any], viewer: Viewer, flt: HotlineFilter) -> Select[Any]:
    query = query.where(hotline_read_clause(viewer))
    if flt.statuses:
        query = query.where(HotlineRequest.status.in_(list(flt.statuses)))
    if flt.categories:
        query = query.where(HotlineRequest.category.in_(list(flt.categories)))
    if flt.member_id is not None:
        query = query.where(HotlineRequest.member_id == flt.member_id)
    if flt.subtree_of is not None:
        root_path = select(Branch.path).where(Branch.id == flt.subtree_of).scalar_subquery()
        subtree = select(Branch.id).where(Branch.path.startswith(root_path))
        members = select(Member.id).where(Member.branch_id.in_(subtree))
        query = query.where(HotlineRequest.member_id.in_(members))
    return query


def _with_handler(query: Select[Any]) -> Select[Any]:
    return query.add_columns(Account.username).outerjoin(
        Account, Account.id == HotlineRequest.handled_by
    )


async def list_hotline_requests(
    db: AsyncSession, viewer: Viewer, flt: HotlineFilter, page: PageRequest
) -> Page[HotlineRecord]:
    """One page of the requests the viewer may read, newest first."""
    query = _with_handler(_filtered(select(HotlineRequest), viewer, flt))
    if page.after is not None:
        received_at, last_id = cursor_values(page.after, aware_datetime, uuid.UUID)
        key: ColumnElement[Any] = tuple_(HotlineRequest.received_at, HotlineRequest.id)
        query = query.where(key < tuple_(received_at, last_id))
    query = query.order_by(HotlineRequest.received_at.desc(), HotlineRequest.id.desc())
    rows = [HotlineRecord(r, u) for r, u in await db.execute(query.limit(page.first + 1))]
    items = rows[: page.first]
    return Page(
        items=items,
        cursors=[
            encode_cursor([i.request.received_at.isoformat(), str(i.request.id)]) for i in items
        ],
        has_next_page=len(rows) > page.first,
        has_previous_page=page.after is not None,
    )


async def count_hotline_requests(db: AsyncSession, viewer: Viewer, flt: HotlineFilter) -> int:
    """How many requests the viewer may read match the filter."""
    query = _filtered(select(func.count()).select_from(HotlineRequest), viewer, flt)
    return int((await db.execute(query)).scalar_one())


async def get_hotline_request(
    db: AsyncSession, viewer: Viewer, request_id: uuid.UUID
) -> HotlineRecord | None:
    """The request, or None when it does not exist or the viewer may not read it."""
    query = _with_handler(
        select(HotlineRequest).where(HotlineRequest.id == request_id, hotline_read_clause(viewer))
    )
    row = (await db.execute(query)).first()
    return HotlineRecord(row[0], row[1]) if row else None


@dataclass(frozen=True, slots=True)
class NoteRecord:
    note: HotlineNote
    by_username: str | None


async def notes_by_request_id(db: AsyncSession, ids: Sequence[uuid.UUID]) -> list[list[NoteRecord]]:
    """Handling history of each request, oldest first; one statement.

    Only called for requests the viewer was allowed to read.
    """
    query = (
        select(HotlineNote, Account.username)
        .outerjoin(Account, Account.id == HotlineNote.by_account_id)
        .where(HotlineNote.request_id.in_(ids))
        .order_by(HotlineNote.recorded_at, HotlineNote.id)
    )
    pairs = ((n.request_id, NoteRecord(n, u)) for n, u in await db.execute(query))
    return group_by_key(ids, pairs)


async def _member_branch_path(db: AsyncSession, member_id: uuid.UUID) -> str | None:
    query = select(Branch.path).join(Member, Member.branch_id == Branch.id)
    return await db.scalar(query.where(Member.id == member_id))


def _handles(viewer: Viewer, member_id: uuid.UUID, member_path: str) -> bool:
    """Admins, and the secretary over the member's home branch; never for one's own request."""
    if viewer.is_admin:
        return True
    return (
        viewer.role is Role.SECRETARY
        and member_id != viewer.member_id
        and viewer.covers_path(member_path)
    )


async def create_hotline_request(
    db: AsyncSession,
    viewer: Viewer,
    clock: Clock,
    member_id: uuid.UUID | None,
    category: HotlineCategory | str,
    summary: str,
    received_at: datetime | None = None,
) -> HotlineRecord:
    """Records a request: a member for themself, or an admin or their secretary on their behalf.

    Starts as received (已受理), with that first step in the history.
    """
    target = member_id if member_id is not None else viewer.member_id
    if target is None:
        raise InputError.one(
            "memberId", "请指定求助的党员 (whose request is it?)", ErrorCode.REQUIRED
        )
    path = await _member_branch_path(db, target)
    if path is None:
        raise InputError.one("memberId", "党员不存在 (member not found)", ErrorCode.NOT_FOUND)
    if target != viewer.member_id and not _handles(viewer, target, path):
        raise Forbidden("只能为本人或所辖党员登记 (only for yourself or members you care for)")
    errors = Collector()
    kind = _category(errors, category)
    clean_summary = errors.require_text("summary", summary, MAX_SUMMARY)
    now = clock()
    if received_at is not None:
        # A phone or a form that sends no offset means the time on the bureau's clock.
        if received_at.tzinfo is None:
            received_at = received_at.replace(tzinfo=BUREAU_TZ)
        received_at = received_at.astimezone(UTC)
    if received_at is not None and received_at > now:
        errors.add("receivedAt", "时间不能晚于现在 (in the future)", ErrorCode.IN_FUTURE)
    errors.raise_if_any()
    assert kind is not None and clean_summary is not None
    request = HotlineRequest(
        id=new_id(),
        member_id=target,
        received_at=received_at or now,
        category=kind,
        summary=clean_summary,
        status=HotlineStatus.RECEIVED,
        handled_by=None,
        created_by=viewer.account_id,
        resolved_at=None,
        created_at=now,
        updated_at=now,
    )
    db.add(request)
    await db.flush()  # no ORM relationship orders the two inserts: the request goes first
    db.add(
        HotlineNote(
            id=new_id(),
            request_id=request.id,
            status=HotlineStatus.RECEIVED,
            note="已受理 (received)",
            by_account_id=viewer.account_id,
            recorded_at=now,
        )
    )
    await db.flush()
    return HotlineRecord(request, None)


def _category(errors: Collector, value: HotlineCategory | str) -> HotlineCategory | None:
    try:
        return HotlineCategory(value)
    except ValueError:
        allowed = ", ".join(c.value for c in HotlineCategory)
        errors.add(
            "category", f"未知的类别 (unknown category; one of {allowed})", ErrorCode.INVALID
        )
        return None


async def handle_hotline_request(
    db: AsyncSession,
    viewer: Viewer,
    clock: Clock,
    request_id: uuid.UUID,
    status: HotlineStatus,
    note: str,
) -> HotlineRecord:
    """Adds a handling step: a note, and the status moved forward (or kept). A resolved
    request is closed; the viewer becomes its handler."""
    # Locked and read afresh: two handlers at once take turns, and the second sees the status
    # the first left (a resolved request never moves back to in progress).
    request = await db.scalar(
        select(HotlineRequest)
        .where(HotlineRequest.id == request_id, hotline_read_clause(viewer))
        .with_for_update(of=HotlineRequest)
        .execution_options(populate_existing=True)
    )
    if request is None:
        raise InputError.one("id", "求助记录不存在 (request not found)", ErrorCode.NOT_FOUND)
    path = await _member_branch_path(db, request.member_id)
    if path is None or not _handles(viewer, request.member_id, path):
        raise Forbidden("仅管理员和所在支部书记可以办理 (handled by admins and their secretary)")
    errors = Collector()
    clean_note = errors.require_text("note", note, MAX_NOTE)
    if request.status is HotlineStatus.RESOLVED:
        errors.add(
            "status", "已办结的求助不能再办理 (already resolved)", ErrorCode.INVALID_TRANSITION
        )
    elif status.rank < request.status.rank:
        errors.add(
            "status",
            f"不能从{request.status.label}退回{status.label} (status only moves forward)",
            ErrorCode.INVALID_TRANSITION,
        )
    errors.raise_if_any()
    assert clean_note is not None
    now = clock()
    request.status = status
    request.handled_by = viewer.account_id
    request.updated_at = now
    if status is HotlineStatus.RESOLVED:
        request.resolved_at = now
    db.add(
        HotlineNote(
            id=new_id(),
            request_id=request.id,
            status=status,
            note=clean_note,
            by_account_id=viewer.account_id,
            recorded_at=now,
        )
    )
    await db.flush()
    return HotlineRecord(request, viewer.username)
