"""The sync wire contract (../shared/sync-contract.graphql): pull, push and stream per collection.

Names and shapes are exactly those RxDB's schema-based builders generate, so a phone app built
on RxDB's GraphQL replication syncs unchanged. The resolvers only translate: the protocol lives
in sync/.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncGenerator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import strawberry
from strawberry.utils.str_converters import to_camel_case

from access import audience
from access.auth import authenticate_subscriber, connection_token
from access.errors import ErrorCode, InputError, Unauthenticated
from access.scope import Scope, scope_of
from access.viewer import mask_phone
from core.global_id import global_id_uuid_or_none
from models import (
    DirectiveLevel,
    DirectivePriority,
    PatrolKind,
    RecipientStatus,
    ReminderKind,
    ReminderStatus,
    Role,
    ServiceActionType,
    VisitCategory,
    VisitStatus,
    VolunteerRole,
)
from resolvers.field_record import decode_json_text
from resolvers.sync_admin import CompetingVersion as CompetingRecord
from schema.context import Context, Info
from schema.node import to_global_id
from sync import collection as collections
from sync.collection import Collection
from sync.fleet import DeviceReport
from sync.pull import Checkpoint, check_limit, pull
from sync.push import PushRow, Writer, push
from sync.stream import stream_changes
from sync.stream_guard import StreamGuard

if TYPE_CHECKING:
    from schema.branch import Branch
    from schema.member import Member

MemberRef = Annotated["Member", strawberry.lazy("schema.member")]
BranchRef = Annotated["Branch", strawberry.lazy("schema.branch")]


# --- fields for web frontends (phones' builders never select them) ---------------------------


async def _officer(info: Info, officer_id: str) -> Member | None:
    from schema.member import Member

    info.context.require_viewer()
    raw = global_id_uuid_or_none(officer_id, "Member")
    row = await info.context.loaders.member.load(raw) if raw else None
    return Member.from_model(row) if row else None


async def _branch(info: Info, branch_id: str) -> Branch | None:
    from schema.branch import Branch

    raw = global_id_uuid_or_none(branch_id, "Branch")
    row = await info.context.loaders.branch.load(raw) if raw else None
    return Branch.from_model(row) if row else None


async def _members(info: Info, participants: str) -> list[Member]:
    """Members named in a participants list (ids, or {memberId} objects), in list order; those
    outside the viewer's member scope are left out."""
    from schema.member import Member

    info.context.require_viewer()
    ids: list[uuid.UUID] = []
    for element in decode_json_text(participants):
        value = element.get("memberId") if isinstance(element, dict) else element
        raw = global_id_uuid_or_none(value, "Member") if isinstance(value, str) else None
        if raw is not None and raw not in ids:
            ids.append(raw)
    rows = await info.context.loaders.member.load_many(ids)
    return [Member.from_model(r) for r in rows if r is not None]


def _label(kind: Any, value: str) -> str | None:
    try:
        return str(kind(value).label)
    except ValueError:
        return None


@strawberry.type(
    description="An outside volunteer (老党员、优秀网格长、党员志愿者) in a service action."
)
class Volunteer:
    name: str
    role: str | None
    role_label: str | None
    phone: str | None = strawberry.field(description="Masked unless you are an admin or secretary.")


@strawberry.type(
    description=(
        "Another version of a free-text field (a visit's concerns, a patrol's observations...) "
        "where its writer and the record both changed the same lines: the record kept its "
        "own. Shown until someone settles it with resolveSyncConflict(id: conflictId)."
    )
)
class CompetingVersion:
    conflict_id: strawberry.ID = strawberry.field(description="The SyncConflict to settle.")
    field: str = strawberry.field(description="Wire name of the field, e.g. concerns.")
    text: str | None = strawberry.field(description="The writer's whole version of the field.")
    lines: list[str] = strawberry.field(
        description=(
            "What that version wrote that the record lacks; empty when it removed lines the "
            "record keeps."
        )
    )
    username: str | None = strawberry.field(description="The account that wrote it.")
    member_name: str | None = strawberry.field(description="That account's member, by name.")
    written_at: datetime = strawberry.field(description="When the server received it.")

    @classmethod
    def from_record(cls, record: CompetingRecord) -> CompetingVersion:
        return cls(
            conflict_id=to_global_id("SyncConflict", record.conflict_id),
            field=record.field,
            text=record.text,
            lines=list(record.lines),
            username=record.username,
            member_name=record.member_name,
            written_at=record.written_at,
        )


async def _competing(info: Info, collection: Collection, doc_id: str) -> list[CompetingVersion]:
    info.context.require_viewer()
    records = await info.context.loaders.competing_versions.load((collection.key, doc_id))
    return [CompetingVersion.from_record(r) for r in records]


