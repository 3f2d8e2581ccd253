"""Field records for web frontends: `visits`, `patrols`, `serviceActions` connections and the
create / edit / delete mutations, which are pushes through sync/ (same merge, log and stream).

The web reads them as their own types (VisitRecord, PatrolRecord, ServiceActionRecord): Nodes
with global ids, enums, DateTimes, typed tracks and participants, and references as objects. The
sync wire (schema/sync.py) keeps the contract's plain fields for phones.
"""

from __future__ import annotations

import dataclasses
import enum
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any, Generic, Protocol, TypeVar

import orjson
import strawberry
from strawberry.utils.str_converters import to_camel_case

from access.errors import ErrorCode, InputError, optional_global_id
from access.viewer import Viewer, mask_phone
from core.global_id import (
    document_global_id,
    document_id_of,
    global_id,
    global_id_uuid_or_none,
)
from models import (
    ParticipantKind,
    PatrolKind,
    Role,
    ServiceActionType,
    VisitCategory,
    VisitStatus,
    VolunteerRole,
)
from resolvers import field_record as ops
from resolvers.field_record import RecordFilter, WebWrite, decode_json_text
from schema.branch import Branch
from schema.connection import Connection, connection_from_page, page_of
from schema.context import Info
from schema.dashboard import PatrolKindEnum, ServiceActionTypeEnum, VisitCategoryEnum
from schema.errors import InvalidInput, read
from schema.member import Member
from schema.node import Node, register_document_node
from schema.sync import CompetingVersion
from sync.collection import PATROL, SERVICE_ACTION, VISIT, Collection, parse_instant

T = TypeVar("T")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)

VisitStatusEnum = strawberry.enum(
    VisitStatus, name="VisitStatus", description="待办 · 已上报 · 已解决"
)
ParticipantKindEnum = strawberry.enum(
    ParticipantKind, name="ParticipantKind", description="党员 · 志愿者"
)
VolunteerRoleEnum = strawberry.enum(
    VolunteerRole, name="VolunteerRole", description="老党员 · 优秀网格长 · 党员志愿者 · 其他志愿者"
)
From = Annotated[
    datetime | None,
    strawberry.argument(name="from", description="Only records at or after this moment."),
]
To = Annotated[datetime | None, strawberry.argument(description="Only records before this moment.")]
Place = Annotated[str | None, strawberry.argument(description="Part of the place name.")]
# Published by the dashboard, which counts by them; named here so the dependency is visible.
_ENUMS = (VisitCategoryEnum, PatrolKindEnum, ServiceActionTypeEnum)


def _instant(text: object) -> datetime | None:
    return parse_instant(text) if isinstance(text, str) else None


def _required_instant(text: object) -> datetime:
    moment = _instant(text)
    assert moment is not None, "a stored record's required instants were checked on the way in"
    return moment


def _member_uuid(value: object) -> uuid.UUID | None:
    return global_id_uuid_or_none(value, "Member") if isinstance(value, str) else None


@strawberry.type(description="A GPS point of a patrol's track, in the order it was recorded.")
class TrackPoint:
    latitude: float
    longitude: float
    at: datetime


@strawberry.type(
    description=(
        "Someone who took part in a patrol or a service action: a member of a branch, or an "
        "outside volunteer (老党员、优秀网格长、党员志愿者)."
    )
)
class Participant:
    name: str
    kind: ParticipantKind
    kind_label: str
    member: Member | None = strawberry.field(description="The member; null for a volunteer.")
    role: VolunteerRole | None = strawberry.field(description="A volunteer's role.")
    role_label: str | None
    phone: str | None = strawberry.field(
        description="A volunteer's phone; masked unless you are an admin or secretary."
    )


