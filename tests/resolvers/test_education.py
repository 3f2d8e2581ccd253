"""The education base: activities, their scope, totals in SQL, and bad input."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from access.errors import ErrorCode, Forbidden, InputError
from access.viewer import Viewer, viewer_for
from core.clock import FrozenClock
from core.db import Sessionmaker, writing
from models import Account, Branch, EducationActivity, EducationActivityType
from resolvers import education as ops
from resolvers.education import ActivityFilter
from resolvers.pagination import PageRequest, page_request
from resolvers.period import period_input
from tests.conftest import World

T = EducationActivityType


def as_viewer(account: Account, branch: Branch | None = None) -> Viewer:
    return viewer_for(account, None, branch, branch)


async def count(sessionmaker: Sessionmaker) -> int:
    async with sessionmaker() as db:
        return int(await db.scalar(select(func.count()).select_from(EducationActivity)) or 0)


async def create(
    sessionmaker: Sessionmaker, clock: FrozenClock, viewer: Viewer, **data: Any
) -> EducationActivity:
    values: dict[str, Any] = {
        "title": "党建教育基地开放日",
        "held_on": date(2026, 5, 1),
        "type": T.OPEN_DAY,
        "audience_count": 40,
        **data,
    }
    async with writing(sessionmaker) as db:
        return await ops.create_activity(db, viewer, clock, values)


def problems(error: InputError) -> dict[str | None, ErrorCode]:
    return {p.field: p.code for p in error.problems}


def test_periods_are_years_quarters_or_months() -> None:
    """The shared parser (resolvers/period.py) gives the filter's days [start, end_exclusive)."""
    assert period_input("2026").start == date(2026, 1, 1)
    assert period_input("2026").end_exclusive == date(2027, 1, 1)
    q4 = period_input("2026-Q4")
    assert (q4.start, q4.end_exclusive) == (date(2026, 10, 1), date(2027, 1, 1))
    may = period_input("2026-05")
    assert (may.start, may.end_exclusive) == (date(2026, 5, 1), date(2026, 6, 1))
    for bad in ("2026-13", "2026-Q5", "26", "2026/05", "May"):
        with pytest.raises(InputError) as error:
            period_input(bad)
        assert problems(error.value) == {"period": ErrorCode.INVALID_PERIOD}