COMPETING_VERSIONS = (
    "Versions of its free-text fields that lost where both sides changed the same lines, "
    "oldest first, until settled; web frontends only (phones' builders never select it)."
)


T = TypeVar("T")

APP_VERSION_HEADER = "x-meijing-app-version"
CLIENT_TIME_HEADER = "x-meijing-client-time"


# --- Visit ------------------------------------------------------------------------------------


@strawberry.input
class VisitInputCheckpoint:
    id: str
    updated_at: float


@strawberry.type
class VisitCheckpoint:
    id: str
    updated_at: float


@strawberry.type(description="A village visit (走访) recorded by a field officer, usually offline.")
class Visit:
    id: strawberry.ID
    branch_id: str
    officer_id: str
    village: str
    household: str | None
    category: str
    concerns: str | None
    resolution: str | None
    status: str
    people_reached: int
    visited_at: str
    updated_at: float
    deleted: bool

    @strawberry.field(description="The officer who made the visit; null outside your scope.")
    async def officer(self, info: Info) -> MemberRef | None:
        return await _officer(info, self.officer_id)

    @strawberry.field(description="The branch the visit belongs to.")
    async def branch(self, info: Info) -> BranchRef | None:
        return await _branch(info, self.branch_id)

    @strawberry.field(description="Chinese label of the category, e.g. 入户走访.")
    def category_label(self) -> str | None:
        return _label(VisitCategory, self.category)

    @strawberry.field(description="Chinese label of the status, e.g. 已解决.")
    def status_label(self) -> str | None:
        return _label(VisitStatus, self.status)

    @strawberry.field(description=COMPETING_VERSIONS)
    async def competing_versions(self, info: Info) -> list[CompetingVersion]:
        return await _competing(info, collections.VISIT, self.id)


@strawberry.input
class VisitInput:
    id: strawberry.ID
    branch_id: str | None = strawberry.UNSET
    officer_id: str | None = strawberry.UNSET
    village: str | None = strawberry.UNSET
    household: str | None = strawberry.UNSET
    category: str | None = strawberry.UNSET
    concerns: str | None = strawberry.UNSET
    resolution: str | None = strawberry.UNSET
    status: str | None = strawberry.UNSET
    people_reached: int | None = strawberry.UNSET
    visited_at: str | None = strawberry.UNSET
    updated_at: float | None = strawberry.UNSET
    deleted: bool | None = strawberry.UNSET


@strawberry.input
class VisitInputPushRow:
    assumed_master_state: VisitInput | None = strawberry.UNSET
    new_document_state: VisitInput


@strawberry.input
class VisitInputHeaders:
    authorization: str | None = strawberry.field(name="Authorization", default=strawberry.UNSET)


@strawberry.type
class VisitPullBulk:
    documents: list[Visit]
    checkpoint: VisitCheckpoint | None


# --- Patrol -----------------------------------------------------------------------------------


@strawberry.input
class PatrolInputCheckpoint:
    id: str
    updated_at: float


@strawberry.type
class PatrolCheckpoint:
    id: str
    updated_at: float


@strawberry.type(
    description=(
        "A patrol (巡逻, kind day or night 夜间巡逻). participants: JSON text, a list of Member "
        'ids; track: JSON text, a list of GPS points {"t": ISO-8601, "lat": , "lng": }, '
        "append-only."
    )
)
class Patrol:
    id: strawberry.ID
    branch_id: str
    officer_id: str
    kind: str
    area: str
    started_at: str
    ended_at: str | None
    participants: str
    track: str
    observations: str | None
    updated_at: float
    deleted: bool

    @strawberry.field(description="The officer who recorded the patrol; null outside your scope.")
    async def officer(self, info: Info) -> MemberRef | None:
        return await _officer(info, self.officer_id)

    @strawberry.field(description="The branch the patrol belongs to.")
    async def branch(self, info: Info) -> BranchRef | None:
        return await _branch(info, self.branch_id)

    @strawberry.field(description="Chinese label of the kind, e.g. 夜间巡逻.")
    def kind_label(self) -> str | None:
        return _label(PatrolKind, self.kind)

    @strawberry.field(description="The members in participants, as members.")
    async def participant_members(self, info: Info) -> list[MemberRef]:
        return await _members(info, self.participants)

    @strawberry.field(description=COMPETING_VERSIONS)
    async def competing_versions(self, info: Info) -> list[CompetingVersion]:
        return await _competing(info, collections.PATROL, self.id)


