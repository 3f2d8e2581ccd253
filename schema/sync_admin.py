"""GraphQL surface of sync administration: conflict log, quarantine, fleet view."""

from __future__ import annotations

import enum
import json
import uuid
from datetime import datetime
from typing import Annotated, Any

import orjson
import strawberry

from access.errors import ErrorCode, InputError, from_global_id
from models import SyncCollection
from models import SyncConflict as SyncConflictRow
from models import SyncQuarantine as SyncQuarantineRow
from resolvers import sync_admin as ops
from resolvers.field_record import WebWrite
from resolvers.sync_admin import (
    ConflictFilter,
    ConflictRecord,
    DeviceFilter,
    DeviceRecord,
    QuarantineFilter,
)
from schema.account import Account, DeviceSession
from schema.branch import Branch
from schema.connection import Connection, connection_from_page, page_of
from schema.context import Info
from schema.errors import FieldError, InvalidInput, read
from schema.node import Node, refetch, register_node, to_global_id


def _json(value: Any) -> str | None:
    return None if value is None else _json_text(value)


def _json_text(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        # A quarantined row may hold a lone surrogate (orjson refuses them): escaped, it still
        # reads back as sent, so the row can be corrected and released.
        return json.dumps(value, ensure_ascii=True)


SyncCollectionEnum = strawberry.enum(
    SyncCollection,
    name="SyncCollection",
    description="走访 · 巡逻 · 为民服务 · 上级指令 · 督导提醒 · 指令签收 · 指令进展",
)


@strawberry.enum(description="Which logged value to keep when overriding a conflict.")
class ConflictChoice(enum.Enum):
    CLIENT = "client"
    SERVER = "server"
    ANCESTOR = "ancestor"


@strawberry.enum(description="What overriding a conflict did to the record.")
class ConflictSettlement(enum.Enum):
    APPLIED = strawberry.enum_value("applied", description="The field now holds the value chosen.")
    MERGED = strawberry.enum_value(
        "merged", description="The value chosen was merged with writes made since the conflict."
    )
    CONFLICTED = strawberry.enum_value(
        "conflicted",
        description=(
            "The field was written since the conflict and the value chosen clashed with it: the "
            "later write was kept and the clash logged as `nextConflict`."
        ),
    )


# The type whose global id names a synced document on the web: field records are their own
# nodes, as are progress reports; a Directive document is a recipient row, and a receipt names
# the row it signs.
_WEB_TYPE = {
    SyncCollection.VISIT: "Visit",
    SyncCollection.PATROL: "Patrol",
    SyncCollection.SERVICE_ACTION: "ServiceAction",
    SyncCollection.DIRECTIVE: "DirectiveRecipient",
    SyncCollection.DIRECTIVE_RECEIPT: "DirectiveRecipient",
    SyncCollection.DIRECTIVE_PROGRESS: "DirectiveProgress",
    SyncCollection.REMINDER: "Reminder",
}


async def _session(info: Info, session_id: uuid.UUID | None) -> DeviceSession | None:
    found = None if session_id is None else await refetch(info, "DeviceSession", str(session_id))
    return found if isinstance(found, DeviceSession) else None


RECORD_DESCRIPTION = (
    "The record this document is on the web, as `node(id:)` would answer it: the visit, patrol, "
    "service action, reminder or progress report, or the directive recipient row a directive or "
    "receipt names. Null when it was never stored, is gone, or is outside your lists."
)


async def _web_record(
    info: Info, collection: SyncCollection, document_id: str | None
) -> Node | None:
    if document_id is None:
        return None
    return await refetch(info, _WEB_TYPE[collection], document_id)


@strawberry.type(
    description=(
        "A field whose concurrent writes could not all be kept. Values are JSON text as on the "
        "wire (list fields decoded): ancestor (what the writer's copy held), client (what they "
        "wrote), server (what was stored), result (what was kept)."
    )
)
class SyncConflict(Node):
    collection: SyncCollection
    collection_label: str
    document_id: str = strawberry.field(
        description="The document's id as phones sync it (the wire's `id`); `record` is the web object."
    )
    field: str
    reason: str
    ancestor: str | None
    client: str | None
    server: str | None
    result: str | None
    username: str | None = strawberry.field(description="Who wrote the overruled value.")
    device_session_id: str | None
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None = strawberry.field(description="Username of who overrode it.")
    resolution: str | None = strawberry.field(description="The value chosen, JSON text.")
    settlement: ConflictSettlement | None = strawberry.field(
        description="What the override did to the record; null while unresolved."
    )
    _row: strawberry.Private[SyncConflictRow]

    @classmethod
    def from_record(cls, record: ConflictRecord) -> SyncConflict:
        row = record.row
        return cls(
            id=to_global_id("SyncConflict", row.id),
            collection=SyncCollection(row.collection),
            collection_label=SyncCollection(row.collection).label,
            document_id=row.document_id,
            field=row.field,
            reason=row.reason,
            ancestor=_json(row.ancestor),
            client=_json(row.client),
            server=_json(row.server),
            result=_json(row.result),
            username=record.username,
            device_session_id=str(row.device_session_id) if row.device_session_id else None,
            created_at=row.created_at,
            resolved_at=row.resolved_at,
            resolved_by=record.resolved_by_username,
            resolution=_json(row.resolution) if row.resolved_at else None,
            settlement=ConflictSettlement(row.settlement) if row.settlement else None,
            _row=row,
        )

    @strawberry.field
    async def branch(self, info: Info) -> Branch | None:
        row = await info.context.loaders.branch.load(self._row.branch_id)
        return Branch.from_model(row) if row else None

    @strawberry.field(description=RECORD_DESCRIPTION)
    async def record(self, info: Info) -> Node | None:
        return await _web_record(info, SyncCollection(self._row.collection), self._row.document_id)

    @strawberry.field(
        description="The device session that wrote it; null where you may not see sessions."
    )
    async def device_session(self, info: Info) -> DeviceSession | None:
        return await _session(info, self._row.device_session_id)

    @strawberry.field(
        description="The conflict the override's clash with a later write was logged as."
    )
    async def next_conflict(self, info: Info) -> SyncConflict | None:
        next_id = self._row.next_conflict_id
        if next_id is None:
            return None
        return await _conflict_node(info, next_id)


def _key(collection: SyncCollection | None) -> str | None:
    return collection.value if collection is not None else None


@strawberry.type(description="A pushed row that could not be applied, kept verbatim with reasons.")
class QuarantinedRow(Node):
    collection: SyncCollection
    collection_label: str
    document_id: str | None = strawberry.field(
        description=(
            "The document's id as phones sync it (the wire's `id`), when the row had one; "
            "`record` is the web object."
        )
    )
    account_id: strawberry.ID | None
    device_session_id: str | None
    reasons: list[FieldError]
    row: str = strawberry.field(description="{assumedMasterState, newDocumentState} JSON text.")
    received_at: datetime
    resolved_at: datetime | None
    resolution: str | None = strawberry.field(description="applied | discarded")
    note: str | None
    _row: strawberry.Private[SyncQuarantineRow]

    @strawberry.field(description="The account that pushed it; null where you may not see it.")
    async def account(self, info: Info) -> Account | None:
        account_id = self._row.account_id
        found = None if account_id is None else await refetch(info, "Account", str(account_id))
        return found if isinstance(found, Account) else None

    @strawberry.field(description=RECORD_DESCRIPTION)
    async def record(self, info: Info) -> Node | None:
        return await _web_record(info, SyncCollection(self._row.collection), self._row.document_id)

    @strawberry.field(
        description="The device session that wrote it; null where you may not see sessions."
    )
    async def device_session(self, info: Info) -> DeviceSession | None:
        return await _session(info, self._row.device_session_id)

    @classmethod
    def from_model(cls, row: SyncQuarantineRow) -> QuarantinedRow:
        reasons = [
            FieldError(
                field=r.get("field"), message=r.get("message", ""), code=ErrorCode(r["code"])
            )
            for r in row.reasons or []
        ]
        return cls(
            id=to_global_id("QuarantinedRow", row.id),
            collection=SyncCollection(row.collection),
            collection_label=SyncCollection(row.collection).label,
            document_id=row.document_id,
            account_id=to_global_id("Account", row.account_id) if row.account_id else None,
            device_session_id=str(row.device_session_id) if row.device_session_id else None,
            reasons=reasons,
            row=_json_text(row.row),
            received_at=row.received_at,
            resolved_at=row.resolved_at,
            resolution=row.resolution,
            note=row.note,
            _row=row,
        )


@strawberry.type(description="One signed-in device as the sync sees it.")
class SyncDevice:
    device_session_id: str
    username: str
    member_name: str | None
    device_name: str | None
    app_version: str | None
    last_pull_at: datetime | None
    last_push_at: datetime | None
    clock_skew_ms: float | None = strawberry.field(description="Device clock minus server's.")
    pending_quarantined_rows: int
    revoked: bool
    days_since_last_sync: int | None = strawberry.field(
        description="Whole days since the last pull or push; null if it never synced."
    )

    @classmethod
    def from_record(cls, record: DeviceRecord, now: datetime) -> SyncDevice:
        last = record.last_sync_at
        return cls(
            device_session_id=str(record.device_session_id),
            username=record.username,
            member_name=record.member_name,
            device_name=record.device_name,
            app_version=record.app_version,
            last_pull_at=record.last_pull_at,
            last_push_at=record.last_push_at,
            clock_skew_ms=record.clock_skew_ms,
            pending_quarantined_rows=record.pending_quarantined,
            revoked=record.revoked,
            days_since_last_sync=(now - last).days if last is not None else None,
        )


@strawberry.type
class ConflictResolved:
    conflict: SyncConflict
    document: str = strawberry.field(description="The record as now stored, wire JSON text.")


@strawberry.type
class QuarantineReleased:
    row: QuarantinedRow
    document: str = strawberry.field(description="The record as now stored, wire JSON text.")


@strawberry.type(description="The row is still invalid; it stays quarantined with these reasons.")
class StillQuarantined:
    row: QuarantinedRow


@strawberry.type
class QuarantineDiscarded:
    row: QuarantinedRow


ResolveSyncConflictResult = Annotated[
    ConflictResolved | InvalidInput, strawberry.union("ResolveSyncConflictResult")
]
ReleaseQuarantinedRowResult = Annotated[
    QuarantineReleased | StillQuarantined | InvalidInput,
    strawberry.union("ReleaseQuarantinedRowResult"),
]
DiscardQuarantinedRowResult = Annotated[
    QuarantineDiscarded | InvalidInput, strawberry.union("DiscardQuarantinedRowResult")
]


def _request(info: Info, first: int | None, after: str | None) -> Any:
    return page_of(info, first, after)


def _parse_json(value: str, field: str) -> Any:
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise InputError.one(field, "不是有效的 JSON (not JSON)", ErrorCode.INVALID) from exc


@strawberry.type
class SyncAdminQuery:
    @strawberry.field(
        description="The conflict log: admins everything, secretaries their subtree's records."
    )
    async def sync_conflicts(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        collection: SyncCollection | None = None,
        document_id: str | None = None,
        unresolved_only: bool = False,
    ) -> Connection[SyncConflict]:
        request = _request(info, first, after)
        flt = ConflictFilter(_key(collection), document_id, unresolved_only)
        page = await read(info, lambda db, v: ops.list_conflicts(db, v, flt, request))
        return connection_from_page(
            page,
            [SyncConflict.from_record(r) for r in page.items],
            lambda: read(info, lambda db, v: ops.count_conflicts(db, v, flt)),
        )

    @strawberry.field(description="Quarantined rows of every device (admins only), newest first.")
    async def sync_quarantine(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        collection: SyncCollection | None = None,
        pending_only: bool = True,
    ) -> Connection[QuarantinedRow]:
        info.context.require_viewer().require_admin()
        flt = QuarantineFilter(_key(collection), pending_only)
        return await _quarantine(info, first, after, flt)

    @strawberry.field(description="Your own quarantined rows, with reasons (for the phone app).")
    async def my_quarantined_rows(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        collection: SyncCollection | None = None,
        pending_only: bool = True,
    ) -> Connection[QuarantinedRow]:
        viewer = info.context.require_viewer()
        flt = ops.own_quarantine(viewer, QuarantineFilter(_key(collection), pending_only))
        return await _quarantine(info, first, after, flt)

    @strawberry.field(
        description=(
            "The fleet: per device, last pull and push, app version, clock skew, pending "
            "quarantined rows. Admins all devices, secretaries those of their subtree's members."
        )
    )
    async def sync_devices(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        stale_for_days: Annotated[
            int | None,
            strawberry.argument(description="Only devices with no pull or push for this long."),
        ] = None,
    ) -> Connection[SyncDevice]:
        request = _request(info, first, after)
        now = info.context.clock()
        flt = DeviceFilter(stale_for_days)
        page = await read(info, lambda db, v: ops.list_devices(db, v, flt, request, now))
        return connection_from_page(
            page,
            [SyncDevice.from_record(r, now) for r in page.items],
            lambda: read(info, lambda db, v: ops.count_devices(db, v, flt, now)),
        )


async def _quarantine(
    info: Info, first: int | None, after: str | None, flt: QuarantineFilter
) -> Connection[QuarantinedRow]:
    request = _request(info, first, after)
    page = await read(info, lambda db, v: ops.list_quarantine(db, v, flt, request))
    return connection_from_page(
        page,
        [QuarantinedRow.from_model(r) for r in page.items],
        lambda: read(info, lambda db, v: ops.count_quarantine(db, v, flt)),
    )


async def _publish(info: Info, collection: str, done: WebWrite) -> None:
    """Hands a committed override or release to the stream."""
    if done.stamp is not None:
        for key in (collection, *done.also_written):
            await info.context.feed.publish_stamp(key, done.stamp)


@strawberry.type
class SyncAdminMutation:
    @strawberry.mutation(
        description=(
            "Overrides a logged conflict, once: writes the chosen value (CLIENT / SERVER / "
            "ANCESTOR, or any value as JSON text) through the sync push, merged against the "
            "record as it is now with the conflict's result as the ancestor, and marks the "
            "conflict resolved with its settlement. A write made since the conflict is never "
            "overwritten: a clash with it is logged as a new conflict (`nextConflict`)."
        )
    )
    async def resolve_sync_conflict(
        self,
        info: Info,
        id: strawberry.ID,
        choice: ConflictChoice | None = None,
        value: Annotated[
            str | None, strawberry.argument(description="The value as JSON text.")
        ] = strawberry.UNSET,
    ) -> ResolveSyncConflictResult:
        ctx = info.context
        viewer = ctx.require_viewer()
        try:
            conflict_id = from_global_id(id, "SyncConflict", "id")
            has_value = value is not strawberry.UNSET and value is not None
            parsed = _parse_json(value, "value") if has_value and value is not None else None
            done, record = await ops.resolve_conflict(
                ctx.sessionmaker,
                viewer,
                conflict_id,
                choice.value if choice is not None else None,
                parsed,
                has_value,
                ctx.clock(),
            )
        except InputError as error:
            return InvalidInput.from_error(error)
        await _publish(info, record.row.collection, done)
        return ConflictResolved(
            conflict=SyncConflict.from_record(record), document=orjson.dumps(done.document).decode()
        )

    @strawberry.mutation(
        description=(
            "Re-applies a quarantined row through the sync push (newDocumentState: JSON text "
            "replacing the row's new state). Still invalid: it stays, with updated reasons."
        )
    )
    async def release_quarantined_row(
        self, info: Info, id: strawberry.ID, new_document_state: str | None = None
    ) -> ReleaseQuarantinedRowResult:
        ctx = info.context
        viewer = ctx.require_viewer()
        try:
            row_id = from_global_id(id, "QuarantinedRow", "id")
            override = None
            if new_document_state is not None:
                override = _parse_json(new_document_state, "newDocumentState")
                if not isinstance(override, dict):
                    raise InputError.one(
                        "newDocumentState", "须为 JSON 对象 (must be an object)", ErrorCode.INVALID
                    )
            row, done = await ops.release_quarantined(
                ctx.sessionmaker, viewer, row_id, override, ctx.clock()
            )
        except InputError as error:
            return InvalidInput.from_error(error)
        if done is None:
            return StillQuarantined(row=QuarantinedRow.from_model(row))
        await _publish(info, row.collection, done)
        return QuarantineReleased(
            row=QuarantinedRow.from_model(row), document=orjson.dumps(done.document).decode()
        )

    @strawberry.mutation(description="Discards a quarantined row (kept, never applied).")
    async def discard_quarantined_row(
        self, info: Info, id: strawberry.ID, note: str | None = None
    ) -> DiscardQuarantinedRowResult:
        ctx = info.context
        viewer = ctx.require_viewer()
        try:
            row_id = from_global_id(id, "QuarantinedRow", "id")
            row = await ops.discard_quarantined(ctx.sessionmaker, viewer, row_id, note, ctx.clock())
        except InputError as error:
            return InvalidInput.from_error(error)
        return QuarantineDiscarded(row=QuarantinedRow.from_model(row))


__all__ = ["SyncAdminMutation", "SyncAdminQuery", "uuid"]


# --- node(id:) ------------------------------------------------------------------------------------


async def _conflict_node(info: Info, conflict_id: uuid.UUID) -> SyncConflict | None:
    record = await read(info, lambda db, v: ops.get_conflict(db, v, conflict_id))
    return SyncConflict.from_record(record) if record else None


async def _quarantined_node(info: Info, row_id: uuid.UUID) -> QuarantinedRow | None:
    row = await read(info, lambda db, v: ops.get_quarantined(db, v, row_id))
    return QuarantinedRow.from_model(row) if row else None


register_node("SyncConflict", SyncConflict, _conflict_node)
register_node("QuarantinedRow", QuarantinedRow, _quarantined_node)
