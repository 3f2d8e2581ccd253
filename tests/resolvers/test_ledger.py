"""Ledger rules: the seeded catalog, entries and their checks, completeness, attachments."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from access.errors import ErrorCode, Forbidden, InputError
from access.viewer import Viewer, viewer_for
from core.clock import FrozenClock
from core.db import Sessionmaker, writing
from core.storage import LocalStorage, sha256_hex
from demo.seed import seed_catalogs
from demo.seed_ledger import DEFAULT_LEDGER_ITEMS
from models import (
    Account,
    Branch,
    LedgerAttachment,
    LedgerEntry,
    LedgerEntryAttendee,
    LedgerFrequency,
    LedgerItem,
    StudyForm,
    StudyRecord,
)
from resolvers import ledger as ops
from resolvers import study as study_ops
from resolvers.ledger_completeness import SubPeriodStatus, ledger_completeness
from resolvers.pagination import PageRequest
from resolvers.period import parse_period
from tests.conftest import Builders, World, wait_until_blocked

GRACE = 7


def as_viewer(account: Account, branch: Branch | None = None) -> Viewer:
    return viewer_for(account, None, branch, branch)


async def count(sessionmaker: Sessionmaker, model: Any) -> int:
    async with sessionmaker() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


def codes(error: InputError) -> dict[str | None, ErrorCode]:
    return {p.field: p.code for p in error.problems}


@pytest.fixture
async def catalog(sessionmaker: Sessionmaker, clock: FrozenClock) -> None:
    await seed_catalogs(sessionmaker, clock)


async def record(
    sessionmaker: Sessionmaker,
    clock: FrozenClock,
    viewer: Viewer,
    branch: Branch,
    code: str,
    day: date,
    recorded_at: datetime | None = None,
    **extra: Any,
) -> LedgerEntry:
    """An entry recorded at `recorded_at` (default: the day itself, at noon in Pingyin)."""
    saved = clock.now
    clock.now = recorded_at or datetime(day.year, day.month, day.day, 4, tzinfo=UTC)
    try:
        async with writing(sessionmaker) as db:
            data = {"branch_id": branch.id, "item_code": code, "occurred_on": day}
            data["title"] = extra.pop("title", f"{code} {day}")
            return await ops.create_ledger_entry(db, viewer, clock, {**data, **extra})
    finally:
        clock.now = saved


async def completeness(
    sessionmaker: Sessionmaker, branch: Branch, period: str, today: date = date(2026, 11, 28)
) -> dict[str, Any]:
    async with sessionmaker() as db:
        result = await ledger_completeness(
            db, [branch.id], parse_period(period), today=today, grace_days=GRACE
        )
    return {item.code: item for item in result[branch.id]}


# --- catalog ------------------------------------------------------------------------------------


async def test_seed_adds_the_24_items_once_and_keeps_the_bureaus_edits(
    sessionmaker: Sessionmaker, clock: FrozenClock
) -> None:
    first = await seed_catalogs(sessionmaker, clock)
    assert first.ledger_items == len(DEFAULT_LEDGER_ITEMS) == 24
    async with writing(sessionmaker) as db:
        await db.execute(update(LedgerItem).where(LedgerItem.code == "L02").values(name="支委会"))
        await db.execute(delete_item("L24"))
    again = await seed_catalogs(sessionmaker, clock)
    assert again.ledger_items == 1  # only the deleted L24 comes back
    async with sessionmaker() as db:
        items = {i.code: i for i in await ops.list_ledger_items(db)}
    assert items["L02"].name == "支委会"
    assert items["L02"].frequency is LedgerFrequency.MONTHLY
    assert items["L11"].frequency is LedgerFrequency.ON_EVENT and not items["L11"].required
    assert list(items) == [f"L{i:02d}" for i in range(1, 25)]


def delete_item(code: str) -> Any:
    from sqlalchemy import delete

    return delete(LedgerItem).where(LedgerItem.code == code)


async def test_catalog_is_edited_by_admins_only(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, catalog: None
) -> None:
    data = {"code": "l25", "name": "警营文化", "frequency": LedgerFrequency.QUARTERLY}
    with pytest.raises(Forbidden):
        async with writing(sessionmaker) as db:
            await ops.create_ledger_item(db, as_viewer(world.secretary, world.meigui), clock, data)
    async with writing(sessionmaker) as db:
        item = await ops.create_ledger_item(db, as_viewer(world.admin), clock, data)
    assert item.code == "L25"
    with pytest.raises(InputError) as caught:
        async with writing(sessionmaker) as db:
            await ops.update_ledger_item(
                db, as_viewer(world.admin), clock, item.id, {"code": "L02"}
            )
    assert codes(caught.value) == {"code": ErrorCode.DUPLICATE}


async def test_bad_catalog_items_are_refused_and_nothing_written(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, catalog: None
) -> None:
    admin = as_viewer(world.admin)
    cases: list[tuple[dict[str, Any], dict[str | None, ErrorCode]]] = [
        ({"code": "25"}, {"code": ErrorCode.INVALID}),
        ({"code": "L-25"}, {"code": ErrorCode.INVALID}),
        ({"code": "L02"}, {"code": ErrorCode.DUPLICATE}),
        ({"code": " "}, {"code": ErrorCode.REQUIRED}),
        ({"name": ""}, {"name": ErrorCode.REQUIRED}),
        ({"name": "台" * 101}, {"name": ErrorCode.TOO_LONG}),
    ]
    for change, expected in cases:
        data = {"code": "L25", "name": "警营文化", "frequency": LedgerFrequency.QUARTERLY, **change}
        with pytest.raises(InputError) as caught:
            async with writing(sessionmaker) as db:
                await ops.create_ledger_item(db, admin, clock, data)
        assert codes(caught.value) == expected, change
    assert await count(sessionmaker, LedgerItem) == len(DEFAULT_LEDGER_ITEMS)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_two_admins_adding_one_code_at_once_get_one_item_and_a_duplicate_error(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, catalog: None
) -> None:
    """Both sessions find the code free; the second's insert waits on the unique index for the
    first to commit and is then refused as DUPLICATE on `code`, not an internal error."""
    admin = as_viewer(world.admin)
    data = {"code": "L25", "name": "警营文化", "frequency": LedgerFrequency.QUARTERLY}

    async def second_admin() -> None:
        async with writing(sessionmaker) as db:
            await ops.create_ledger_item(db, admin, clock, {**data, "name": "警营文化建设"})

    async with writing(sessionmaker) as first:
        await ops.create_ledger_item(first, admin, clock, data)
        second = asyncio.create_task(second_admin())
        await wait_until_blocked(sessionmaker, second)  # on the first's row
        assert not second.done()
    with pytest.raises(InputError) as caught:
        await second
    assert codes(caught.value) == {"code": ErrorCode.DUPLICATE}
    async with sessionmaker() as db:
        names = (await db.scalars(select(LedgerItem.name).where(LedgerItem.code == "L25"))).all()
    assert names == ["警营文化"]


# --- entries ------------------------------------------------------------------------------------


async def test_bad_entry_is_refused_with_field_errors_and_nothing_written(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, catalog: None
) -> None:
    secretary = as_viewer(world.secretary, world.meigui)
    cases: list[tuple[dict[str, Any], dict[str | None, ErrorCode]]] = [
        ({"item_code": "L99"}, {"itemCode": ErrorCode.NOT_FOUND}),
        ({"occurred_on": date(2026, 12, 1)}, {"occurredOn": ErrorCode.IN_FUTURE}),
        ({"occurred_on": date(1999, 12, 31)}, {"occurredOn": ErrorCode.OUT_OF_RANGE}),
        ({"title": "  "}, {"title": ErrorCode.REQUIRED}),
        ({"attendee_ids": [world.yushan_member.id]}, {"attendeeIds": ErrorCode.OUT_OF_SCOPE}),
        ({"attendee_ids": [uuid.uuid4()]}, {"attendeeIds": ErrorCode.NOT_FOUND}),
    ]
    for change, expected in cases:
        data = {
            "branch_id": world.meigui.id,
            "item_code": "L02",
            "occurred_on": date(2026, 11, 3),
            "title": "支委会",
            "attendee_ids": [world.meigui_member.id],
            **change,
        }
        with pytest.raises(InputError) as caught:
            async with writing(sessionmaker) as db:
                await ops.create_ledger_entry(db, secretary, clock, data)
        assert codes(caught.value) == expected, change
    assert await count(sessionmaker, LedgerEntry) == 0
    assert await count(sessionmaker, LedgerEntryAttendee) == 0


async def test_attendees_may_come_from_the_branch_subtree(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, make: Builders, catalog: None
) -> None:
    in_group = await make.member(world.meigui_group, name="小组党员")
    entry = await record(
        sessionmaker,
        clock,
        as_viewer(world.admin),
        world.meigui,
        "L03",
        date(2026, 11, 2),
        attendee_ids=[in_group.id, world.meigui_member.id, in_group.id],
    )
    async with sessionmaker() as db:
        (people,) = await ops.attendees_by_entry_id(db, as_viewer(world.admin), [entry.id])
    assert sorted(p.name for p in people) == sorted(["小组党员", "张党员"])


async def test_only_admins_and_the_branchs_secretary_write_ledgers(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, catalog: None
) -> None:
    day = date(2026, 11, 3)
    for viewer, branch in (
        (as_viewer(world.officer, world.meigui), world.meigui),
        (as_viewer(world.inspector), world.meigui),
        (as_viewer(world.secretary, world.meigui), world.yushan),
    ):
        with pytest.raises(Forbidden):
            await record(sessionmaker, clock, viewer, branch, "L02", day)
    await record(
        sessionmaker,
        clock,
        as_viewer(world.secretary, world.meigui),
        world.meigui_group,
        "L03",
        day,
    )
    await record(sessionmaker, clock, as_viewer(world.admin), world.yushan, "L02", day)
    assert await count(sessionmaker, LedgerEntry) == 2


async def test_officers_read_their_own_branchs_ledger_only(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, catalog: None
) -> None:
    admin = as_viewer(world.admin)
    day = date(2026, 11, 3)
    await record(sessionmaker, clock, admin, world.meigui, "L02", day)
    await record(sessionmaker, clock, admin, world.meigui_group, "L03", day)
    await record(sessionmaker, clock, admin, world.yushan, "L02", day)
    page = PageRequest(50, None)
    flt = ops.LedgerEntryFilter()
    async with sessionmaker() as db:
        officer = await ops.list_ledger_entries(
            db, as_viewer(world.officer, world.meigui), flt, page
        )
        secretary = await ops.list_ledger_entries(
            db, as_viewer(world.secretary, world.meigui), flt, page
        )
        inspector = await ops.count_ledger_entries(db, as_viewer(world.inspector), flt)
        subtree = await ops.count_ledger_entries(
            db, admin, ops.LedgerEntryFilter(subtree_of=world.meigui.id, item_codes=["l02"])
        )
    assert {e.branch_id for e in officer.items} == {world.meigui.id}
    assert {e.branch_id for e in secretary.items} == {world.meigui.id, world.meigui_group.id}
    assert inspector == 3
    assert subtree == 1


async def test_deleting_an_entry_removes_its_rows_and_unlinks_study_records(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, catalog: None, tmp_path: Path
) -> None:
    admin = as_viewer(world.admin)
    entry = await record(
        sessionmaker, clock, admin, world.meigui, "L06", date(2026, 11, 3),
        attendee_ids=[world.meigui_member.id],
    )  # fmt: skip
    async with writing(sessionmaker) as db:
        await ops.add_ledger_attachment(
            db, admin, clock, LocalStorage(tmp_path), 1000, entry.id, "纪要.txt", "text/plain", b"x"
        )
        study = await study_ops.create_study_record(
            db,
            admin,
            clock,
            {
                "branch_id": world.meigui.id,
                "held_on": date(2026, 11, 3),
                "topic": "学习贯彻",
                "form": StudyForm.BRANCH,
                "ledger_entry_id": entry.id,
            },
        )
    async with writing(sessionmaker) as db:
        await ops.delete_ledger_entry(db, admin, entry.id)
    assert await count(sessionmaker, LedgerEntry) == 0
    assert await count(sessionmaker, LedgerEntryAttendee) == 0
    assert await count(sessionmaker, LedgerAttachment) == 0
    async with sessionmaker() as db:
        kept = await db.get(StudyRecord, study.id)
    assert kept is not None and kept.ledger_entry_id is None


# --- attachments --------------------------------------------------------------------------------


async def test_attachment_is_stored_by_sha256_with_name_size_and_type(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, catalog: None, tmp_path: Path
) -> None:
    admin = as_viewer(world.admin)
    storage = LocalStorage(tmp_path)
    entry = await record(sessionmaker, clock, admin, world.meigui, "L02", date(2026, 11, 3))
    content = "会议纪要".encode()
    async with writing(sessionmaker) as db:
        row = await ops.add_ledger_attachment(
            db, admin, clock, storage, 1000, entry.id, "会议纪要.txt", None, content
        )
    assert (row.size, row.sha256, row.content_type) == (
        len(content),
        sha256_hex(content),
        "application/octet-stream",
    )
    assert await storage.get(row.sha256) == content


async def test_attachment_too_large_is_refused_and_nothing_stored(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, catalog: None, tmp_path: Path
) -> None:
    admin = as_viewer(world.admin)
    entry = await record(sessionmaker, clock, admin, world.meigui, "L02", date(2026, 11, 3))
    with pytest.raises(InputError) as caught:
        async with writing(sessionmaker) as db:
            await ops.add_ledger_attachment(
                db,
                admin,
                clock,
                LocalStorage(tmp_path / "files"),
                10,
                entry.id,
                "a/b.pdf",
                "pdf",
                b"x" * 11,
            )
    assert codes(caught.value) == {
        "contentBase64": ErrorCode.TOO_LARGE,
        "fileName": ErrorCode.INVALID,
        "contentType": ErrorCode.INVALID,
    }
    assert await count(sessionmaker, LedgerAttachment) == 0
    assert not (tmp_path / "files").exists()


# --- completeness -------------------------------------------------------------------------------


async def test_monthly_item_in_a_quarter_expects_three_entries(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, catalog: None
) -> None:
    admin = as_viewer(world.admin)
    for day in (date(2026, 7, 6), date(2026, 7, 20), date(2026, 9, 30)):
        await record(sessionmaker, clock, admin, world.meigui, "L02", day)
    await record(sessionmaker, clock, admin, world.meigui, "L02", date(2026, 10, 1))  # next quarter
    l02 = (await completeness(sessionmaker, world.meigui, "2026-Q3"))["L02"]
    assert (l02.expected, l02.present, l02.entries) == (3, 2, 3)
    assert [str(p) for p in l02.missing] == ["2026-08"]


async def test_quarterly_item_in_a_year_expects_four_entries(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, catalog: None
) -> None:
    admin = as_viewer(world.admin)
    for day in (date(2026, 2, 1), date(2026, 8, 1)):
        await record(sessionmaker, clock, admin, world.meigui, "L01", day)
    l01 = (await completeness(sessionmaker, world.meigui, "2026"))["L01"]
    assert (l01.expected, l01.present) == (4, 2)
    assert [str(p) for p in l01.missing] == ["2026-Q2"]
    assert [str(p) for p in l01.pending] == ["2026-Q4"]


async def test_quarterly_item_is_due_in_a_month_only_when_the_month_ends_a_quarter(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, catalog: None
) -> None:
    await record(sessionmaker, clock, as_viewer(world.admin), world.meigui, "L01", date(2026, 7, 9))
    assert "L01" not in await completeness(sessionmaker, world.meigui, "2026-08")
    september = (await completeness(sessionmaker, world.meigui, "2026-09"))["L01"]
    # The whole quarter counts: July's meeting makes September's check present.
    assert (september.expected, september.present) == (1, 1)
    assert str(september.sub_periods[0].period) == "2026-Q3"


async def test_yearly_item_is_due_only_in_the_period_that_ends_the_year(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, catalog: None
) -> None:
    await record(sessionmaker, clock, as_viewer(world.admin), world.meigui, "L07", date(2026, 3, 9))
    for period in ("2026-03", "2026-Q1", "2026-Q3"):
        assert "L07" not in await completeness(sessionmaker, world.meigui, period), period
    for period in ("2026-12", "2026-Q4", "2026"):
        l07 = (await completeness(sessionmaker, world.meigui, period, date(2027, 3, 1)))["L07"]
        assert (l07.expected, l07.present) == (1, 1), period
    l08 = (await completeness(sessionmaker, world.meigui, "2026", date(2027, 3, 1)))["L08"]
    assert [str(p) for p in l08.missing] == ["2026"]


async def test_on_event_optional_and_retired_items_are_never_due(
    sessionmaker: Sessionmaker, world: World, catalog: None
) -> None:
    async with writing(sessionmaker) as db:
        await db.execute(update(LedgerItem).where(LedgerItem.code == "L03").values(required=False))
        await db.execute(update(LedgerItem).where(LedgerItem.code == "L05").values(active=False))
    codes_due = set(await completeness(sessionmaker, world.meigui, "2026"))
    assert not codes_due & {"L03", "L05", "L11", "L13", "L15", "L24"}
    assert len(codes_due) == 24 - 6


async def test_entry_recorded_after_the_grace_days_is_late(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, catalog: None
) -> None:
    admin = as_viewer(world.admin)
    # July ends on the 31st; with 7 grace days the last day in time is 7 August (Pingyin time).
    in_time = datetime(2026, 8, 7, 15, 59, tzinfo=UTC)  # 23:59 on 7 August in Pingyin
    too_late = datetime(2026, 8, 7, 16, 0, tzinfo=UTC)  # 00:00 on 8 August in Pingyin
    await record(sessionmaker, clock, admin, world.meigui, "L02", date(2026, 7, 15), in_time)
    await record(sessionmaker, clock, admin, world.meigui, "L05", date(2026, 7, 15), too_late)
    status = await completeness(sessionmaker, world.meigui, "2026-07")
    assert status["L02"].sub_periods[0].status is SubPeriodStatus.PRESENT
    assert status["L05"].sub_periods[0].status is SubPeriodStatus.LATE
    assert status["L05"].sub_periods[0].deadline == date(2026, 8, 7)
    assert [str(p) for p in status["L05"].late] == ["2026-07"]
    assert status["L05"].present == 1  # late still counts as present


async def test_empty_month_is_pending_until_its_grace_days_run_out(
    sessionmaker: Sessionmaker, world: World, catalog: None
) -> None:
    # October's deadline is 7 November (31 October + 7 grace days).
    q4 = (await completeness(sessionmaker, world.meigui, "2026-Q4", date(2026, 11, 7)))["L02"]
    assert q4.missing == []
    assert [str(p) for p in q4.pending] == ["2026-10", "2026-11", "2026-12"]
    q4 = (await completeness(sessionmaker, world.meigui, "2026-Q4", date(2026, 11, 8)))["L02"]
    assert [str(p) for p in q4.missing] == ["2026-10"]
    assert [str(p) for p in q4.pending] == ["2026-11", "2026-12"]
    q4 = (await completeness(sessionmaker, world.meigui, "2026-Q4", date(2026, 12, 8)))["L02"]
    assert [str(p) for p in q4.missing] == ["2026-10", "2026-11"]


async def test_entries_of_another_branch_do_not_count(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, catalog: None
) -> None:
    admin = as_viewer(world.admin)
    await record(sessionmaker, clock, admin, world.yushan, "L02", date(2026, 7, 6))
    await record(sessionmaker, clock, admin, world.meigui_group, "L02", date(2026, 7, 6))
    assert (await completeness(sessionmaker, world.meigui, "2026-07"))["L02"].present == 0
    assert (await completeness(sessionmaker, world.yushan, "2026-07"))["L02"].present == 1


@contextmanager
def counting(engine: AsyncEngine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record_statement(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record_statement)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record_statement)


async def test_completeness_statement_count_does_not_grow_with_branches(
    sessionmaker: Sessionmaker,
    engine: AsyncEngine,
    clock: FrozenClock,
    world: World,
    make: Builders,
    catalog: None,
) -> None:
    admin = as_viewer(world.admin)
    branches = [world.meigui, world.yushan]
    for i in range(20):
        branch = await make.branch(world.organ, name=f"扩展派出所{i}")
        branches.append(branch)
        await record(sessionmaker, clock, admin, branch, "L02", date(2026, 4 + i % 3, 10))
    period = parse_period("2026-Q2")
    with counting(engine) as small:
        async with sessionmaker() as db:
            await ledger_completeness(
                db, [b.id for b in branches[:2]], period, today=date(2026, 11, 28), grace_days=GRACE
            )
    with counting(engine) as large:
        async with sessionmaker() as db:
            result = await ledger_completeness(
                db, [b.id for b in branches], period, today=date(2026, 11, 28), grace_days=GRACE
            )
    assert len(small) == len(large) == 2
    present = sum(next(i for i in items if i.code == "L02").present for items in result.values())
    assert present == 20


# --- the bureau's calendar -------------------------------------------------------------------------

# 01:30 on 29 November in Pingyin is still 28 November in UTC.
PINGYIN_SMALL_HOURS = datetime(2026, 11, 28, 17, 30, tzinfo=UTC)


async def test_entry_and_study_dates_are_checked_against_the_bureaus_calendar_day(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, catalog: None
) -> None:
    clock.now = PINGYIN_SMALL_HOURS
    secretary = as_viewer(world.secretary, world.meigui)
    today, tomorrow = date(2026, 11, 29), date(2026, 11, 30)
    async with writing(sessionmaker) as db:
        data = {"branch_id": world.meigui.id, "item_code": "L02", "title": "夜间支委会"}
        entry = await ops.create_ledger_entry(db, secretary, clock, {**data, "occurred_on": today})
        study = {"branch_id": world.meigui.id, "topic": "第一议题", "form": StudyForm.BRANCH}
        record = await study_ops.create_study_record(
            db, secretary, clock, {**study, "held_on": today}
        )
    assert (entry.occurred_on, record.held_on) == (today, today)

    with pytest.raises(InputError) as caught:
        async with writing(sessionmaker) as db:
            await ops.create_ledger_entry(db, secretary, clock, {**data, "occurred_on": tomorrow})
    assert codes(caught.value) == {"occurredOn": ErrorCode.IN_FUTURE}
    with pytest.raises(InputError) as caught:
        async with writing(sessionmaker) as db:
            await study_ops.create_study_record(
                db, secretary, clock, {**study, "held_on": tomorrow}
            )
    assert codes(caught.value) == {"heldOn": ErrorCode.IN_FUTURE}
    assert await count(sessionmaker, LedgerEntry) == 1
    assert await count(sessionmaker, StudyRecord) == 1
