"""GraphQL surface of directives (上级指令): `directives`, `myDirectives` and the mutations.

The issued directive is `IssuedDirective` (id: a Relay id of "Directive"), with its dispatch
tree as `recipients`, per-level `rollup`, and progress reports. (`Directive` is the name of the
synced document phones pull, one per recipient; see schema/sync.py.)
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from access.errors import ErrorCode, InputError, from_global_id, optional_global_id
from access.viewer import Viewer
from core.db import writing
from core.global_id import document_global_id, document_id_of
from models import Directive as DirectiveRow
from models import DirectiveLevel, DirectivePriority, DirectiveStatus, RecipientStatus
from models import DirectiveProgress as DirectiveProgressRow
from models import DirectiveRecipient as DirectiveRecipientRow
from resolvers import directive as ops
from resolvers.directive import DirectiveFilter, LevelRollup, Written
from resolvers.period import local_date
from schema.connection import Connection, connection_from_page, page_of
from schema.context import Info
from schema.errors import FieldError, InvalidInput, read
from schema.node import Node, register_document_node, register_node, to_global_id

if TYPE_CHECKING:
    from schema.branch import Branch
    from schema.member import Member
    from schema.supervision import Reminder

BranchRef = Annotated["Branch", strawberry.lazy("schema.branch")]
MemberRef = Annotated["Member", strawberry.lazy("schema.member")]
ReminderRef = Annotated["Reminder", strawberry.lazy("schema.supervision")]

DirectivePriorityEnum = strawberry.enum(
    DirectivePriority, name="DirectivePriority", description="一般 · 重要 · 紧急"
)
DirectiveStatusEnum = strawberry.enum(
    DirectiveStatus, name="DirectiveStatus", description="草稿 · 已下发 · 已办结"
)
DirectiveLevelEnum = strawberry.enum(
    DirectiveLevel,
    name="DirectiveLevel",
    description="四级调度: 县局党委 → 机关党委 → 支部 → 党员",
)
RecipientStatusEnum = strawberry.enum(
    RecipientStatus,
    name="DirectiveRecipientStatus",
    description="待签收 → 已签收 → 办理中 → 已办结",
)

T = TypeVar("T")


@strawberry.type(description="进展: a progress report on a recipient row.")
class DirectiveProgressReport(Node):
    text: str
    percent: int | None = strawberry.field(description="0-100, when given.")
    stage: str | None = strawberry.field(description="e.g. 已部署, 已落实")
    reported_at: datetime
    _row: strawberry.Private[DirectiveProgressRow]

    @classmethod
    def from_model(cls, row: DirectiveProgressRow) -> DirectiveProgressReport:
        return cls(
            id=strawberry.ID(document_global_id(PROGRESS, row.id)),
            text=row.text,
            percent=row.percent,
            stage=row.stage,
            reported_at=row.reported_at,
            _row=row,
        )

    @strawberry.field(description="The member who reported; null outside your scope.")
    async def reporter(self, info: Info) -> MemberRef | None:
        from schema.member import Member

        info.context.require_viewer()
        if self._row.officer_id is None:
            return None
        row = await info.context.loaders.member.load(self._row.officer_id)
        return Member.from_model(row) if row else None

    @strawberry.field(
        description="The recipient row reported on; null where your lists would not show it."
    )
    async def recipient(self, info: Info) -> DirectiveRecipient | None:
        row = await info.context.loaders.directives.recipient.load(self._row.recipient_id)
        return DirectiveRecipient.from_model(row) if row else None


PROGRESS = "DirectiveProgress"
"""The type name in a progress report's global id; its document id is the synced report's."""

RECIPIENT = "DirectiveRecipient"
"""The type name in a recipient row's global id; its document id is the synced Directive's."""


def _recipient_id(value: strawberry.ID, field_name: str = "recipientId") -> str:
    """The recipient row inside its global id; a typed refusal for anything else."""
    found = document_id_of(str(value), RECIPIENT)
    if found is None:
        raise InputError.one(
            field_name, "不是有效的指令接收编号 (not a DirectiveRecipient id)", ErrorCode.INVALID
        )
    return found


@strawberry.type(description="One level of a directive's dispatch tree, counted.")
class DirectiveLevelRollup:
    level: DirectiveLevel
    recipients: int
    signed: int
    reported: int
    closed: int
    overdue: int = strawberry.field(description="Not closed and the deadline has passed.")
    closed_on_time: int = strawberry.field(description="Closed by the deadline.")

    @strawberry.field(description="Chinese label of the level, e.g. 机关党委.")
    def level_label(self) -> str:
        return self.level.label

    @classmethod
    def from_rollup(cls, r: LevelRollup) -> DirectiveLevelRollup:
        return cls(
            level=r.level,
            recipients=r.recipients,
            signed=r.signed,
            reported=r.reported,
            closed=r.closed,
            overdue=r.overdue,
            closed_on_time=r.closed_on_time,
        )


@strawberry.type(
    description=(
        "A recipient of a directive at one level (a committee, a branch or a member): who "
        "dispatched it to them, and whether they signed (签收), reported and closed it."
    )
)
class DirectiveRecipient(Node):
    level: DirectiveLevel
    status: RecipientStatus
    dispatched_at: datetime
    signed_at: datetime | None
    last_reported_at: datetime | None
    closed_at: datetime | None
    _row: strawberry.Private[DirectiveRecipientRow]

    @classmethod
    def from_model(cls, row: DirectiveRecipientRow) -> DirectiveRecipient:
        return cls(
            id=strawberry.ID(document_global_id(RECIPIENT, row.id)),
            level=row.level,
            status=row.status,
            dispatched_at=row.dispatched_at,
            signed_at=row.signed_at,
            last_reported_at=row.last_reported_at,
            closed_at=row.closed_at,
            _row=row,
        )

    @strawberry.field
    def level_label(self) -> str:
        return self._row.level.label

    @strawberry.field
    def status_label(self) -> str:
        return self._row.status.label

    @strawberry.field(
        description=(
            "The recipient who dispatched it here; null for the issuing committee, and where "
            "your lists would not show it."
        )
    )
    async def parent(self, info: Info) -> DirectiveRecipient | None:
        if self._row.parent_id is None:
            return None
        row = await info.context.loaders.directives.recipient.load(self._row.parent_id)
        return DirectiveRecipient.from_model(row) if row else None

    @strawberry.field(description="The branch (for a member: their home branch).")
    async def branch(self, info: Info) -> BranchRef | None:
        from schema.branch import Branch

        row = await info.context.loaders.branch.load(self._row.branch_id)
        return Branch.from_model(row) if row else None

    @strawberry.field(description="The member, for level MEMBER; null outside your scope.")
    async def member(self, info: Info) -> MemberRef | None:
        from schema.member import Member

        if self._row.officer_id is None:
            return None
        row = await info.context.loaders.member.load(self._row.officer_id)
        return Member.from_model(row) if row else None

    @strawberry.field(description="The directive.")
    async def directive(self, info: Info) -> IssuedDirective | None:
        row = await info.context.loaders.directives.directive.load(self._row.directive_id)
        return IssuedDirective.from_model(row) if row else None

    @strawberry.field(description="Not closed and the directive's deadline has passed.")
    async def overdue(self, info: Info) -> bool:
        if self._row.closed_at is not None:
            return False
        row = await info.context.loaders.directives.directive.load(self._row.directive_id)
        return row is not None and row.deadline < info.context.clock()

    @strawberry.field(description="Progress reports, oldest first.")
    async def progress(self, info: Info) -> list[DirectiveProgressReport]:
        rows = await info.context.loaders.directives.progress.load(self._row.id)
        return [DirectiveProgressReport.from_model(r) for r in rows]


@strawberry.type(
    description="上级指令: a directive as issued by a committee, with its dispatch tree."
)
class IssuedDirective(Node):
    title: str
    content: str
    priority: DirectivePriority
    deadline: datetime
    status: DirectiveStatus
    issued_at: datetime | None
    closed_at: datetime | None
    _row: strawberry.Private[DirectiveRow]

    @classmethod
    def from_model(cls, row: DirectiveRow) -> IssuedDirective:
        return cls(
            id=to_global_id("Directive", row.id),
            title=row.title,
            content=row.content,
            priority=row.priority,
            deadline=row.deadline,
            status=row.status,
            issued_at=row.issued_at,
            closed_at=row.closed_at,
            _row=row,
        )

    @strawberry.field
    def priority_label(self) -> str:
        return self._row.priority.label

    @strawberry.field
    def status_label(self) -> str:
        return self._row.status.label

    @strawberry.field(description="Not closed and the deadline has passed.")
    def overdue(self, info: Info) -> bool:
        return self._row.status is not DirectiveStatus.CLOSED and (
            self._row.deadline < info.context.clock()
        )

    @strawberry.field(description="The issuing committee.")
    async def issued_by(self, info: Info) -> BranchRef | None:
        from schema.branch import Branch

        row = await info.context.loaders.branch.load(self._row.issued_by_branch_id)
        return Branch.from_model(row) if row else None

    @strawberry.field(
        description="The dispatch tree's rows you receive as your phone syncs them (an officer: "
        "their own and their branch's), top level first (parentId links)."
    )
    async def recipients(self, info: Info) -> list[DirectiveRecipient]:
        rows = await info.context.loaders.directives.recipients.load(self._row.id)
        return [DirectiveRecipient.from_model(r) for r in rows]

    @strawberry.field(
        description="Per level, top down: recipients, signed, reported, closed, overdue."
    )
    async def rollup(self, info: Info) -> list[DirectiveLevelRollup]:
        key = (self._row.id, info.context.clock())
        rows = await info.context.loaders.directives.rollup.load(key)
        return [DirectiveLevelRollup.from_rollup(r) for r in rows]


# --- inputs and results ---------------------------------------------------------------------


@strawberry.input
class IssueDirectiveInput:
    title: str
    content: str
    deadline: datetime
    target_branch_ids: list[strawberry.ID]
    priority: DirectivePriority = DirectivePriority.ROUTINE
    issued_by_branch_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Admins: the committee issuing (default the county committee).",
    )


@strawberry.input(description="Dispatch your recipient row onward to branches and members.")
class DispatchDirectiveInput:
    recipient_id: strawberry.ID
    branch_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    member_ids: list[strawberry.ID] = strawberry.field(default_factory=list)


@strawberry.input
class ReportDirectiveProgressInput:
    recipient_id: strawberry.ID
    text: str
    percent: int | None = None
    stage: str | None = strawberry.field(default=None, description="e.g. 已部署, 已落实")


@strawberry.type
class DirectiveIssued:
    directive: IssuedDirective


@strawberry.type
class DirectiveDispatched:
    recipients: list[DirectiveRecipient] = strawberry.field(
        description="The new recipients (those that already had it are left out)."
    )


@strawberry.type
class DirectiveRecipientSaved:
    recipient: DirectiveRecipient


@strawberry.type
class DirectiveProgressReported:
    progress: DirectiveProgressReport
    recipient: DirectiveRecipient


@strawberry.type(
    description=(
        "Closing refused: recipients you dispatched to have not closed yet. `openRecipients` "
        "are they (dispatch order); urge them with urgeDirective."
    )
)
class DirectiveStillOpen:
    message: str
    errors: list[FieldError]
    open_recipients: list[DirectiveRecipient]


@strawberry.type(description="催办: the reminder the urged recipient received.")
class DirectiveUrged:
    reminder: ReminderRef = strawberry.field(
        description="The urge's reminder: today's, when the recipient was urged already today."
    )
    recipient: DirectiveRecipient


IssueDirectiveResult = Annotated[
    DirectiveIssued | InvalidInput, strawberry.union("IssueDirectiveResult")
]
DispatchDirectiveResult = Annotated[
    DirectiveDispatched | InvalidInput, strawberry.union("DispatchDirectiveResult")
]
DirectiveRecipientResult = Annotated[
    DirectiveRecipientSaved | InvalidInput, strawberry.union("DirectiveRecipientResult")
]
ReportDirectiveProgressResult = Annotated[
    DirectiveProgressReported | InvalidInput, strawberry.union("ReportDirectiveProgressResult")
]
CloseDirectiveResult = Annotated[
    DirectiveRecipientSaved | DirectiveStillOpen | InvalidInput,
    strawberry.union("CloseDirectiveResult"),
]
UrgeDirectiveResult = Annotated[
    DirectiveUrged | InvalidInput, strawberry.union("UrgeDirectiveResult")
]


async def _write(
    info: Info,
    operation: Callable[[AsyncSession, Viewer, datetime], Awaitable[Written]],
    present: Callable[[Written], T],
    *,
    still_open: bool = False,
) -> T | InvalidInput:
    """Runs a directive write in one transaction, then publishes its stamp to the stream.
    `still_open`: a refused close (`StillOpen`) is re-raised for the caller to present."""
    ctx = info.context
    viewer = ctx.require_viewer()
    try:
        async with writing(ctx.sessionmaker) as db:
            done = await operation(db, viewer, ctx.clock())
            result = present(done)
    except InputError as error:
        if still_open and isinstance(error, ops.StillOpen):
            raise
        return InvalidInput.from_error(error)
    if done.stamp is not None:
        for key in done.collections:
            await ctx.feed.publish_stamp(key, done.stamp)
    return result


def _ids(values: list[strawberry.ID], type_name: str, field_name: str) -> list[uuid.UUID]:
    return [from_global_id(v, type_name, field_name) for v in values]


@strawberry.type
class DirectiveQuery:
    @strawberry.field(description="Directives you may read, newest first; a cursor connection.")
    async def directives(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        status: list[DirectiveStatus] | None = None,
        overdue: bool | None = None,
        subtree_of: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Issued by or dispatched into this branch's subtree."),
        ] = None,
        from_: Annotated[
            datetime | None,
            strawberry.argument(name="from", description="Issued at or after this moment."),
        ] = None,
        to: Annotated[
            datetime | None, strawberry.argument(description="Issued before this moment.")
        ] = None,
    ) -> Connection[IssuedDirective]:
        request = page_of(info, first, after)
        flt = DirectiveFilter(
            statuses=tuple(status or ()),
            overdue=overdue,
            subtree_of=optional_global_id(subtree_of, "Branch", "subtreeOf"),
            since=from_,
            until=to,
        )
        now = info.context.clock()
        page = await read(info, lambda db, v: ops.list_directives(db, v, flt, request, now))
        info.context.loaders.directives.directive.prime_many({r.id: r for r in page.items})
        return connection_from_page(
            page,
            [IssuedDirective.from_model(r) for r in page.items],
            lambda: read(info, lambda db, v: ops.count_directives(db, v, flt, now)),
        )

    @strawberry.field(
        description=(
            "Directives addressed to you: as a member, and as your branch's secretary; "
            "newest dispatch first."
        )
    )
    async def my_directives(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        status: Annotated[
            list[RecipientStatus] | None,
            strawberry.argument(
                description="Only your rows in these states, e.g. [PENDING, SIGNED, IN_PROGRESS]."
            ),
        ] = None,
    ) -> Connection[DirectiveRecipient]:
        request = page_of(info, first, after)
        statuses = tuple(status or ())
        page = await read(info, lambda db, v: ops.my_directives(db, v, request, statuses))
        return connection_from_page(
            page,
            [DirectiveRecipient.from_model(r) for r in page.items],
            lambda: read(info, lambda db, v: ops.count_my_directives(db, v, statuses)),
        )


@strawberry.type
class DirectiveMutation:
    @strawberry.mutation(
        description="Issues a directive from a committee to branches below it (admins, committees)."
    )
    async def issue_directive(self, info: Info, input: IssueDirectiveInput) -> IssueDirectiveResult:
        async def run(db: AsyncSession, viewer: Viewer, now: datetime) -> Written:
            data = ops.IssueData(
                title=input.title,
                content=input.content,
                priority=input.priority,
                deadline=input.deadline,
                target_branch_ids=_ids(input.target_branch_ids, "Branch", "targetBranchIds"),
                issued_by_branch_id=optional_global_id(
                    input.issued_by_branch_id, "Branch", "issuedByBranchId"
                ),
            )
            return await ops.issue_directive(db, viewer, data, now)

        def present(done: Written) -> DirectiveIssued:
            assert isinstance(done, ops.Issued) and done.directive is not None
            return DirectiveIssued(directive=IssuedDirective.from_model(done.directive))

        return await _write(info, run, present)

    @strawberry.mutation(description="Dispatches your recipient row onward, within your subtree.")
    async def dispatch_directive(
        self, info: Info, input: DispatchDirectiveInput
    ) -> DispatchDirectiveResult:
        async def run(db: AsyncSession, viewer: Viewer, now: datetime) -> Written:
            return await ops.dispatch_directive(
                db,
                viewer,
                _recipient_id(input.recipient_id),
                _ids(input.branch_ids, "Branch", "branchIds"),
                _ids(input.member_ids, "Member", "memberIds"),
                now,
            )

        def present(done: Written) -> DirectiveDispatched:
            assert isinstance(done, ops.Dispatched)
            return DirectiveDispatched(
                recipients=[DirectiveRecipient.from_model(r) for r in done.recipients]
            )

        return await _write(info, run, present)

    @strawberry.mutation(description="签收: signs your recipient row; signing again is harmless.")
    async def sign_directive(
        self, info: Info, recipient_id: strawberry.ID
    ) -> DirectiveRecipientResult:
        async def run(db: AsyncSession, viewer: Viewer, now: datetime) -> Written:
            return await ops.sign_directive(db, viewer, _recipient_id(recipient_id), now)

        return await _write(info, run, _recipient_saved)

    @strawberry.mutation(description="Reports progress on your recipient row.")
    async def report_directive_progress(
        self, info: Info, input: ReportDirectiveProgressInput
    ) -> ReportDirectiveProgressResult:
        async def run(db: AsyncSession, viewer: Viewer, now: datetime) -> Written:
            return await ops.report_progress(
                db,
                viewer,
                _recipient_id(input.recipient_id),
                input.text,
                input.percent,
                input.stage,
                now,
            )

        def present(done: Written) -> DirectiveProgressReported:
            assert isinstance(done, ops.ProgressWritten)
            assert done.progress is not None and done.recipient is not None
            return DirectiveProgressReported(
                progress=DirectiveProgressReport.from_model(done.progress),
                recipient=DirectiveRecipient.from_model(done.recipient),
            )

        return await _write(info, run, present)

    @strawberry.mutation(
        description=(
            "Closes your recipient row once every recipient you dispatched to has closed; "
            "closing the issuing committee's row closes the directive."
        )
    )
    async def close_directive(
        self, info: Info, recipient_id: strawberry.ID
    ) -> CloseDirectiveResult:
        async def run(db: AsyncSession, viewer: Viewer, now: datetime) -> Written:
            return await ops.close_recipient(db, viewer, _recipient_id(recipient_id), now)

        try:
            return await _write(info, run, _recipient_saved, still_open=True)
        except ops.StillOpen as refused:
            invalid = InvalidInput.from_error(refused)
            return DirectiveStillOpen(
                message=invalid.message,
                errors=invalid.errors,
                open_recipients=[DirectiveRecipient.from_model(r) for r in refused.recipients],
            )

    @strawberry.mutation(
        description=(
            "催办: reminds a recipient you dispatched to (or any, as an admin) that has not "
            "closed; the reminder records who urged and when. Once a day per recipient: urging "
            "again the same day returns that day's reminder."
        )
    )
    async def urge_directive(
        self,
        info: Info,
        recipient_id: strawberry.ID,
        note: Annotated[
            str | None, strawberry.argument(description="A word to the recipient (200 characters).")
        ] = None,
    ) -> UrgeDirectiveResult:
        from schema.supervision import Reminder

        async def run(db: AsyncSession, viewer: Viewer, now: datetime) -> Written:
            return await ops.urge_recipient(db, viewer, _recipient_id(recipient_id), note, now)

        def present(done: Written) -> DirectiveUrged:
            assert isinstance(done, ops.Urged)
            assert done.reminder is not None and done.recipient is not None
            today = local_date(info.context.clock())
            return DirectiveUrged(
                reminder=Reminder.from_model(done.reminder, today),
                recipient=DirectiveRecipient.from_model(done.recipient),
            )

        return await _write(info, run, present)


def _recipient_saved(done: Written) -> DirectiveRecipientSaved:
    assert isinstance(done, ops.RecipientWritten) and done.recipient is not None
    return DirectiveRecipientSaved(recipient=DirectiveRecipient.from_model(done.recipient))


async def _directive_node(info: Info, directive_id: uuid.UUID) -> IssuedDirective | None:
    """Directives the viewer may read (the same clause as `directives`)."""
    row = await info.context.loaders.directives.directive.load(directive_id)
    return IssuedDirective.from_model(row) if row else None


async def _recipient_node(info: Info, recipient_id: str) -> DirectiveRecipient | None:
    """Recipient rows the viewer's lists show (a directive's tree, or addressed to them)."""
    row = await info.context.loaders.directives.recipient.load(recipient_id)
    return DirectiveRecipient.from_model(row) if row else None


register_node("Directive", IssuedDirective, _directive_node)


async def _progress_node(info: Info, document_id: str) -> DirectiveProgressReport | None:
    """A report whose recipient row the viewer's lists show."""
    row = await read(info, lambda db, _: ops.progress_by_id(db, document_id))
    if (
        row is None
        or await info.context.loaders.directives.recipient.load(row.recipient_id) is None
    ):
        return None
    return DirectiveProgressReport.from_model(row)


register_document_node(RECIPIENT, DirectiveRecipient, _recipient_node)
register_document_node(PROGRESS, DirectiveProgressReport, _progress_node)