@strawberry.input
class PatrolInput:
    id: strawberry.ID
    branch_id: str | None = strawberry.UNSET
    officer_id: str | None = strawberry.UNSET
    kind: str | None = strawberry.UNSET
    area: str | None = strawberry.UNSET
    started_at: str | None = strawberry.UNSET
    ended_at: str | None = strawberry.UNSET
    participants: str | None = strawberry.UNSET
    track: str | None = strawberry.UNSET
    observations: str | None = strawberry.UNSET
    updated_at: float | None = strawberry.UNSET
    deleted: bool | None = strawberry.UNSET


@strawberry.input
class PatrolInputPushRow:
    assumed_master_state: PatrolInput | None = strawberry.UNSET
    new_document_state: PatrolInput


@strawberry.input
class PatrolInputHeaders:
    authorization: str | None = strawberry.field(name="Authorization", default=strawberry.UNSET)


@strawberry.type
class PatrolPullBulk:
    documents: list[Patrol]
    checkpoint: PatrolCheckpoint | None


# --- ServiceAction ----------------------------------------------------------------------------


@strawberry.input
class ServiceActionInputCheckpoint:
    id: str
    updated_at: float


@strawberry.type
class ServiceActionCheckpoint:
    id: str
    updated_at: float


@strawberry.type(
    description=(
        "A community-service action (为民服务行动): type is a ServiceActionType value. "
        'participants: JSON text, a list of {"memberId": Member id} or volunteers '
        '{"name", "role": old_party_member | grid_leader | party_volunteer | other, "phone"}.'
    )
)
class ServiceAction:
    id: strawberry.ID
    branch_id: str
    officer_id: str
    type: str
    title: str
    place: str | None
    happened_at: str
    participants: str
    people_reached: int
    difficulties_solved: int
    banners_received: int
    notes: str | None
    updated_at: float
    deleted: bool

    @strawberry.field(description="The officer who recorded the action; null outside your scope.")
    async def officer(self, info: Info) -> MemberRef | None:
        return await _officer(info, self.officer_id)

    @strawberry.field(description="The branch the action belongs to.")
    async def branch(self, info: Info) -> BranchRef | None:
        return await _branch(info, self.branch_id)

    @strawberry.field(description="Chinese label of the type, e.g. 夜间巡逻转起来.")
    def type_label(self) -> str | None:
        return _label(ServiceActionType, self.type)

    @strawberry.field(description="The members in participants, as members.")
    async def participant_members(self, info: Info) -> list[MemberRef]:
        return await _members(info, self.participants)

    @strawberry.field(description="The outside volunteers in participants.")
    def volunteers(self, info: Info) -> list[Volunteer]:
        viewer = info.context.require_viewer()
        clear = viewer.role in (Role.ADMIN, Role.SECRETARY)
        found: list[Volunteer] = []
        for element in decode_json_text(self.participants):
            if isinstance(element, dict) and element.get("memberId") is None:
                role = element.get("role")
                phone = element.get("phone")
                found.append(
                    Volunteer(
                        name=str(element.get("name")),
                        role=role,
                        role_label=_label(VolunteerRole, role) if role else None,
                        phone=phone if clear else mask_phone(phone),
                    )
                )
        return found

    @strawberry.field(description=COMPETING_VERSIONS)
    async def competing_versions(self, info: Info) -> list[CompetingVersion]:
        return await _competing(info, collections.SERVICE_ACTION, self.id)


@strawberry.input
class ServiceActionInput:
    id: strawberry.ID
    branch_id: str | None = strawberry.UNSET
    officer_id: str | None = strawberry.UNSET
    type: str | None = strawberry.UNSET
    title: str | None = strawberry.UNSET
    place: str | None = strawberry.UNSET
    happened_at: str | None = strawberry.UNSET
    participants: str | None = strawberry.UNSET
    people_reached: int | None = strawberry.UNSET
    difficulties_solved: int | None = strawberry.UNSET
    banners_received: int | None = strawberry.UNSET
    notes: str | None = strawberry.UNSET
    updated_at: float | None = strawberry.UNSET
    deleted: bool | None = strawberry.UNSET


@strawberry.input
class ServiceActionInputPushRow:
    assumed_master_state: ServiceActionInput | None = strawberry.UNSET
    new_document_state: ServiceActionInput


@strawberry.input
class ServiceActionInputHeaders:
    authorization: str | None = strawberry.field(name="Authorization", default=strawberry.UNSET)


@strawberry.type
class ServiceActionPullBulk:
    documents: list[ServiceAction]
    checkpoint: ServiceActionCheckpoint | None


# --- Directive (pull-only) -----------------------------------------------------------------------


@strawberry.input
class DirectiveInputCheckpoint:
    id: str
    updated_at: float


@strawberry.type
class DirectiveCheckpoint:
    id: str
    updated_at: float


