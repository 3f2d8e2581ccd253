"""E-ledgers (电子台账): the item catalog, branches' entries with attendees and attachments.

Reading: admins and inspectors read every branch's ledger, a secretary their subtree, an officer
their own branch (the sync scope, access/scope.py). Writing: admins, and secretaries within their
subtree. The catalog is edited by admins only. Completeness lives in resolvers/ledger_status.py.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from access.errors import Collector, ErrorCode, Forbidden, InputError
from access.scope import scope_of
from access.viewer import Viewer
from core.clock import Clock
from core.ids import new_id
from core.storage import Storage, sha256_hex
from models import (
    Branch,
    LedgerAttachment,
    LedgerEntry,
    LedgerEntryAttendee,
    LedgerFrequency,
    LedgerItem,
    Member,
)
from resolvers.batch import group_by_key
from resolvers.branch import get_branch
from resolvers.member import MEMBER_COLUMNS, MemberRecord
from resolvers.pagination import Page, PageRequest, cursor_values, encode_cursor
from resolvers.period import MIN_YEAR, Period, local_date

ITEM_CODE_RE = re.compile(r"^[A-Z][A-Z0-9]{1,7}$")
EARLIEST_DAY = date(MIN_YEAR, 1, 1)
CONTENT_TYPE_RE = re.compile(r"^[\w.+-]+/[\w.+-]+$")
# Names that would break a download header or a folder: path separators and control characters.
BAD_FILE_NAME_CHARS = re.compile(r"[\\/\x00-\x1f\x7f]")


# --- catalog ------------------------------------------------------------------------------------


async def list_ledger_items(db: AsyncSession, include_inactive: bool = False) -> list[LedgerItem]:
    """The catalog in the bureau's order."""
    query = select(LedgerItem).order_by(LedgerItem.sort_order, LedgerItem.code)
    if not include_inactive:
        query = query.where(LedgerItem.active.is_(True))
    return list((await db.scalars(query)).all())


async def ledger_items_by_id(db: AsyncSession, ids: Sequence[uuid.UUID]) -> list[LedgerItem | None]:
    rows = {r.id: r for r in (await db.scalars(select(LedgerItem).where(LedgerItem.id.in_(ids))))}
    return [rows.get(i) for i in ids]


async def item_by_code(db: AsyncSession, code: str, field: str = "itemCode") -> LedgerItem:
    """The catalog item with this code; NOT_FOUND on `field` when there is none."""
    item = await db.scalar(select(LedgerItem).where(LedgerItem.code == code.strip().upper()))
    if item is None:
        raise InputError.one(
            field, f"台账项目 {code} 不存在 (unknown ledger item code)", ErrorCode.NOT_FOUND
        )
    return item


async def check_item_codes(db: AsyncSession, codes: Sequence[str], field: str) -> None:
    """NOT_FOUND on `field` naming every code that is not in the catalog."""
    wanted = {c.strip().upper() for c in codes}
    known = set(
        (await db.scalars(select(LedgerItem.code).where(LedgerItem.code.in_(wanted)))).all()
    )
    unknown = sorted(wanted - known)
    if unknown:
        raise InputError.one(
            field,
            f"台账项目 {', '.join(unknown)} 不存在 (unknown ledger item code)",
            ErrorCode.NOT_FOUND,
        )


