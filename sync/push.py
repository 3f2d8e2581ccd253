"""Push: a batch of rows from one device, applied in one transaction, nothing lost.

Per row (see sync/merge.py for the rules): the pushed document is decided against the stored one
by content, merged three-way when the client's assumed state is stale, and validated as a
whole. A row that cannot be applied (bad value, a character no database text can hold, unknown
branch or member, outside the writer's scope, a revoked device) never blocks the others: it is
kept verbatim in the quarantine with its reasons. Every overruled field write goes to the
conflict log, once however often the push is retried.

The database may still refuse a row the validation let through (a limit or rule nobody
foresaw). The client would retry that batch forever, so the push never fails for a row: when
the batch's writes fail, it is applied again with each document written under its own
savepoint, and the rows of a document the database refuses are quarantined with its reason.

Concurrency: stored rows are read `FOR UPDATE` (in id order, so two pushes cannot deadlock), so
two pushes with the same ancestor are decided one after the other, and the second merges against
the first's result (compare-and-set). Two devices creating the same new id race on the primary
key; the loser's transaction is retried and then merges. The stamp is taken last (sync/stamp.py),
except when documents are written one by one: then it is taken before them.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import orjson
from sqlalchemy import ColumnDefault, Table, insert, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from access.errors import ErrorCode, Problem
from access.scope import Scope
from core.db import Sessionmaker, writing
from core.global_id import global_id_uuid_or_none
from core.ids import new_id
from core.observability import log
from core.upsert import insert_ignoring_duplicates
from models import (
    Branch,
    DataVersion,
    Member,
    SyncConflict,
    SyncDevice,
    SyncQuarantine,
    SyncScopeExit,
)
from sync.authorship import Placement, authorship_problems
from sync.collection import Collection
from sync.directive import Actor, DirectivePushRules, push_rules
from sync.feed import Feed, announce
from sync.merge import JSON, FieldConflict, decide_push_row
from sync.stamp import next_stamp

MAX_ATTEMPTS = 3

STORE_ERRORS: tuple[type[Exception], ...] = (SQLAlchemyError, ValueError, TypeError, OverflowError)
"""What storing a row can raise: the database's refusals, and a driver's failure to encode a
value (asyncpg and sqlite3 raise these for text or numbers they cannot send)."""


@dataclass(frozen=True, slots=True)
class PushRow:
    """One row as received: the wire fields the client sent (absent ones left out)."""

    new: Mapping[str, Any]
    assumed: Mapping[str, Any] | None = None

    def verbatim(self) -> dict[str, Any]:
        return {"assumedMasterState": self.assumed, "newDocumentState": self.new}


@dataclass(frozen=True, slots=True)
class Writer:
    """Who pushes: the account, its device session, its scope, and whether the device may."""

    account_id: uuid.UUID
    device_session_id: uuid.UUID | None
    scope: Scope
    revoked: bool = False
    # The writer's member record, for rules about what was addressed to them (directives).
    member_id: uuid.UUID | None = None

    @property
    def actor(self) -> Actor:
        return Actor(self.account_id, self.member_id, self.scope)


@dataclass(slots=True)
class PushOutcome:
    """The rows the client must adopt, and what happened, for the stream and the logs."""

    returned: list[dict[str, Any]] = field(default_factory=list)
    stamp: int | None = None
    written: int = 0
    conflicts: int = 0
    quarantined: int = 0
    # Other collections this push's stamp wrote (a receipt changes its Directive document).
    also_written: list[str] = field(default_factory=list)
    # Per document id, the conflicts its rows met (logged now, or already by an earlier retry).
    field_conflicts: list[tuple[str, FieldConflict]] = field(default_factory=list)
    # The reasons of each row kept in the quarantine, in order (kept now, or already by an
    # earlier identical push: `quarantined` counts only the new ones).
    quarantine_reasons: list[list[Problem]] = field(default_factory=list)


@dataclass(slots=True)
class _State:
    """A document as this transaction currently knows it (stored, or written earlier in the batch)."""

    document: dict[str, JSON]
    updated_at: int
    branch_id: uuid.UUID
    branch_path: str
    in_database: bool
    dirty: bool = False
    # The stored state before this batch and its branch, for a removal if the branch changes.
    original: dict[str, Any] | None = None
    original_branch: tuple[uuid.UUID, str] | None = None
    # The database refused to store what this batch made of the document.
    refused: bool = False


@dataclass(slots=True)
class _Batch:
    """What a push decided, before anything is written."""

    states: dict[str, _State]
    rules: DirectivePushRules | None
    quarantine: list[tuple[PushRow, list[Problem]]] = field(default_factory=list)
    conflicts: dict[str, list[tuple[uuid.UUID, FieldConflict]]] = field(default_factory=dict)
    adopt: dict[str, dict[str, JSON]] = field(default_factory=dict)
    # Per document, the rows that changed it or logged a conflict on it: what to quarantine if
    # the database refuses the document.
    touched: dict[str, list[PushRow]] = field(default_factory=dict)


async def push(
    sessionmaker: Sessionmaker,
    collection: Collection,
    writer: Writer,
    rows: Sequence[PushRow],
    now: datetime,
    feed: Feed | None = None,
) -> PushOutcome:
    """Applies a push in one transaction (retried when a concurrent insert wins the same id),
    then tells the stream: the transaction announced its stamp (`sync.feed.announce`), and once
    it has committed the stamp is published to `feed`, for each collection it wrote.

    When the database refuses the batch's writes for another reason, the push is applied again
    with each document under its own savepoint, so only the rows it refuses are quarantined.
    """
    outcome = await _push(sessionmaker, collection, writer, rows, now)
    if feed is not None and outcome.stamp is not None:
        for key in (collection.key, *outcome.also_written):
            await feed.publish_stamp(key, outcome.stamp)
    return outcome


async def _push(
    sessionmaker: Sessionmaker,
    collection: Collection,
    writer: Writer,
    rows: Sequence[PushRow],
    now: datetime,
) -> PushOutcome:
    for attempt in range(MAX_ATTEMPTS):
        try:
            async with writing(sessionmaker) as db:
                return await apply_push(db, collection, writer, rows, now)
        except IntegrityError:
            # Most likely a concurrent push created the same id: the retry loads it and merges.
            if attempt == MAX_ATTEMPTS - 1:
                break
        except STORE_ERRORS as error:
            log.warning("sync_push_isolating", collection=collection.key, error=refusal(error))
            break
    async with writing(sessionmaker) as db:
        return await apply_push(db, collection, writer, rows, now, isolate=True)


class RowRefused(Exception):
    """A row `apply_push_nested` would have quarantined; nothing of it was written."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


