"""Pull: the documents a viewer may see after a checkpoint, in (updatedAt, id) order.

What a viewer sees is their audience (access/audience.py): their scope's branches, narrowed for an
officer to the reminders and directives addressed to them or to their branch.

Besides the documents themselves, a pull returns *removals*: a document whose branch changed
away from the viewer's scope reaches them once as a tombstone of the state they were entitled
to (see `SyncScopeExit`), so phones never keep records they may no longer see.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Select, exists, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from access import audience
from access.errors import ErrorCode, InputError
from access.scope import Scope
from models import Branch, DataVersion, SyncScopeExit
from sync.collection import Collection


class ResyncRequired(Exception):
    """The device must drop its local copy of the collection and pull from the start.

    Raised when its checkpoint is older than the tombstone horizon (deletions it has not seen
    were purged) or when the viewer's scope changed since its last pull. Unsent writes are still
    accepted by push.
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


# Stamps are epoch milliseconds in a BIGINT column: a checkpoint beyond them cannot be compared
# with one (the drivers refuse the parameter). 2.0**63 is exact as a float, unlike 2**63 - 1.
_STAMP_END = 2.0**63


@dataclass(frozen=True, slots=True)
class Checkpoint:
    id: str
    updated_at: float

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "updatedAt": self.updated_at}

    @classmethod
    def from_client(cls, id: str, updated_at: float) -> Checkpoint:
        """A checkpoint a device sent back; one no pull can have handed out is a CURSOR error."""
        if not 0 <= updated_at < _STAMP_END:
            raise InputError.one(
                "checkpoint",
                "无效的检查点 (invalid checkpoint: updatedAt must be a stamp from 0 to 2^63)",
                ErrorCode.CURSOR,
            )
        return cls(id, updated_at)


@dataclass(frozen=True, slots=True)
class PullResult:
    documents: list[dict[str, Any]]
    checkpoint: Checkpoint | None


def check_limit(limit: int, max_limit: int) -> None:
    """Refuses, rather than caps, a limit the server would not honour (the client would stop)."""
    if not 1 <= limit <= max_limit:
        raise InputError.one(
            "limit",
            f"limit 须在 1 到 {max_limit} 之间 (limit must be between 1 and {max_limit})",
            ErrorCode.PAGE_SIZE,
        )


def document_columns(collection: Collection) -> list[Any]:
    """The columns a wire document is built from (datetimes as the text the phone sent)."""
    model = collection.model
    names = ["id"]
    for f in collection.fields:
        names.append(f.text_column if f.kind == "datetime" else f.column)
    names += ["updated_at", "deleted"]
    return [getattr(model, name) for name in names]


def _after(columns: tuple[Any, Any], checkpoint: Checkpoint | None) -> Any:
    if checkpoint is None:
        return None
    return tuple_(*columns) > tuple_(int(checkpoint.updated_at), checkpoint.id)


async def pull(
    db: AsyncSession,
    scope: Scope,
    collection: Collection,
    checkpoint: Checkpoint | None,
    limit: int,
) -> PullResult:
    """Up to `limit` documents (and removals) after `checkpoint`, ascending by (updatedAt, id).

    A page is short only when nothing more exists for this viewer, since RxDB stops at the first
    short page. Raises `ResyncRequired` when the checkpoint is older than the tombstone horizon.
    """
    model = collection.model
    if checkpoint is not None:
        floor = (await db.execute(select(DataVersion.tombstone_floor))).scalar_one_or_none()
        if floor and checkpoint.updated_at < floor:
            raise ResyncRequired(
                "检查点早于删除记录保留期限,请清空本地数据后完整同步 "
                "(checkpoint older than the tombstone horizon; drop local data and resync)",
                "horizon",
            )
    query = select(*document_columns(collection)).where(audience.clause(scope, collection))
    after = _after((model.updated_at, model.id), checkpoint)
    if after is not None:
        query = query.where(after)
    query = query.order_by(model.updated_at, model.id).limit(limit)
    documents = collection.rows_to_wire(await db.execute(query))

    if scope.kind != "all":
        removals = await _removals(db, scope, collection, checkpoint, limit)
        if removals:
            documents = _merge_sorted(documents, removals)[:limit]

    if not documents:
        return PullResult([], checkpoint)
    last = documents[-1]
    return PullResult(documents, Checkpoint(last["id"], last["updatedAt"]))


def _removal_query(scope: Scope, collection: Collection) -> Select[Any]:
    model = collection.model
    still_visible = exists().where(
        model.id == SyncScopeExit.document_id, audience.clause(scope, collection)
    )
    return select(
        SyncScopeExit.document_id, SyncScopeExit.updated_at, SyncScopeExit.document
    ).where(
        SyncScopeExit.collection == collection.key,
        scope.path_clause(SyncScopeExit.branch_id, SyncScopeExit.branch_path),
        audience.exit_clause(scope, collection),
        ~still_visible,
    )


async def _removals(
    db: AsyncSession,
    scope: Scope,
    collection: Collection,
    checkpoint: Checkpoint | None,
    limit: int,
) -> list[dict[str, Any]]:
    query = _removal_query(scope, collection)
    after = _after((SyncScopeExit.updated_at, SyncScopeExit.document_id), checkpoint)
    if after is not None:
        query = query.where(after)
    query = query.order_by(SyncScopeExit.updated_at, SyncScopeExit.document_id).limit(limit)
    removals: dict[str, dict[str, Any]] = {}
    for document_id, updated_at, document in await db.execute(query):
        removal = dict(document)
        removal["updatedAt"] = float(updated_at)
        removal["deleted"] = True
        removals[document_id] = removal  # a document that left twice: the later exit
    return sorted(removals.values(), key=_position)


def _position(document: dict[str, Any]) -> tuple[float, str]:
    return (document["updatedAt"], document["id"])


def _merge_sorted(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for document in sorted([*a, *b], key=_position):
        seen.pop(document["id"], None)
        seen[document["id"]] = document
    return sorted(seen.values(), key=_position)


@dataclass(frozen=True, slots=True)
class Change:
    """A document written by one committed transaction, with the branch path it belongs to.

    For a removal, `path` and `branch_id` are those of the branch the document left.
    `addressees` says who in the branch it is for (`access.audience.Addressees`).
    """

    document: dict[str, Any]
    branch_id: uuid.UUID
    path: str
    removal: bool = False
    addressees: audience.Addressees = None


async def changes_at(db: AsyncSession, collection: Collection, stamp: int) -> list[Change]:
    """Everything one transaction wrote (they share its stamp), for the stream's fan-out."""
    model = collection.model
    query = (
        select(*document_columns(collection), model.branch_id.label("_branch"), Branch.path)
        .join(Branch, Branch.id == model.branch_id)
        .where(model.updated_at == stamp)
        .order_by(model.id)
    )
    changes = [
        Change(collection.to_wire(row), row._branch, row.path) for row in await db.execute(query)
    ]
    exits = select(
        SyncScopeExit.document, SyncScopeExit.branch_id, SyncScopeExit.branch_path
    ).where(SyncScopeExit.collection == collection.key, SyncScopeExit.updated_at == stamp)
    for document, branch_id, path in await db.execute(exits):
        removal = dict(document)
        removal["updatedAt"] = float(stamp)
        removal["deleted"] = True
        changes.append(Change(removal, branch_id, path, removal=True))
    if collection.key not in audience.PERSONAL:
        return changes
    found = await audience.addressees(db, collection, [c.document for c in changes])
    return [replace(c, addressees=a) for c, a in zip(changes, found, strict=True)]