async def _participants(info: Info, elements: list[Any]) -> list[Participant]:
    """A participants list in its order: members the viewer may read (others are left out),
    and volunteers with their phones masked unless the viewer may read them."""
    viewer = info.context.require_viewer()
    ids = [_member_uuid(e.get("memberId") if isinstance(e, dict) else e) for e in elements]
    rows = await info.context.loaders.member.load_many([i for i in ids if i is not None])
    found = {row.id: row for row in rows if row is not None}
    clear = viewer.role in (Role.ADMIN, Role.SECRETARY)
    people: list[Participant] = []
    for element, member_id in zip(elements, ids, strict=True):
        if member_id is not None:
            row = found.get(member_id)
            if row is not None:
                member = Member.from_model(row)
                kind = ParticipantKind.MEMBER
                people.append(
                    Participant(
                        name=member.name,
                        kind=kind,
                        kind_label=kind.label,
                        member=member,
                        role=None,
                        role_label=None,
                        phone=None,
                    )
                )
        elif isinstance(element, dict) and isinstance(element.get("name"), str):
            role = VolunteerRole(element["role"]) if element.get("role") else None
            phone = element.get("phone")
            kind = ParticipantKind.VOLUNTEER
            people.append(
                Participant(
                    name=element["name"],
                    kind=kind,
                    kind_label=kind.label,
                    member=None,
                    role=role,
                    role_label=role.label if role else None,
                    phone=phone if clear else mask_phone(phone),
                )
            )
    return people


@strawberry.interface(
    description=(
        "A field record (visit, patrol, service action) as the web reads it: a Node whose "
        "references are objects. Phones sync the same record through pull<Name> as plain fields."
    )
)
class FieldRecord(Node):
    deleted: bool = strawberry.field(description="A tombstone (listed with includeDeleted).")
    _document_id: strawberry.Private[str]
    _branch_id: strawberry.Private[uuid.UUID | None]
    _officer_id: strawberry.Private[uuid.UUID | None]
    _collection: strawberry.Private[str]

    @strawberry.field(description="The branch the record belongs to.")
    async def branch(self, info: Info) -> Branch | None:
        if self._branch_id is None:
            return None
        row = await info.context.loaders.branch.load(self._branch_id)
        return Branch.from_model(row) if row else None

    @strawberry.field(description="The officer who recorded it; null outside your scope.")
    async def officer(self, info: Info) -> Member | None:
        info.context.require_viewer()
        if self._officer_id is None:
            return None
        row = await info.context.loaders.member.load(self._officer_id)
        return Member.from_model(row) if row else None

    @strawberry.field(
        description=(
            "Versions of its free-text fields that lost where both sides changed the same "
            "lines, oldest first, until settled."
        )
    )
    async def competing_versions(self, info: Info) -> list[CompetingVersion]:
        info.context.require_viewer()
        key = (self._collection, self._document_id)
        records = await info.context.loaders.competing_versions.load(key)
        return [CompetingVersion.from_record(r) for r in records]


def _common(collection: Collection, document: Mapping[str, Any]) -> dict[str, Any]:
    branch = document.get("branchId")
    return {
        "id": strawberry.ID(document_global_id(collection.name, str(document["id"]))),
        "deleted": bool(document.get("deleted")),
        "_document_id": str(document["id"]),
        "_branch_id": global_id_uuid_or_none(branch, "Branch") if isinstance(branch, str) else None,
        "_officer_id": _member_uuid(document.get("officerId")),
        "_collection": collection.key,
    }


@strawberry.type(description="走访: a village visit recorded by a field officer.")
class VisitRecord(FieldRecord):
    village: str
    household: str | None
    category: VisitCategory
    category_label: str
    concerns: str | None = strawberry.field(description="群众诉求: what people raised.")
    resolution: str | None
    status: VisitStatus
    status_label: str
    people_reached: int
    visited_at: datetime

    @classmethod
    def from_wire(cls, document: Mapping[str, Any]) -> VisitRecord:
        category = VisitCategory(document["category"])
        status = VisitStatus(document["status"])
        return cls(
            **_common(VISIT, document),
            village=document["village"],
            household=document.get("household"),
            category=category,
            category_label=category.label,
            concerns=document.get("concerns"),
            resolution=document.get("resolution"),
            status=status,
            status_label=status.label,
            people_reached=document["peopleReached"],
            visited_at=_required_instant(document["visitedAt"]),
        )


