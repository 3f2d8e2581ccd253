"""Field records on the web: visits, patrols and service actions listed, filtered and edited.

The records are the synced documents (sync/collection.py). Lists show what the viewer's sync
scope shows (access/scope.py), so the web and the phone never disagree about who sees what.
Web edits are pushes: they go through `sync.push.push`, so they get the same merge, conflict
log, stamp and stream as a phone's, and the same rule on whose names a record may carry
(sync/authorship.py), for the same writers (officers too, as themselves), with one difference: bad input is refused with field errors before
anything is written, because a person at a form can correct it (a phone cannot, so its rows
are quarantined instead).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Select, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from access.errors import ErrorCode, Forbidden, InputError, Problem
from access.scope import Scope, scope_of
from access.viewer import Viewer
from core.db import Sessionmaker
from core.global_id import global_id_uuid_or_none
from models import Branch, Member, Role
from resolvers.pagination import Page, PageRequest, aware_datetime, cursor_values, encode_cursor
from sync.authorship import Placement, authorship_problems
from sync.collection import PATROL, SERVICE_ACTION, VISIT, Collection
from sync.directive import push_rules
from sync.merge import JSON, SERVER_WINS, TextPolicy, same_content
from sync.push import PushRow, Writer, push


@dataclass(frozen=True, slots=True)
class ListedColumns:
    """The columns a collection's web filters and ordering use."""

    date: str  # the moment the record is about (visitedAt / startedAt / happenedAt); newest first
    kind: str  # category / kind / type
    place: str  # village / area / place
    status: str | None = None


LISTED = {
    VISIT.key: ListedColumns("visited_at", "category", "village", "status"),
    PATROL.key: ListedColumns("started_at", "kind", "area"),
    SERVICE_ACTION.key: ListedColumns("happened_at", "type", "place"),
}


@dataclass(frozen=True, slots=True)
class RecordFilter:
    """Web filters; every one given narrows the list (inside the viewer's scope)."""

    branch_id: uuid.UUID | None = None
    subtree_of: uuid.UUID | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    kinds: Sequence[str] = field(default_factory=tuple)
    place: str | None = None
    officer_id: uuid.UUID | None = None
    statuses: Sequence[str] = field(default_factory=tuple)
    include_deleted: bool = False


def _column(collection: Collection, name: str) -> InstrumentedAttribute[Any]:
    column: InstrumentedAttribute[Any] = getattr(collection.model, name)
    return column


def _filtered(
    query: Select[Any], viewer: Viewer, collection: Collection, flt: RecordFilter
) -> Select[Any]:
    model = collection.model
    listed = LISTED[collection.key]
    query = query.where(scope_of(viewer).clause(model.branch_id))
    if not flt.include_deleted:
        query = query.where(model.deleted.is_(False))
    if flt.branch_id is not None:
        query = query.where(model.branch_id == flt.branch_id)
    if flt.subtree_of is not None:
        root_path = select(Branch.path).where(Branch.id == flt.subtree_of).scalar_subquery()
        subtree = select(Branch.id).where(Branch.path.startswith(root_path))
        query = query.where(model.branch_id.in_(subtree))
    date = _column(collection, listed.date)
    if flt.since is not None:
        query = query.where(date >= flt.since)
    if flt.until is not None:
        query = query.where(date < flt.until)
    if flt.kinds:
        query = query.where(_column(collection, listed.kind).in_(list(flt.kinds)))
    if flt.place and flt.place.strip():
        query = query.where(_column(collection, listed.place).like(f"%{flt.place.strip()}%"))
    if flt.officer_id is not None:
        query = query.where(model.officer_id == flt.officer_id)
    if flt.statuses and listed.status is not None:
        query = query.where(_column(collection, listed.status).in_(list(flt.statuses)))
    return query


async def list_records(
    db: AsyncSession,
    viewer: Viewer,
    collection: Collection,
    flt: RecordFilter,
    page: PageRequest,
) -> Page[dict[str, Any]]:
    """One page of records in the viewer's scope, newest first, as wire documents."""
    model = collection.model
    date = _column(collection, LISTED[collection.key].date)
    query = _filtered(select(model), viewer, collection, flt)
    if page.after is not None:
        moment, last_id = cursor_values(page.after, aware_datetime, str)
        key: ColumnElement[Any] = tuple_(date, model.id)
        query = query.where(key < tuple_(moment, last_id))
    result = await db.execute(query.order_by(date.desc(), model.id.desc()).limit(page.first + 1))
    rows = list(result.scalars())
    items = rows[: page.first]
    return Page(
        items=[collection.to_wire(r) for r in items],
        cursors=[encode_cursor([getattr(r, date.key).isoformat(), r.id]) for r in items],
        has_next_page=len(rows) > page.first,
        has_previous_page=page.after is not None,
    )