async def apply_push_nested(
    db: AsyncSession,
    collection: Collection,
    writer: Writer,
    rows: Sequence[PushRow],
    now: datetime,
) -> PushOutcome:
    """`apply_push` as one step of a person's larger transaction (an admin's override or
    release), under a savepoint: retried when a concurrent insert wins the same id. A row it
    would quarantine raises `RowRefused` instead, with nothing written: unlike a phone, the
    person is there to correct it."""
    for attempt in range(MAX_ATTEMPTS):
        try:
            async with db.begin_nested():
                outcome = await apply_push(db, collection, writer, rows, now)
                # Not `quarantined`, which counts new quarantine rows: an identical one may
                # already be kept (the officer's own push, refused for the same reasons).
                if outcome.quarantine_reasons:
                    raise RowRefused(outcome.quarantine_reasons[0])
                return outcome
        except IntegrityError as error:
            # Most likely a concurrent push created the same id: the retry loads it and merges.
            if attempt == MAX_ATTEMPTS - 1:
                raise RowRefused([unstorable(error)]) from error
        except STORE_ERRORS as error:
            raise RowRefused([unstorable(error)]) from error
    raise AssertionError("unreachable")


async def take_write_lock(db: AsyncSession) -> None:
    """Makes concurrent pushes (and the admin writes that merge like them) wait for each other.

    SQLite ignores FOR UPDATE and starts a transaction's write lock at its first write, so the
    lock is taken before reading; on PostgreSQL the stored rows are locked as they are read.
    """
    if db.get_bind().dialect.name == "sqlite":
        await db.execute(
            update(DataVersion).where(DataVersion.id == 1).values(version=DataVersion.version)
        )