def _check_item_fields(
    errors: Collector, data: Mapping[str, Any], creating: bool
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if creating or "code" in data:
        code = (errors.require_text("code", data.get("code"), 8) or "").upper()
        if code and not ITEM_CODE_RE.match(code):
            errors.add("code", "编号为大写字母开头的字母数字,如 L25 (e.g. L25)", ErrorCode.INVALID)
        out["code"] = code
    if creating or "name" in data:
        out["name"] = errors.require_text("name", data.get("name"), 100)
    for key in ("frequency", "required", "sort_order", "active"):
        if data.get(key) is not None:
            out[key] = data[key]
    return out


CODE_IN_USE = "编号已被使用 (code in use)"


async def _check_code_free(
    db: AsyncSession, errors: Collector, code: str, item_id: uuid.UUID | None
) -> None:
    query = select(LedgerItem.id).where(LedgerItem.code == code)
    if item_id is not None:
        query = query.where(LedgerItem.id != item_id)
    if code and (await db.execute(query.limit(1))).first() is not None:
        errors.add("code", CODE_IN_USE, ErrorCode.DUPLICATE)


async def _flush_claiming_code(db: AsyncSession) -> None:
    """Writes an item whose code was free when checked. A concurrent session may have taken it
    since (on PostgreSQL the unique index waits for that session to commit): that is the same
    DUPLICATE error, and the caller's transaction rolls back, so nothing is written."""
    try:
        await db.flush()
    except IntegrityError as exc:
        raise InputError.one("code", CODE_IN_USE, ErrorCode.DUPLICATE) from exc


async def create_ledger_item(
    db: AsyncSession, viewer: Viewer, clock: Clock, data: Mapping[str, Any]
) -> LedgerItem:
    """Adds an item to the catalog (admins only)."""
    viewer.require_admin()
    errors = Collector()
    values = _check_item_fields(errors, data, creating=True)
    await _check_code_free(db, errors, values["code"], None)
    errors.raise_if_any()
    now = clock()
    item = LedgerItem(
        id=new_id(),
        frequency=values.pop("frequency", LedgerFrequency.ON_EVENT),
        required=values.pop("required", True),
        sort_order=values.pop("sort_order", 0),
        active=values.pop("active", True),
        created_at=now,
        updated_at=now,
        **values,
    )
    db.add(item)
    await _flush_claiming_code(db)
    return item


async def update_ledger_item(
    db: AsyncSession, viewer: Viewer, clock: Clock, item_id: uuid.UUID, changes: Mapping[str, Any]
) -> LedgerItem:
    """Edits an item of the catalog (admins only); entries keep pointing at it."""
    viewer.require_admin()
    item = await db.get(LedgerItem, item_id)
    if item is None:
        raise InputError.one("id", "台账项目不存在 (ledger item not found)", ErrorCode.NOT_FOUND)
    errors = Collector()
    values = _check_item_fields(errors, changes, creating=False)
    if "code" in values:
        await _check_code_free(db, errors, values["code"], item.id)
    errors.raise_if_any()
    for key, value in values.items():
        setattr(item, key, value)
    item.updated_at = clock()
    await _flush_claiming_code(db)
    return item


# --- entries: reading ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LedgerEntryFilter:
    """Every filter given narrows the list (inside the viewer's read scope)."""

    branch_id: uuid.UUID | None = None
    subtree_of: uuid.UUID | None = None
    item_codes: Sequence[str] = field(default_factory=tuple)
    period: Period | None = None


def read_clause(viewer: Viewer) -> ColumnElement[bool]:
    """Entries the viewer may read: the sync scope of their role (officers: their branch)."""
    return scope_of(viewer).clause(LedgerEntry.branch_id)


def _filtered(query: Select[Any], viewer: Viewer, flt: LedgerEntryFilter) -> Select[Any]:
    query = query.where(read_clause(viewer))
    if flt.branch_id is not None:
        query = query.where(LedgerEntry.branch_id == flt.branch_id)
    if flt.subtree_of is not None:
        root_path = select(Branch.path).where(Branch.id == flt.subtree_of).scalar_subquery()
        subtree = select(Branch.id).where(Branch.path.startswith(root_path))
        query = query.where(LedgerEntry.branch_id.in_(subtree))
    if flt.item_codes:
        codes = [c.strip().upper() for c in flt.item_codes]
        items = select(LedgerItem.id).where(LedgerItem.code.in_(codes))
        query = query.where(LedgerEntry.item_id.in_(items))
    if flt.period is not None:
        query = query.where(
            LedgerEntry.occurred_on >= flt.period.start,
            LedgerEntry.occurred_on < flt.period.end_exclusive,
        )
    return query


async def list_ledger_entries(
    db: AsyncSession, viewer: Viewer, flt: LedgerEntryFilter, page: PageRequest
) -> Page[LedgerEntry]:
    """One page of entries, newest first."""
    query = _filtered(select(LedgerEntry), viewer, flt)
    if page.after is not None:
        day, last_id = cursor_values(page.after, date.fromisoformat, uuid.UUID)
        key: ColumnElement[Any] = tuple_(LedgerEntry.occurred_on, LedgerEntry.id)
        query = query.where(key < tuple_(day, last_id))
    query = query.order_by(LedgerEntry.occurred_on.desc(), LedgerEntry.id.desc())
    rows = list((await db.scalars(query.limit(page.first + 1))).all())
    items = rows[: page.first]
    return Page(
        items=items,
        cursors=[encode_cursor([e.occurred_on.isoformat(), str(e.id)]) for e in items],
        has_next_page=len(rows) > page.first,
        has_previous_page=page.after is not None,
    )


async def count_ledger_entries(db: AsyncSession, viewer: Viewer, flt: LedgerEntryFilter) -> int:
    """How many entries the viewer may read match the filter."""
    query = _filtered(select(func.count()).select_from(LedgerEntry), viewer, flt)
    return int((await db.execute(query)).scalar_one())


async def get_ledger_entry(
    db: AsyncSession, viewer: Viewer, entry_id: uuid.UUID
) -> LedgerEntry | None:
    """One entry; None when absent or outside the viewer's read scope."""
    query = select(LedgerEntry).where(LedgerEntry.id == entry_id, read_clause(viewer))
    return (await db.scalars(query)).one_or_none()


async def ledger_entries_by_id(
    db: AsyncSession, viewer: Viewer, ids: Sequence[uuid.UUID]
) -> list[LedgerEntry | None]:
    """Batch load; an entry outside the viewer's read scope comes back as None."""
    query = select(LedgerEntry).where(LedgerEntry.id.in_(ids), read_clause(viewer))
    rows = {e.id: e for e in (await db.scalars(query)).all()}
    return [rows.get(i) for i in ids]


async def attendees_by_entry_id(
    db: AsyncSession, viewer: Viewer, ids: Sequence[uuid.UUID]
) -> list[list[MemberRecord]]:
    """Attendees of each entry, by name, in one statement (members the viewer may read)."""
    query = (
        select(LedgerEntryAttendee.entry_id, *MEMBER_COLUMNS)
        .join(Member, Member.id == LedgerEntryAttendee.member_id)
        .where(LedgerEntryAttendee.entry_id.in_(ids), viewer.member_read_clause())
        .order_by(Member.name, Member.id)
    )
    rows = await db.execute(query)
    return group_by_key(ids, ((row[0], MemberRecord(*row[1:])) for row in rows))


async def attachments_by_entry_id(
    db: AsyncSession, ids: Sequence[uuid.UUID]
) -> list[list[LedgerAttachment]]:
    query = (
        select(LedgerAttachment)
        .where(LedgerAttachment.entry_id.in_(ids))
        .order_by(LedgerAttachment.created_at, LedgerAttachment.id)
    )
    return group_by_key(ids, ((a.entry_id, a) for a in (await db.scalars(query)).all()))


async def get_ledger_attachment(
    db: AsyncSession, viewer: Viewer, attachment_id: uuid.UUID
) -> LedgerAttachment | None:
    """One attachment; None when absent or its entry is outside the viewer's read scope."""
    query = (
        select(LedgerAttachment)
        .join(LedgerEntry, LedgerEntry.id == LedgerAttachment.entry_id)
        .where(LedgerAttachment.id == attachment_id, read_clause(viewer))
    )
    return (await db.scalars(query)).one_or_none()


# --- entries: writing ---------------------------------------------------------------------------


async def check_attendees(
    db: AsyncSession,
    errors: Collector,
    branch: Branch,
    member_ids: Iterable[uuid.UUID],
    field: str = "attendeeIds",
) -> list[uuid.UUID]:
    """The distinct attendees; each must be a member whose home branch is in `branch`'s subtree."""
    wanted = list(dict.fromkeys(member_ids))
    if not wanted:
        return []
    query = (
        select(Member.id, Member.name, Branch.path)
        .join(Branch, Branch.id == Member.branch_id)
        .where(Member.id.in_(wanted))
    )
    found = {row.id: row for row in await db.execute(query)}
    for member_id in wanted:
        row = found.get(member_id)
        if row is None:
            errors.add(field, "党员不存在 (member not found)", ErrorCode.NOT_FOUND)
        elif not row.path.startswith(branch.path):
            errors.add(
                field,
                f"{row.name} 不是本支部党员 (not a member of this branch or its subtree)",
                ErrorCode.OUT_OF_SCOPE,
            )
    return wanted


def check_day(errors: Collector, field: str, day: date | None, today: date) -> None:
    """A record's date: given, not after `today` (the bureau's calendar day, `local_date`), not
    before the platform's calendar."""
    if day is None:
        errors.add(field, "不能为空 (required)", ErrorCode.REQUIRED)
    elif day > today:
        errors.add(field, "日期不能晚于今天 (date is in the future)", ErrorCode.IN_FUTURE)
    elif day < EARLIEST_DAY:
        errors.add(
            field,
            f"日期不能早于 {EARLIEST_DAY.isoformat()} (date out of range)",
            ErrorCode.OUT_OF_RANGE,
        )


async def _replace_attendees(
    db: AsyncSession, entry_id: uuid.UUID, member_ids: Sequence[uuid.UUID]
) -> None:
    await db.execute(delete(LedgerEntryAttendee).where(LedgerEntryAttendee.entry_id == entry_id))
    if member_ids:
        db.add_all(LedgerEntryAttendee(entry_id=entry_id, member_id=m) for m in member_ids)


async def create_ledger_entry(
    db: AsyncSession, viewer: Viewer, clock: Clock, data: Mapping[str, Any]
) -> LedgerEntry:
    """Records an entry in a branch's ledger (admins, or the secretary over the branch)."""
    viewer.require_writer()
    branch = await get_branch(db, data["branch_id"], "branchId")
    viewer.require_covers(branch.path)
    errors = Collector()
    item: LedgerItem | None = None
    try:
        item = await item_by_code(db, data["item_code"])
    except InputError as exc:
        errors.problems.extend(exc.problems)
    if item is not None and not item.active:
        errors.add("itemCode", "该台账项目已停用 (item retired)", ErrorCode.INVALID)
    check_day(errors, "occurredOn", data.get("occurred_on"), local_date(clock()))
    title = errors.require_text("title", data.get("title"), 200)
    content = errors.optional_text("content", data.get("content"), 20_000)
    attendees = await check_attendees(db, errors, branch, data.get("attendee_ids") or ())
    errors.raise_if_any()
    assert item is not None and title is not None
    now = clock()
    entry = LedgerEntry(
        id=new_id(),
        branch_id=branch.id,
        item_id=item.id,
        occurred_on=data["occurred_on"],
        title=title,
        content=content,
        created_by=viewer.account_id,
        created_at=now,
        updated_at=now,
    )
    db.add(entry)
    await db.flush()
    await _replace_attendees(db, entry.id, attendees)
    await db.flush()
    return entry


async def writable_entry(
    db: AsyncSession, viewer: Viewer, entry_id: uuid.UUID, field: str = "id"
) -> tuple[LedgerEntry, Branch]:
    """An entry the viewer may change; NOT_FOUND when absent or not even readable."""
    viewer.require_writer()
    entry = await get_ledger_entry(db, viewer, entry_id)
    if entry is None:
        raise InputError.one(field, "台账记录不存在 (ledger entry not found)", ErrorCode.NOT_FOUND)
    branch = await get_branch(db, entry.branch_id)
    viewer.require_covers(branch.path)
    return entry, branch


async def update_ledger_entry(
    db: AsyncSession,
    viewer: Viewer,
    clock: Clock,
    entry_id: uuid.UUID,
    changes: Mapping[str, Any],
) -> LedgerEntry:
    """Edits the given fields of an entry; `attendee_ids` replaces the attendee list.

    The branch never changes (an entry belongs to the branch that held the meeting), and
    `created_at` stays: an entry corrected later does not become late, nor stop being late.
    """
    entry, branch = await writable_entry(db, viewer, entry_id)
    errors = Collector()
    values: dict[str, Any] = {}
    if changes.get("item_code") is not None:
        try:
            item = await item_by_code(db, changes["item_code"])
            if not item.active and item.id != entry.item_id:
                errors.add("itemCode", "该台账项目已停用 (item retired)", ErrorCode.INVALID)
            values["item_id"] = item.id
        except InputError as exc:
            errors.problems.extend(exc.problems)
    if "occurred_on" in changes:
        check_day(errors, "occurredOn", changes["occurred_on"], local_date(clock()))
        values["occurred_on"] = changes["occurred_on"]
    if "title" in changes:
        values["title"] = errors.require_text("title", changes["title"], 200)
    if "content" in changes:
        values["content"] = errors.optional_text("content", changes["content"], 20_000)
    attendees: list[uuid.UUID] | None = None
    if changes.get("attendee_ids") is not None:
        attendees = await check_attendees(db, errors, branch, changes["attendee_ids"])
    errors.raise_if_any()
    for key, value in values.items():
        setattr(entry, key, value)
    entry.updated_at = clock()
    if attendees is not None:
        await _replace_attendees(db, entry.id, attendees)
    await db.flush()
    return entry


async def delete_ledger_entry(db: AsyncSession, viewer: Viewer, entry_id: uuid.UUID) -> uuid.UUID:
    """Deletes an entry with its attendees and attachment rows; study records linked to it keep
    their content and lose the link. Stored bytes stay (other attachments may share them)."""
    entry, _ = await writable_entry(db, viewer, entry_id)
    await db.execute(delete(LedgerEntryAttendee).where(LedgerEntryAttendee.entry_id == entry.id))
    await db.execute(delete(LedgerAttachment).where(LedgerAttachment.entry_id == entry.id))
    await db.delete(entry)
    await db.flush()
    return entry_id


# --- attachments --------------------------------------------------------------------------------


async def add_ledger_attachment(
    db: AsyncSession,
    viewer: Viewer,
    clock: Clock,
    storage: Storage,
    max_bytes: int,
    entry_id: uuid.UUID,
    file_name: str,
    content_type: str | None,
    content: bytes,
) -> LedgerAttachment:
    """Keeps a file with an entry. Checked before anything is stored; the bytes go to `storage`
    under their sha256 and the row records name, size, type and hash."""
    entry, _ = await writable_entry(db, viewer, entry_id, "entryId")
    errors = Collector()
    name = errors.require_text("fileName", file_name, 200)
    if name and BAD_FILE_NAME_CHARS.search(name):
        errors.add(
            "fileName",
            "文件名不能含路径或控制字符 (no path or control characters)",
            ErrorCode.INVALID,
        )
    kind = (content_type or "application/octet-stream").strip().lower()
    if not CONTENT_TYPE_RE.match(kind) or len(kind) > 100:
        errors.add("contentType", "文件类型无效 (not a media type)", ErrorCode.INVALID)
    if len(content) > max_bytes:
        errors.add(
            "contentBase64",
            f"附件不能超过 {max_bytes // 1024} KB (attachment larger than {max_bytes} bytes)",
            ErrorCode.TOO_LARGE,
        )
    elif not content:
        errors.add("contentBase64", "附件为空 (empty file)", ErrorCode.REQUIRED)
    errors.raise_if_any()
    assert name is not None
    key = await storage.put(content)
    attachment = LedgerAttachment(
        id=new_id(),
        entry_id=entry.id,
        file_name=name,
        content_type=kind,
        size=len(content),
        sha256=key,
        created_by=viewer.account_id,
        created_at=clock(),
    )
    db.add(attachment)
    await db.flush()
    return attachment


async def remove_ledger_attachment(
    db: AsyncSession, viewer: Viewer, attachment_id: uuid.UUID
) -> LedgerEntry:
    """Takes an attachment off its entry; returns the entry."""
    viewer.require_writer()
    attachment = await db.get(LedgerAttachment, attachment_id)
    if attachment is None:
        raise InputError.one("id", "附件不存在 (attachment not found)", ErrorCode.NOT_FOUND)
    entry, _ = await writable_entry(db, viewer, attachment.entry_id)
    await db.delete(attachment)
    await db.flush()
    return entry


async def readable_attachment(
    db: AsyncSession, viewer: Viewer, attachment_id: uuid.UUID
) -> LedgerAttachment:
    """An attachment the viewer may download: NOT_FOUND when absent, Forbidden when its entry
    is outside the viewer's read scope."""
    attachment = await db.get(LedgerAttachment, attachment_id)
    if attachment is None:
        raise InputError.one("id", "附件不存在 (attachment not found)", ErrorCode.NOT_FOUND)
    if await get_ledger_entry(db, viewer, attachment.entry_id) is None:
        raise Forbidden("该附件不在您的查看范围内 (outside what you may read)")
    return attachment


def verify_content(attachment: LedgerAttachment, content: bytes) -> bool:
    """True when the stored bytes are the ones uploaded (guards against a tampered folder)."""
    return sha256_hex(content) == attachment.sha256 and len(content) == attachment.size


# --- export -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One entry as an inspection printout lists it."""

    item_code: str
    item_name: str
    occurred_on: date
    title: str
    content: str | None
    attendees: list[str]
    attachments: list[str]


async def ledger_rows(db: AsyncSession, branch_id: uuid.UUID, period: Period) -> list[LedgerRow]:
    """A branch's entries in a period, in catalog order then by date: three statements."""
    entries = (
        await db.execute(
            select(LedgerEntry, LedgerItem.code, LedgerItem.name)
            .join(LedgerItem, LedgerItem.id == LedgerEntry.item_id)
            .where(
                LedgerEntry.branch_id == branch_id,
                LedgerEntry.occurred_on >= period.start,
                LedgerEntry.occurred_on < period.end_exclusive,
            )
            .order_by(
                LedgerItem.sort_order, LedgerItem.code, LedgerEntry.occurred_on, LedgerEntry.id
            )
        )
    ).all()
    ids = [entry.id for entry, _, _ in entries]
    names = await db.execute(
        select(LedgerEntryAttendee.entry_id, Member.name)
        .join(Member, Member.id == LedgerEntryAttendee.member_id)
        .where(LedgerEntryAttendee.entry_id.in_(ids))
        .order_by(Member.name, Member.id)
    )
    files = await db.execute(
        select(LedgerAttachment.entry_id, LedgerAttachment.file_name)
        .where(LedgerAttachment.entry_id.in_(ids))
        .order_by(LedgerAttachment.created_at, LedgerAttachment.id)
    )
    attendees = group_by_key(ids, ((entry_id, name) for entry_id, name in names))
    attachments = group_by_key(ids, ((entry_id, name) for entry_id, name in files))
    return [
        LedgerRow(code, name, entry.occurred_on, entry.title, entry.content, people, attached)
        for (entry, code, name), people, attached in zip(
            entries, attendees, attachments, strict=True
        )
    ]