async def count_records(
    db: AsyncSession, viewer: Viewer, collection: Collection, flt: RecordFilter
) -> int:
    """How many records in the viewer's scope match the filter."""
    query = _filtered(select(func.count()).select_from(collection.model), viewer, collection, flt)
    return int((await db.execute(query)).scalar_one())


async def get_record(
    db: AsyncSession, viewer: Viewer, collection: Collection, doc_id: str
) -> dict[str, Any] | None:
    """One record (tombstones included) as a wire document; None when absent or out of scope."""
    model = collection.model
    query = select(model).where(model.id == doc_id, scope_of(viewer).clause(model.branch_id))
    row = (await db.execute(query)).scalar_one_or_none()
    return collection.to_wire(row) if row is not None else None


# --- web writes ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WebWrite:
    """A web write's result: the record as stored, the fields where the server's value was kept,
    and the stamp to publish to the stream (None when nothing changed), with the other
    collections it wrote (a receipt changes its Directive document)."""

    document: dict[str, Any]
    server_kept: list[str]
    stamp: int | None
    also_written: list[str] = field(default_factory=list)


def web_writer(viewer: Viewer) -> Writer:
    """Whoever may push from a phone writes from the web, under the same rules: admins anywhere,
    secretaries within their subtree, officers in their branch as themselves (an officer at a
    station desk records their own visits there). Inspectors read only.

    No device session: the fleet view counts phones, and a browser is not one.
    """
    scope = scope_of(viewer)
    if not scope.writable:
        if viewer.role is Role.INSPECTOR:
            raise Forbidden(
                "督导只能查阅,不能记录走访、巡逻和为民服务 "
                "(inspectors read field records; officers, secretaries and admins record them)"
            )
        raise Forbidden("您的账号未关联支部,不能记录 (your account has no branch to record for)")
    return Writer(viewer.account_id, None, scope, member_id=viewer.member_id)


async def create_record(
    sessionmaker: Sessionmaker,
    viewer: Viewer,
    collection: Collection,
    document: Mapping[str, Any],
    now: datetime,
) -> WebWrite:
    """Creates a record with the client-chosen id (a retry of the same create is harmless)."""
    writer = web_writer(viewer)
    new = _wire_fields(collection, document)
    async with sessionmaker() as db:
        existing = await db.get(collection.model, str(new.get("id")))
        if existing is not None:
            stored = collection.to_wire(existing)
            decoded, _ = collection.decode_input(new)
            if same_content(collection.wire_to_merge(stored), decoded, collection.policies):
                return WebWrite(stored, [], None)
            raise InputError.one("id", "该编号已存在 (id already exists)", ErrorCode.DUPLICATE)
        await check_document(db, writer.scope, collection, new, None)
    return await apply(sessionmaker, collection, writer, None, new, now)


async def edit_record(
    sessionmaker: Sessionmaker,
    viewer: Viewer,
    collection: Collection,
    doc_id: str,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    now: datetime,
) -> WebWrite:
    """Edits a record as a phone would push it: `before` is what the form loaded, `after` what
    was submitted. Fields the editor did not touch keep the server's current value; a field the
    editor and someone else both changed is a real conflict, decided by the policy and logged."""
    writer = web_writer(viewer)
    stored = await _stored(sessionmaker, viewer, collection, doc_id)
    assumed = {**stored, **_wire_fields(collection, before), "id": doc_id}
    new = {**stored, **_wire_fields(collection, after), "id": doc_id}
    async with sessionmaker() as db:
        await check_document(db, writer.scope, collection, new, stored)
    return await apply(sessionmaker, collection, writer, assumed, new, now)


async def delete_record(
    sessionmaker: Sessionmaker,
    viewer: Viewer,
    collection: Collection,
    doc_id: str,
    now: datetime,
) -> WebWrite:
    """Leaves a tombstone, so phones that hold the record drop it on their next pull."""
    writer = web_writer(viewer)
    stored = await _stored(sessionmaker, viewer, collection, doc_id)
    return await apply(sessionmaker, collection, writer, stored, {**stored, "deleted": True}, now)


async def apply(
    sessionmaker: Sessionmaker,
    collection: Collection,
    writer: Writer,
    assumed: Mapping[str, Any] | None,
    new: Mapping[str, Any],
    now: datetime,
) -> WebWrite:
    """Pushes one checked row and reads back what was stored.

    The row was checked beforehand, so a quarantine here means a concurrent change made it
    invalid (say, its branch was deleted): it is reported as invalid input, and the row stays in
    the quarantine for an admin like any phone's.
    """
    outcome = await push(sessionmaker, collection, writer, [PushRow(new, assumed)], now)
    if outcome.quarantine_reasons:
        raise InputError.one(
            None,
            "记录已被并发修改,无法保存,已暂存待管理员处理 "
            "(a concurrent change made this write invalid; kept for review)",
            ErrorCode.INVALID,
        )
    async with sessionmaker() as db:
        stored = await db.get(collection.model, str(new["id"]))
        assert stored is not None, "the push wrote or kept it"
        document = collection.to_wire(stored)
    kept = server_kept(collection, assumed, new, document) if outcome.returned else []
    return WebWrite(document, kept, outcome.stamp)