@strawberry.type(description="巡逻: a day or night patrol, with its crew and GPS track.")
class PatrolRecord(FieldRecord):
    kind: PatrolKind
    kind_label: str
    area: str
    started_at: datetime
    ended_at: datetime | None
    track: list[TrackPoint] = strawberry.field(description="The GPS track, oldest point first.")
    observations: str | None
    _people: strawberry.Private[list[Any]]

    @strawberry.field(description="The crew: members of a branch, in the order recorded.")
    async def participants(self, info: Info) -> list[Participant]:
        return await _participants(info, self._people)

    @classmethod
    def from_wire(cls, document: Mapping[str, Any]) -> PatrolRecord:
        kind = PatrolKind(document["kind"])
        points = [
            TrackPoint(latitude=p["lat"], longitude=p["lng"], at=_required_instant(p["t"]))
            for p in decode_json_text(document.get("track"))
            if isinstance(p, dict)
        ]
        return cls(
            **_common(PATROL, document),
            kind=kind,
            kind_label=kind.label,
            area=document["area"],
            started_at=_required_instant(document["startedAt"]),
            ended_at=_instant(document.get("endedAt")),
            track=points,
            observations=document.get("observations"),
            _people=decode_json_text(document.get("participants")),
        )


@strawberry.type(description="为民服务行动: a community-service action (六项行动 and campaigns).")
class ServiceActionRecord(FieldRecord):
    type: ServiceActionType
    type_label: str
    title: str
    place: str | None
    happened_at: datetime
    people_reached: int
    difficulties_solved: int
    banners_received: int
    notes: str | None
    _people: strawberry.Private[list[Any]]

    @strawberry.field(description="Members and outside volunteers, in the order recorded.")
    async def participants(self, info: Info) -> list[Participant]:
        return await _participants(info, self._people)

    @classmethod
    def from_wire(cls, document: Mapping[str, Any]) -> ServiceActionRecord:
        kind = ServiceActionType(document["type"])
        return cls(
            **_common(SERVICE_ACTION, document),
            type=kind,
            type_label=kind.label,
            title=document["title"],
            place=document.get("place"),
            happened_at=_required_instant(document["happenedAt"]),
            people_reached=document["peopleReached"],
            difficulties_solved=document["difficultiesSolved"],
            banners_received=document["bannersReceived"],
            notes=document.get("notes"),
            _people=decode_json_text(document.get("participants")),
        )


@strawberry.type(description="The write was taken as submitted (or merged without loss).")
class Saved(Generic[T]):
    record: T


@strawberry.type(
    description=(
        "Someone changed the same fields since the form was loaded: the server's values were "
        "kept in `fields` (and logged in syncConflicts); everything else was saved."
    )
)
class EditConflict(Generic[T]):
    record: T
    fields: list[str] = strawberry.field(description="Wire names of the fields the server kept.")
    message: str


VisitWriteResult = Annotated[
    Saved[VisitRecord] | EditConflict[VisitRecord] | InvalidInput,
    strawberry.union("VisitWriteResult"),
]
PatrolWriteResult = Annotated[
    Saved[PatrolRecord] | EditConflict[PatrolRecord] | InvalidInput,
    strawberry.union("PatrolWriteResult"),
]
ServiceActionWriteResult = Annotated[
    Saved[ServiceActionRecord] | EditConflict[ServiceActionRecord] | InvalidInput,
    strawberry.union("ServiceActionWriteResult"),
]


# --- what a web form submits: typed fields, turned into the wire form a phone pushes -----------


@strawberry.input(description="A GPS point of a patrol's track.")
class TrackPointInput:
    latitude: float
    longitude: float
    at: datetime = strawberry.field(description="When it was recorded, with its offset.")


@strawberry.input(
    description=(
        "Someone who took part: memberId for a member of a branch, or name (with role and "
        "phone) for an outside volunteer. A patrol's crew are members only."
    )
)
class ParticipantInput:
    member_id: strawberry.ID | None = None
    name: str | None = None
    role: VolunteerRole | None = None
    phone: str | None = None


@strawberry.input(description="Whose record it is: the fields every field record's form sends.")
class _RecordedBy:
    branch_id: strawberry.ID
    officer_id: strawberry.ID | None = strawberry.field(
        default=None, description="The recording officer (a Member id); yours when omitted."
    )


@strawberry.input(description="走访 as a web form submits it.")
class VisitRecordInput(_RecordedBy):
    village: str
    household: str | None = None
    category: VisitCategory
    concerns: str | None = None
    resolution: str | None = None
    status: VisitStatus
    people_reached: int
    visited_at: datetime


