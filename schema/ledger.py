"""GraphQL surface of e-ledgers (电子台账): catalog, entries, attachments, completeness."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import date, datetime
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from access.errors import ErrorCode, Forbidden, InputError, from_global_id, optional_global_id
from access.scope import scope_of
from access.viewer import Viewer
from core.storage import storage_for
from models import LedgerAttachment as LedgerAttachmentRow
from models import LedgerEntry as LedgerEntryRow
from models import LedgerFrequency
from models import LedgerItem as LedgerItemRow
from resolvers import ledger as ops
from resolvers.branch import get_branch
from resolvers.ledger import LedgerEntryFilter
from resolvers.ledger_completeness import (
    ItemCompleteness,
    SubPeriodState,
    SubPeriodStatus,
    ledger_completeness,
    recorded_rate,
)
from resolvers.pagination import Page
from resolvers.period import Period, local_date, period_input
from schema.branch import Branch
from schema.connection import Connection, connection_from_page, page_of
from schema.context import Info
from schema.errors import InvalidInput, read, write
from schema.member import Member
from schema.node import Node, register_node, to_global_id

LedgerFrequencyEnum = strawberry.enum(
    LedgerFrequency,
    name="LedgerFrequency",
    description="每月 · 每季度 · 每年 · 按需 (on_event items are never due)",
)
SubPeriodStatusEnum = strawberry.enum(
    SubPeriodStatus,
    name="LedgerSubPeriodStatus",
    description="已记录 · 补记 (recorded after the grace days) · 缺失 · 未到期",
)
FILE_ROUTE = "/files/ledger/"


@strawberry.type(description="台账项目: one item of the ledger catalog (L01 支部党员大会, ...).")
class LedgerItem(Node):
    code: str
    name: str
    frequency: LedgerFrequency
    required: bool
    sort_order: int
    active: bool

    @classmethod
    def from_model(cls, row: LedgerItemRow) -> LedgerItem:
        return cls(
            id=to_global_id("LedgerItem", row.id),
            code=row.code,
            name=row.name,
            frequency=row.frequency,
            required=row.required,
            sort_order=row.sort_order,
            active=row.active,
        )

    @strawberry.field
    def frequency_label(self) -> str:
        return self.frequency.label


@strawberry.type(description="附件: a file kept with a ledger entry.")
class LedgerAttachment(Node):
    file_name: str
    content_type: str
    size: int = strawberry.field(description="Bytes.")
    sha256: str
    created_at: datetime
    download_path: str = strawberry.field(
        description="GET it with the same Authorization header: /files/ledger/<attachment uuid>."
    )

    @classmethod
    def from_model(cls, row: LedgerAttachmentRow) -> LedgerAttachment:
        return cls(
            id=to_global_id("LedgerAttachment", row.id),
            file_name=row.file_name,
            content_type=row.content_type,
            size=row.size,
            sha256=row.sha256,
            created_at=row.created_at,
            download_path=f"{FILE_ROUTE}{row.id}",
        )


@strawberry.type(description="台账记录: one entry in a branch's ledger.")
class LedgerEntry(Node):
    occurred_on: date
    title: str
    content: str | None
    created_at: datetime = strawberry.field(
        description="When it was recorded (decides whether it was late)."
    )
    updated_at: datetime
    _row: strawberry.Private[LedgerEntryRow]

    @classmethod
    def from_model(cls, row: LedgerEntryRow) -> LedgerEntry:
        return cls(
            id=to_global_id("LedgerEntry", row.id),
            occurred_on=row.occurred_on,
            title=row.title,
            content=row.content,
            created_at=row.created_at,
            updated_at=row.updated_at,
            _row=row,
        )

    @strawberry.field
    async def item(self, info: Info) -> LedgerItem:
        row = await info.context.loaders.ledger_item.load(self._row.item_id)
        assert row is not None, "an entry's item is a foreign key"
        return LedgerItem.from_model(row)

    @strawberry.field
    async def branch(self, info: Info) -> Branch:
        row = await info.context.loaders.branch.load(self._row.branch_id)
        assert row is not None, "an entry's branch is a foreign key"
        return Branch.from_model(row)

    @strawberry.field(description="参会人员, by name (members you may read).")
    async def attendees(self, info: Info) -> list[Member]:
        rows = await info.context.loaders.ledger_attendees.load(self._row.id)
        return [Member.from_model(r) for r in rows]

    @strawberry.field
    async def attachments(self, info: Info) -> list[LedgerAttachment]:
        rows = await info.context.loaders.ledger_attachments.load(self._row.id)
        return [LedgerAttachment.from_model(r) for r in rows]


@strawberry.type(description="One month, quarter or year in which an item was due.")
class LedgerSubPeriod:
    period: str
    label: str
    entries: int
    first_recorded_at: datetime | None
    deadline: date = strawberry.field(description="Last day to record it without being late.")
    status: SubPeriodStatus

    @classmethod
    def from_state(cls, state: SubPeriodState) -> LedgerSubPeriod:
        return cls(
            period=str(state.period),
            label=state.period.label,
            entries=state.entries,
            first_recorded_at=state.first_recorded_at,
            deadline=state.deadline,
            status=state.status,
        )

    @strawberry.field
    def status_label(self) -> str:
        return self.status.label


RECORDED_RATE = (
    "台账记录率: present / (present + missing), the share recorded of the sub-periods that "
    "have fallen due (late entries count as recorded; pending ones are not due yet and count "
    "neither way). Null when nothing has fallen due. The same figure as dashboard.ledger."
    "recordedRate."
)


@strawberry.type(description="One required item: how many times it was due, present, missing.")
class LedgerItemCompleteness:
    code: str
    name: str
    frequency: LedgerFrequency
    frequency_label: str
    expected: int
    present: int = strawberry.field(description="Due sub-periods with an entry (late included).")
    entries: int
    missing: list[str] = strawberry.field(description="Periods with no entry, past the deadline.")
    late: list[str] = strawberry.field(description="Periods first recorded after the deadline.")
    pending: list[str] = strawberry.field(description="Empty periods still within the deadline.")
    recorded_rate: float | None = strawberry.field(description=RECORDED_RATE)
    sub_periods: list[LedgerSubPeriod]

    @classmethod
    def from_result(cls, item: ItemCompleteness) -> LedgerItemCompleteness:
        return cls(
            code=item.code,
            name=item.name,
            frequency=item.frequency,
            frequency_label=item.frequency.label,
            expected=item.expected,
            present=item.present,
            entries=item.entries,
            missing=[str(p) for p in item.missing],
            late=[str(p) for p in item.late],
            pending=[str(p) for p in item.pending],
            recorded_rate=item.recorded_rate,
            sub_periods=[LedgerSubPeriod.from_state(s) for s in item.sub_periods],
        )


@strawberry.type(description="台账完成情况 of one branch in one period (README: the rule).")
class LedgerCompleteness:
    branch: Branch
    period: str
    period_label: str
    items: list[LedgerItemCompleteness]
    expected: int = strawberry.field(
        description="Sub-periods whose due date falls in the period, pending ones included."
    )
    present: int = strawberry.field(description="Of those, with an entry (late included).")
    late: int = strawberry.field(description="Of those present, first recorded after the deadline.")
    missing: int = strawberry.field(description="No entry and past the deadline.")
    pending: int = strawberry.field(
        description="Not yet due: no entry yet, still within the deadline (the current month, "
        "say). Counted apart; the recorded rate leaves them out."
    )
    recorded_rate: float | None = strawberry.field(description=RECORDED_RATE)
    rate: float = strawberry.field(
        description="recordedRate, or 1.0 when nothing has fallen due.",
        deprecation_reason=(
            "Use recordedRate. Until issue 12 this was present / expected, which counted "
            "periods not yet due as unrecorded; it now gives recordedRate's figure."
        ),
    )

    @classmethod
    def build(
        cls, branch: Branch, period: Period, items: list[LedgerItemCompleteness]
    ) -> LedgerCompleteness:
        present = sum(i.present for i in items)
        missing = sum(len(i.missing) for i in items)
        rate = recorded_rate(present, missing)
        return cls(
            branch=branch,
            period=str(period),
            period_label=period.label,
            items=items,
            expected=sum(i.expected for i in items),
            present=present,
            late=sum(len(i.late) for i in items),
            missing=missing,
            pending=sum(len(i.pending) for i in items),
            recorded_rate=rate,
            rate=1.0 if rate is None else rate,
        )


def _period(info: Info, text: str | None) -> Period | None:
    return None if text is None else period_input(text, today=local_date(info.context.clock()))


@strawberry.type
class LedgerQuery:
    @strawberry.field(description="The ledger catalog in the bureau's order.")
    async def ledger_items(self, info: Info, include_inactive: bool = False) -> list[LedgerItem]:
        rows = await read(info, lambda db, _: ops.list_ledger_items(db, include_inactive))
        return [LedgerItem.from_model(r) for r in rows]

    @strawberry.field(description="Ledger entries you may read, newest first.")
    async def ledger_entries(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        branch_id: strawberry.ID | None = None,
        subtree_of: strawberry.ID | None = None,
        item_codes: list[str] | None = None,
        period: Annotated[
            str | None,
            strawberry.argument(
                description="2026, 2026-Q2, 2026-05, or P12M (the window ending today)."
            ),
        ] = None,
    ) -> Connection[LedgerEntry]:
        request = page_of(info, first, after)
        flt = LedgerEntryFilter(
            branch_id=optional_global_id(branch_id, "Branch", "branchId"),
            subtree_of=optional_global_id(subtree_of, "Branch", "subtreeOf"),
            item_codes=tuple(item_codes or ()),
            period=_period(info, period),
        )

        async def run(db: AsyncSession, viewer: Viewer) -> Page[LedgerEntryRow]:
            if flt.item_codes:
                await ops.check_item_codes(db, flt.item_codes, "itemCodes")
            return await ops.list_ledger_entries(db, viewer, flt, request)

        page = await read(info, run)
        return connection_from_page(
            page,
            [LedgerEntry.from_model(r) for r in page.items],
            lambda: read(info, lambda db, viewer: ops.count_ledger_entries(db, viewer, flt)),
        )

    @strawberry.field(description="One entry; null when absent or outside what you may read.")
    async def ledger_entry(self, info: Info, id: strawberry.ID) -> LedgerEntry | None:
        entry_id = from_global_id(id, "LedgerEntry", "id")
        row = await read(info, lambda db, viewer: ops.get_ledger_entry(db, viewer, entry_id))
        return LedgerEntry.from_model(row) if row else None

    @strawberry.field(description="Which required entries a branch has for a period.")
    async def ledger_completeness(
        self,
        info: Info,
        branch_id: strawberry.ID,
        period: Annotated[
            str,
            strawberry.argument(
                description="2026, 2026-Q2, 2026-05, or P12M (the window ending today)."
            ),
        ],
    ) -> LedgerCompleteness:
        raw_branch = from_global_id(branch_id, "Branch", "branchId")
        ctx = info.context
        parsed = period_input(period, today=local_date(ctx.clock()))

        async def run(db: AsyncSession, viewer: Viewer) -> LedgerCompleteness:
            branch = await get_branch(db, raw_branch, "branchId")
            if not scope_of(viewer).covers(branch.id, branch.path):
                raise Forbidden("该组织不在您的查看范围内 (outside what you may read)")
            result = await ledger_completeness(
                db,
                [branch.id],
                parsed,
                today=local_date(ctx.clock()),
                grace_days=ctx.settings.ledger_grace_days,
            )
            return LedgerCompleteness.build(
                Branch.from_model(branch),
                parsed,
                [LedgerItemCompleteness.from_result(i) for i in result[branch.id]],
            )

        return await read(info, run)


# --- mutations ----------------------------------------------------------------------------------


@strawberry.input
class CreateLedgerItemInput:
    code: str
    name: str
    frequency: LedgerFrequency
    required: bool = True
    sort_order: int = 0
    active: bool = True


@strawberry.input(description="Only the fields given change.")
class UpdateLedgerItemInput:
    id: strawberry.ID
    code: str | None = strawberry.UNSET
    name: str | None = strawberry.UNSET
    frequency: LedgerFrequency | None = strawberry.UNSET
    required: bool | None = strawberry.UNSET
    sort_order: int | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET


@strawberry.input
class CreateLedgerEntryInput:
    branch_id: strawberry.ID
    item_code: str = strawberry.field(description="Catalog code, e.g. L02.")
    occurred_on: date
    title: str
    content: str | None = None
    attendee_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Members of the branch or its subtree."
    )


@strawberry.input(description="Only the fields given change; attendeeIds replaces the list.")
class UpdateLedgerEntryInput:
    id: strawberry.ID
    item_code: str | None = strawberry.UNSET
    occurred_on: date | None = strawberry.UNSET
    title: str | None = strawberry.UNSET
    content: str | None = strawberry.UNSET
    attendee_ids: list[strawberry.ID] | None = strawberry.UNSET


@strawberry.input(
    description="A file as base64 (standard alphabet); at most MEIJING_LEDGER_ATTACHMENT_MAX_BYTES."
)
class AddLedgerAttachmentInput:
    entry_id: strawberry.ID
    file_name: str
    content_base64: str
    content_type: str | None = None


@strawberry.type
class LedgerItemPayload:
    item: LedgerItem


@strawberry.type
class LedgerEntryPayload:
    entry: LedgerEntry


@strawberry.type
class LedgerEntryDeleted:
    id: strawberry.ID


@strawberry.type
class LedgerAttachmentPayload:
    attachment: LedgerAttachment
    entry: LedgerEntry


LedgerItemResult = Annotated[LedgerItemPayload | InvalidInput, strawberry.union("LedgerItemResult")]
LedgerEntryResult = Annotated[
    LedgerEntryPayload | InvalidInput, strawberry.union("LedgerEntryResult")
]
DeleteLedgerEntryResult = Annotated[
    LedgerEntryDeleted | InvalidInput, strawberry.union("DeleteLedgerEntryResult")
]
LedgerAttachmentResult = Annotated[
    LedgerAttachmentPayload | InvalidInput, strawberry.union("LedgerAttachmentResult")
]


def _member_ids(ids: list[strawberry.ID], field: str) -> list[uuid.UUID]:
    return [from_global_id(i, "Member", field) for i in ids]


def decode_content(text: str, max_bytes: int) -> bytes:
    """Base64 to bytes; TOO_LARGE before decoding anything too long, INVALID for bad base64."""
    if len(text) > (max_bytes + 2) // 3 * 4:
        raise InputError.one(
            "contentBase64",
            f"附件不能超过 {max_bytes // 1024} KB (attachment larger than {max_bytes} bytes)",
            ErrorCode.TOO_LARGE,
        )
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError.one(
            "contentBase64", "不是有效的 base64 (not valid base64)", ErrorCode.INVALID
        ) from exc


@strawberry.type
class LedgerMutation:
    @strawberry.mutation(description="Adds an item to the ledger catalog (admins).")
    async def create_ledger_item(
        self, info: Info, input: CreateLedgerItemInput
    ) -> LedgerItemResult:
        async def run(db: AsyncSession, viewer: Viewer) -> LedgerItemPayload:
            row = await ops.create_ledger_item(
                db, viewer, info.context.clock, strawberry.asdict(input)
            )
            return LedgerItemPayload(item=LedgerItem.from_model(row))

        return await write(info, run)

    @strawberry.mutation(description="Edits an item of the ledger catalog (admins).")
    async def update_ledger_item(
        self, info: Info, input: UpdateLedgerItemInput
    ) -> LedgerItemResult:
        async def run(db: AsyncSession, viewer: Viewer) -> LedgerItemPayload:
            item_id = from_global_id(input.id, "LedgerItem", "id")
            changes = strawberry.asdict(input)
            del changes["id"]
            row = await ops.update_ledger_item(db, viewer, info.context.clock, item_id, changes)
            return LedgerItemPayload(item=LedgerItem.from_model(row))

        return await write(info, run)

    @strawberry.mutation(description="Records an entry in a branch's ledger.")
    async def create_ledger_entry(
        self, info: Info, input: CreateLedgerEntryInput
    ) -> LedgerEntryResult:
        async def run(db: AsyncSession, viewer: Viewer) -> LedgerEntryPayload:
            data = strawberry.asdict(input)
            data["branch_id"] = from_global_id(input.branch_id, "Branch", "branchId")
            data["attendee_ids"] = _member_ids(input.attendee_ids, "attendeeIds")
            row = await ops.create_ledger_entry(db, viewer, info.context.clock, data)
            return LedgerEntryPayload(entry=LedgerEntry.from_model(row))

        return await write(info, run)

    @strawberry.mutation(description="Edits an entry.")
    async def update_ledger_entry(
        self, info: Info, input: UpdateLedgerEntryInput
    ) -> LedgerEntryResult:
        async def run(db: AsyncSession, viewer: Viewer) -> LedgerEntryPayload:
            entry_id = from_global_id(input.id, "LedgerEntry", "id")
            changes = strawberry.asdict(input)
            del changes["id"]
            if input.attendee_ids:  # a list (possibly empty) when sent, UNSET or None when not
                changes["attendee_ids"] = _member_ids(input.attendee_ids, "attendeeIds")
            row = await ops.update_ledger_entry(db, viewer, info.context.clock, entry_id, changes)
            return LedgerEntryPayload(entry=LedgerEntry.from_model(row))

        return await write(info, run)

    @strawberry.mutation(description="Deletes an entry with its attendees and attachments.")
    async def delete_ledger_entry(self, info: Info, id: strawberry.ID) -> DeleteLedgerEntryResult:
        async def run(db: AsyncSession, viewer: Viewer) -> LedgerEntryDeleted:
            await ops.delete_ledger_entry(db, viewer, from_global_id(id, "LedgerEntry", "id"))
            return LedgerEntryDeleted(id=id)

        return await write(info, run)

    @strawberry.mutation(description="Uploads a file (base64) and keeps it with an entry.")
    async def add_ledger_attachment(
        self, info: Info, input: AddLedgerAttachmentInput
    ) -> LedgerAttachmentResult:
        settings = info.context.settings

        async def run(db: AsyncSession, viewer: Viewer) -> LedgerAttachmentPayload:
            entry_id = from_global_id(input.entry_id, "LedgerEntry", "entryId")
            content = decode_content(input.content_base64, settings.ledger_attachment_max_bytes)
            row = await ops.add_ledger_attachment(
                db,
                viewer,
                info.context.clock,
                storage_for(settings),
                settings.ledger_attachment_max_bytes,
                entry_id,
                input.file_name,
                input.content_type,
                content,
            )
            entry = await db.get(LedgerEntryRow, entry_id)
            assert entry is not None
            return LedgerAttachmentPayload(
                attachment=LedgerAttachment.from_model(row), entry=LedgerEntry.from_model(entry)
            )

        return await write(info, run)

    @strawberry.mutation(description="Removes an attachment from its entry.")
    async def remove_ledger_attachment(self, info: Info, id: strawberry.ID) -> LedgerEntryResult:
        async def run(db: AsyncSession, viewer: Viewer) -> LedgerEntryPayload:
            attachment_id = from_global_id(id, "LedgerAttachment", "id")
            entry = await ops.remove_ledger_attachment(db, viewer, attachment_id)
            return LedgerEntryPayload(entry=LedgerEntry.from_model(entry))

        return await write(info, run)


# --- node(id:) ------------------------------------------------------------------------------------


async def _item_node(info: Info, item_id: uuid.UUID) -> LedgerItem | None:
    row = await info.context.loaders.ledger_item.load(item_id)
    return LedgerItem.from_model(row) if row else None


async def _entry_node(info: Info, entry_id: uuid.UUID) -> LedgerEntry | None:
    row = await info.context.loaders.ledger_entry.load(entry_id)
    return LedgerEntry.from_model(row) if row else None


async def _attachment_node(info: Info, attachment_id: uuid.UUID) -> LedgerAttachment | None:
    row = await read(info, lambda db, viewer: ops.get_ledger_attachment(db, viewer, attachment_id))
    return LedgerAttachment.from_model(row) if row else None


register_node("LedgerItem", LedgerItem, _item_node)
register_node("LedgerEntry", LedgerEntry, _entry_node)
register_node("LedgerAttachment", LedgerAttachment, _attachment_node)
