"""The sync wire contract (../shared/sync-contract.graphql): pull, push and stream per collection.

Names and shapes are exactly those RxDB's schema-based builders generate, so a phone app built
on RxDB's GraphQL replication syncs unchanged. Every collection's types and root fields are built
here from its descriptor in sync/collection.py (`SyncTypes.build`): adding a collection is adding
its descriptor. The resolvers only translate: the protocol lives in sync/.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import uuid
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias, TypeVar

import strawberry
from strawberry.utils.str_converters import to_camel_case

from access import audience
from access.auth import authenticate_subscriber, connection_token
from access.errors import ErrorCode, InputError, Unauthenticated
from access.scope import Scope, scope_of
from access.viewer import mask_phone
from core.global_id import global_id_uuid_or_none
from models import Role, VolunteerRole
from resolvers.field_record import decode_json_text
from resolvers.sync_admin import CompetingVersion as CompetingRecord
from schema.context import Context, Info
from schema.node import to_global_id
from sync.collection import SYNCED, Collection, WebField, WireField
from sync.fleet import DeviceReport
from sync.pull import Checkpoint, check_limit, pull
from sync.push import PushRow, Writer, push
from sync.stream import stream_changes
from sync.stream_guard import StreamGuard

if TYPE_CHECKING:
    from schema.branch import Branch
    from schema.member import Member
    from schema.sync_admin import SyncConflict

MemberRef = Annotated["Member", strawberry.lazy("schema.member")]
BranchRef = Annotated["Branch", strawberry.lazy("schema.branch")]

T = TypeVar("T")

APP_VERSION_HEADER = "x-meijing-app-version"
CLIENT_TIME_HEADER = "x-meijing-client-time"


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


def _volunteers(info: Info, participants: str) -> list[Volunteer]:
    """The outside volunteers in a participants list; phones masked unless the viewer may read
    them (admins, secretaries)."""
    viewer = info.context.require_viewer()
    clear = viewer.role in (Role.ADMIN, Role.SECRETARY)
    found: list[Volunteer] = []
    for element in decode_json_text(participants):
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
    _conflict_uuid: strawberry.Private[uuid.UUID]

    @strawberry.field(description="The SyncConflict to settle; null where you may not see it.")
    async def conflict(
        self, info: Info
    ) -> Annotated[SyncConflict, strawberry.lazy("schema.sync_admin")] | None:
        from schema.node import refetch
        from schema.sync_admin import SyncConflict

        found = await refetch(info, "SyncConflict", str(self._conflict_uuid))
        return found if isinstance(found, SyncConflict) else None

    @classmethod
    def from_record(cls, record: CompetingRecord) -> CompetingVersion:
        return cls(
            conflict_id=to_global_id("SyncConflict", record.conflict_id),
            _conflict_uuid=record.conflict_id,
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


# --- the types of one collection, from its descriptor ---------------------------------------


class SyncDocument:
    """Base of every generated document type (Visit, Patrol, ...): what other schema modules
    name when they take any of them."""


class SyncInput:
    """Base of every generated document input type (VisitInput, ...)."""


def _optional(kind: Any) -> Any:
    return kind | None


def _list_of(kind: Any) -> Any:
    return types.GenericAlias(list, (kind,))


def _wire_type(f: WireField, *, output: bool) -> Any:
    """The Python type of a wire field: list fields are JSON text, never null once stored."""
    base: Any = int if f.kind == "int" else str
    if not output or (not f.required and f.kind != "json"):
        return _optional(base)
    return base


def _signature(
    fn: Callable[..., Any],
    parameters: list[inspect.Parameter],
    returns: Any,
) -> Callable[..., Any]:
    """Gives a generated resolver the signature strawberry reads its arguments and type from."""
    self_info = [
        inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        inspect.Parameter("info", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Info),
    ]
    fn.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [*self_info, *parameters], return_annotation=returns
    )
    return fn


def _web_field(collection: Collection, spec: WebField) -> Any:
    """A web frontend's field of a document type, resolved by its kind (see `WebField`)."""
    source = _snake(spec.source)
    if spec.kind == "member":

        async def member(self: Any, info: Info) -> Any:
            value = getattr(self, source)
            return await _officer(info, value) if value else None

        return strawberry.field(
            resolver=_signature(member, [], _optional(MemberRef)),
            description=spec.description,
        )
    if spec.kind == "branch":

        async def branch(self: Any, info: Info) -> Any:
            return await _branch(info, getattr(self, source))

        return strawberry.field(
            resolver=_signature(branch, [], _optional(BranchRef)),
            description=spec.description,
        )
    if spec.kind == "members":

        async def members(self: Any, info: Info) -> Any:
            return await _members(info, getattr(self, source))

        return strawberry.field(
            resolver=_signature(members, [], _list_of(MemberRef)), description=spec.description
        )
    if spec.kind == "label":
        labels = spec.labels

        def label(self: Any, info: Info) -> Any:
            return _label(labels, getattr(self, source))

        return strawberry.field(
            resolver=_signature(label, [], _optional(str)),
            description=spec.description,
        )
    if spec.kind == "volunteers":

        def volunteers(self: Any, info: Info) -> Any:
            return _volunteers(info, getattr(self, source))

        return strawberry.field(
            resolver=_signature(volunteers, [], _list_of(Volunteer)), description=spec.description
        )

    async def competing_versions(self: Any, info: Info) -> Any:
        return await _competing(info, collection, self.id)

    return strawberry.field(
        resolver=_signature(competing_versions, [], _list_of(CompetingVersion)),
        description=spec.description,
    )