async def apply_push(
    db: AsyncSession,
    collection: Collection,
    writer: Writer,
    rows: Sequence[PushRow],
    now: datetime,
    *,
    isolate: bool = False,
) -> PushOutcome:
    """Applies a push inside the caller's transaction; see `push`.

    With `isolate`, every document is written under a savepoint of its own: one the database
    refuses is quarantined with the rows that made it, and the others are written.
    """
    outcome = PushOutcome()
    await take_write_lock(db)
    batch = await _decide(db, collection, writer, rows)
    if isolate:
        await _store_one_by_one(db, collection, writer, batch, outcome, now)
    else:
        await _store(db, collection, writer, batch, outcome, now)
    if batch.quarantine:
        outcome.quarantined = await _quarantine(db, collection, writer, batch.quarantine, now)
        outcome.quarantine_reasons = [problems for _, problems in batch.quarantine]
    await _record_device(db, writer, len(rows), len(batch.quarantine), now)
    outcome.field_conflicts = [
        (doc_id, c)
        for doc_id, logged in batch.conflicts.items()
        if not batch.states[doc_id].refused
        for _, c in logged
    ]

    for doc_id, document in batch.adopt.items():
        state = batch.states[doc_id]
        if state.refused:
            if state.original is not None:
                outcome.returned.append(state.original)
            continue
        stamp = outcome.stamp if state.dirty and outcome.stamp is not None else state.updated_at
        outcome.returned.append(collection.merge_to_wire(document, stamp))
    return outcome