@strawberry.input(description="巡逻 as a web form submits it.")
class PatrolRecordInput(_RecordedBy):
    kind: PatrolKind
    area: str
    started_at: datetime
    ended_at: datetime | None = None
    participants: list[ParticipantInput] = strawberry.field(
        default_factory=list, description="The crew (members)."
    )
    track: list[TrackPointInput] = strawberry.field(
        default_factory=list, description="The GPS track, oldest point first."
    )
    observations: str | None = None


@strawberry.input(description="为民服务行动 as a web form submits it.")
class ServiceActionRecordInput(_RecordedBy):
    type: ServiceActionType
    title: str
    place: str | None = None
    happened_at: datetime
    participants: list[ParticipantInput] = strawberry.field(
        default_factory=list, description="Members and outside volunteers."
    )
    people_reached: int
    difficulties_solved: int
    banners_received: int
    notes: str | None = None


EDIT_DESCRIPTION = (
    "id: the record's global id; before: the record as the form loaded it, after: as "
    "submitted. Fields changed on both sides since keep the server's value (EditConflict)."
)


@strawberry.input(description=EDIT_DESCRIPTION)
class EditVisitInput:
    id: strawberry.ID
    before: VisitRecordInput
    after: VisitRecordInput


@strawberry.input(description=EDIT_DESCRIPTION)
class EditPatrolInput:
    id: strawberry.ID
    before: PatrolRecordInput
    after: PatrolRecordInput


@strawberry.input(description=EDIT_DESCRIPTION)
class EditServiceActionInput:
    id: strawberry.ID
    before: ServiceActionRecordInput
    after: ServiceActionRecordInput


RecordInput = VisitRecordInput | PatrolRecordInput | ServiceActionRecordInput
DocumentId = Annotated[
    str | None,
    strawberry.argument(
        description=(
            "The id phones will sync the record by: a UUID you choose, so that a submission "
            "sent twice records once. One is made when omitted."
        )
    ),
]


def _participant(collection: Collection, person: ParticipantInput) -> Any:
    """A participant in wire form: a patrol names members by id, a service action as objects."""
    if person.member_id is not None:
        member = str(person.member_id)
        return member if collection is PATROL else {"memberId": member}
    volunteer = {"name": person.name, "role": person.role.value if person.role else None}
    if person.phone is not None:
        volunteer["phone"] = person.phone
    return volunteer


def _wire_value(collection: Collection, name: str, value: Any) -> Any:
    if name == "track":
        return orjson.dumps(
            [{"t": p.at.isoformat(), "lat": p.latitude, "lng": p.longitude} for p in value]
        ).decode()
    if name == "participants":
        return orjson.dumps([_participant(collection, p) for p in value]).decode()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _wire(
    collection: Collection, fields: RecordInput, document_id: str, viewer: Viewer
) -> dict[str, Any]:
    """The document a phone would push for these fields (times keep the offset given)."""
    document: dict[str, Any] = {"id": document_id}
    for f in dataclasses.fields(fields):
        name = to_camel_case(f.name)
        document[name] = _wire_value(collection, name, getattr(fields, f.name))
    if document["officerId"] is None and viewer.member_id is not None:
        document["officerId"] = global_id("Member", viewer.member_id)
    return document


class _WebRecord(Protocol[R_co]):
    def from_wire(self, document: Mapping[str, Any], /) -> R_co: ...


async def _list(
    info: Info,
    collection: Collection,
    kind: _WebRecord[R],
    first: int | None,
    after: str | None,
    flt: RecordFilter,
) -> Connection[R]:
    request = page_of(info, first, after)
    page = await read(info, lambda db, v: ops.list_records(db, v, collection, flt, request))
    return connection_from_page(
        page,
        [kind.from_wire(d) for d in page.items],
        lambda: read(info, lambda db, v: ops.count_records(db, v, collection, flt)),
    )


def _values(chosen: Sequence[enum.Enum] | None) -> tuple[str, ...]:
    return tuple(str(c.value) for c in chosen or ())


