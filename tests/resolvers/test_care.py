"""Care work: collective birthdays and the confidential 警心110 hotline, per role."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from access.errors import ErrorCode, Forbidden, InputError
from access.viewer import Viewer, viewer_for
from core.clock import FrozenClock
from core.db import Sessionmaker, writing
from models import (
    Account,
    Branch,
    HotlineCategory,
    HotlineNote,
    HotlineRequest,
    HotlineStatus,
    Member,
    Role,
    ServiceStatus,
)
from resolvers import care as ops
from resolvers.care import HotlineFilter, celebrated_on
from resolvers.pagination import PageRequest, decode_cursor
from tests.conftest import Builders, World


def as_viewer(account: Account, branch: Branch | None = None) -> Viewer:
    """Secretaries scoped by `branch`; officers by their home branch (also `branch`)."""
    if account.role is Role.OFFICER:
        return viewer_for(account, None, None, branch)
    return viewer_for(account, None, branch, branch)


async def count(sessionmaker: Sessionmaker, model: Any) -> int:
    async with sessionmaker() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


# --- collective birthdays -----------------------------------------------------------------------


def test_29_february_is_celebrated_on_28_february_in_common_years() -> None:
    leapling = date(1992, 2, 29)
    assert celebrated_on(leapling, 2026) == date(2026, 2, 28)
    assert celebrated_on(leapling, 2028) == date(2028, 2, 29)
    assert celebrated_on(date(1990, 5, 31), 2026) == date(2026, 5, 31)


async def test_collective_birthdays_group_the_month_by_branch(
    sessionmaker: Sessionmaker, world: World, make: Builders
) -> None:
    await make.member(world.meigui, name="五月甲", birthday=date(1990, 5, 20))
    await make.member(world.meigui_group, name="五月乙", birthday=date(1985, 5, 3))
    await make.member(world.yushan, name="五月丙", birthday=date(1979, 5, 31))
    await make.member(world.yushan, name="六月丁", birthday=date(1979, 6, 1))
    await make.member(
        world.yushan,
        name="五月退休",
        birthday=date(1960, 5, 9),
        service_status=ServiceStatus.RETIRED,
    )
    async with sessionmaker() as db:
        may = await ops.collective_birthdays(
            db, viewer_for(world.admin, None, None, None), "2026-05"
        )
        with_retired = await ops.collective_birthdays(
            db, viewer_for(world.admin, None, None, None), "2026-05", include_retired=True
        )
    assert may.month == "2026-05" and may.total == 3
    groups = {
        g.unit.name: [(b.member.name, b.celebrated_on, b.age) for b in g.birthdays]
        for g in may.groups
    }
    # A 党小组 member celebrates with the branch above; each group in day order.
    assert groups == {
        "玫瑰派出所党支部": [("五月乙", date(2026, 5, 3), 41), ("五月甲", date(2026, 5, 20), 36)],
        "榆山第二派出所党支部": [("五月丙", date(2026, 5, 31), 47)],
    }
    assert with_retired.total == 4


async def test_collective_birthdays_handle_29_february_in_sql(
    sessionmaker: Sessionmaker, world: World, make: Builders
) -> None:
    await make.member(world.meigui, name="闰日生", birthday=date(1992, 2, 29))
    await make.member(world.meigui, name="三月一日生", birthday=date(1992, 3, 1))
    admin = viewer_for(world.admin, None, None, None)
    async with sessionmaker() as db:
        common = await ops.collective_birthdays(db, admin, "2026-02")
        leap = await ops.collective_birthdays(db, admin, "2028-02")
    [[person]] = [g.birthdays for g in common.groups]
    assert (person.member.name, person.celebrated_on) == ("闰日生", date(2026, 2, 28))
    [[person]] = [g.birthdays for g in leap.groups]
    assert person.celebrated_on == date(2028, 2, 29)


async def test_collective_birthdays_follow_the_viewers_scope_and_branch_filter(
    sessionmaker: Sessionmaker, world: World, make: Builders
) -> None:
    await make.member(world.meigui_group, name="玫瑰寿星", birthday=date(1990, 7, 7))
    await make.member(world.yushan, name="榆山寿星", birthday=date(1990, 7, 8))

    async def names(viewer: Viewer, branch_id: uuid.UUID | None = None) -> set[str]:
        async with sessionmaker() as db:
            data = await ops.collective_birthdays(db, viewer, "2026-07", branch_id)
        return {b.member.name for g in data.groups for b in g.birthdays}

    assert await names(as_viewer(world.admin)) == {"玫瑰寿星", "榆山寿星"}
    assert await names(as_viewer(world.inspector)) == {"玫瑰寿星", "榆山寿星"}
    assert await names(as_viewer(world.admin), world.yushan.id) == {"榆山寿星"}
    assert await names(as_viewer(world.secretary, world.meigui)) == {"玫瑰寿星"}
    assert await names(as_viewer(world.secretary, world.meigui), world.yushan.id) == set()
    # An officer reads the members of their own branch only (not its 党小组).
    assert await names(as_viewer(world.officer, world.meigui)) == set()


async def test_a_month_in_the_wrong_form_is_refused(
    sessionmaker: Sessionmaker, world: World
) -> None:
    for bad in ("2026-5", "2026-13", "202605", "May 2026", "2026", "2026-Q2"):
        with pytest.raises(InputError) as error:
            async with sessionmaker() as db:
                await ops.collective_birthdays(db, as_viewer(world.admin), bad)
        assert [(p.field, p.code) for p in error.value.problems] == [
            ("month", ErrorCode.INVALID_PERIOD)
        ]


# --- 警心110 -------------------------------------------------------------------------------------


async def create(
    sessionmaker: Sessionmaker,
    clock: FrozenClock,
    viewer: Viewer,
    member: Member | None = None,
    category: HotlineCategory | str = HotlineCategory.PSYCHOLOGICAL,
    summary: str = "夜班后睡不好",
    received_at: datetime | None = None,
) -> ops.HotlineRecord:
    async with writing(sessionmaker) as db:
        return await ops.create_hotline_request(
            db, viewer, clock, member.id if member else None, category, summary, received_at
        )


async def handle(
    sessionmaker: Sessionmaker,
    clock: FrozenClock,
    viewer: Viewer,
    request_id: uuid.UUID,
    status: HotlineStatus,
    note: str = "已谈心",
) -> ops.HotlineRecord:
    async with writing(sessionmaker) as db:
        return await ops.handle_hotline_request(db, viewer, clock, request_id, status, note)


async def visible(sessionmaker: Sessionmaker, viewer: Viewer) -> set[uuid.UUID]:
    async with sessionmaker() as db:
        page = await ops.list_hotline_requests(db, viewer, HotlineFilter(), PageRequest(100, None))
        total = await ops.count_hotline_requests(db, viewer, HotlineFilter())
    assert total == len(page.items)
    return {r.request.id for r in page.items}


async def test_hotline_requests_are_read_by_admin_their_secretary_and_themselves_only(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, make: Builders
) -> None:
    officer = as_viewer(world.officer, world.meigui)
    own = await create(sessionmaker, clock, officer)  # the officer's own request
    group_member = await make.member(world.meigui_group, name="组员")
    admin = as_viewer(world.admin)
    colleague = await create(sessionmaker, clock, admin, world.meigui_member)
    in_group = await create(sessionmaker, clock, admin, group_member)
    far = await create(sessionmaker, clock, admin, world.yushan_member)
    everyone = {r.request.id for r in (own, colleague, in_group, far)}

    yushan_officer = await make.account(Role.OFFICER, member_id=world.yushan_member.id)
    yushan_secretary = await make.account(Role.SECRETARY, branch_id=world.yushan.id)
    assert await visible(sessionmaker, admin) == everyone
    assert await visible(sessionmaker, as_viewer(world.secretary, world.meigui)) == {
        own.request.id,
        colleague.request.id,
        in_group.request.id,
    }
    assert await visible(sessionmaker, as_viewer(yushan_secretary, world.yushan)) == {
        far.request.id
    }
    # Officers see their own request, not their colleagues' in the same branch.
    assert await visible(sessionmaker, officer) == {own.request.id}
    assert await visible(sessionmaker, as_viewer(yushan_officer, world.yushan)) == {far.request.id}
    # Inspectors read everything else, but not this.
    assert await visible(sessionmaker, as_viewer(world.inspector)) == set()
    async with sessionmaker() as db:
        assert await ops.get_hotline_request(db, officer, colleague.request.id) is None
        assert await ops.get_hotline_request(db, as_viewer(world.inspector), own.request.id) is None
        found = await ops.get_hotline_request(db, officer, own.request.id)
    assert found is not None and found.request.summary == "夜班后睡不好"


async def test_members_record_their_own_requests_and_others_only_for_their_members(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, make: Builders
) -> None:
    officer = as_viewer(world.officer, world.meigui)
    mine = await create(sessionmaker, clock, officer)
    assert (mine.request.member_id, mine.request.status) == (
        world.officer_member.id,
        HotlineStatus.RECEIVED,
    )
    with pytest.raises(Forbidden):
        await create(sessionmaker, clock, officer, world.meigui_member)
    secretary = as_viewer(world.secretary, world.meigui)
    await create(sessionmaker, clock, secretary, world.meigui_member)
    with pytest.raises(Forbidden):
        await create(sessionmaker, clock, secretary, world.yushan_member)
    with pytest.raises(Forbidden):
        await create(sessionmaker, clock, as_viewer(world.inspector), world.meigui_member)
    # An account without a member record must say whose request it is.
    with pytest.raises(InputError) as whose:
        await create(sessionmaker, clock, as_viewer(world.inspector))
    assert whose.value.problems[0].field == "memberId"
    assert await count(sessionmaker, HotlineRequest) == 2
    assert await count(sessionmaker, HotlineNote) == 2  # each starts with its 已受理 step


async def test_bad_hotline_input_is_refused_with_nothing_written(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    admin = as_viewer(world.admin)
    with pytest.raises(InputError) as error:
        await create(
            sessionmaker,
            clock,
            admin,
            world.meigui_member,
            category="gossip",
            summary=" ",
            received_at=clock() + timedelta(hours=1),
        )
    assert {p.field: p.code for p in error.value.problems} == {
        "category": ErrorCode.INVALID,
        "summary": ErrorCode.REQUIRED,
        "receivedAt": ErrorCode.IN_FUTURE,
    }
    with pytest.raises(InputError) as missing:
        async with writing(sessionmaker) as db:
            await ops.create_hotline_request(
                db, admin, clock, uuid.uuid4(), HotlineCategory.OTHER, "求助"
            )
    assert missing.value.problems[0].code is ErrorCode.NOT_FOUND
    assert await count(sessionmaker, HotlineRequest) == 0


async def test_handling_moves_forward_keeps_history_and_closes_on_resolve(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    secretary = as_viewer(world.secretary, world.meigui)
    record = await create(sessionmaker, clock, as_viewer(world.officer, world.meigui))
    request_id = record.request.id
    clock.advance(hours=2)
    step = await handle(sessionmaker, clock, secretary, request_id, HotlineStatus.IN_PROGRESS)
    assert (step.request.handled_by, step.handled_by_username) == (
        world.secretary.id,
        world.secretary.username,
    )
    clock.advance(hours=2)
    await handle(sessionmaker, clock, secretary, request_id, HotlineStatus.IN_PROGRESS, "再次回访")
    with pytest.raises(InputError) as back:
        await handle(sessionmaker, clock, secretary, request_id, HotlineStatus.RECEIVED)
    assert back.value.problems[0].code is ErrorCode.INVALID_TRANSITION
    with pytest.raises(InputError) as blank:
        await handle(sessionmaker, clock, secretary, request_id, HotlineStatus.RESOLVED, "")
    assert blank.value.problems[0].field == "note"
    clock.advance(days=1)
    done = await handle(
        sessionmaker, clock, secretary, request_id, HotlineStatus.RESOLVED, "已办结"
    )
    assert done.request.resolved_at == clock()
    with pytest.raises(InputError) as closed:
        await handle(
            sessionmaker, clock, as_viewer(world.admin), request_id, HotlineStatus.RESOLVED
        )
    assert closed.value.problems[0].code is ErrorCode.INVALID_TRANSITION
    async with sessionmaker() as db:
        [notes] = await ops.notes_by_request_id(db, [request_id])
    assert [(n.note.status, n.note.note) for n in notes] == [
        (HotlineStatus.RECEIVED, "已受理 (received)"),
        (HotlineStatus.IN_PROGRESS, "已谈心"),
        (HotlineStatus.IN_PROGRESS, "再次回访"),
        (HotlineStatus.RESOLVED, "已办结"),
    ]
    assert notes[1].by_username == world.secretary.username


async def test_only_admins_and_the_members_secretary_handle_and_never_their_own(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, make: Builders
) -> None:
    officer = as_viewer(world.officer, world.meigui)
    secretary = as_viewer(world.secretary, world.meigui)
    own = (await create(sessionmaker, clock, officer)).request.id
    secretarys_own = (await create(sessionmaker, clock, secretary)).request.id
    far = (
        await create(sessionmaker, clock, as_viewer(world.admin), world.yushan_member)
    ).request.id
    # The member reads their request but does not handle it.
    with pytest.raises(Forbidden):
        await handle(sessionmaker, clock, officer, own, HotlineStatus.RESOLVED)
    # Those who may not read it are told it does not exist.
    for viewer in (as_viewer(world.inspector), secretary):
        with pytest.raises(InputError) as hidden:
            await handle(sessionmaker, clock, viewer, far, HotlineStatus.IN_PROGRESS)
        assert hidden.value.problems[0].code is ErrorCode.NOT_FOUND
    # A secretary's own request is for the admins.
    with pytest.raises(Forbidden):
        await handle(sessionmaker, clock, secretary, secretarys_own, HotlineStatus.IN_PROGRESS)
    await handle(
        sessionmaker, clock, as_viewer(world.admin), secretarys_own, HotlineStatus.IN_PROGRESS
    )
    async with sessionmaker() as db:
        statuses = dict((await db.execute(select(HotlineRequest.id, HotlineRequest.status))).all())
    assert statuses == {
        own: HotlineStatus.RECEIVED,
        secretarys_own: HotlineStatus.IN_PROGRESS,
        far: HotlineStatus.RECEIVED,
    }


async def test_hotline_list_filters_and_pages_newest_first(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    admin = as_viewer(world.admin)
    ids = []
    for hours, category in enumerate(
        [HotlineCategory.HEALTH, HotlineCategory.FAMILY, HotlineCategory.HEALTH]
    ):
        received = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(hours=hours)
        ids.append(
            (
                await create(
                    sessionmaker, clock, admin, world.meigui_member, category, "求助", received
                )
            ).request.id
        )
    async with sessionmaker() as db:
        first = await ops.list_hotline_requests(db, admin, HotlineFilter(), PageRequest(2, None))
        after = decode_cursor(first.cursors[-1], 2)
        rest = await ops.list_hotline_requests(db, admin, HotlineFilter(), PageRequest(2, after))
        health = await ops.count_hotline_requests(
            db, admin, HotlineFilter(categories=[HotlineCategory.HEALTH])
        )
        yushan = await ops.count_hotline_requests(
            db, admin, HotlineFilter(subtree_of=world.yushan.id)
        )
    assert [r.request.id for r in first.items] == [ids[2], ids[1]] and first.has_next_page
    assert [r.request.id for r in rest.items] == [ids[0]] and not rest.has_next_page
    assert (health, yushan) == (2, 0)


async def test_a_handler_acts_on_the_requests_current_status_so_it_never_moves_back(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    secretary = as_viewer(world.secretary, world.meigui)
    admin = as_viewer(world.admin)
    request_id = (
        await create(sessionmaker, clock, as_viewer(world.officer, world.meigui))
    ).request.id
    async with writing(sessionmaker) as slow:
        # The secretary opened the request (received) just before the admin resolved it.
        opened = await slow.get(HotlineRequest, request_id)
        assert opened is not None and opened.status is HotlineStatus.RECEIVED
        await handle(sessionmaker, clock, admin, request_id, HotlineStatus.RESOLVED, "已办结")
        with pytest.raises(InputError) as caught:
            await ops.handle_hotline_request(
                slow, secretary, clock, request_id, HotlineStatus.IN_PROGRESS, "回访"
            )
    assert [(p.field, p.code) for p in caught.value.problems] == [
        ("status", ErrorCode.INVALID_TRANSITION)
    ]
    async with sessionmaker() as db:
        request = await db.get(HotlineRequest, request_id)
        assert request is not None and request.status is HotlineStatus.RESOLVED
    assert await count(sessionmaker, HotlineNote) == 2  # 已受理 and 已办结, nothing after
