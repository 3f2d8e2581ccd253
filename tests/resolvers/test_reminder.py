"""The reminder generator: what appears and what resolves as the clock moves; never twice."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from core.clock import FrozenClock
from core.db import Sessionmaker, writing
from demo.seed import SeedReport
from models import (
    Branch,
    Directive,
    DirectiveLevel,
    DirectivePriority,
    DirectiveRecipient,
    DirectiveStatus,
    LedgerEntry,
    LedgerFrequency,
    LedgerItem,
    Member,
    PartyStatus,
    RecipientStatus,
    Reminder,
    ReminderKind,
    ReminderResolution,
    ReminderStatus,
)
from resolvers.ledger_completeness import ledger_completeness
from resolvers.period import Period, PeriodKind, local_date
from resolvers.reminder import (
    LEDGER_KEEPING_KINDS,
    GenerationResult,
    ReminderRules,
    generate_reminders,
)
from tests.conftest import Builders, World, wait_until_blocked

# Lead days as the defaults, spelled out so the dates below read plainly.
RULES = ReminderRules(
    ledger_lead_days=7,
    ledger_grace_days=7,
    probation_lead_days=30,
    directive_lead_days=3,
    unsigned_days=2,
    response_days=7,
)
# The conftest clock starts at 2026-11-28 08:00 UTC: 16:00 on 28 November in Pingyin.


async def run(sessionmaker: Sessionmaker, clock: FrozenClock) -> GenerationResult:
    async with writing(sessionmaker) as db:
        return await generate_reminders(db, clock(), RULES)


async def reminders(sessionmaker: Sessionmaker) -> list[Reminder]:
    async with sessionmaker() as db:
        return list(await db.scalars(select(Reminder).order_by(Reminder.dedup_key)))


def of(rows: list[Reminder], kind: ReminderKind, **where: Any) -> list[Reminder]:
    return [r for r in rows if r.kind is kind and all(getattr(r, k) == v for k, v in where.items())]


async def add_item(
    sessionmaker: Sessionmaker, clock: FrozenClock, code: str, frequency: LedgerFrequency
) -> LedgerItem:
    item = LedgerItem(
        id=uuid.uuid4(),
        code=code,
        name=f"项目{code}",
        frequency=frequency,
        required=True,
        sort_order=int(code[1:]),
        active=True,
        created_at=clock(),
        updated_at=clock(),
    )
    async with writing(sessionmaker) as db:
        db.add(item)
    return item


async def add_entry(
    sessionmaker: Sessionmaker,
    clock: FrozenClock,
    branch_id: uuid.UUID,
    item: LedgerItem,
    day: date,
) -> None:
    async with writing(sessionmaker) as db:
        db.add(
            LedgerEntry(
                id=uuid.uuid4(),
                branch_id=branch_id,
                item_id=item.id,
                occurred_on=day,
                title="会议",
                created_at=clock(),
                updated_at=clock(),
            )
        )


@pytest.fixture
async def ledger(sessionmaker: Sessionmaker, clock: FrozenClock, world: World) -> LedgerItem:
    """A monthly item (L02) and a quarterly one (L01); 玫瑰 and 榆山 keep ledgers."""
    await add_item(sessionmaker, clock, "L01", LedgerFrequency.QUARTERLY)
    return await add_item(sessionmaker, clock, "L02", LedgerFrequency.MONTHLY)


async def test_generating_twice_creates_no_duplicate(
    sessionmaker: Sessionmaker, clock: FrozenClock, ledger: LedgerItem, make: Builders, world: World
) -> None:
    await make.member(
        world.meigui, party_status=PartyStatus.ACTIVIST, party_status_since=date(2025, 10, 1)
    )
    first = await run(sessionmaker, clock)
    rows = await reminders(sessionmaker)

    second = await run(sessionmaker, clock)

    # 2 due (November's L02) + 26 overdue (L02 January-October and L01 Q1-Q3, both branches)
    # + 1 activist.
    assert first.total_created == len(rows) == 29
    assert (second.total_created, second.total_resolved, second.stamp) == (0, 0, None)
    assert [r.id for r in await reminders(sessionmaker)] == [r.id for r in rows]


async def test_ledger_due_soon_and_overdue_appear_and_resolve_as_time_passes(
    sessionmaker: Sessionmaker, clock: FrozenClock, ledger: LedgerItem, world: World
) -> None:
    # 28 November: November's L02 ends in 2 days (due soon), October's is past its grace (7 Nov),
    # and so is every earlier month's L02 and quarter's L01 of the year.
    result = await run(sessionmaker, clock)
    rows = await reminders(sessionmaker)
    due = of(rows, ReminderKind.LEDGER_DUE)
    overdue = of(rows, ReminderKind.LEDGER_OVERDUE)
    assert result.created == {ReminderKind.LEDGER_DUE: 2, ReminderKind.LEDGER_OVERDUE: 26}
    assert {(r.branch_id, r.period, r.due_on) for r in due} == {
        (b, "2026-11", date(2026, 12, 7)) for b in (world.meigui.id, world.yushan.id)
    }
    assert {(r.period, r.due_on) for r in overdue if r.period == "2026-10"} == {
        ("2026-10", date(2026, 11, 14))
    }
    assert all(r.officer_id is None and r.status is ReminderStatus.OPEN for r in rows)
    assert "L02" in due[0].title

    # 玫瑰 records November's meeting: its due-soon reminder is resolved by the system.
    await add_entry(sessionmaker, clock, world.meigui.id, ledger, date(2026, 11, 27))
    result = await run(sessionmaker, clock)
    assert result.resolved == {ReminderKind.LEDGER_DUE: 1}
    [done] = of(await reminders(sessionmaker), ReminderKind.LEDGER_DUE, branch_id=world.meigui.id)
    assert done.status is ReminderStatus.RESOLVED
    assert done.resolution is ReminderResolution.FULFILLED
    assert done.resolved_by is None and done.answered_on == date(2026, 11, 28)

    # 9 December: 榆山's November deadline (7 Dec) passed: due-soon lapses, overdue appears.
    clock.advance(days=11)
    result = await run(sessionmaker, clock)
    assert result.created == {ReminderKind.LEDGER_OVERDUE: 1}
    assert result.resolved == {ReminderKind.LEDGER_DUE: 1}
    rows = await reminders(sessionmaker)
    [lapsed] = of(rows, ReminderKind.LEDGER_DUE, branch_id=world.yushan.id)
    assert lapsed.resolution is ReminderResolution.LAPSED and lapsed.answered_on is None
    assert of(rows, ReminderKind.LEDGER_OVERDUE, branch_id=world.yushan.id, period="2026-11")

    # 26 December: December's L02 and Q4's L01 fall due for both branches.
    clock.advance(days=17)
    result = await run(sessionmaker, clock)
    assert result.created == {ReminderKind.LEDGER_DUE: 4}
    periods = {r.period for r in of(await reminders(sessionmaker), ReminderKind.LEDGER_DUE)}
    assert periods == {"2026-11", "2026-12", "2026-Q4"}

    # A late entry for October fulfils the overdue reminder.
    await add_entry(sessionmaker, clock, world.yushan.id, ledger, date(2026, 10, 30))
    result = await run(sessionmaker, clock)
    assert result.resolved == {ReminderKind.LEDGER_OVERDUE: 1}


async def test_every_overdue_ledger_period_of_the_year_is_reminded_once(
    sessionmaker: Sessionmaker, clock: FrozenClock, ledger: LedgerItem, world: World
) -> None:
    # 28 November, nothing recorded all year: every month of L02 whose deadline passed
    # (January to October) and every quarter of L01 (Q1 to Q3) is overdue, not just October's.
    result = await run(sessionmaker, clock)

    overdue = of(
        await reminders(sessionmaker), ReminderKind.LEDGER_OVERDUE, branch_id=world.meigui.id
    )
    assert sorted(r.period or "" for r in overdue) == [
        *(f"2026-{m:02d}" for m in range(1, 11)),
        "2026-Q1",
        "2026-Q2",
        "2026-Q3",
    ]
    assert result.created[ReminderKind.LEDGER_OVERDUE] == 26  # both branches
    again = await run(sessionmaker, clock)
    assert again.total_created == 0


async def test_january_reminds_decembers_overdue_work_but_not_last_years_earlier_months(
    sessionmaker: Sessionmaker, clock: FrozenClock, ledger: LedgerItem, world: World
) -> None:
    clock.advance(days=53)  # 20 January 2027: December's grace ended on 7 January

    await run(sessionmaker, clock)

    periods = {
        r.period
        for r in of(
            await reminders(sessionmaker), ReminderKind.LEDGER_OVERDUE, branch_id=world.meigui.id
        )
    }
    assert periods == {"2026-12", "2026-Q4"}


async def test_every_missing_ledger_entry_of_the_demo_year_is_reminded(
    seeded_demo: SeedReport, sessionmaker: Sessionmaker, clock: FrozenClock
) -> None:
    today = local_date(clock())
    year = Period.containing(PeriodKind.YEAR, today)
    async with sessionmaker() as db:
        branch_ids = list(
            await db.scalars(select(Branch.id).where(Branch.kind.in_(LEDGER_KEEPING_KINDS)))
        )
        found = await ledger_completeness(
            db, branch_ids, year, today=today, grace_days=RULES.ledger_grace_days
        )
    missing = {
        (branch_id, item.item_id, str(period))
        for branch_id, items in found.items()
        for item in items
        for period in item.missing
    }
    # The demo keeps gaps through the year, not only last month's.
    assert any(period < "2026-10" for _, _, period in missing)

    await run(sessionmaker, clock)

    reminded = {
        (r.branch_id, r.ledger_item_id, r.period)
        for r in of(await reminders(sessionmaker), ReminderKind.LEDGER_OVERDUE)
        if r.period_end is not None and year.contains(r.period_end)
    }
    assert reminded == missing


async def test_retired_ledger_item_reminders_lapse(
    sessionmaker: Sessionmaker, clock: FrozenClock, ledger: LedgerItem
) -> None:
    await run(sessionmaker, clock)
    async with writing(sessionmaker) as db:
        await db.execute(update(LedgerItem).where(LedgerItem.id == ledger.id).values(active=False))

    result = await run(sessionmaker, clock)

    # L02's November due soon, and January-October overdue, of both branches.
    assert result.resolved == {ReminderKind.LEDGER_DUE: 2, ReminderKind.LEDGER_OVERDUE: 20}
    retired = [r for r in await reminders(sessionmaker) if r.ledger_item_id == ledger.id]
    assert len(retired) == 22
    assert all(r.resolution is ReminderResolution.LAPSED for r in retired)


async def test_member_pipeline_reminders_follow_the_anniversaries(
    sessionmaker: Sessionmaker, clock: FrozenClock, make: Builders, world: World
) -> None:
    ripe = await make.member(
        world.meigui, party_status=PartyStatus.ACTIVIST, party_status_since=date(2025, 11, 20)
    )
    later = await make.member(
        world.meigui, party_status=PartyStatus.ACTIVIST, party_status_since=date(2025, 12, 10)
    )
    ending = await make.member(
        world.yushan, party_status=PartyStatus.PROBATIONARY, party_status_since=date(2025, 12, 20)
    )
    await make.member(
        world.yushan, party_status=PartyStatus.PROBATIONARY, party_status_since=date(2026, 3, 1)
    )

    result = await run(sessionmaker, clock)

    assert result.created == {
        ReminderKind.ACTIVIST_YEAR_COMPLETE: 1,
        ReminderKind.PROBATION_ENDING: 1,
    }
    rows = await reminders(sessionmaker)
    [activist] = of(rows, ReminderKind.ACTIVIST_YEAR_COMPLETE)
    assert (activist.subject_member_id, activist.branch_id, activist.officer_id) == (
        ripe.id,
        world.meigui.id,
        None,
    )
    assert activist.due_on == date(2026, 11, 27)  # anniversary + 7 response days
    [probation] = of(rows, ReminderKind.PROBATION_ENDING)
    assert (probation.officer_id, probation.branch_id) == (ending.id, world.yushan.id)
    assert probation.due_on == date(2026, 12, 20)

    # 10 December: the second activist's year is complete; the first became a candidate.
    async with writing(sessionmaker) as db:
        await db.execute(
            update(Member)
            .where(Member.id == ripe.id)
            .values(party_status=PartyStatus.CANDIDATE, party_status_since=date(2026, 12, 1))
        )
    clock.advance(days=12)
    result = await run(sessionmaker, clock)

    assert result.created == {ReminderKind.ACTIVIST_YEAR_COMPLETE: 1}
    assert result.resolved == {ReminderKind.ACTIVIST_YEAR_COMPLETE: 1}
    rows = await reminders(sessionmaker)
    assert of(rows, ReminderKind.ACTIVIST_YEAR_COMPLETE, subject_member_id=later.id)
    [done] = of(rows, ReminderKind.ACTIVIST_YEAR_COMPLETE, subject_member_id=ripe.id)
    assert done.resolution is ReminderResolution.FULFILLED


@dataclass
class Dispatch:
    directive: Directive
    root: DirectiveRecipient
    branch: DirectiveRecipient
    member: DirectiveRecipient


async def dispatch(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, deadline: datetime
) -> Dispatch:
    now = clock()
    directive = Directive(
        id=uuid.uuid4(),
        title="开展反诈宣传",
        content="……",
        priority=DirectivePriority.IMPORTANT,
        deadline=deadline,
        issued_by_branch_id=world.committee.id,
        issued_by_account_id=world.admin.id,
        status=DirectiveStatus.ISSUED,
        issued_at=now,
        created_at=now,
        updated_at=now,
    )

    def row(
        parent: DirectiveRecipient | None,
        level: DirectiveLevel,
        branch_id: uuid.UUID,
        member_id: uuid.UUID | None = None,
    ) -> DirectiveRecipient:
        return DirectiveRecipient(
            id=str(uuid.uuid4()),
            directive_id=directive.id,
            parent_id=parent.id if parent else None,
            level=level,
            target=f"m:{member_id}" if member_id else f"b:{branch_id}",
            branch_id=branch_id,
            officer_id=member_id,
            status=RecipientStatus.SIGNED if parent is None else RecipientStatus.PENDING,
            signed_at=now if parent is None else None,
            dispatched_at=now,
            updated_at=1,
            deleted=False,
            created_at=now,
        )

    root = row(None, DirectiveLevel.COUNTY_COMMITTEE, world.committee.id)
    branch = row(root, DirectiveLevel.BRANCH, world.meigui.id)
    member = row(branch, DirectiveLevel.MEMBER, world.meigui.id, world.officer_member.id)
    async with writing(sessionmaker) as db:
        db.add(directive)
        await db.flush()
        for r in (root, branch, member):
            db.add(r)
            await db.flush()
    return Dispatch(directive, root, branch, member)


async def test_directive_reminders_for_unsigned_and_near_deadline_recipients(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    d = await dispatch(sessionmaker, clock, world, deadline=clock() + timedelta(days=6))
    assert (await run(sessionmaker, clock)).total_created == 0

    # Two days on, neither the branch nor the member has signed.
    clock.advance(days=2, hours=1)
    result = await run(sessionmaker, clock)
    assert result.created == {ReminderKind.DIRECTIVE_UNSIGNED: 2}
    rows = await reminders(sessionmaker)
    [mine] = of(rows, ReminderKind.DIRECTIVE_UNSIGNED, directive_recipient_id=d.member.id)
    assert (mine.officer_id, mine.branch_id) == (world.officer_member.id, world.meigui.id)
    assert mine.due_on == date(2026, 12, 7)  # unsigned since 30 Nov, 7 days to answer
    assert of(rows, ReminderKind.DIRECTIVE_UNSIGNED, directive_recipient_id=d.branch.id)

    # The member signs; three days before the deadline both open rows are reminded of it.
    async with writing(sessionmaker) as db:
        await db.execute(
            update(DirectiveRecipient)
            .where(DirectiveRecipient.id == d.member.id)
            .values(status=RecipientStatus.SIGNED, signed_at=clock())
        )
    clock.advance(days=1)
    result = await run(sessionmaker, clock)
    assert result.resolved == {ReminderKind.DIRECTIVE_UNSIGNED: 1}
    assert result.created == {ReminderKind.DIRECTIVE_DEADLINE: 2}
    deadline = of(await reminders(sessionmaker), ReminderKind.DIRECTIVE_DEADLINE)
    assert {r.due_on for r in deadline} == {date(2026, 12, 4)}
    assert d.root.id not in {r.directive_recipient_id for r in deadline}

    # The branch closes its row: its deadline and unsigned reminders are fulfilled.
    async with writing(sessionmaker) as db:
        await db.execute(
            update(DirectiveRecipient)
            .where(DirectiveRecipient.id == d.branch.id)
            .values(status=RecipientStatus.CLOSED, signed_at=clock(), closed_at=clock())
        )
    result = await run(sessionmaker, clock)
    assert result.resolved == {
        ReminderKind.DIRECTIVE_UNSIGNED: 1,
        ReminderKind.DIRECTIVE_DEADLINE: 1,
    }


async def test_a_reminder_someone_resolved_is_not_raised_again(
    sessionmaker: Sessionmaker, clock: FrozenClock, ledger: LedgerItem
) -> None:
    await run(sessionmaker, clock)
    async with writing(sessionmaker) as db:
        await db.execute(
            update(Reminder).values(
                status=ReminderStatus.RESOLVED, resolution=ReminderResolution.HANDLED
            )
        )

    result = await run(sessionmaker, clock)

    assert (result.total_created, result.total_resolved) == (0, 0)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_concurrent_generation_creates_no_duplicate(
    sessionmaker: Sessionmaker, clock: FrozenClock, ledger: LedgerItem
) -> None:
    """Two runs that both read before either commits: the second waits on the first's stamp,
    then its inserts meet the first's rows and do nothing (a plain INSERT would fail)."""
    async with writing(sessionmaker) as first_db:
        first = await generate_reminders(first_db, clock(), RULES)

        async def second_run() -> GenerationResult:
            async with writing(sessionmaker) as db:
                return await generate_reminders(db, clock(), RULES)

        second_task = asyncio.create_task(second_run())
        await wait_until_blocked(sessionmaker, second_task)  # on the stamp's lock
        assert not second_task.done()
    second = await second_task

    assert first.total_created == 28  # 2 due + 26 overdue of the year (see above)
    assert second.total_created == 0
    async with sessionmaker() as db:
        assert await db.scalar(select(func.count()).select_from(Reminder)) == 28


async def test_generation_pins_its_dates_to_the_bureau_calendar(
    sessionmaker: Sessionmaker, ledger: LedgerItem
) -> None:
    # 22 November 16:30 UTC is already 23 November in Pingyin: November ends in 7 days.
    clock = FrozenClock(datetime(2026, 11, 22, 16, 30, tzinfo=UTC))

    result = await run(sessionmaker, clock)

    assert result.created[ReminderKind.LEDGER_DUE] == 2