def _filter(
    branch_id: strawberry.ID | None,
    subtree_of: strawberry.ID | None,
    officer_id: strawberry.ID | None,
    since: datetime | None,
    until: datetime | None,
    kinds: Sequence[enum.Enum] | None,
    place: str | None,
    include_deleted: bool,
    statuses: Sequence[enum.Enum] | None = None,
) -> RecordFilter:
    return RecordFilter(
        branch_id=optional_global_id(branch_id, "Branch", "branchId"),
        subtree_of=optional_global_id(subtree_of, "Branch", "subtreeOf"),
        officer_id=optional_global_id(officer_id, "Member", "officerId"),
        since=since,
        until=until,
        kinds=_values(kinds),
        place=place,
        statuses=_values(statuses),
        include_deleted=include_deleted,
    )


async def _write(
    info: Info,
    kind: _WebRecord[R],
    operation: Callable[[Viewer], Awaitable[WebWrite]],
    collection: Collection,
) -> Saved[R] | EditConflict[R] | InvalidInput:
    """Runs a web write, publishes its stamp to the stream, and maps the outcome."""
    ctx = info.context
    viewer = ctx.require_viewer()
    try:
        done = await operation(viewer)
    except InputError as error:
        return InvalidInput.from_error(error)
    if done.stamp is not None:
        await ctx.feed.publish_stamp(collection.key, done.stamp)
    record = kind.from_wire(done.document)
    if done.server_kept:
        return EditConflict(
            record=record,
            fields=done.server_kept,
            message="部分字段已被他人修改,保留了服务器的值 (someone else changed these fields first)",
        )
    return Saved(record=record)


def _document_id(collection: Collection, record_id: strawberry.ID) -> str:
    """The document id inside a field record's global id; a typed refusal for anything else."""
    found = document_id_of(str(record_id), collection.name)
    if found is None:
        raise InputError.one(
            "id", f"不是有效的记录编号 (not a {collection.name} id)", ErrorCode.INVALID
        )
    return found


def _edit(
    info: Info, collection: Collection, input: Any
) -> Callable[[Viewer], Awaitable[WebWrite]]:
    async def run(viewer: Viewer) -> WebWrite:
        document_id = _document_id(collection, input.id)
        return await ops.edit_record(
            info.context.sessionmaker,
            viewer,
            collection,
            document_id,
            _wire(collection, input.before, document_id, viewer),
            _wire(collection, input.after, document_id, viewer),
            info.context.clock(),
        )

    return run


def _create(
    info: Info, collection: Collection, input: RecordInput, document_id: str | None
) -> Callable[[Viewer], Awaitable[WebWrite]]:
    chosen = document_id if document_id is not None else str(uuid.uuid4())
    return lambda viewer: ops.create_record(
        info.context.sessionmaker,
        viewer,
        collection,
        _wire(collection, input, chosen, viewer),
        info.context.clock(),
    )


def _delete(
    info: Info, collection: Collection, record_id: strawberry.ID
) -> Callable[[Viewer], Awaitable[WebWrite]]:
    async def run(viewer: Viewer) -> WebWrite:
        return await ops.delete_record(
            info.context.sessionmaker,
            viewer,
            collection,
            _document_id(collection, record_id),
            info.context.clock(),
        )

    return run


@strawberry.type
class FieldRecordQuery:
    @strawberry.field(description="Village visits in your scope, newest first; a connection.")
    async def visits(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        branch_id: strawberry.ID | None = None,
        subtree_of: strawberry.ID | None = None,
        officer_id: strawberry.ID | None = None,
        from_: From = None,
        to: To = None,
        category: list[VisitCategory] | None = None,
        status: list[VisitStatus] | None = None,
        village: Place = None,
        include_deleted: bool = False,
    ) -> Connection[VisitRecord]:
        flt = _filter(
            branch_id,
            subtree_of,
            officer_id,
            from_,
            to,
            category,
            village,
            include_deleted,
            status,
        )
        return await _list(info, VISIT, VisitRecord, first, after, flt)

    @strawberry.field(description="Patrols in your scope, newest first; a connection.")
    async def patrols(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        branch_id: strawberry.ID | None = None,
        subtree_of: strawberry.ID | None = None,
        officer_id: strawberry.ID | None = None,
        from_: From = None,
        to: To = None,
        kind: list[PatrolKind] | None = None,
        area: Place = None,
        include_deleted: bool = False,
    ) -> Connection[PatrolRecord]:
        flt = _filter(branch_id, subtree_of, officer_id, from_, to, kind, area, include_deleted)
        return await _list(info, PATROL, PatrolRecord, first, after, flt)

    @strawberry.field(description="Community-service actions in your scope, newest first.")
    async def service_actions(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        branch_id: strawberry.ID | None = None,
        subtree_of: strawberry.ID | None = None,
        officer_id: strawberry.ID | None = None,
        from_: From = None,
        to: To = None,
        type: list[ServiceActionType] | None = None,
        place: Place = None,
        include_deleted: bool = False,
    ) -> Connection[ServiceActionRecord]:
        flt = _filter(branch_id, subtree_of, officer_id, from_, to, type, place, include_deleted)
        return await _list(info, SERVICE_ACTION, ServiceActionRecord, first, after, flt)