async def _decide(
    db: AsyncSession, collection: Collection, writer: Writer, rows: Sequence[PushRow]
) -> _Batch:
    """Reads what the rows refer to and decides every row, writing nothing yet."""
    quarantine: list[tuple[PushRow, list[Problem]]] = []
    decoded: list[tuple[PushRow, dict[str, JSON], dict[str, JSON] | None]] = []
    for row in rows:
        problems = _refusal(writer)
        new, new_problems = collection.decode_input(row.new)
        # Before any of it reaches a query: PostgreSQL refuses even to compare with a NUL.
        problems += new_problems + collection.unstorable(new)
        if row.assumed is not None:
            assumed, assumed_problems = collection.decode_input(row.assumed)
            # Never stored, but logged as a conflict's ancestor: it must be storable text.
            assumed_problems += collection.unstorable(assumed)
            problems += [
                Problem(f"assumedMasterState.{p.field}", p.message, p.code)
                for p in assumed_problems
            ]
        else:
            assumed = None
        if not isinstance(new.get("id"), str) or not str(new["id"]).strip():
            problems.append(Problem("id", "不能为空 (required)", ErrorCode.REQUIRED))
        if problems:
            quarantine.append((row, problems))
        else:
            decoded.append((row, new, assumed))

    states = await _load(db, collection, sorted({str(new["id"]) for _, new, _ in decoded}))
    # A merge only picks values from the stored, assumed and new documents, so their references
    # cover every result: two statements for the whole batch.
    references = _References()
    for _, new, assumed in decoded:
        references.add(collection.references(new))
        if assumed is not None:
            references.add(collection.references(assumed))
    for known in states.values():
        references.add(collection.references(known.document))
    await references.resolve(db)
    rules = push_rules(collection)
    if rules is not None:
        await rules.load(
            db, [*(new for _, new, _ in decoded), *(s.document for s in states.values())]
        )

    batch = _Batch(states, rules, quarantine)
    # One row after the other: a later row with the same id is decided against the earlier one.
    for row, new, assumed in decoded:
        doc_id = str(new["id"])
        state = states.get(doc_id)
        if state is not None and not _visible(writer.scope, state, rules):
            # Another scope's document: never written, never shown in the answer, and not even
            # a no-op (which would confirm that a guessed content is the stored one).
            problems = rules.problems(writer.actor, new, state.document) if rules else []
            quarantine.append((row, problems or [_outside_scope()]))
            continue
        # Judged only by what the row says the client holds: one device session may serve
        # several replicas (two tabs, a reinstalled app that kept its token), so who wrote the
        # stored version says nothing about what this replica has seen.
        decision = decide_push_row(
            state.document if state else None, assumed, new, collection.policies
        )
        if decision.kind == "noop":
            batch.adopt.pop(doc_id, None)
            continue
        document = decision.document
        problems = collection.validate(document) + references.check(collection, document)
        if not problems:
            problems = _scope_problems(writer.scope, references, document, state)
        if not problems and rules is not None:
            problems = rules.problems(writer.actor, document, state.document if state else None)
        elif not problems:
            problems = authorship_problems(
                writer.scope,
                collection,
                document,
                state.document if state else None,
                references.members,
            )
        if problems:
            quarantine.append((row, problems))
            if state is not None:
                # The client keeps its write in the quarantine; meanwhile it adopts the server's.
                batch.adopt[doc_id] = state.document
            continue
        branch_id = references.branch_of(document)
        if decision.changes_stored:
            if state is None:
                state = _State(document, 0, branch_id, "", in_database=False)
                states[doc_id] = state
            state.document = document
            state.branch_id = branch_id
            state.branch_path = references.paths[branch_id]
            state.dirty = True
        if decision.changes_stored or decision.conflicts:
            batch.touched.setdefault(doc_id, []).append(row)
        for conflict in decision.conflicts:
            batch.conflicts.setdefault(doc_id, []).append((branch_id, conflict))
        if decision.client_must_adopt:
            batch.adopt[doc_id] = document
        else:
            batch.adopt.pop(doc_id, None)
    return batch


async def _store(
    db: AsyncSession,
    collection: Collection,
    writer: Writer,
    batch: _Batch,
    outcome: PushOutcome,
    now: datetime,
) -> None:
    """Writes the whole batch in a few statements (the usual case)."""
    dirty = [s for s in batch.states.values() if s.dirty]
    if dirty:
        outcome.stamp = await next_stamp(db, now)
        await _write(db, collection, writer, dirty, outcome.stamp, now)
        if batch.rules is not None:
            outcome.also_written = await batch.rules.applied(
                db, writer.actor, [s.document for s in dirty], outcome.stamp, now
            )
        await announce(db, collection.key, outcome.stamp)
        outcome.written = len(dirty)
    conflicts = [(d, b, c) for d, logged in batch.conflicts.items() for b, c in logged]
    if conflicts:
        outcome.conflicts = await _log_conflicts(db, collection, writer, conflicts, now)