@strawberry.type(
    description=(
        "A directive (上级指令) as one recipient received it: a row of its dispatch tree, "
        "pull-only. id: the recipient row, which receipts and progress reports name; level: "
        "county_committee | organ_committee | branch | member; status: pending | signed | "
        "in_progress | closed; instants are ISO-8601 text."
    )
)
class Directive:
    id: strawberry.ID
    directive_id: str
    parent_id: str | None
    level: str
    branch_id: str
    member_id: str | None
    title: str
    content: str
    priority: str
    deadline: str
    status: str
    dispatched_at: str
    signed_at: str | None
    last_reported_at: str | None
    closed_at: str | None
    updated_at: float
    deleted: bool

    @strawberry.field(description="The branch the recipient belongs to.")
    async def branch(self, info: Info) -> BranchRef | None:
        return await _branch(info, self.branch_id)

    @strawberry.field(description="Chinese label of the level, e.g. 支部.")
    def level_label(self) -> str | None:
        return _label(DirectiveLevel, self.level)

    @strawberry.field(description="Chinese label of the priority, e.g. 紧急.")
    def priority_label(self) -> str | None:
        return _label(DirectivePriority, self.priority)

    @strawberry.field(description="Chinese label of the recipient's status, e.g. 已签收.")
    def status_label(self) -> str | None:
        return _label(RecipientStatus, self.status)


@strawberry.input
class DirectiveInputHeaders:
    authorization: str | None = strawberry.field(name="Authorization", default=strawberry.UNSET)


@strawberry.type
class DirectivePullBulk:
    documents: list[Directive]
    checkpoint: DirectiveCheckpoint | None


# --- Reminder (pull-only) ------------------------------------------------------------------------


@strawberry.input
class ReminderInputCheckpoint:
    id: str
    updated_at: float


@strawberry.type
class ReminderCheckpoint:
    id: str
    updated_at: float


@strawberry.type(
    description=(
        "A supervision reminder (督导提醒) to the phone's branch or member, pull-only; answered "
        "on the web (acknowledgeReminder, resolveReminder). kind: ledger_due | ledger_overdue | "
        "activist_year_complete | probation_ending | directive_deadline | directive_unsigned; "
        "status: open | acknowledged | resolved; dueOn: YYYY-MM-DD; instants are ISO-8601 text; "
        "directiveRecipientId names the Directive document it is about."
    )
)
class Reminder:
    id: strawberry.ID
    kind: str
    title: str
    branch_id: str
    member_id: str | None
    due_on: str
    status: str
    period: str | None
    ledger_item_id: str | None
    subject_member_id: str | None
    directive_recipient_id: str | None
    acknowledged_at: str | None
    resolved_at: str | None
    resolution: str | None
    updated_at: float
    deleted: bool

    @strawberry.field(description="Chinese label of the kind, e.g. 台账逾期.")
    def kind_label(self) -> str | None:
        return _label(ReminderKind, self.kind)

    @strawberry.field(description="Chinese label of the status, e.g. 待处理.")
    def status_label(self) -> str | None:
        return _label(ReminderStatus, self.status)


@strawberry.input
class ReminderInputHeaders:
    authorization: str | None = strawberry.field(name="Authorization", default=strawberry.UNSET)


@strawberry.type
class ReminderPullBulk:
    documents: list[Reminder]
    checkpoint: ReminderCheckpoint | None


# --- DirectiveReceipt -----------------------------------------------------------------------------


@strawberry.input
class DirectiveReceiptInputCheckpoint:
    id: str
    updated_at: float


@strawberry.type
class DirectiveReceiptCheckpoint:
    id: str
    updated_at: float


@strawberry.type(
    description=(
        "签收: a recipient's signature of a directive. id: the id of the Directive document "
        "signed (one receipt per recipient); officerId: the signer (me.member.id)."
    )
)
class DirectiveReceipt:
    id: strawberry.ID
    branch_id: str
    officer_id: str | None
    signed_at: str
    updated_at: float
    deleted: bool


@strawberry.input
class DirectiveReceiptInput:
    id: strawberry.ID
    branch_id: str | None = strawberry.UNSET
    officer_id: str | None = strawberry.UNSET
    signed_at: str | None = strawberry.UNSET
    updated_at: float | None = strawberry.UNSET
    deleted: bool | None = strawberry.UNSET


@strawberry.input
class DirectiveReceiptInputPushRow:
    assumed_master_state: DirectiveReceiptInput | None = strawberry.UNSET
    new_document_state: DirectiveReceiptInput


@strawberry.input
class DirectiveReceiptInputHeaders:
    authorization: str | None = strawberry.field(name="Authorization", default=strawberry.UNSET)


@strawberry.type
class DirectiveReceiptPullBulk:
    documents: list[DirectiveReceipt]
    checkpoint: DirectiveReceiptCheckpoint | None