def server_kept(
    collection: Collection,
    assumed: Mapping[str, Any] | None,
    sent: Mapping[str, Any],
    stored: Mapping[str, Any],
) -> list[str]:
    """The fields (wire names, contract order) the editor changed but whose stored value is not
    the one sent. A field the editor left alone may differ too (someone else changed it since
    the form was loaded): that is the other write surviving, not the editor's loss; so is free
    text that holds the editor's lines merged with someone else's."""
    before = collection.wire_to_merge(assumed or {})
    sent_merge = collection.wire_to_merge(sent)
    stored_merge = collection.wire_to_merge(stored)
    kept: list[str] = []
    for name in (*(f.name for f in collection.fields), "deleted"):
        policy = collection.policies.get(name, SERVER_WINS)
        old, mine, result = before.get(name), sent_merge.get(name), stored_merge.get(name)
        if name == "deleted":
            old, mine, result = bool(old), bool(mine), bool(result)
        if policy.same(old, mine) or policy.same(mine, result):
            continue
        if isinstance(policy, TextPolicy) and policy.holds(old, mine, result):
            continue  # merged line by line with someone else's change: none of it was lost
        kept.append(name)
    return kept


async def check_document(
    db: AsyncSession,
    scope: Scope,
    collection: Collection,
    document: Mapping[str, Any],
    stored: Mapping[str, Any] | None,
) -> None:
    """Raises InputError with every problem the push would quarantine the document for."""
    merged, problems = collection.decode_input(document)
    if not problems:
        problems = collection.validate(merged) + await _reference_problems(
            db, scope, collection, merged, stored
        )
    if problems:
        raise InputError(problems)


async def _reference_problems(
    db: AsyncSession,
    scope: Scope,
    collection: Collection,
    document: Mapping[str, JSON],
    stored: Mapping[str, Any] | None,
) -> list[Problem]:
    branches, members = collection.references(document)
    old_branch = global_id_uuid_or_none(str(stored.get("branchId")), "Branch") if stored else None
    wanted = branches | ({old_branch} if old_branch else set())
    rows = await db.execute(select(Branch.id, Branch.path).where(Branch.id.in_(wanted)))
    paths = {branch_id: path for branch_id, path in rows}
    placed = await db.execute(
        select(Member.id, Member.branch_id, Branch.path)
        .join(Branch, Branch.id == Member.branch_id)
        .where(Member.id.in_(members))
    )
    places = {member: Placement(branch, path) for member, branch, path in placed}
    found = set(places)
    problems: list[Problem] = []
    if branches - paths.keys():
        problems.append(Problem("branchId", "支部不存在 (unknown branch)", ErrorCode.NOT_FOUND))
    elif not all(scope.covers(b, paths.get(b)) for b in wanted):
        problems.append(
            Problem(
                "branchId",
                "该记录不在您的管辖范围内 (record outside your branch scope)",
                ErrorCode.OUT_OF_SCOPE,
            )
        )
    for f in collection.fields:
        if f.kind in ("member", "json"):
            refs = collection.references({f.name: document.get(f.name)})[1]
            if refs - found:
                problems.append(Problem(f.name, "党员不存在 (unknown member)", ErrorCode.NOT_FOUND))
    if push_rules(collection) is None:
        before = collection.wire_to_merge(stored) if stored is not None else None
        problems += authorship_problems(scope, collection, document, before, places)
    return problems


async def _stored(
    sessionmaker: Sessionmaker, viewer: Viewer, collection: Collection, doc_id: str
) -> dict[str, Any]:
    async with sessionmaker() as db:
        stored = await get_record(db, viewer, collection, doc_id)
    if stored is None:
        raise InputError.one("id", "记录不存在 (record not found)", ErrorCode.NOT_FOUND)
    stored.pop("updatedAt")
    return stored


def _wire_fields(collection: Collection, document: Mapping[str, Any]) -> dict[str, Any]:
    """The client-owned wire fields of a document (updatedAt is the server's)."""
    names = set(collection.wire_names) - {"updatedAt"}
    return {k: v for k, v in document.items() if k in names}


def decode_json_text(value: str | None) -> list[Any]:
    """A list field's JSON text as a list; anything else (never stored) as empty."""
    if not value:
        return []
    try:
        decoded = orjson.loads(value)
    except orjson.JSONDecodeError:
        return []
    return decoded if isinstance(decoded, list) else []