async def _store_one_by_one(
    db: AsyncSession,
    collection: Collection,
    writer: Writer,
    batch: _Batch,
    outcome: PushOutcome,
    now: datetime,
) -> None:
    """Writes each document (with its directive updates and conflicts) under its own savepoint;
    the rows of a document the database refuses go to the quarantine with its reason."""
    stamp = await next_stamp(db, now) if any(s.dirty for s in batch.states.values()) else None
    for doc_id in sorted(batch.touched):
        state = batch.states[doc_id]
        conflicts = [(doc_id, b, c) for b, c in batch.conflicts.get(doc_id, [])]
        also: list[str] = []
        try:
            async with db.begin_nested():
                if state.dirty:
                    assert stamp is not None
                    await _write(db, collection, writer, [state], stamp, now)
                    if batch.rules is not None:
                        also = await batch.rules.applied(
                            db, writer.actor, [state.document], stamp, now
                        )
                logged = (
                    await _log_conflicts(db, collection, writer, conflicts, now) if conflicts else 0
                )
        except STORE_ERRORS as error:
            log.warning("sync_row_refused", collection=collection.key, error=refusal(error))
            problem = unstorable(error)
            batch.quarantine += [(row, [problem]) for row in batch.touched[doc_id]]
            state.refused, state.dirty = True, False
            if state.original is not None:
                # The client keeps its write in the quarantine; meanwhile it adopts the server's.
                batch.adopt[doc_id] = state.document
            else:
                batch.adopt.pop(doc_id, None)
            continue
        outcome.conflicts += logged
        outcome.also_written += [key for key in also if key not in outcome.also_written]
        if state.dirty:
            outcome.written += 1
    if outcome.written:
        assert stamp is not None
        outcome.stamp = stamp
        await announce(db, collection.key, stamp)


def unstorable(error: Exception) -> Problem:
    """The reason a row the database refused is kept aside."""
    return Problem(
        None,
        f"数据库拒绝保存该记录 (the database refused this row: {refusal(error)})",
        ErrorCode.UNSTORABLE,
    )