def _generated(name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> type:
    return type(name, bases, {"__module__": __name__, **namespace})


@dataclass(frozen=True)
class SyncTypes:
    """One collection's GraphQL types, named as RxDB's builders expect for `<Name>`."""

    collection: Collection
    document: type  # <Name>
    checkpoint: type  # <Name>Checkpoint
    input_checkpoint: type  # <Name>InputCheckpoint
    headers: type  # <Name>InputHeaders
    pull_bulk: type  # <Name>PullBulk
    input: type | None  # <Name>Input (pushed collections only)
    push_row: type | None  # <Name>InputPushRow (pushed collections only)

    @classmethod
    def build(cls, collection: Collection) -> SyncTypes:
        name = collection.name
        data: dict[str, Any] = {"id": strawberry.ID}
        data |= {_snake(f.name): _wire_type(f, output=True) for f in collection.fields}
        data |= {"updated_at": float, "deleted": bool}
        web = {_snake(w.name): _web_field(collection, w) for w in collection.web_fields}
        document = strawberry.type(
            _generated(name, (SyncDocument,), {"__annotations__": data, **web}),
            description=collection.description or None,
        )
        cursor = {"id": str, "updated_at": float}
        checkpoint = strawberry.type(
            _generated(f"{name}Checkpoint", (), {"__annotations__": dict(cursor)})
        )
        input_checkpoint = strawberry.input(
            _generated(f"{name}InputCheckpoint", (), {"__annotations__": dict(cursor)})
        )
        headers = strawberry.input(
            _generated(
                f"{name}InputHeaders",
                (),
                {
                    "__annotations__": {"authorization": _optional(str)},
                    "authorization": strawberry.field(
                        name="Authorization", default=strawberry.UNSET
                    ),
                },
            )
        )
        pull_bulk = strawberry.type(
            _generated(
                f"{name}PullBulk",
                (),
                {
                    "__annotations__": {
                        "documents": _list_of(document),
                        "checkpoint": _optional(checkpoint),
                    }
                },
            )
        )
        if collection.pull_only:
            return cls(
                collection, document, checkpoint, input_checkpoint, headers, pull_bulk, None, None
            )
        sent: dict[str, Any] = {"id": strawberry.ID}
        sent |= {_snake(f.name): _wire_type(f, output=False) for f in collection.fields}
        sent |= {"updated_at": _optional(float), "deleted": _optional(bool)}
        unset = {key: strawberry.UNSET for key in sent if key != "id"}
        document_input = strawberry.input(
            _generated(f"{name}Input", (SyncInput,), {"__annotations__": sent, **unset})
        )
        push_row = strawberry.input(
            _generated(
                f"{name}InputPushRow",
                (),
                {
                    "__annotations__": {
                        "assumed_master_state": _optional(document_input),
                        "new_document_state": document_input,
                    },
                    "assumed_master_state": strawberry.UNSET,
                },
            )
        )
        return cls(
            collection,
            document,
            checkpoint,
            input_checkpoint,
            headers,
            pull_bulk,
            document_input,
            push_row,
        )

    @property
    def field_name(self) -> str:
        """The collection's name in root fields' Python names: visit, service_action."""
        return _snake(self.collection.name).lstrip("_")

    def bulk(self, documents: list[dict[str, Any]], end: Checkpoint | None) -> Any:
        """A <Name>PullBulk of wire documents, ending at `end`."""
        return self.pull_bulk(
            documents=[from_wire(self.document, d) for d in documents],
            checkpoint=self.checkpoint(id=end.id, updated_at=end.updated_at) if end else None,
        )

    # --- root fields ---------------------------------------------------------------------

    def pull_field(self) -> Any:
        """pull<Name>(checkpoint, limit): a page of documents after the checkpoint."""
        collection = self.collection

        async def resolve(
            self_: Any, info: Info, checkpoint: Any = strawberry.UNSET, *, limit: int
        ) -> Any:
            documents, end = await pull_bulk(info, collection, checkpoint, limit)
            return self.bulk(documents, end)

        parameters = [
            inspect.Parameter(
                "checkpoint",
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                default=strawberry.UNSET,
                annotation=_optional(self.input_checkpoint),
            ),
            inspect.Parameter("limit", inspect.Parameter.KEYWORD_ONLY, annotation=int),
        ]
        return strawberry.field(
            resolver=_signature(resolve, parameters, self.pull_bulk),
            description=(
                "Documents with (updatedAt, id) after the checkpoint, ascending, at most limit."
            ),
        )

    def push_field(self) -> Any:
        """push<Name>(<name>PushRow): the rows the client must adopt."""
        collection = self.collection
        argument = f"{self.field_name}_push_row"  # visitPushRow, as RxDB's builder names it

        async def resolve(self_: Any, info: Info, **rows: Any) -> Any:
            returned = await push_rows(info, collection, rows.get(argument))
            return [from_wire(self.document, d) for d in returned]

        parameters = [
            inspect.Parameter(
                argument,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                default=strawberry.UNSET,
                annotation=_optional(_list_of(self.push_row)),
            )
        ]
        return strawberry.mutation(
            resolver=_signature(resolve, parameters, _list_of(self.document)),
            description=(
                "Returns the server state of each row the client must adopt; [] when all were "
                "taken as sent."
            ),
        )

    def stream_field(self) -> Any:
        """stream<Name>(headers): each committed write the subscriber may see."""
        collection = self.collection

        async def resolve(self_: Any, info: Info, headers: Any = strawberry.UNSET) -> Any:
            async for documents in stream(info, collection, headers_token(headers)):
                last = documents[-1]
                yield self.pull_bulk(
                    documents=[from_wire(self.document, d) for d in documents],
                    checkpoint=self.checkpoint(id=last["id"], updated_at=last["updatedAt"]),
                )

        parameters = [
            inspect.Parameter(
                "headers",
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                default=strawberry.UNSET,
                annotation=_optional(self.headers),
            )
        ]
        return strawberry.subscription(
            resolver=_signature(
                resolve, parameters, types.GenericAlias(AsyncGenerator, (self.pull_bulk, None))
            ),
            description=(
                "Every accepted write the viewer may see, as it commits, with the checkpoint of "
                "its last document."
            ),
        )


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


# --- the sync surface -------------------------------------------------------------------------

TYPES: dict[str, SyncTypes] = {c.key: SyncTypes.build(c) for c in SYNCED}
"""Every synced collection's types, by collection key, in the contract's order."""

SyncQuery = strawberry.type(
    _generated(
        "SyncQuery",
        (),
        {f"pull_{t.field_name}": t.pull_field() for t in TYPES.values()},
    )
)
SyncMutation = strawberry.type(
    _generated(
        "SyncMutation",
        (),
        {
            f"push_{t.field_name}": t.push_field()
            for t in TYPES.values()
            if not t.collection.pull_only
        },
    )
)
SyncSubscription = strawberry.type(
    _generated(
        "SyncSubscription",
        (),
        {f"stream_{t.field_name}": t.stream_field() for t in TYPES.values()},
    )
)

# The document and input types other schema modules name (the web's field record and directive
# fields). mypy sees their common bases; strawberry sees the generated types.
if TYPE_CHECKING:
    Visit: TypeAlias = SyncDocument
    Patrol: TypeAlias = SyncDocument
    ServiceAction: TypeAlias = SyncDocument
    DirectiveProgress: TypeAlias = SyncDocument
    VisitInput: TypeAlias = SyncInput
    PatrolInput: TypeAlias = SyncInput
    ServiceActionInput: TypeAlias = SyncInput
else:
    Visit = TYPES["visit"].document
    Patrol = TYPES["patrol"].document
    ServiceAction = TYPES["service_action"].document
    DirectiveProgress = TYPES["directive_progress"].document
    VisitInput = TYPES["visit"].input
    PatrolInput = TYPES["patrol"].input
    ServiceActionInput = TYPES["service_action"].input