async def test_secretary_records_activities_of_their_subtree_only(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    secretary = as_viewer(world.secretary, world.meigui)
    activity = await create(sessionmaker, clock, secretary, branch_id=world.meigui_group.id)
    assert activity.created_by == world.secretary.id
    with pytest.raises(Forbidden):
        await create(sessionmaker, clock, secretary, branch_id=world.yushan.id)
    for account in (world.officer, world.inspector):
        with pytest.raises(Forbidden):
            await create(sessionmaker, clock, as_viewer(account), branch_id=world.meigui.id)
    await create(sessionmaker, clock, as_viewer(world.admin), branch_id=world.yushan.id)
    assert await count(sessionmaker) == 2


async def test_bad_activity_input_is_refused_with_nothing_written(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    admin = as_viewer(world.admin)
    cases: list[tuple[dict[str, Any], dict[str | None, ErrorCode]]] = [
        ({"audience_count": -1}, {"audienceCount": ErrorCode.OUT_OF_RANGE}),
        ({"held_on": date(2030, 1, 1)}, {"heldOn": ErrorCode.IN_FUTURE}),
        ({"held_on": date(1999, 12, 31)}, {"heldOn": ErrorCode.OUT_OF_RANGE}),
        ({"type": "picnic"}, {"type": ErrorCode.INVALID}),
        ({"title": " "}, {"title": ErrorCode.REQUIRED}),
        (
            {"audience_count": -5, "type": "picnic", "title": ""},
            {
                "audienceCount": ErrorCode.OUT_OF_RANGE,
                "type": ErrorCode.INVALID,
                "title": ErrorCode.REQUIRED,
            },
        ),
    ]
    for data, expected in cases:
        with pytest.raises(InputError) as error:
            await create(sessionmaker, clock, admin, branch_id=world.meigui.id, **data)
        assert problems(error.value) == expected, data
    assert await count(sessionmaker) == 0


async def test_update_and_delete_stay_in_scope(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    secretary = as_viewer(world.secretary, world.meigui)
    mine = await create(sessionmaker, clock, secretary, branch_id=world.meigui.id)
    theirs = await create(sessionmaker, clock, as_viewer(world.admin), branch_id=world.yushan.id)
    clock.advance(hours=1)
    async with writing(sessionmaker) as db:
        edited = await ops.update_activity(
            db, secretary, clock, mine.id, {"audience_count": 55, "title": "开放日(更正)"}
        )
    assert (edited.audience_count, edited.title, edited.updated_at) == (55, "开放日(更正)", clock())
    with pytest.raises(InputError) as hidden:
        async with writing(sessionmaker) as db:
            await ops.update_activity(db, secretary, clock, theirs.id, {"audience_count": 1})
    assert problems(hidden.value) == {"id": ErrorCode.NOT_FOUND}
    with pytest.raises(Forbidden):
        async with writing(sessionmaker) as db:
            await ops.update_activity(db, secretary, clock, mine.id, {"branch_id": world.yushan.id})
    with pytest.raises(InputError) as negative:
        async with writing(sessionmaker) as db:
            await ops.update_activity(db, secretary, clock, mine.id, {"audience_count": -3})
    assert problems(negative.value) == {"audienceCount": ErrorCode.OUT_OF_RANGE}
    with pytest.raises(InputError):
        async with writing(sessionmaker) as db:
            await ops.delete_activity(db, secretary, theirs.id)
    async with writing(sessionmaker) as db:
        await ops.delete_activity(db, secretary, mine.id)
    async with sessionmaker() as db:
        left = (await db.scalars(select(EducationActivity))).all()
    assert [a.id for a in left] == [theirs.id]
    assert left[0].audience_count == 40


async def test_lists_filter_by_period_type_and_subtree_within_scope(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    admin = as_viewer(world.admin)
    await create(sessionmaker, clock, admin, branch_id=world.meigui.id, held_on=date(2026, 4, 30))
    await create(
        sessionmaker,
        clock,
        admin,
        branch_id=world.meigui_group.id,
        held_on=date(2026, 5, 2),
        type=T.LECTURE,
    )
    await create(sessionmaker, clock, admin, branch_id=world.yushan.id, held_on=date(2026, 5, 3))
    may = period_input("2026-05")

    async def names(viewer: Viewer, **flt: Any) -> list[str]:
        async with sessionmaker() as db:
            page = await ops.list_activities(
                db, viewer, ActivityFilter(**flt), PageRequest(50, None)
            )
            total = await ops.count_activities(db, viewer, ActivityFilter(**flt))
        assert total == len(page.items)
        branch_names = {
            world.meigui.id: "玫瑰",
            world.meigui_group.id: "玫瑰组",
            world.yushan.id: "榆山",
        }
        return [branch_names[a.branch_id] for a in page.items]

    assert await names(admin) == ["榆山", "玫瑰组", "玫瑰"]  # newest first
    assert await names(admin, since=may.start, until=may.end_exclusive) == ["榆山", "玫瑰组"]
    assert await names(admin, types=[T.LECTURE]) == ["玫瑰组"]
    assert await names(admin, subtree_of=world.meigui.id) == ["玫瑰组", "玫瑰"]
    assert await names(as_viewer(world.inspector)) == ["榆山", "玫瑰组", "玫瑰"]
    assert await names(as_viewer(world.secretary, world.meigui)) == ["玫瑰组", "玫瑰"]
    officer = viewer_for(world.officer, None, None, world.meigui)
    assert await names(officer) == ["玫瑰"]


async def test_pages_follow_cursors_without_gaps_or_repeats(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    admin = as_viewer(world.admin)
    for day in (1, 1, 1, 2, 3, 3, 4):
        await create(
            sessionmaker, clock, admin, branch_id=world.meigui.id, held_on=date(2026, 3, day)
        )
    seen: list[Any] = []
    after: str | None = None
    async with sessionmaker() as db:
        while True:
            request = page_request(2, after, default=2, maximum=100, width=2)
            page = await ops.list_activities(db, admin, ActivityFilter(), request)
            seen += [a.id for a in page.items]
            if not page.has_next_page:
                break
            after = page.cursors[-1]
    assert len(seen) == len(set(seen)) == 7


async def test_totals_sum_activities_and_audience_by_type_and_month(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    admin = as_viewer(world.admin)
    for held_on, kind, audience in (
        (date(2026, 1, 10), T.OPEN_DAY, 60),
        (date(2026, 1, 20), T.OATH, 12),
        (date(2026, 2, 5), T.OPEN_DAY, 45),
        (date(2025, 12, 30), T.OPEN_DAY, 99),
    ):
        await create(
            sessionmaker,
            clock,
            admin,
            branch_id=world.meigui.id,
            held_on=held_on,
            type=kind,
            audience_count=audience,
        )
    year = period_input("2026")
    async with sessionmaker() as db:
        totals = await ops.activity_totals(
            db, admin, ActivityFilter(year.start, year.end_exclusive)
        )
        empty = await ops.activity_totals(
            db, admin, ActivityFilter(year.start, year.end_exclusive, subtree_of=world.yushan.id)
        )
        [meigui, yushan] = await ops.activity_counts_by_branch(
            db, [world.meigui.id, world.yushan.id], year.start, year.end_exclusive
        )
    assert (totals.total.activities, totals.total.audience) == (3, 117)
    assert totals.by_type[T.OPEN_DAY].audience == 105 and totals.by_type[T.OATH].activities == 1
    assert {m: (c.activities, c.audience) for m, c in totals.by_month.items()} == {
        "2026-01": (2, 72),
        "2026-02": (1, 45),
    }
    assert (empty.total.activities, empty.total.audience, empty.by_month) == (0, 0, {})
    assert (meigui.activities, meigui.audience, yushan.activities) == (3, 117, 0)


async def test_activity_dates_are_checked_against_the_bureaus_calendar_day(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    # 01:30 on 29 November in Pingyin is still 28 November in UTC.
    clock.now = datetime(2026, 11, 28, 17, 30, tzinfo=UTC)
    admin = as_viewer(world.admin)
    held = await create(
        sessionmaker, clock, admin, branch_id=world.meigui.id, held_on=date(2026, 11, 29)
    )
    assert held.held_on == date(2026, 11, 29)
    with pytest.raises(InputError) as error:
        await create(
            sessionmaker, clock, admin, branch_id=world.meigui.id, held_on=date(2026, 11, 30)
        )
    assert problems(error.value) == {"heldOn": ErrorCode.IN_FUTURE}
    with pytest.raises(InputError) as error:
        async with writing(sessionmaker) as db:
            await ops.update_activity(db, admin, clock, held.id, {"held_on": date(2026, 11, 30)})
    assert problems(error.value) == {"heldOn": ErrorCode.IN_FUTURE}
    assert await count(sessionmaker) == 1
