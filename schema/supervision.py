"""GraphQL surface of supervision (督导提醒): reminders, spot checks with findings, bulletins."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from access.errors import from_global_id, optional_global_id
from access.viewer import Viewer
from models import Bulletin as BulletinRow
from models import BulletinKind, FindingStatus, ReminderKind, ReminderResolution, ReminderStatus
from models import Reminder as ReminderRow
from models import SpotCheck as SpotCheckRow
from models import SpotCheckFinding as SpotCheckFindingRow
from resolvers import reminder as reminder_ops
from resolvers import supervision as ops
from resolvers.pagination import Page
from resolvers.period import local_date, period_input
from resolvers.reminder import ReminderFilter, ReminderWritten
from resolvers.supervision import (
    BulletinData,
    BulletinFilter,
    FindingData,
    SpotCheckData,
    SpotCheckFilter,
)
from schema.branch import Branch
from schema.connection import Connection, connection_from_page, page_of
from schema.context import Info
from schema.errors import InvalidInput, read, write
from schema.ledger import LedgerItem
from schema.member import Member
from schema.node import Node, register_node, to_global_id

if TYPE_CHECKING:
    from schema.directive import DirectiveRecipient

ReminderKindEnum = strawberry.enum(
    ReminderKind,
    name="ReminderKind",
    description="台账即将到期 · 台账逾期 · 积极分子培养满一年 · 预备期即将届满 · 指令即将到期 · "
    "指令未签收 · 指令催办 · 抽查问题整改",
)
ReminderStatusEnum = strawberry.enum(
    ReminderStatus, name="ReminderStatus", description="待处理 · 已知悉 · 已办结"
)
ReminderResolutionEnum = strawberry.enum(
    ReminderResolution,
    name="ReminderResolution",
    description="人工办结 · 系统确认已完成 · 系统确认已失效 (fulfilled and lapsed: by the system)",
)
FindingStatusEnum = strawberry.enum(
    FindingStatus, name="FindingStatus", description="待整改 · 已整改 · 已销号"
)
BulletinKindEnum = strawberry.enum(
    BulletinKind, name="BulletinKind", description="表扬 · 批评 · 通知"
)


# --- reminders ------------------------------------------------------------------------------------


@strawberry.type(
    name="SupervisionReminder",
    description=(
        "督导提醒: a reminder to a branch (and possibly a member). Phones pull the same rows as "
        "`Reminder` documents (pullReminder); ids here are Relay ids of type Reminder."
    ),
)
class Reminder(Node):
    kind: ReminderKind
    title: str
    due_on: date = strawberry.field(description="The bureau's calendar day to answer it by.")
    status: ReminderStatus
    resolution: ReminderResolution | None
    period: str | None = strawberry.field(description="For ledger reminders: 2026-05, 2026-Q2.")
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    answered_on: date | None = strawberry.field(
        description="The day it was first acknowledged, resolved or fulfilled."
    )
    note: str | None
    created_at: datetime
    overdue: bool = strawberry.field(description="Not resolved and past its due day.")
    _row: strawberry.Private[ReminderRow]

    @classmethod
    def from_model(cls, row: ReminderRow, today: date) -> Reminder:
        return cls(
            id=to_global_id("Reminder", uuid.UUID(row.id)),
            kind=row.kind,
            title=row.title,
            due_on=row.due_on,
            status=row.status,
            resolution=row.resolution,
            period=row.period,
            acknowledged_at=row.acknowledged_at,
            resolved_at=row.resolved_at,
            answered_on=row.answered_on,
            note=row.note,
            created_at=row.created_at,
            overdue=row.status is not ReminderStatus.RESOLVED and today > row.due_on,
            _row=row,
        )

    @strawberry.field
    def kind_label(self) -> str:
        return self.kind.label

    @strawberry.field
    def status_label(self) -> str:
        return self.status.label

    @strawberry.field
    def resolution_label(self) -> str | None:
        return self.resolution.label if self.resolution else None

    @strawberry.field(description="True when the system resolved it (resolvedBy is nobody).")
    def resolved_by_system(self) -> bool:
        return self.resolution is not None and self.resolution is not ReminderResolution.HANDLED

    @strawberry.field(description="The branch it is addressed to (a member's home branch).")
    async def branch(self, info: Info) -> Branch:
        row = await info.context.loaders.branch.load(self._row.branch_id)
        assert row is not None, "a reminder's branch is a foreign key"
        return Branch.from_model(row)

    @strawberry.field(description="The member it is addressed to; null: the branch as a whole.")
    async def member(self, info: Info) -> Member | None:
        if self._row.officer_id is None:
            return None
        row = await info.context.loaders.member.load(self._row.officer_id)
        return Member.from_model(row) if row else None

    @strawberry.field(description="The member it is about (pipeline reminders).")
    async def subject_member(self, info: Info) -> Member | None:
        if self._row.subject_member_id is None:
            return None
        row = await info.context.loaders.member.load(self._row.subject_member_id)
        return Member.from_model(row) if row else None

    @strawberry.field(description="The ledger item it is about (ledger reminders).")
    async def ledger_item(self, info: Info) -> LedgerItem | None:
        if self._row.ledger_item_id is None:
            return None
        row = await info.context.loaders.ledger_item.load(self._row.ledger_item_id)
        return LedgerItem.from_model(row) if row else None

    @strawberry.field(
        description="The Directive document (recipient row) it is about, as phones sync it.",
        deprecation_reason="Use directiveRecipient, the row as the web reads it.",
    )
    def directive_recipient_id(self) -> str | None:
        return self._row.directive_recipient_id

    @strawberry.field(
        description=(
            "The directive recipient row it is about (directive reminders); null where your "
            "lists would not show it."
        )
    )
    async def directive_recipient(
        self, info: Info
    ) -> Annotated[DirectiveRecipient, strawberry.lazy("schema.directive")] | None:
        from schema.directive import DirectiveRecipient

        if self._row.directive_recipient_id is None:
            return None
        row = await info.context.loaders.directives.recipient.load(self._row.directive_recipient_id)
        return DirectiveRecipient.from_model(row) if row else None

    @strawberry.field(description="The spot-check finding it is about (finding reminders).")
    def spot_check_finding_id(self) -> strawberry.ID | None:
        finding = self._row.spot_check_finding_id
        return None if finding is None else to_global_id("SpotCheckFinding", finding)

    @strawberry.field(
        description="The spot-check finding it is about; null where your lists would not show it."
    )
    async def spot_check_finding(self, info: Info) -> SpotCheckFinding | None:
        finding = self._row.spot_check_finding_id
        return None if finding is None else await _finding_node(info, finding)


@strawberry.type
class ReminderPayload:
    reminder: Reminder


ReminderResult = Annotated[ReminderPayload | InvalidInput, strawberry.union("ReminderResult")]


def _today(info: Info) -> date:
    return local_date(info.context.clock())


async def _reminders(
    info: Info, flt: ReminderFilter, first: int | None, after: str | None
) -> Connection[Reminder]:
    request = page_of(info, first, after)
    page: Page[ReminderRow] = await read(
        info, lambda db, viewer: reminder_ops.list_reminders(db, viewer, flt, request)
    )
    today = _today(info)
    return connection_from_page(
        page,
        [Reminder.from_model(r, today) for r in page.items],
        lambda: read(info, lambda db, viewer: reminder_ops.count_reminders(db, viewer, flt)),
    )


def _reminder_id(value: strawberry.ID) -> str:
    return str(from_global_id(value, "Reminder", "id"))


# --- spot checks ----------------------------------------------------------------------------------


@strawberry.type(description="抽查发现的问题: a finding, to rectify (整改) by its deadline.")
class SpotCheckFinding(Node):
    text: str
    deadline: date
    status: FindingStatus
    rectification: str | None
    rectified_at: datetime | None
    closed_at: datetime | None
    rectified_on_time: bool | None = strawberry.field(
        description="Rectified on or before the deadline; null while not rectified."
    )
    _row: strawberry.Private[SpotCheckFindingRow]

    @classmethod
    def from_model(cls, row: SpotCheckFindingRow) -> SpotCheckFinding:
        return cls(
            id=to_global_id("SpotCheckFinding", row.id),
            text=row.text,
            deadline=row.deadline,
            status=row.status,
            rectification=row.rectification,
            rectified_at=row.rectified_at,
            closed_at=row.closed_at,
            rectified_on_time=(
                None if row.rectified_on is None else row.rectified_on <= row.deadline
            ),
            _row=row,
        )

    @strawberry.field
    def status_label(self) -> str:
        return self.status.label

    @strawberry.field
    async def branch(self, info: Info) -> Branch:
        row = await info.context.loaders.branch.load(self._row.branch_id)
        assert row is not None, "a finding's branch is a foreign key"
        return Branch.from_model(row)


@strawberry.type(description="抽查: an inspector's check of a branch.")
class SpotCheck(Node):
    checked_on: date
    period: str
    summary: str
    created_at: datetime
    carried_out_by: str = strawberry.field(
        description="Who carried out the check (督导人员), as recorded: the names given, or "
        "the recording inspector's."
    )
    _row: strawberry.Private[SpotCheckRow]

    @classmethod
    def from_model(cls, row: SpotCheckRow) -> SpotCheck:
        return cls(
            id=to_global_id("SpotCheck", row.id),
            checked_on=row.checked_on,
            period=row.period,
            summary=row.summary,
            created_at=row.created_at,
            carried_out_by=row.carried_out_by or "",
            _row=row,
        )

    @strawberry.field
    async def branch(self, info: Info) -> Branch:
        row = await info.context.loaders.branch.load(self._row.branch_id)
        assert row is not None, "a spot check's branch is a foreign key"
        return Branch.from_model(row)

    @strawberry.field
    async def findings(self, info: Info) -> list[SpotCheckFinding]:
        rows = await info.context.loaders.supervision.findings.load(self._row.id)
        return [SpotCheckFinding.from_model(r) for r in rows]


@strawberry.input
class FindingInput:
    text: str
    deadline: date = strawberry.field(description="整改期限: rectify by this day.")


@strawberry.input
class CreateSpotCheckInput:
    branch_id: strawberry.ID
    checked_on: date
    period: str = strawberry.field(description="2026, 2026-Q2 or 2026-05.")
    summary: str
    findings: list[FindingInput] = strawberry.field(default_factory=list)
    carried_out_by: str | None = strawberry.field(
        default=None,
        description="Who carried out the check (督导人员, up to 200 characters); by default you.",
    )


@strawberry.type
class SpotCheckPayload:
    spot_check: SpotCheck


@strawberry.type
class FindingPayload:
    finding: SpotCheckFinding


SpotCheckResult = Annotated[SpotCheckPayload | InvalidInput, strawberry.union("SpotCheckResult")]
FindingResult = Annotated[FindingPayload | InvalidInput, strawberry.union("FindingResult")]


# --- bulletins ------------------------------------------------------------------------------------


@strawberry.type(description="通报: a commendation, criticism or notice to a set of branches.")
class Bulletin(Node):
    title: str
    content: str
    kind: BulletinKind
    published_at: datetime
    _row: strawberry.Private[BulletinRow]

    @classmethod
    def from_model(cls, row: BulletinRow) -> Bulletin:
        return cls(
            id=to_global_id("Bulletin", row.id),
            title=row.title,
            content=row.content,
            kind=row.kind,
            published_at=row.published_at,
            _row=row,
        )

    @strawberry.field
    def kind_label(self) -> str:
        return self.kind.label

    @strawberry.field(description="The branches it was published to.")
    async def branches(self, info: Info) -> list[Branch]:
        rows = await info.context.loaders.supervision.bulletin_recipients.load(self._row.id)
        return [Branch.from_model(r) for r in rows]

    @strawberry.field(description="When you first read it (markBulletinRead); null: unread.")
    async def read_at(self, info: Info) -> datetime | None:
        return (await info.context.loaders.supervision.bulletin_reads.load(self._row.id)).read_at

    @strawberry.field(description="How many accounts have read it.")
    async def read_count(self, info: Info) -> int:
        return (await info.context.loaders.supervision.bulletin_reads.load(self._row.id)).readers


@strawberry.input
class PublishBulletinInput:
    title: str
    content: str
    kind: BulletinKind
    branch_ids: list[strawberry.ID]


@strawberry.type
class BulletinPayload:
    bulletin: Bulletin


BulletinResult = Annotated[BulletinPayload | InvalidInput, strawberry.union("BulletinResult")]


# --- root fields ----------------------------------------------------------------------------------


@strawberry.type
class SupervisionQuery:
    @strawberry.field(
        description="Reminders addressed to you (as a member, and to your branch as its "
        "secretary), soonest due first."
    )
    async def my_reminders(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        statuses: list[ReminderStatus] | None = None,
    ) -> Connection[Reminder]:
        flt = ReminderFilter(mine=True, statuses=tuple(statuses or ()))
        return await _reminders(info, flt, first, after)

    @strawberry.field(description="Reminders you may read, soonest due first.")
    async def reminders(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        subtree_of: strawberry.ID | None = None,
        kinds: list[ReminderKind] | None = None,
        statuses: list[ReminderStatus] | None = None,
        due_from: date | None = None,
        due_until: date | None = None,
    ) -> Connection[Reminder]:
        flt = ReminderFilter(
            subtree_of=optional_global_id(subtree_of, "Branch", "subtreeOf"),
            kinds=tuple(kinds or ()),
            statuses=tuple(statuses or ()),
            due_from=due_from,
            due_until=due_until,
        )
        return await _reminders(info, flt, first, after)

    @strawberry.field(description="Spot checks of branches you may read, latest first.")
    async def spot_checks(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        subtree_of: strawberry.ID | None = None,
        period: Annotated[
            str | None, strawberry.argument(description="2026, 2026-Q2 or 2026-05.")
        ] = None,
        open_findings: Annotated[
            bool | None,
            strawberry.argument(description="true: checks with findings not yet closed."),
        ] = None,
    ) -> Connection[SpotCheck]:
        request = page_of(info, first, after)
        flt = SpotCheckFilter(
            subtree_of=optional_global_id(subtree_of, "Branch", "subtreeOf"),
            period=None if period is None else str(period_input(period)),
            open_findings=open_findings,
        )
        page: Page[SpotCheckRow] = await read(
            info, lambda db, viewer: ops.list_spot_checks(db, viewer, flt, request)
        )
        return connection_from_page(
            page,
            [SpotCheck.from_model(r) for r in page.items],
            lambda: read(info, lambda db, viewer: ops.count_spot_checks(db, viewer, flt)),
        )

    @strawberry.field(description="Bulletins to your branches (and those you published).")
    async def bulletins(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        kinds: list[BulletinKind] | None = None,
        unread: bool | None = None,
    ) -> Connection[Bulletin]:
        request = page_of(info, first, after)
        flt = BulletinFilter(kinds=tuple(kinds or ()), unread=unread)
        page: Page[BulletinRow] = await read(
            info, lambda db, viewer: ops.list_bulletins(db, viewer, flt, request)
        )
        return connection_from_page(
            page,
            [Bulletin.from_model(r) for r in page.items],
            lambda: read(info, lambda db, viewer: ops.count_bulletins(db, viewer, flt)),
        )


@strawberry.type
class SupervisionMutation:
    @strawberry.mutation(description="知悉: the addressee has seen the reminder.")
    async def acknowledge_reminder(self, info: Info, id: strawberry.ID) -> ReminderResult:
        ctx = info.context

        async def run(db: AsyncSession, viewer: Viewer) -> ReminderWritten:
            return await reminder_ops.acknowledge_reminder(
                db, viewer, ctx.clock(), _reminder_id(id)
            )

        return await _publish(info, await write(info, run))

    @strawberry.mutation(description="办结: the addressee marks the reminder done.")
    async def resolve_reminder(
        self, info: Info, id: strawberry.ID, note: str | None = None
    ) -> ReminderResult:
        ctx = info.context

        async def run(db: AsyncSession, viewer: Viewer) -> ReminderWritten:
            return await reminder_ops.resolve_reminder(
                db, viewer, ctx.clock(), _reminder_id(id), note
            )

        return await _publish(info, await write(info, run))

    @strawberry.mutation(description="Records a spot check with its findings (inspectors).")
    async def create_spot_check(self, info: Info, input: CreateSpotCheckInput) -> SpotCheckResult:
        async def run(db: AsyncSession, viewer: Viewer) -> SpotCheckPayload:
            data = SpotCheckData(
                branch_id=from_global_id(input.branch_id, "Branch", "branchId"),
                checked_on=input.checked_on,
                period=input.period,
                summary=input.summary,
                findings=[FindingData(f.text, f.deadline) for f in input.findings],
                carried_out_by=input.carried_out_by,
            )
            check, findings = await ops.create_spot_check(db, viewer, info.context.clock(), data)
            info.context.loaders.supervision.findings.prime(check.id, findings)
            return SpotCheckPayload(spot_check=SpotCheck.from_model(check))

        return await write(info, run)

    @strawberry.mutation(description="整改: the branch reports a finding rectified.")
    async def rectify_finding(
        self, info: Info, id: strawberry.ID, rectification: str
    ) -> FindingResult:
        async def run(db: AsyncSession, viewer: Viewer) -> FindingPayload:
            finding_id = from_global_id(id, "SpotCheckFinding", "id")
            row = await ops.rectify_finding(
                db, viewer, info.context.clock(), finding_id, rectification
            )
            return FindingPayload(finding=SpotCheckFinding.from_model(row))

        return await write(info, run)

    @strawberry.mutation(description="销号: an inspector closes a rectified finding.")
    async def close_finding(self, info: Info, id: strawberry.ID) -> FindingResult:
        async def run(db: AsyncSession, viewer: Viewer) -> FindingPayload:
            finding_id = from_global_id(id, "SpotCheckFinding", "id")
            row = await ops.close_finding(db, viewer, info.context.clock(), finding_id)
            return FindingPayload(finding=SpotCheckFinding.from_model(row))

        return await write(info, run)

    @strawberry.mutation(description="Publishes a bulletin to branches (committees).")
    async def publish_bulletin(self, info: Info, input: PublishBulletinInput) -> BulletinResult:
        async def run(db: AsyncSession, viewer: Viewer) -> BulletinPayload:
            data = BulletinData(
                title=input.title,
                content=input.content,
                kind=input.kind,
                branch_ids=[from_global_id(b, "Branch", "branchIds") for b in input.branch_ids],
            )
            row = await ops.publish_bulletin(db, viewer, info.context.clock(), data)
            return BulletinPayload(bulletin=Bulletin.from_model(row))

        return await write(info, run)

    @strawberry.mutation(description="Leaves your read receipt on a bulletin.")
    async def mark_bulletin_read(self, info: Info, id: strawberry.ID) -> BulletinResult:
        async def run(db: AsyncSession, viewer: Viewer) -> BulletinPayload:
            bulletin_id = from_global_id(id, "Bulletin", "id")
            row = await ops.mark_bulletin_read(db, viewer, info.context.clock(), bulletin_id)
            return BulletinPayload(bulletin=Bulletin.from_model(row))

        return await write(info, run)


async def _publish(info: Info, done: ReminderWritten | InvalidInput) -> ReminderResult:
    """Tells phones streaming reminders about a committed write; maps the outcome."""
    if isinstance(done, InvalidInput):
        return done
    if done.stamp is not None:
        await info.context.feed.publish_stamp(reminder_ops.COLLECTION_KEY, done.stamp)
    return ReminderPayload(reminder=Reminder.from_model(done.reminder, _today(info)))


# --- node(id:) ------------------------------------------------------------------------------------


async def _reminder_node(info: Info, reminder_id: uuid.UUID) -> Reminder | None:
    row = await read(
        info, lambda db, viewer: reminder_ops.get_reminder(db, viewer, str(reminder_id))
    )
    return Reminder.from_model(row, _today(info)) if row else None


async def _spot_check_node(info: Info, check_id: uuid.UUID) -> SpotCheck | None:
    row = await info.context.loaders.supervision.spot_check.load(check_id)
    return SpotCheck.from_model(row) if row else None


async def _finding_node(info: Info, finding_id: uuid.UUID) -> SpotCheckFinding | None:
    row = await read(info, lambda db, viewer: ops.get_finding(db, viewer, finding_id))
    return SpotCheckFinding.from_model(row) if row else None


async def _bulletin_node(info: Info, bulletin_id: uuid.UUID) -> Bulletin | None:
    row = await read(info, lambda db, viewer: ops.get_bulletin(db, viewer, bulletin_id))
    return Bulletin.from_model(row) if row else None


# Reminder ids are Relay ids of type "Reminder" (the phones' document name), not of the
# GraphQL type name SupervisionReminder.
register_node("Reminder", Reminder, _reminder_node)
register_node("SpotCheck", SpotCheck, _spot_check_node)
register_node("SpotCheckFinding", SpotCheckFinding, _finding_node)
register_node("Bulletin", Bulletin, _bulletin_node)
