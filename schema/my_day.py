"""`myDay`: an officer's day in one query, each part read by its own domain's operation."""

from __future__ import annotations

from datetime import date

import strawberry

from resolvers import my_day as ops
from resolvers import reminder as reminder_ops
from resolvers import supervision as supervision_ops
from resolvers import sync_admin as sync_admin_ops
from resolvers.my_day import DirectiveCounts, RecordCounts, Window
from resolvers.period import local_date
from schema.connection import Connection, connection_from_page, page_of
from schema.context import Info
from schema.directive import DirectiveRecipient
from schema.errors import read
from schema.supervision import Bulletin, Reminder
from schema.sync_admin import QuarantinedRow


@strawberry.type(description="Your field records dated within a span of bureau calendar days.")
class MyRecordCounts:
    starts_on: date = strawberry.field(description="First day (bureau time, UTC+8).")
    ends_on: date = strawberry.field(description="The day after the last one.")
    visits: int
    patrols: int
    service_actions: int

    @classmethod
    def from_counts(cls, counts: RecordCounts) -> MyRecordCounts:
        return cls(
            starts_on=counts.window.starts_on,
            ends_on=counts.window.ends_on,
            visits=counts.visits,
            patrols=counts.patrols,
            service_actions=counts.service_actions,
        )


@strawberry.type(description="Directive rows you act for that still wait for you.")
class MyDirectiveCounts:
    to_sign: int = strawberry.field(description="待签收: pending your receipt.")
    to_report: int = strawberry.field(description="Signed or in progress: waiting for reports.")

    @classmethod
    def from_counts(cls, counts: DirectiveCounts) -> MyDirectiveCounts:
        return cls(to_sign=counts.to_sign, to_report=counts.to_report)


@strawberry.type(
    description=(
        "今日待办: what waits for you today. Each field is read only when asked, and each list "
        "is a connection (`totalCount` gives the number)."
    )
)
class MyDay:
    today: date = strawberry.field(description="Today in the bureau's calendar (UTC+8).")
    _week: strawberry.Private[Window]
    _month: strawberry.Private[Window]

    @strawberry.field(
        description="Reminders addressed to you not yet resolved (open or acknowledged), "
        "soonest due first."
    )
    async def reminders(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Reminder]:
        request = page_of(info, first, after)
        flt = ops.UNRESOLVED_REMINDERS
        page = await read(info, lambda db, v: reminder_ops.list_reminders(db, v, flt, request))
        return connection_from_page(
            page,
            [Reminder.from_model(r, self.today) for r in page.items],
            lambda: read(info, lambda db, v: reminder_ops.count_reminders(db, v, flt)),
        )

    @strawberry.field(
        description="Directive rows you act for still to sign (PENDING) or report on (SIGNED, "
        "IN_PROGRESS), newest dispatch first."
    )
    async def directives(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[DirectiveRecipient]:
        request = page_of(info, first, after)
        page = await read(info, lambda db, v: ops.waiting_directives(db, v, request))
        return connection_from_page(
            page,
            [DirectiveRecipient.from_model(r) for r in page.items],
            lambda: read(info, ops.count_all_waiting_directives),
        )

    @strawberry.field(description="How many of `directives` wait for a signature, and for reports.")
    async def directive_counts(self, info: Info) -> MyDirectiveCounts:
        counts = await read(info, ops.count_waiting_directives)
        return MyDirectiveCounts.from_counts(counts)

    @strawberry.field(description="Bulletins (通报) to you that you have not read, newest first.")
    async def unread_bulletins(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Bulletin]:
        request = page_of(info, first, after)
        flt = ops.UNREAD_BULLETINS
        page = await read(info, lambda db, v: supervision_ops.list_bulletins(db, v, flt, request))
        return connection_from_page(
            page,
            [Bulletin.from_model(r) for r in page.items],
            lambda: read(info, lambda db, v: supervision_ops.count_bulletins(db, v, flt)),
        )

    @strawberry.field(
        description="Your visits, patrols and service actions this calendar week "
        "(Monday to Sunday)."
    )
    async def this_week(self, info: Info) -> MyRecordCounts:
        week = self._week
        counts = await read(info, lambda db, v: ops.count_own_records(db, v, week))
        return MyRecordCounts.from_counts(counts)

    @strawberry.field(description="Your visits, patrols and service actions this calendar month.")
    async def this_month(self, info: Info) -> MyRecordCounts:
        month = self._month
        counts = await read(info, lambda db, v: ops.count_own_records(db, v, month))
        return MyRecordCounts.from_counts(counts)

    @strawberry.field(
        description="Your synced rows the server quarantined (held) for an admin, newest first."
    )
    async def held_rows(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[QuarantinedRow]:
        request = page_of(info, first, after)
        viewer = info.context.require_viewer()
        flt = ops.held_rows(viewer)
        page = await read(info, lambda db, v: sync_admin_ops.list_quarantine(db, v, flt, request))
        return connection_from_page(
            page,
            [QuarantinedRow.from_model(r) for r in page.items],
            lambda: read(info, lambda db, v: sync_admin_ops.count_quarantine(db, v, flt)),
        )


@strawberry.type
class MyDayQuery:
    @strawberry.field(description="今日待办: an officer's day in one query.")
    async def my_day(self, info: Info) -> MyDay:
        info.context.require_viewer()
        today = local_date(info.context.clock())
        return MyDay(today=today, _week=ops.week_of(today), _month=ops.month_of(today))
