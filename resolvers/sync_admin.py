"""Sync administration: the conflict log, the quarantine and the fleet of devices.

Who sees what: admins everything; a secretary the conflicts of records in their subtree and
the devices of accounts whose member belongs to it; the quarantine is for admins, plus each
account's own rows (so a phone can show what of its work is waiting).

Overrides and releases are writes like any phone's push (`sync.push.apply_push_nested`): merged
three-way against the record as it stands when its row lock is held, new stamp, stream, conflict
log. Each runs in one transaction that first locks the conflict or quarantined row, so it is
settled once: a second override or release waits, then finds it handled. An override's ancestor
is the conflict's result, which is what the override means to change; a value written since
then is a change the override did not see, so it is kept if the two clash, and the clash is
logged as a new conflict that the overridden one points to.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from access.errors import Collector, ErrorCode, Forbidden, InputError, Problem
from access.scope import scope_of
from access.viewer import Viewer
from core.db import Sessionmaker, writing
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
from resolvers.field_record import WebWrite, check_document, get_record, web_writer
from resolvers.pagination import Page, PageRequest, aware_datetime, cursor_values, encode_cursor
from sync.collection import COLLECTIONS, Collection, encode_list
from sync.merge import JSON, SERVER_WINS, ConflictReason, FieldConflict, TextPolicy
from sync.push import PushOutcome, PushRow, RowRefused, Writer, apply_push_nested, take_write_lock

Choice = Literal["client", "server", "ancestor"]
Settlement = Literal["applied", "merged", "conflicted"]
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
    """Overrides a conflict's result with the chosen value, once (see the module docstring).

    The conflict records the choice and its settlement: `applied` (the field now holds it),
    `merged` (combined with writes made since) or `conflicted` (it clashed with one; the clash
    is logged and linked as the next conflict, the later write kept).
    """
    viewer.require_writer()  # settling conflicts stays with admins and secretaries
    writer = web_writer(viewer)
    if (choice is None) == (not has_value):
        raise InputError.one(
            None,
            "请给出 choice 或 value 之一 (give exactly one of choice and value)",
            ErrorCode.INVALID,
        )
    async with writing(sessionmaker) as db:
        await take_write_lock(db)
        conflict = await db.get(SyncConflict, conflict_id, with_for_update=True)
        path = None
        if conflict is not None:
            path = await db.scalar(select(Branch.path).where(Branch.id == conflict.branch_id))
        if conflict is None or not writer.scope.covers(conflict.branch_id, path):
            raise InputError.one("id", "冲突记录不存在 (conflict not found)", ErrorCode.NOT_FOUND)
        if conflict.resolved_at is not None:
            raise InputError.one(
                "id",
                "该冲突已处理 (this conflict was already resolved)",
                ErrorCode.INVALID_TRANSITION,
            )
        collection = _collection(conflict.collection)
        stored = await get_record(db, viewer, collection, conflict.document_id)
        if stored is None:
            raise InputError.one("id", "记录不存在 (record not found)", ErrorCode.NOT_FOUND)
        stored.pop("updatedAt")
        name = conflict.field
        chosen = _wire_value(
            collection, name, value if choice is None else getattr(conflict, choice)
        )
        new = {**stored, name: chosen}
        # What the conflict left in the field is what the override changes; the rest of the
        # record is as read, and the merge keeps whatever moved on before the lock was held.
        assumed = {**stored, name: _wire_value(collection, name, conflict.result)}
        await check_document(db, writer.scope, collection, new, stored)
        try:
            outcome = await apply_push_nested(db, collection, writer, [PushRow(new, assumed)], now)
        except RowRefused as refused:
            raise InputError(refused.problems) from refused
        document = await _current(db, collection, conflict.document_id)
        conflict.settlement, conflict.next_conflict_id = await _settlement(
            db, collection, conflict, outcome, chosen, document
        )
        conflict.resolved_at, conflict.resolved_by, conflict.resolution = (
            now,
            viewer.account_id,
            chosen,
        )
        username = await db.scalar(
            select(Account.username).where(Account.id == conflict.account_id)
        )
    return (
        WebWrite(document, [], outcome.stamp, outcome.also_written),
        ConflictRecord(conflict, username, viewer.username),
    )


def _wire_value(collection: Collection, name: str, value: Any) -> Any:
    """A logged value (list fields decoded) as the wire carries it."""
    spec = collection.by_name.get(name)
    if name == "deleted":
        return bool(value)
    if spec is not None and spec.kind == "json" and not isinstance(value, str):
        return encode_list(value if value is not None else [])
    return value


async def _current(db: AsyncSession, collection: Collection, doc_id: str) -> dict[str, Any]:
    """The record as stored now (the push wrote it with Core statements, past the ORM)."""
    query = select(collection.model).where(collection.model.id == doc_id)
    row = (await db.execute(query.execution_options(populate_existing=True))).scalar_one()
    return collection.to_wire(row)


async def _settlement(
    db: AsyncSession,
    collection: Collection,
    conflict: SyncConflict,
    outcome: PushOutcome,
    chosen: Any,
    document: dict[str, Any],
) -> tuple[Settlement, uuid.UUID | None]:
    """How an override ended, and the conflict its clash was logged as (if it clashed)."""
    name = conflict.field
    for doc_id, clash in outcome.field_conflicts:
        if doc_id == conflict.document_id and clash.field == name:
            # Logged by this push, or by an earlier identical clash: found by its fingerprint.
            next_id = await db.scalar(
                select(SyncConflict.id).where(
                    SyncConflict.collection == conflict.collection,
                    SyncConflict.document_id == conflict.document_id,
                    SyncConflict.fingerprint == clash.fingerprint(),
                )
            )
            return "conflicted", next_id
    wanted: dict[str, JSON] = collection.wire_to_merge({name: chosen})
    now: dict[str, JSON] = collection.wire_to_merge(document)
    same = collection.policies.get(name, SERVER_WINS).same(wanted.get(name), now.get(name))
    return ("applied" if same else "merged"), None


# --- competing versions ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CompetingVersion:
    """A version of a record's free-text field that lost where both sides changed the same lines.

    `text` is the writer's whole version, `lines` what it wrote that the record lacks (none when
    it removed lines the record keeps); it stands until its conflict is resolved.
    """

    conflict_id: uuid.UUID
    field: str
    text: str | None
    lines: tuple[str, ...]
    username: str | None
    member_name: str | None
    written_at: datetime


async def competing_versions_by_document(
    db: AsyncSession, viewer: Viewer, keys: Sequence[tuple[str, str]]
) -> list[list[CompetingVersion]]:
    """The unresolved competing versions of each (collection key, document id), oldest first.

    Only for records the viewer may see (their current branch in the viewer's scope), and only
    conflicts that still compete (`sync.merge.TextPolicy.competing`): a text conflict whose
    version was merged in full is no competitor. One statement per collection asked about.
    """
    found: dict[tuple[str, str], list[CompetingVersion]] = {}
    for key in dict.fromkeys(k for k, _ in keys):
        collection = COLLECTIONS.get(key)
        if collection is None or not collection.free_text_fields:
            continue
        model = collection.model
        ids = sorted({doc_id for k, doc_id in keys if k == key})
        query = (
            select(SyncConflict, Account.username, Member.name)
            .join(model, model.id == SyncConflict.document_id)
            .outerjoin(Account, Account.id == SyncConflict.account_id)
            .outerjoin(Member, Member.id == Account.member_id)
            .where(
                SyncConflict.collection == key,
                SyncConflict.document_id.in_(ids),
                SyncConflict.field.in_(collection.free_text_fields),
                SyncConflict.resolved_at.is_(None),
                scope_of(viewer).clause(model.branch_id),
            )
            .order_by(SyncConflict.created_at, SyncConflict.id)
        )
        for row, username, member_name in await db.execute(query):
            policy = collection.policies[row.field]
            assert isinstance(policy, TextPolicy)  # free_text_fields holds only those
            # The log holds only reasons the merge wrote.
            reason = cast("ConflictReason", row.reason)
            lines = policy.competing(
                FieldConflict(row.field, row.ancestor, row.client, row.server, row.result, reason)
            )
            if lines is None:
                continue
            found.setdefault((key, row.document_id), []).append(
                CompetingVersion(
                    conflict_id=row.id,
                    field=row.field,
                    text=row.client if isinstance(row.client, str) else None,
                    lines=lines,
                    username=username,
                    member_name=member_name,
                    written_at=row.created_at,
                )
            )
    return [found.get(k, []) for k in keys]


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
    """The quarantined row, locked until the transaction ends, if still pending."""
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
    """Re-applies a quarantined row as a push (with `override` as its new state if given), once.
    Still invalid: the row stays quarantined with its reasons brought up to date."""
    viewer.require_admin()
    async with writing(sessionmaker) as db:
        await take_write_lock(db)
        row = await _pending(db, row_id)
        collection = _collection(row.collection)
        new = dict(override if override is not None else row.row.get("newDocumentState") or {})
        assumed = row.row.get("assumedMasterState")
        stored = await get_record(db, viewer, collection, str(new.get("id")))
        if stored is not None:
            stored.pop("updatedAt")
        problems: list[Problem] = []
        try:
            await check_document(db, scope_of(viewer), collection, new, stored)
        except InputError as error:
            problems = error.problems
        if not problems:
            # The officer wrote the content: the write (and any conflict) is theirs; the
            # release is the admin's, recorded on the quarantine row.
            member_id = await db.scalar(
                select(Account.member_id).where(Account.id == row.account_id)
            )
            writer = Writer(
                row.account_id or viewer.account_id, None, scope_of(viewer), member_id=member_id
            )
            try:
                outcome = await apply_push_nested(
                    db, collection, writer, [PushRow(new, assumed)], now
                )
            except RowRefused as refused:
                problems = refused.problems
        if problems:
            row.reasons = [
                {"field": p.field, "message": p.message, "code": p.code.value} for p in problems
            ]
            return row, None
        document = await _current(db, collection, str(new["id"]))
        row.resolved_at, row.resolved_by, row.resolution = now, viewer.account_id, "applied"
    return row, WebWrite(document, [], outcome.stamp, outcome.also_written)


async def discard_quarantined(
    sessionmaker: Sessionmaker, viewer: Viewer, row_id: uuid.UUID, note: str | None, now: datetime
) -> SyncQuarantine:
    """Marks a quarantined row discarded (kept for the record, never applied)."""
    viewer.require_admin()
    errors = Collector()
    clean_note = errors.optional_text("note", note, MAX_NOTE)
    errors.raise_if_any()
    async with writing(sessionmaker) as db:
        await take_write_lock(db)
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