# --- DirectiveProgress ----------------------------------------------------------------------------


@strawberry.input
class DirectiveProgressInputCheckpoint:
    id: str
    updated_at: float


@strawberry.type
class DirectiveProgressCheckpoint:
    id: str
    updated_at: float


@strawberry.type(
    description=(
        "A progress report on a directive: recipientId names the Directive document; percent "
        "0-100 and stage (e.g. 已部署) are optional; reportedAt is ISO-8601 with offset."
    )
)
class DirectiveProgress:
    id: strawberry.ID
    recipient_id: str
    branch_id: str
    officer_id: str | None
    text: str
    percent: int | None
    stage: str | None
    reported_at: str
    updated_at: float
    deleted: bool

    @strawberry.field(description="The member who reported; null outside your scope.")
    async def reporter(self, info: Info) -> MemberRef | None:
        return await _officer(info, self.officer_id) if self.officer_id else None


@strawberry.input
class DirectiveProgressInput:
    id: strawberry.ID
    recipient_id: str | None = strawberry.UNSET
    branch_id: str | None = strawberry.UNSET
    officer_id: str | None = strawberry.UNSET
    text: str | None = strawberry.UNSET
    percent: int | None = strawberry.UNSET
    stage: str | None = strawberry.UNSET
    reported_at: str | None = strawberry.UNSET
    updated_at: float | None = strawberry.UNSET
    deleted: bool | None = strawberry.UNSET


@strawberry.input
class DirectiveProgressInputPushRow:
    assumed_master_state: DirectiveProgressInput | None = strawberry.UNSET
    new_document_state: DirectiveProgressInput


@strawberry.input
class DirectiveProgressInputHeaders:
    authorization: str | None = strawberry.field(name="Authorization", default=strawberry.UNSET)


@strawberry.type
class DirectiveProgressPullBulk:
    documents: list[DirectiveProgress]
    checkpoint: DirectiveProgressCheckpoint | None


# --- translation ------------------------------------------------------------------------------


def wire_dict(value: Any) -> dict[str, Any]:
    """The fields a client sent in an input object, by wire name (absent ones left out)."""
    sent: dict[str, Any] = {}
    for f in dataclasses.fields(value):
        item = getattr(value, f.name)
        if item is not strawberry.UNSET:
            sent[to_camel_case(f.name)] = item
    return sent


_SNAKE: dict[str, str] = {}


def _snake(name: str) -> str:
    snake = _SNAKE.get(name)
    if snake is None:
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
        _SNAKE[name] = snake
    return snake


def from_wire(kind: type[T], document: Mapping[str, Any]) -> T:
    """A strawberry object of a synced type from a wire document."""
    return kind(**{_snake(k): v for k, v in document.items()})


def _checkpoint(value: Any) -> Checkpoint | None:
    if value is None or value is strawberry.UNSET:
        return None
    return Checkpoint.from_client(value.id, value.updated_at)


def device_report(info: Info) -> DeviceReport:
    request = info.context.request
    headers = getattr(request, "headers", None)
    if headers is None:
        return DeviceReport()
    raw_time = headers.get(CLIENT_TIME_HEADER)
    client_time: int | None = None
    if raw_time:
        try:
            client_time = int(float(raw_time))
        except ValueError:
            client_time = None
    version = headers.get(APP_VERSION_HEADER)
    return DeviceReport(version[:64] if version else None, client_time)


async def pull_bulk(
    info: Info, collection: Collection, checkpoint: Any, limit: int
) -> tuple[list[dict[str, Any]], Checkpoint | None]:
    """Checks the limit and the device, then pulls; shared by the three pull fields."""
    ctx = info.context
    viewer = ctx.require_viewer()
    check_limit(limit, ctx.settings.sync_max_pull_limit)
    scope = scope_of(viewer)
    start = _checkpoint(checkpoint)
    await ctx.device_tracker.record_pull(
        ctx.sessionmaker,
        viewer.account_id,
        viewer.session_id,
        collection.key,
        audience.scope_key(scope, collection),
        start is not None,
        device_report(info),
        ctx.clock(),
    )
    async with ctx.sessionmaker() as db:
        result = await pull(db, scope, collection, start, limit)
    return result.documents, result.checkpoint


def push_writer(ctx: Context) -> Writer:
    """The viewer as a writer; a device whose session was revoked still gets its rows kept."""
    if ctx.viewer is not None:
        return Writer(
            ctx.viewer.account_id,
            ctx.viewer.session_id,
            scope_of(ctx.viewer),
            member_id=ctx.viewer.member_id,
        )
    ended = ctx.ended_session
    if ended is not None:
        # A valid signature on a session that no longer exists: a revoked device.
        return Writer(ended.account_id, ended.session_id, Scope("none"), revoked=True)
    raise Unauthenticated(ctx.auth_problem)


