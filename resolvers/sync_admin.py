"""Sync administration: the conflict log, the quarantine and the fleet of devices.

Who sees what: admins everything; a secretary the conflicts of records in their subtree and
the devices of accounts whose member belongs to it; the quarantine is for admins, plus each
account's own rows (so a phone can show what of its work is waiting). Overrides and releases
write through `sync.push.push`, like any other write: new stamp, stream, conflict log.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.db import Sessionmaker
from models import (
    Account,
    Branch,
    DeviceSession,
    Member,
    Role,
    SyncConflict,
    SyncDevice,
    SyncQuarantine,
)
from resolvers.errors import Collector, ErrorCode, Forbidden, InputError
from resolvers.field_record import WebWrite, apply, check_document, get_record, web_writer
from resolvers.pagination import Page, PageRequest, aware_datetime, cursor_values, encode_cursor
from resolvers.viewer import Viewer
from sync.collection import COLLECTIONS, Collection, encode_list
from sync.scope import scope_of

Choice = Literal["client", "server", "ancestor"]
# An admin's note on a discarded row.
MAX_NOTE = 2000
# The fleet view's "no sync for this long": a century is more than any device has been around,
# and far less than the calendar arithmetic can take.
MAX_STALE_DAYS = 36_500


def _require_admin_or_secretary(viewer: Viewer) -> None:
    if viewer.role not in (Role.ADMIN, Role.SECRETARY):
        raise Forbidden("仅管理员和支部书记可查看 (admins and secretaries only)")


def _collection(key: str) -> Collection:
    collection = COLLECTIONS.get(key)
    if collection is None:
        raise InputError.one("collection", "未知的集合 (unknown collection)", ErrorCode.INVALID)
    return collection


def _page(items: list[Any], cursors: list[str], page: PageRequest) -> Page[Any]:
    return Page(
        items=items[: page.first],
        cursors=cursors[: page.first],
        has_next_page=len(items) > page.first,
        has_previous_page=page.after is not None,
    )


# --- conflict log -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConflictFilter:
    collection: str | None = None
    document_id: str | None = None
    unresolved_only: bool = False


@dataclass(frozen=True, slots=True)
class ConflictRecord:
    """A logged conflict with the names of who wrote and who resolved it."""

    row: SyncConflict
    username: str | None
    resolved_by_username: str | None


_writer = aliased(Account)
_resolver = aliased(Account)


def _conflicts(query: Select[Any], viewer: Viewer, flt: ConflictFilter) -> Select[Any]:
    _require_admin_or_secretary(viewer)
    query = query.where(scope_of(viewer).clause(SyncConflict.branch_id))
    if flt.collection is not None:
        query = query.where(SyncConflict.collection == flt.collection)
    if flt.document_id is not None:
        query = query.where(SyncConflict.document_id == flt.document_id)
    if flt.unresolved_only:
        query = query.where(SyncConflict.resolved_at.is_(None))
    return query


async def list_conflicts(
    db: AsyncSession, viewer: Viewer, flt: ConflictFilter, page: PageRequest
) -> Page[ConflictRecord]:
    """Logged conflicts the viewer may override, newest first."""
    query = _conflicts(_conflict_records(), viewer, flt)
    if page.after is not None:
        moment, last_id = cursor_values(page.after, aware_datetime, uuid.UUID)
        key: ColumnElement[Any] = tuple_(SyncConflict.created_at, SyncConflict.id)
        query = query.where(key < tuple_(moment, last_id))
    query = query.order_by(SyncConflict.created_at.desc(), SyncConflict.id.desc())
    rows = [ConflictRecord(*r) for r in await db.execute(query.limit(page.first + 1))]
    cursors = [encode_cursor([r.row.created_at.isoformat(), str(r.row.id)]) for r in rows]
    return _page(rows, cursors, page)


async def count_conflicts(db: AsyncSession, viewer: Viewer, flt: ConflictFilter) -> int:
    """How many logged conflicts the viewer may see match the filter."""
    query = _conflicts(select(func.count()).select_from(SyncConflict), viewer, flt)
    return int((await db.execute(query)).scalar_one())


def _conflict_records() -> Select[Any]:
    return cast(
        "Select[Any]",
        select(SyncConflict, _writer.username, _resolver.username)
        .outerjoin(_writer, _writer.id == SyncConflict.account_id)
        .outerjoin(_resolver, _resolver.id == SyncConflict.resolved_by),
    )


async def get_conflict(
    db: AsyncSession, viewer: Viewer, conflict_id: uuid.UUID
) -> ConflictRecord | None:
    """One logged conflict; None when absent or not one `list_conflicts` shows the viewer
    (officers and inspectors, whom the list refuses, get None too)."""
    try:
        query = _conflicts(_conflict_records(), viewer, ConflictFilter())
    except Forbidden:
        return None
    found = (await db.execute(query.where(SyncConflict.id == conflict_id))).one_or_none()
    return ConflictRecord(*found) if found else None


async def resolve_conflict(
    sessionmaker: Sessionmaker,
    viewer: Viewer,
    conflict_id: uuid.UUID,
    choice: Choice | None,
    value: Any,
    has_value: bool,
    now: datetime,
) -> tuple[WebWrite, ConflictRecord]:
    """Writes the chosen value of a conflicted field into the document (a push: new stamp,
    streamed) and marks the conflict resolved by the viewer."""
    writer = web_writer(viewer)
    async with sessionmaker() as db:
        conflict = await db.get(SyncConflict, conflict_id)
        if conflict is None or not writer.scope.covers(
            conflict.branch_id,
            (await db.execute(select(Branch.path).where(Branch.id == conflict.branch_id)))
            .scalars()
            .first(),
        ):
            raise InputError.one("id", "冲突记录不存在 (conflict not found)", ErrorCode.NOT_FOUND)
        if (choice is None) == (not has_value):
            raise InputError.one(
                None,
                "请给出 choice 或 value 之一 (give exactly one of choice and value)",
                ErrorCode.INVALID,
            )
        chosen = value if choice is None else getattr(conflict, choice)
        collection = _collection(conflict.collection)
        stored = await get_record(db, viewer, collection, conflict.document_id)
        if stored is None:
            raise InputError.one("id", "记录不存在 (record not found)", ErrorCode.NOT_FOUND)
        stored.pop("updatedAt")
        spec = collection.by_name.get(conflict.field)
        if conflict.field == "deleted":
            chosen = bool(chosen)
        elif spec is not None and spec.kind == "json" and not isinstance(chosen, str):
            chosen = encode_list(chosen if chosen is not None else [])
        new = {**stored, conflict.field: chosen}
        await check_document(db, writer.scope, collection, new, stored)
    done = await apply(sessionmaker, collection, writer, stored, new, now)
    async with sessionmaker.begin() as db:
        await db.execute(
            update(SyncConflict)
            .where(SyncConflict.id == conflict_id)
            .values(resolved_at=now, resolved_by=viewer.account_id, resolution=chosen)
        )
        row = await db.get(SyncConflict, conflict_id)
        assert row is not None
        username = await db.scalar(select(Account.username).where(Account.id == row.account_id))
    return done, ConflictRecord(row, username, viewer.username)


# --- quarantine ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuarantineFilter:
    collection: str | None = None
    pending_only: bool = True
    account_id: uuid.UUID | None = None
    device_session_id: uuid.UUID | None = None


def _quarantine(query: Select[Any], flt: QuarantineFilter) -> Select[Any]:
    if flt.collection is not None:
        query = query.where(SyncQuarantine.collection == flt.collection)
    if flt.pending_only:
        query = query.where(SyncQuarantine.resolved_at.is_(None))
    if flt.account_id is not None:
        query = query.where(SyncQuarantine.account_id == flt.account_id)
    if flt.device_session_id is not None:
        query = query.where(SyncQuarantine.device_session_id == flt.device_session_id)
    return query


def own_quarantine(viewer: Viewer, flt: QuarantineFilter) -> QuarantineFilter:
    """The viewer's own rows (any role: an officer's app shows what is waiting)."""
    return QuarantineFilter(flt.collection, flt.pending_only, viewer.account_id, None)


async def list_quarantine(
    db: AsyncSession, viewer: Viewer, flt: QuarantineFilter, page: PageRequest
) -> Page[SyncQuarantine]:
    """Quarantined rows, newest first: admins any, others only their own."""
    if not viewer.is_admin and flt.account_id != viewer.account_id:
        viewer.require_admin()
    query = _quarantine(select(SyncQuarantine), flt)
    if page.after is not None:
        moment, last_id = cursor_values(page.after, aware_datetime, uuid.UUID)
        key: ColumnElement[Any] = tuple_(SyncQuarantine.received_at, SyncQuarantine.id)
        query = query.where(key < tuple_(moment, last_id))
    query = query.order_by(SyncQuarantine.received_at.desc(), SyncQuarantine.id.desc())
    rows = list((await db.execute(query.limit(page.first + 1))).scalars())
    cursors = [encode_cursor([r.received_at.isoformat(), str(r.id)]) for r in rows]
    return _page(rows, cursors, page)


async def count_quarantine(db: AsyncSession, viewer: Viewer, flt: QuarantineFilter) -> int:
    """How many quarantined rows match (same visibility as the list)."""
    if not viewer.is_admin and flt.account_id != viewer.account_id:
        viewer.require_admin()
    query = _quarantine(select(func.count()).select_from(SyncQuarantine), flt)
    return int((await db.execute(query)).scalar_one())


async def get_quarantined(
    db: AsyncSession, viewer: Viewer, row_id: uuid.UUID
) -> SyncQuarantine | None:
    """One quarantined row, pending or not: admins any, others only their own (as the lists)."""
    flt = QuarantineFilter(pending_only=False)
    if not viewer.is_admin:
        flt = own_quarantine(viewer, flt)
    query = _quarantine(select(SyncQuarantine), flt).where(SyncQuarantine.id == row_id)
    return (await db.scalars(query)).one_or_none()


async def _pending(db: AsyncSession, row_id: uuid.UUID) -> SyncQuarantine:
    row = await db.get(SyncQuarantine, row_id, with_for_update=True)
    if row is None:
        raise InputError.one(
            "id", "暂存记录不存在 (quarantined row not found)", ErrorCode.NOT_FOUND
        )
    if row.resolved_at is not None:
        raise InputError.one(
            "id", "该记录已处理 (this row was already handled)", ErrorCode.INVALID_TRANSITION
        )
    return row


async def release_quarantined(
    sessionmaker: Sessionmaker,
    viewer: Viewer,
    row_id: uuid.UUID,
    override: dict[str, Any] | None,
    now: datetime,
) -> tuple[SyncQuarantine, WebWrite | None]:
    """Re-applies a quarantined row through the push (with `override` as its new state if
    given). Still invalid: the row stays quarantined with its reasons brought up to date."""
    viewer.require_admin()
    async with sessionmaker() as db:
        row = await _pending(db, row_id)
        collection = _collection(row.collection)
        new = dict(override if override is not None else row.row.get("newDocumentState") or {})
        assumed = row.row.get("assumedMasterState")
        stored = await get_record(db, viewer, collection, str(new.get("id")))
        if stored is not None:
            stored.pop("updatedAt")
        problems: list[Any] = []
        try:
            await check_document(db, scope_of(viewer), collection, new, stored)
        except InputError as error:
            problems = error.problems
    if problems:
        async with sessionmaker.begin() as db:
            row = await _pending(db, row_id)
            row.reasons = [
                {"field": p.field, "message": p.message, "code": p.code.value} for p in problems
            ]
        return row, None
    # The officer wrote the content: the write (and any conflict) is theirs; the release is the
    # admin's, recorded on the quarantine row.
    writer = web_writer(viewer)
    if row.account_id is not None:
        writer = type(writer)(row.account_id, None, writer.scope)
    done = await apply(sessionmaker, collection, writer, assumed, new, now)
    async with sessionmaker.begin() as db:
        row = await _pending(db, row_id)
        row.resolved_at, row.resolved_by, row.resolution = now, viewer.account_id, "applied"
    return row, done


async def discard_quarantined(
    sessionmaker: Sessionmaker, viewer: Viewer, row_id: uuid.UUID, note: str | None, now: datetime
) -> SyncQuarantine:
    """Marks a quarantined row discarded (kept for the record, never applied)."""
    viewer.require_admin()
    errors = Collector()
    clean_note = errors.optional_text("note", note, MAX_NOTE)
    errors.raise_if_any()
    async with sessionmaker.begin() as db:
        row = await _pending(db, row_id)
        row.resolved_at, row.resolved_by, row.resolution = now, viewer.account_id, "discarded"
        row.note = clean_note
    return row


# --- fleet --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    """One device session in the fleet view."""

    device_session_id: uuid.UUID
    account_id: uuid.UUID
    username: str
    member_name: str | None
    device_name: str | None
    app_version: str | None
    last_pull_at: datetime | None
    last_push_at: datetime | None
    clock_skew_ms: int | None
    pending_quarantined: int
    revoked: bool

    @property
    def last_sync_at(self) -> datetime | None:
        moments = [m for m in (self.last_pull_at, self.last_push_at) if m is not None]
        return max(moments) if moments else None


@dataclass(frozen=True, slots=True)
class DeviceFilter:
    stale_for_days: int | None = None
    account_id: uuid.UUID | None = None


def _devices(query: Select[Any], viewer: Viewer, flt: DeviceFilter, now: datetime) -> Select[Any]:
    _require_admin_or_secretary(viewer)
    query = (
        query.join(Account, Account.id == SyncDevice.account_id)
        .outerjoin(Member, Member.id == Account.member_id)
        .outerjoin(Branch, Branch.id == func.coalesce(Member.branch_id, Account.branch_id))
    )
    if not viewer.is_admin:
        # A secretary: devices of accounts whose member (or own root) lies in the subtree.
        query = query.where(
            Branch.path.startswith(viewer.branch_path) if viewer.branch_path else false()
        )
    if flt.account_id is not None:
        query = query.where(SyncDevice.account_id == flt.account_id)
    if flt.stale_for_days is not None:
        if not 0 <= flt.stale_for_days <= MAX_STALE_DAYS:
            raise InputError.one(
                "staleForDays",
                f"须在 0 到 {MAX_STALE_DAYS} 之间 (must be between 0 and {MAX_STALE_DAYS})",
                ErrorCode.OUT_OF_RANGE,
            )
        cutoff = now - timedelta(days=flt.stale_for_days)
        query = query.where(
            and_(
                or_(SyncDevice.last_pull_at.is_(None), SyncDevice.last_pull_at < cutoff),
                or_(SyncDevice.last_push_at.is_(None), SyncDevice.last_push_at < cutoff),
            )
        )
    return query


async def list_devices(
    db: AsyncSession, viewer: Viewer, flt: DeviceFilter, page: PageRequest, now: datetime
) -> Page[DeviceRecord]:
    """Devices in the viewer's view, by username, with their pending quarantined rows."""
    pending = (
        select(func.count())
        .where(
            SyncQuarantine.device_session_id == SyncDevice.device_session_id,
            SyncQuarantine.resolved_at.is_(None),
        )
        .correlate(SyncDevice)
        .scalar_subquery()
    )
    query = _devices(
        select(
            SyncDevice.device_session_id,
            SyncDevice.account_id,
            Account.username,
            Member.name,
            DeviceSession.device_name,
            SyncDevice.app_version,
            SyncDevice.last_pull_at,
            SyncDevice.last_push_at,
            SyncDevice.clock_skew_ms,
            pending,
            DeviceSession.revoked_at,
        ).outerjoin(DeviceSession, DeviceSession.id == SyncDevice.device_session_id),
        viewer,
        flt,
        now,
    )
    if page.after is not None:
        name, last_id = cursor_values(page.after, str, uuid.UUID)
        key: ColumnElement[Any] = tuple_(Account.username, SyncDevice.device_session_id)
        query = query.where(key > tuple_(name, last_id))
    query = query.order_by(Account.username, SyncDevice.device_session_id)
    rows = [
        DeviceRecord(
            device_session_id=r[0],
            account_id=r[1],
            username=r[2],
            member_name=r[3],
            device_name=r[4],
            app_version=r[5],
            last_pull_at=r[6],
            last_push_at=r[7],
            clock_skew_ms=r[8],
            pending_quarantined=int(r[9] or 0),
            revoked=r[10] is not None,
        )
        for r in await db.execute(query.limit(page.first + 1))
    ]
    cursors = [encode_cursor([r.username, str(r.device_session_id)]) for r in rows]
    return _page(rows, cursors, page)


async def count_devices(db: AsyncSession, viewer: Viewer, flt: DeviceFilter, now: datetime) -> int:
    """How many devices match (same visibility as the list)."""
    query = _devices(select(func.count()).select_from(SyncDevice), viewer, flt, now)
    return int((await db.execute(query)).scalar_one())