def refusal(error: Exception) -> str:
    """What the database (or its driver) said, in one line: no SQL and no parameters, which
    may hold other rows' data."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines() or [type(cause).__name__]
    # asyncpg's errors read "<class '...'>: message" once SQLAlchemy has adapted them.
    first = lines[0].split(">: ", 1)[-1] if lines[0].startswith("<class ") else lines[0]
    return storable_text(first)[:300]


def _refusal(writer: Writer) -> list[Problem]:
    if writer.revoked:
        return [
            Problem(
                None,
                "该设备已退出登录,数据已暂存待管理员处理 (device session revoked; row kept for review)",
                ErrorCode.INVALID_TOKEN,
            )
        ]
    if not writer.scope.writable:
        return [
            Problem(None, "您的角色不能提交记录 (your role cannot write)", ErrorCode.OUT_OF_SCOPE)
        ]
    return []


async def _load(db: AsyncSession, collection: Collection, ids: list[str]) -> dict[str, _State]:
    """Stored documents by id, locked until commit (in id order) on PostgreSQL."""
    if not ids:
        return {}
    model = collection.model
    query = (
        select(model, Branch.path)
        .join(Branch, Branch.id == model.branch_id)
        .where(model.id.in_(ids))
        .order_by(model.id)
        .with_for_update(of=model)
    )
    states: dict[str, _State] = {}
    for stored, path in (await db.execute(query)).all():
        wire = collection.to_wire(stored)
        states[stored.id] = _State(
            collection.wire_to_merge(wire),
            stored.updated_at,
            stored.branch_id,
            path,
            in_database=True,
            original=wire,
            original_branch=(stored.branch_id, path),
        )
    return states


class _References:
    """Branches and members a batch refers to, looked up in two statements."""

    def __init__(self) -> None:
        self.branch_ids: set[uuid.UUID] = set()
        self.member_ids: set[uuid.UUID] = set()
        self.paths: dict[uuid.UUID, str] = {}
        self.members: dict[uuid.UUID, Placement] = {}

    def add(self, refs: tuple[set[uuid.UUID], set[uuid.UUID]]) -> None:
        self.branch_ids |= refs[0]
        self.member_ids |= refs[1]

    async def resolve(self, db: AsyncSession) -> None:
        if self.branch_ids:
            rows = await db.execute(
                select(Branch.id, Branch.path).where(Branch.id.in_(self.branch_ids))
            )
            self.paths = {branch_id: path for branch_id, path in rows}
        if self.member_ids:
            found = await db.execute(
                select(Member.id, Member.branch_id, Branch.path)
                .join(Branch, Branch.id == Member.branch_id)
                .where(Member.id.in_(self.member_ids))
            )
            self.members = {m: Placement(branch, path) for m, branch, path in found}

    def branch_of(self, document: Mapping[str, JSON]) -> uuid.UUID:
        raw = global_id_uuid_or_none(str(document.get("branchId")), "Branch")
        assert raw is not None  # validated
        return raw

    def check(self, collection: Collection, document: Mapping[str, JSON]) -> list[Problem]:
        problems: list[Problem] = []
        branches, members = collection.references(document)
        if branches - self.paths.keys():
            problems.append(Problem("branchId", "支部不存在 (unknown branch)", ErrorCode.NOT_FOUND))
        missing = members - self.members.keys()
        if missing:
            for f in collection.fields:
                if f.kind in ("member", "json"):
                    refs = collection.references({f.name: document.get(f.name)})[1]
                    if refs & missing:
                        problems.append(
                            Problem(f.name, "党员不存在 (unknown member)", ErrorCode.NOT_FOUND)
                        )
        return problems


def _visible(scope: Scope, state: _State, rules: DirectivePushRules | None) -> bool:
    """Whether the pusher may see the stored document (and so get it in the answer)."""
    if not scope.covers(state.branch_id, state.branch_path):
        return False
    return rules is None or rules.reaches(scope, state.document)


def _scope_problems(
    scope: Scope,
    references: _References,
    document: Mapping[str, JSON],
    state: _State | None,
) -> list[Problem]:
    branch_id = references.branch_of(document)
    inside = scope.covers(branch_id, references.paths.get(branch_id))
    was_inside = state is None or scope.covers(state.branch_id, state.branch_path)
    if inside and was_inside:
        return []
    return [_outside_scope()]


def _outside_scope() -> Problem:
    return Problem(
        "branchId",
        "该记录不在您的同步范围内 (record outside your branch scope)",
        ErrorCode.OUT_OF_SCOPE,
    )


async def _write(
    db: AsyncSession,
    collection: Collection,
    writer: Writer,
    states: list[_State],
    stamp: int,
    now: datetime,
) -> None:
    model = collection.model
    bookkeeping = {
        "updated_at": stamp,
        "updated_by": writer.account_id,
        "updated_device": writer.device_session_id,
    }
    inserts = [
        {**collection.to_columns(s.document), **bookkeeping, "created_at": now}
        for s in states
        if not s.in_database
    ]
    updates = [
        {**collection.to_columns(s.document), **bookkeeping} for s in states if s.in_database
    ]
    if inserts:
        # Core, not the ORM's bulk insert: that omits None values, so it sends one statement
        # per pattern of nulls (~80 for 100 visits); this is one executemany. The ORM omitted
        # them so that column defaults apply, which is kept here explicitly.
        table = cast(Table, sa_inspect(model).local_table)
        defaults = {
            c.key: c.default.arg
            for c in table.columns
            if isinstance(c.default, ColumnDefault) and c.default.is_scalar
        }
        for values in inserts:
            for key, default in defaults.items():
                if values.get(key) is None:
                    values[key] = default
        await db.execute(insert(table), inserts)
    if updates:
        await db.execute(update(model), updates)
    exits = [
        {
            "id": new_id(),
            "collection": collection.key,
            "document_id": s.original["id"],
            "branch_id": s.original_branch[0],
            "branch_path": s.original_branch[1],
            "updated_at": stamp,
            "document": {**s.original, "deleted": True},
        }
        for s in states
        if s.original is not None
        and s.original_branch is not None
        and s.original_branch[0] != s.branch_id
    ]
    if exits:
        await db.execute(insert(SyncScopeExit), exits)
    for s in states:
        s.updated_at = stamp
        s.in_database = True


def _fingerprint(*parts: Any) -> str:
    try:
        text = orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        # A lone surrogate or a number orjson cannot write: the stdlib escapes either.
        text = json.dumps(parts, sort_keys=True, default=repr).encode()
    return hashlib.sha256(text).hexdigest()


def storable_text(text: str) -> str:
    """`text` with the characters no database text can hold written as escapes (\\u0000)."""
    text = text.replace("\x00", "\\u0000")
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def storable_json(value: Any) -> Any:
    """A value the JSON columns can keep whatever the client sent: strings stay as they are
    (the column's serialiser escapes NUL and lone surrogates), anything JSON cannot write
    (NaN, an object) becomes its repr."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, Mapping):
        return {str(k): storable_json(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, bytes):
        return [storable_json(v) for v in value]
    return repr(value)


async def _log_conflicts(
    db: AsyncSession,
    collection: Collection,
    writer: Writer,
    conflicts: list[tuple[str, uuid.UUID, FieldConflict]],
    now: datetime,
) -> int:
    values = [
        {
            "id": new_id(),
            "collection": collection.key,
            "document_id": doc_id,
            "branch_id": branch_id,
            "field": c.field,
            "reason": c.reason,
            "ancestor": c.ancestor,
            "client": c.client,
            "server": c.server,
            "result": c.result,
            "account_id": writer.account_id,
            "device_session_id": writer.device_session_id,
            "fingerprint": c.fingerprint(),
            "created_at": now,
        }
        for doc_id, branch_id, c in conflicts
    ]
    result = await db.execute(
        insert_ignoring_duplicates(db, SyncConflict).returning(SyncConflict.id), values
    )
    return len(result.all())


async def _quarantine(
    db: AsyncSession,
    collection: Collection,
    writer: Writer,
    rows: list[tuple[PushRow, list[Problem]]],
    now: datetime,
) -> int:
    values = []
    for row, problems in rows:
        reasons = [{"field": p.field, "message": p.message, "code": p.code.value} for p in problems]
        # Verbatim, whatever it holds: NUL and lone surrogates are escaped in the JSON text and
        # come back as they were sent, so an admin can correct and release the row.
        verbatim = storable_json(row.verbatim())
        doc_id = row.new.get("id")
        values.append(
            {
                "id": new_id(),
                "collection": collection.key,
                "document_id": storable_text(str(doc_id))[:200] if doc_id is not None else None,
                "account_id": writer.account_id,
                "device_session_id": writer.device_session_id,
                "reasons": reasons,
                "row": verbatim,
                "fingerprint": _fingerprint(
                    collection.key, str(writer.account_id), verbatim, [r["code"] for r in reasons]
                ),
                "received_at": now,
            }
        )
    result = await db.execute(
        insert_ignoring_duplicates(db, SyncQuarantine).returning(SyncQuarantine.id), values
    )
    return len(result.all())


async def _record_device(
    db: AsyncSession, writer: Writer, pushed: int, quarantined: int, now: datetime
) -> None:
    """The fleet view's push side: last push time and row counts of this device session."""
    if writer.device_session_id is None:
        return
    updated = await db.execute(
        update(SyncDevice)
        .where(SyncDevice.device_session_id == writer.device_session_id)
        .values(
            last_push_at=now,
            pushed_rows=SyncDevice.pushed_rows + pushed,
            quarantined_rows=SyncDevice.quarantined_rows + quarantined,
        )
    )
    if getattr(updated, "rowcount", 0) == 0:
        await db.execute(
            insert_ignoring_duplicates(db, SyncDevice),
            [
                {
                    "device_session_id": writer.device_session_id,
                    "account_id": writer.account_id,
                    "last_push_at": now,
                    "pushed_rows": pushed,
                    "quarantined_rows": quarantined,
                    "scopes": {},
                }
            ],
        )