async def push_rows(
    info: Info, collection: Collection, rows: list[Any] | None
) -> list[dict[str, Any]]:
    """Applies a push; sync.push tells the stream once it has committed."""
    ctx = info.context
    writer = push_writer(ctx)
    batch = [
        PushRow(
            wire_dict(row.new_document_state),
            None
            if row.assumed_master_state in (None, strawberry.UNSET)
            else wire_dict(row.assumed_master_state),
        )
        for row in rows or []
    ]
    if len(batch) > ctx.settings.sync_max_push_rows:
        raise InputError.one(
            None,
            f"每次最多提交 {ctx.settings.sync_max_push_rows} 行 "
            f"(at most {ctx.settings.sync_max_push_rows} rows per push)",
            ErrorCode.PAGE_SIZE,
        )
    if not batch:
        return []
    outcome = await push(ctx.sessionmaker, collection, writer, batch, ctx.clock(), ctx.feed)
    return outcome.returned


def headers_token(headers: Any) -> str | None:
    if headers is None or headers is strawberry.UNSET:
        return None
    value = headers.authorization
    return None if value is strawberry.UNSET else value


async def stream(
    info: Info, collection: Collection, header_token: str | None
) -> AsyncGenerator[list[dict[str, Any]], None]:
    """sync.stream's changes for the subscriber the socket's headers, its connectionParams or
    the `headers` argument sign in (in that order)."""
    ctx = info.context
    upgrade = ctx.request.headers.get("authorization") if ctx.request is not None else None
    subscriber = await authenticate_subscriber(
        (upgrade, connection_token(ctx.connection_params), header_token),
        ctx.settings.secret_key,
        ctx.sessionmaker,
        ctx.clock,
        ctx.viewer_cache,
        ctx.auth_problem,
    )
    async for documents in stream_changes(
        collection,
        subscriber,
        feed=ctx.feed,
        cache=ctx.change_cache,
        sessionmaker=ctx.sessionmaker,
        clock=ctx.clock,
        guard=ctx.stream_guard or StreamGuard(ctx.sessionmaker, ctx.clock),
        close=ctx.close_socket,
    ):
        yield documents


# --- root fields ------------------------------------------------------------------------------


@strawberry.type
class SyncQuery:
    @strawberry.field(
        description="Documents with (updatedAt, id) after the checkpoint, ascending, at most limit."
    )
    async def pull_visit(
        self,
        info: Info,
        checkpoint: VisitInputCheckpoint | None = strawberry.UNSET,
        *,
        limit: int,
    ) -> VisitPullBulk:
        documents, end = await pull_bulk(info, collections.VISIT, checkpoint, limit)
        return VisitPullBulk(
            documents=[from_wire(Visit, d) for d in documents],
            checkpoint=VisitCheckpoint(id=end.id, updated_at=end.updated_at) if end else None,
        )

    @strawberry.field(
        description="Documents with (updatedAt, id) after the checkpoint, ascending, at most limit."
    )
    async def pull_patrol(
        self,
        info: Info,
        checkpoint: PatrolInputCheckpoint | None = strawberry.UNSET,
        *,
        limit: int,
    ) -> PatrolPullBulk:
        documents, end = await pull_bulk(info, collections.PATROL, checkpoint, limit)
        return PatrolPullBulk(
            documents=[from_wire(Patrol, d) for d in documents],
            checkpoint=PatrolCheckpoint(id=end.id, updated_at=end.updated_at) if end else None,
        )

    @strawberry.field(
        description="Documents with (updatedAt, id) after the checkpoint, ascending, at most limit."
    )
    async def pull_service_action(
        self,
        info: Info,
        checkpoint: ServiceActionInputCheckpoint | None = strawberry.UNSET,
        *,
        limit: int,
    ) -> ServiceActionPullBulk:
        documents, end = await pull_bulk(info, collections.SERVICE_ACTION, checkpoint, limit)
        return ServiceActionPullBulk(
            documents=[from_wire(ServiceAction, d) for d in documents],
            checkpoint=(
                ServiceActionCheckpoint(id=end.id, updated_at=end.updated_at) if end else None
            ),
        )

    @strawberry.field(
        description="Documents with (updatedAt, id) after the checkpoint, ascending, at most limit."
    )
    async def pull_directive(
        self,
        info: Info,
        checkpoint: DirectiveInputCheckpoint | None = strawberry.UNSET,
        *,
        limit: int,
    ) -> DirectivePullBulk:
        documents, end = await pull_bulk(info, collections.DIRECTIVE, checkpoint, limit)
        return DirectivePullBulk(
            documents=[from_wire(Directive, d) for d in documents],
            checkpoint=DirectiveCheckpoint(id=end.id, updated_at=end.updated_at) if end else None,
        )

    @strawberry.field(
        description="Documents with (updatedAt, id) after the checkpoint, ascending, at most limit."
    )
    async def pull_reminder(
        self,
        info: Info,
        checkpoint: ReminderInputCheckpoint | None = strawberry.UNSET,
        *,
        limit: int,
    ) -> ReminderPullBulk:
        documents, end = await pull_bulk(info, collections.REMINDER, checkpoint, limit)
        return ReminderPullBulk(
            documents=[from_wire(Reminder, d) for d in documents],
            checkpoint=ReminderCheckpoint(id=end.id, updated_at=end.updated_at) if end else None,
        )

    @strawberry.field(
        description="Documents with (updatedAt, id) after the checkpoint, ascending, at most limit."
    )
    async def pull_directive_receipt(
        self,
        info: Info,
        checkpoint: DirectiveReceiptInputCheckpoint | None = strawberry.UNSET,
        *,
        limit: int,
    ) -> DirectiveReceiptPullBulk:
        documents, end = await pull_bulk(info, collections.DIRECTIVE_RECEIPT, checkpoint, limit)
        return DirectiveReceiptPullBulk(
            documents=[from_wire(DirectiveReceipt, d) for d in documents],
            checkpoint=(
                DirectiveReceiptCheckpoint(id=end.id, updated_at=end.updated_at) if end else None
            ),
        )

    @strawberry.field(
        description="Documents with (updatedAt, id) after the checkpoint, ascending, at most limit."
    )
    async def pull_directive_progress(
        self,
        info: Info,
        checkpoint: DirectiveProgressInputCheckpoint | None = strawberry.UNSET,
        *,
        limit: int,
    ) -> DirectiveProgressPullBulk:
        documents, end = await pull_bulk(info, collections.DIRECTIVE_PROGRESS, checkpoint, limit)
        return DirectiveProgressPullBulk(
            documents=[from_wire(DirectiveProgress, d) for d in documents],
            checkpoint=(
                DirectiveProgressCheckpoint(id=end.id, updated_at=end.updated_at) if end else None
            ),
        )


