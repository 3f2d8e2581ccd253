"""Field records for web frontends: `visits`, `patrols`, `serviceActions` connections and the
create / edit / delete mutations, which are pushes through sync/ (same merge, log and stream)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

import strawberry

from access.errors import InputError, optional_global_id
from access.viewer import Viewer
from resolvers import field_record as ops
from resolvers.field_record import RecordFilter, WebWrite
from schema.connection import Connection, connection_from_page, page_of
from schema.context import Info
from schema.errors import InvalidInput, read
from schema.sync import (
    Patrol,
    PatrolInput,
    ServiceAction,
    ServiceActionInput,
    Visit,
    VisitInput,
    from_wire,
    wire_dict,
)
from sync.collection import PATROL, SERVICE_ACTION, VISIT, Collection

T = TypeVar("T")

From = Annotated[
    datetime | None,
    strawberry.argument(name="from", description="Only records at or after this moment."),
]
To = Annotated[datetime | None, strawberry.argument(description="Only records before this moment.")]
Place = Annotated[str | None, strawberry.argument(description="Part of the place name.")]


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
    Saved[Visit] | EditConflict[Visit] | InvalidInput, strawberry.union("VisitWriteResult")
]
PatrolWriteResult = Annotated[
    Saved[Patrol] | EditConflict[Patrol] | InvalidInput, strawberry.union("PatrolWriteResult")
]
ServiceActionWriteResult = Annotated[
    Saved[ServiceAction] | EditConflict[ServiceAction] | InvalidInput,
    strawberry.union("ServiceActionWriteResult"),
]


@strawberry.input(description="before: the record as the form loaded it; after: as submitted.")
class EditVisitInput:
    id: strawberry.ID
    before: VisitInput
    after: VisitInput


@strawberry.input(description="before: the record as the form loaded it; after: as submitted.")
class EditPatrolInput:
    id: strawberry.ID
    before: PatrolInput
    after: PatrolInput


@strawberry.input(description="before: the record as the form loaded it; after: as submitted.")
class EditServiceActionInput:
    id: strawberry.ID
    before: ServiceActionInput
    after: ServiceActionInput


async def _list(
    info: Info,
    collection: Collection,
    kind: type[T],
    first: int | None,
    after: str | None,
    flt: RecordFilter,
) -> Connection[T]:
    request = page_of(info, first, after)
    page = await read(info, lambda db, v: ops.list_records(db, v, collection, flt, request))
    return connection_from_page(
        page,
        [from_wire(kind, d) for d in page.items],
        lambda: read(info, lambda db, v: ops.count_records(db, v, collection, flt)),
    )


def _filter(
    branch_id: strawberry.ID | None,
    subtree_of: strawberry.ID | None,
    officer_id: strawberry.ID | None,
    since: datetime | None,
    until: datetime | None,
    kinds: list[str] | None,
    place: str | None,
    include_deleted: bool,
    statuses: list[str] | None = None,
) -> RecordFilter:
    return RecordFilter(
        branch_id=optional_global_id(branch_id, "Branch", "branchId"),
        subtree_of=optional_global_id(subtree_of, "Branch", "subtreeOf"),
        officer_id=optional_global_id(officer_id, "Member", "officerId"),
        since=since,
        until=until,
        kinds=tuple(kinds or ()),
        place=place,
        statuses=tuple(statuses or ()),
        include_deleted=include_deleted,
    )


async def _write(
    info: Info,
    kind: type[T],
    operation: Callable[[Viewer], Awaitable[WebWrite]],
    collection: Collection,
) -> Saved[T] | EditConflict[T] | InvalidInput:
    """Runs a web write, publishes its stamp to the stream, and maps the outcome."""
    ctx = info.context
    viewer = ctx.require_viewer()
    try:
        done = await operation(viewer)
    except InputError as error:
        return InvalidInput.from_error(error)
    if done.stamp is not None:
        await ctx.feed.publish_stamp(collection.key, done.stamp)
    record = from_wire(kind, done.document)
    if done.server_kept:
        return EditConflict(
            record=record,
            fields=done.server_kept,
            message="部分字段已被他人修改,保留了服务器的值 (someone else changed these fields first)",
        )
    return Saved(record=record)


def _edit(
    info: Info, collection: Collection, input: Any
) -> Callable[[Viewer], Awaitable[WebWrite]]:
    before: Mapping[str, Any] = wire_dict(input.before)
    after: Mapping[str, Any] = wire_dict(input.after)
    return lambda viewer: ops.edit_record(
        info.context.sessionmaker,
        viewer,
        collection,
        str(input.id),
        before,
        after,
        info.context.clock(),
    )


def _create(
    info: Info, collection: Collection, input: Any
) -> Callable[[Viewer], Awaitable[WebWrite]]:
    document = wire_dict(input)
    return lambda viewer: ops.create_record(
        info.context.sessionmaker, viewer, collection, document, info.context.clock()
    )


def _delete(
    info: Info, collection: Collection, doc_id: strawberry.ID
) -> Callable[[Viewer], Awaitable[WebWrite]]:
    return lambda viewer: ops.delete_record(
        info.context.sessionmaker, viewer, collection, str(doc_id), info.context.clock()
    )


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
        category: list[str] | None = None,
        status: list[str] | None = None,
        village: Place = None,
        include_deleted: bool = False,
    ) -> Connection[Visit]:
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
        return await _list(info, VISIT, Visit, first, after, flt)

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
        kind: list[str] | None = None,
        area: Place = None,
        include_deleted: bool = False,
    ) -> Connection[Patrol]:
        flt = _filter(branch_id, subtree_of, officer_id, from_, to, kind, area, include_deleted)
        return await _list(info, PATROL, Patrol, first, after, flt)

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
        type: list[str] | None = None,
        place: Place = None,
        include_deleted: bool = False,
    ) -> Connection[ServiceAction]:
        flt = _filter(branch_id, subtree_of, officer_id, from_, to, type, place, include_deleted)
        return await _list(info, SERVICE_ACTION, ServiceAction, first, after, flt)


@strawberry.type
class FieldRecordMutation:
    @strawberry.mutation(description="Records a visit from the web (id: a new UUID you choose).")
    async def create_visit(self, info: Info, input: VisitInput) -> VisitWriteResult:
        return await _write(info, Visit, _create(info, VISIT, input), VISIT)

    @strawberry.mutation(description="Edits a visit through the same merge as a phone's push.")
    async def edit_visit(self, info: Info, input: EditVisitInput) -> VisitWriteResult:
        return await _write(info, Visit, _edit(info, VISIT, input), VISIT)

    @strawberry.mutation(description="Deletes a visit (a tombstone phones sync).")
    async def delete_visit(self, info: Info, id: strawberry.ID) -> VisitWriteResult:
        return await _write(info, Visit, _delete(info, VISIT, id), VISIT)

    @strawberry.mutation(description="Records a patrol from the web (id: a new UUID you choose).")
    async def create_patrol(self, info: Info, input: PatrolInput) -> PatrolWriteResult:
        return await _write(info, Patrol, _create(info, PATROL, input), PATROL)

    @strawberry.mutation(description="Edits a patrol through the same merge as a phone's push.")
    async def edit_patrol(self, info: Info, input: EditPatrolInput) -> PatrolWriteResult:
        return await _write(info, Patrol, _edit(info, PATROL, input), PATROL)

    @strawberry.mutation(description="Deletes a patrol (a tombstone phones sync).")
    async def delete_patrol(self, info: Info, id: strawberry.ID) -> PatrolWriteResult:
        return await _write(info, Patrol, _delete(info, PATROL, id), PATROL)

    @strawberry.mutation(description="Records a service action from the web (id: a new UUID).")
    async def create_service_action(
        self, info: Info, input: ServiceActionInput
    ) -> ServiceActionWriteResult:
        return await _write(
            info, ServiceAction, _create(info, SERVICE_ACTION, input), SERVICE_ACTION
        )

    @strawberry.mutation(description="Edits a service action through the same merge as a push.")
    async def edit_service_action(
        self, info: Info, input: EditServiceActionInput
    ) -> ServiceActionWriteResult:
        return await _write(info, ServiceAction, _edit(info, SERVICE_ACTION, input), SERVICE_ACTION)

    @strawberry.mutation(description="Deletes a service action (a tombstone phones sync).")
    async def delete_service_action(
        self, info: Info, id: strawberry.ID
    ) -> ServiceActionWriteResult:
        return await _write(info, ServiceAction, _delete(info, SERVICE_ACTION, id), SERVICE_ACTION)