@strawberry.type
class FieldRecordMutation:
    @strawberry.mutation(
        description=(
            "Records a visit from the web, through the same checks as a phone's push. Officers "
            "record their own, as on a phone."
        )
    )
    async def create_visit(
        self, info: Info, input: VisitRecordInput, document_id: DocumentId = None
    ) -> VisitWriteResult:
        return await _write(info, VisitRecord, _create(info, VISIT, input, document_id), VISIT)

    @strawberry.mutation(description="Edits a visit through the same merge as a phone's push.")
    async def edit_visit(self, info: Info, input: EditVisitInput) -> VisitWriteResult:
        return await _write(info, VisitRecord, _edit(info, VISIT, input), VISIT)

    @strawberry.mutation(description="Deletes a visit, by its global id (a tombstone phones sync).")
    async def delete_visit(self, info: Info, id: strawberry.ID) -> VisitWriteResult:
        return await _write(info, VisitRecord, _delete(info, VISIT, id), VISIT)

    @strawberry.mutation(description="Records a patrol from the web, as a phone's push would.")
    async def create_patrol(
        self, info: Info, input: PatrolRecordInput, document_id: DocumentId = None
    ) -> PatrolWriteResult:
        return await _write(info, PatrolRecord, _create(info, PATROL, input, document_id), PATROL)

    @strawberry.mutation(description="Edits a patrol through the same merge as a phone's push.")
    async def edit_patrol(self, info: Info, input: EditPatrolInput) -> PatrolWriteResult:
        return await _write(info, PatrolRecord, _edit(info, PATROL, input), PATROL)

    @strawberry.mutation(
        description="Deletes a patrol, by its global id (a tombstone phones sync)."
    )
    async def delete_patrol(self, info: Info, id: strawberry.ID) -> PatrolWriteResult:
        return await _write(info, PatrolRecord, _delete(info, PATROL, id), PATROL)

    @strawberry.mutation(
        description="Records a service action from the web, as a phone's push would."
    )
    async def create_service_action(
        self, info: Info, input: ServiceActionRecordInput, document_id: DocumentId = None
    ) -> ServiceActionWriteResult:
        return await _write(
            info,
            ServiceActionRecord,
            _create(info, SERVICE_ACTION, input, document_id),
            SERVICE_ACTION,
        )

    @strawberry.mutation(description="Edits a service action through the same merge as a push.")
    async def edit_service_action(
        self, info: Info, input: EditServiceActionInput
    ) -> ServiceActionWriteResult:
        return await _write(
            info, ServiceActionRecord, _edit(info, SERVICE_ACTION, input), SERVICE_ACTION
        )

    @strawberry.mutation(description="Deletes a service action, by its global id.")
    async def delete_service_action(
        self, info: Info, id: strawberry.ID
    ) -> ServiceActionWriteResult:
        return await _write(
            info, ServiceActionRecord, _delete(info, SERVICE_ACTION, id), SERVICE_ACTION
        )


# --- node(id:) ------------------------------------------------------------------------------------


def _node_loader(
    collection: Collection, kind: _WebRecord[R]
) -> Callable[[Info, str], Awaitable[R | None]]:
    async def load(info: Info, document_id: str) -> R | None:
        document = await read(info, lambda db, v: ops.get_record(db, v, collection, document_id))
        return kind.from_wire(document) if document is not None else None

    return load


register_document_node("Visit", VisitRecord, _node_loader(VISIT, VisitRecord))
register_document_node("Patrol", PatrolRecord, _node_loader(PATROL, PatrolRecord))
register_document_node(
    "ServiceAction", ServiceActionRecord, _node_loader(SERVICE_ACTION, ServiceActionRecord)
)