@strawberry.type
class SyncMutation:
    @strawberry.mutation(
        description=(
            "Returns the server state of each row the client must adopt; [] when all were "
            "taken as sent."
        )
    )
    async def push_visit(
        self, info: Info, visit_push_row: list[VisitInputPushRow] | None = strawberry.UNSET
    ) -> list[Visit]:
        returned = await push_rows(info, collections.VISIT, visit_push_row)
        return [from_wire(Visit, d) for d in returned]

    @strawberry.mutation(
        description=(
            "Returns the server state of each row the client must adopt; [] when all were "
            "taken as sent."
        )
    )
    async def push_patrol(
        self, info: Info, patrol_push_row: list[PatrolInputPushRow] | None = strawberry.UNSET
    ) -> list[Patrol]:
        returned = await push_rows(info, collections.PATROL, patrol_push_row)
        return [from_wire(Patrol, d) for d in returned]

    @strawberry.mutation(
        description=(
            "Returns the server state of each row the client must adopt; [] when all were "
            "taken as sent."
        )
    )
    async def push_service_action(
        self,
        info: Info,
        service_action_push_row: list[ServiceActionInputPushRow] | None = strawberry.UNSET,
    ) -> list[ServiceAction]:
        returned = await push_rows(info, collections.SERVICE_ACTION, service_action_push_row)
        return [from_wire(ServiceAction, d) for d in returned]

    @strawberry.mutation(
        description=(
            "Returns the server state of each row the client must adopt; [] when all were "
            "taken as sent."
        )
    )
    async def push_directive_receipt(
        self,
        info: Info,
        directive_receipt_push_row: list[DirectiveReceiptInputPushRow] | None = strawberry.UNSET,
    ) -> list[DirectiveReceipt]:
        returned = await push_rows(info, collections.DIRECTIVE_RECEIPT, directive_receipt_push_row)
        return [from_wire(DirectiveReceipt, d) for d in returned]

    @strawberry.mutation(
        description=(
            "Returns the server state of each row the client must adopt; [] when all were "
            "taken as sent."
        )
    )
    async def push_directive_progress(
        self,
        info: Info,
        directive_progress_push_row: list[DirectiveProgressInputPushRow] | None = strawberry.UNSET,
    ) -> list[DirectiveProgress]:
        returned = await push_rows(
            info, collections.DIRECTIVE_PROGRESS, directive_progress_push_row
        )
        return [from_wire(DirectiveProgress, d) for d in returned]


@strawberry.type
class SyncSubscription:
    @strawberry.subscription(
        description=(
            "Every accepted write the viewer may see, as it commits, with the checkpoint of its "
            "last document."
        )
    )
    async def stream_visit(
        self, info: Info, headers: VisitInputHeaders | None = strawberry.UNSET
    ) -> AsyncGenerator[VisitPullBulk, None]:
        async for documents in stream(info, collections.VISIT, headers_token(headers)):
            last = documents[-1]
            yield VisitPullBulk(
                documents=[from_wire(Visit, d) for d in documents],
                checkpoint=VisitCheckpoint(id=last["id"], updated_at=last["updatedAt"]),
            )

    @strawberry.subscription(
        description=(
            "Every accepted write the viewer may see, as it commits, with the checkpoint of its "
            "last document."
        )
    )
    async def stream_patrol(
        self, info: Info, headers: PatrolInputHeaders | None = strawberry.UNSET
    ) -> AsyncGenerator[PatrolPullBulk, None]:
        async for documents in stream(info, collections.PATROL, headers_token(headers)):
            last = documents[-1]
            yield PatrolPullBulk(
                documents=[from_wire(Patrol, d) for d in documents],
                checkpoint=PatrolCheckpoint(id=last["id"], updated_at=last["updatedAt"]),
            )

    @strawberry.subscription(
        description=(
            "Every accepted write the viewer may see, as it commits, with the checkpoint of its "
            "last document."
        )
    )
    async def stream_service_action(
        self, info: Info, headers: ServiceActionInputHeaders | None = strawberry.UNSET
    ) -> AsyncGenerator[ServiceActionPullBulk, None]:
        async for documents in stream(info, collections.SERVICE_ACTION, headers_token(headers)):
            last = documents[-1]
            yield ServiceActionPullBulk(
                documents=[from_wire(ServiceAction, d) for d in documents],
                checkpoint=ServiceActionCheckpoint(id=last["id"], updated_at=last["updatedAt"]),
            )

    @strawberry.subscription(
        description=(
            "Every accepted write the viewer may see, as it commits, with the checkpoint of its "
            "last document."
        )
    )
    async def stream_directive(
        self, info: Info, headers: DirectiveInputHeaders | None = strawberry.UNSET
    ) -> AsyncGenerator[DirectivePullBulk, None]:
        async for documents in stream(info, collections.DIRECTIVE, headers_token(headers)):
            last = documents[-1]
            yield DirectivePullBulk(
                documents=[from_wire(Directive, d) for d in documents],
                checkpoint=DirectiveCheckpoint(id=last["id"], updated_at=last["updatedAt"]),
            )

    @strawberry.subscription(
        description=(
            "Every accepted write the viewer may see, as it commits, with the checkpoint of its "
            "last document."
        )
    )
    async def stream_reminder(
        self, info: Info, headers: ReminderInputHeaders | None = strawberry.UNSET
    ) -> AsyncGenerator[ReminderPullBulk, None]:
        async for documents in stream(info, collections.REMINDER, headers_token(headers)):
            last = documents[-1]
            yield ReminderPullBulk(
                documents=[from_wire(Reminder, d) for d in documents],
                checkpoint=ReminderCheckpoint(id=last["id"], updated_at=last["updatedAt"]),
            )

    @strawberry.subscription(
        description=(
            "Every accepted write the viewer may see, as it commits, with the checkpoint of its "
            "last document."
        )
    )
    async def stream_directive_receipt(
        self, info: Info, headers: DirectiveReceiptInputHeaders | None = strawberry.UNSET
    ) -> AsyncGenerator[DirectiveReceiptPullBulk, None]:
        async for documents in stream(info, collections.DIRECTIVE_RECEIPT, headers_token(headers)):
            last = documents[-1]
            yield DirectiveReceiptPullBulk(
                documents=[from_wire(DirectiveReceipt, d) for d in documents],
                checkpoint=DirectiveReceiptCheckpoint(id=last["id"], updated_at=last["updatedAt"]),
            )

    @strawberry.subscription(
        description=(
            "Every accepted write the viewer may see, as it commits, with the checkpoint of its "
            "last document."
        )
    )
    async def stream_directive_progress(
        self, info: Info, headers: DirectiveProgressInputHeaders | None = strawberry.UNSET
    ) -> AsyncGenerator[DirectiveProgressPullBulk, None]:
        async for documents in stream(info, collections.DIRECTIVE_PROGRESS, headers_token(headers)):
            last = documents[-1]
            yield DirectiveProgressPullBulk(
                documents=[from_wire(DirectiveProgress, d) for d in documents],
                checkpoint=DirectiveProgressCheckpoint(id=last["id"], updated_at=last["updatedAt"]),
            )
