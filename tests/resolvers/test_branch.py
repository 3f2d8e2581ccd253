"""Organisation rules: the tree, subtree queries, moves, task units and honours."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from access.errors import ErrorCode, Forbidden, InputError
from access.viewer import viewer_for
from core.clock import FrozenClock
from core.db import Sessionmaker, writing
from models import Branch, BranchHonour, BranchKind, HonourLevel
from resolvers import branch as ops
from resolvers.branch import BranchFilter
from resolvers.pagination import PageRequest, decode_cursor, page_request
from tests.conftest import Builders, World


async def branch_count(sessionmaker: Sessionmaker) -> int:
    async with sessionmaker() as db:
        return int(await db.scalar(select(func.count()).select_from(Branch)) or 0)


async def test_subtree_filter_follows_the_tree(sessionmaker: Sessionmaker, world: World) -> None:
    admin = viewer_for(world.admin, None, None, None)
    async with sessionmaker() as db:
        page = await ops.list_branches(
            db, admin, BranchFilter(subtree_of=world.meigui.id), PageRequest(50, None)
        )
        whole = await ops.count_branches(db, admin, BranchFilter(subtree_of=world.organ.id))
    assert {b.name for b in page.items} == {
        "玫瑰派出所党支部",
        "玫瑰第一党小组",
        "民生小案攻坚小组",
    }
    assert whole == 5


async def test_pages_follow_cursors_without_gaps_or_repeats(
    sessionmaker: Sessionmaker, world: World, make: Builders
) -> None:
    for i in range(7):
        await make.branch(world.organ, name=f"派出所{i}", sort_order=10 + i)
    admin = viewer_for(world.admin, None, None, None)
    seen: list[str] = []
    after: str | None = None
    async with sessionmaker() as db:
        while True:
            request = page_request(3, after, default=3, maximum=100, width=3)
            page = await ops.list_branches(db, admin, BranchFilter(), request)
            seen.extend(b.name for b in page.items)
            if not page.has_next_page:
                break
            after = page.cursors[-1]
    assert len(seen) == len(set(seen)) == await branch_count(sessionmaker)
    assert seen[:2] == ["县局党委", "机关党委"]


def test_bad_cursor_and_page_size_are_refused() -> None:
    with pytest.raises(InputError) as cursor:
        decode_cursor("not-a-cursor", 3)
    assert cursor.value.problems[0].code is ErrorCode.CURSOR
    with pytest.raises(InputError) as size:
        page_request(101, None, default=20, maximum=100, width=3)
    assert size.value.problems[0].code is ErrorCode.PAGE_SIZE


async def test_secretary_opens_groups_only_inside_their_subtree(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    secretary = viewer_for(world.secretary, None, world.meigui, world.meigui)
    async with writing(sessionmaker) as db:
        group = await ops.create_branch(
            db,
            secretary,
            clock,
            {"parent_id": world.meigui.id, "kind": BranchKind.GROUP, "name": "第二党小组"},
        )
    assert group.path == f"{world.meigui.path}{group.id.hex}/"
    assert group.depth == world.meigui.depth + 1

    with pytest.raises(Forbidden):
        async with writing(sessionmaker) as db:
            await ops.create_branch(
                db,
                secretary,
                clock,
                {"parent_id": world.yushan.id, "kind": BranchKind.GROUP, "name": "外所小组"},
            )
    with pytest.raises(InputError) as kind:
        async with writing(sessionmaker) as db:
            await ops.create_branch(
                db,
                secretary,
                clock,
                {"parent_id": world.meigui.id, "kind": BranchKind.BRANCH, "name": "新支部"},
            )
    assert kind.value.problems[0].code is ErrorCode.INVALID_KIND


async def test_bad_branch_input_is_refused_and_nothing_written(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    admin = viewer_for(world.admin, None, None, None)
    before = await branch_count(sessionmaker)
    with pytest.raises(InputError) as refused:
        async with writing(sessionmaker) as db:
            await ops.create_branch(
                db,
                admin,
                clock,
                {
                    "parent_id": world.organ.id,
                    "kind": BranchKind.TASK_FORCE,
                    "name": "玫瑰派出所党支部",
                    "brand_slogan": "很长" * 101,
                    "starts_on": date(2026, 5, 1),
                    "ends_on": date(2026, 4, 1),
                },
            )
    assert {p.field: p.code for p in refused.value.problems} == {
        "name": ErrorCode.DUPLICATE,
        "brandSlogan": ErrorCode.TOO_LONG,
        "endsOn": ErrorCode.INVALID,
    }
    with pytest.raises(InputError) as root:
        async with writing(sessionmaker) as db:
            await ops.create_branch(
                db, admin, clock, {"kind": BranchKind.BRANCH, "name": "无上级支部"}
            )
    assert root.value.problems[0].field == "parentId"
    with pytest.raises(InputError) as under_unit:
        async with writing(sessionmaker) as db:
            await ops.create_branch(
                db,
                admin,
                clock,
                {"parent_id": world.task_force.id, "kind": BranchKind.GROUP, "name": "x"},
            )
    assert under_unit.value.problems[0].code is ErrorCode.INVALID_KIND
    assert await branch_count(sessionmaker) == before


async def test_moving_a_branch_reroots_its_subtree(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    admin = viewer_for(world.admin, None, None, None)
    async with writing(sessionmaker) as db:
        moved = await ops.update_branch(
            db, admin, clock, world.meigui.id, {"parent_id": world.yushan.id}
        )
    assert moved.path == f"{world.yushan.path}{world.meigui.id.hex}/"
    async with sessionmaker() as db:
        group = await db.get(Branch, world.meigui_group.id)
    assert group is not None
    assert group.path == f"{moved.path}{world.meigui_group.id.hex}/"
    assert group.depth == world.yushan.depth + 2

    with pytest.raises(InputError) as cycle:
        async with writing(sessionmaker) as db:
            await ops.update_branch(
                db, admin, clock, world.organ.id, {"parent_id": world.meigui_group.id}
            )
    assert cycle.value.problems[0].code is ErrorCode.CYCLE


async def test_secretary_cannot_move_branches(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    secretary = viewer_for(world.secretary, None, world.meigui, world.meigui)
    async with writing(sessionmaker) as db:
        renamed = await ops.update_branch(
            db, secretary, clock, world.meigui_group.id, {"brand_slogan": "红心向党"}
        )
    assert renamed.brand_slogan == "红心向党"
    with pytest.raises(Forbidden):
        async with writing(sessionmaker) as db:
            await ops.update_branch(
                db, secretary, clock, world.meigui_group.id, {"parent_id": world.yushan.id}
            )


async def test_a_null_sort_order_is_refused_not_an_internal_error(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    """Found by the input property: sortOrder: null reached the NOT NULL column."""
    admin = viewer_for(world.admin, None, None, None)
    with pytest.raises(InputError) as refused:
        async with writing(sessionmaker) as db:
            await ops.update_branch(
                db, admin, clock, world.meigui.id, {"sort_order": None, "brand_name": "新品牌"}
            )
    assert [(p.field, p.code) for p in refused.value.problems] == [
        ("sortOrder", ErrorCode.REQUIRED)
    ]
    async with sessionmaker() as db:
        branch = await db.get(Branch, world.meigui.id)
    assert branch is not None and (branch.sort_order, branch.brand_name) == (1, "玫警初心")


async def test_honours_are_recorded_by_admins(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    admin = viewer_for(world.admin, None, None, None)
    async with writing(sessionmaker) as db:
        await ops.add_honour(
            db,
            admin,
            clock,
            world.meigui.id,
            '全省"枫桥式公安派出所"',
            HonourLevel.PROVINCE,
            date(2023, 12, 1),
        )
    with pytest.raises(InputError) as future:
        async with writing(sessionmaker) as db:
            await ops.add_honour(
                db, admin, clock, world.meigui.id, "未来荣誉", HonourLevel.CITY, date(2030, 1, 1)
            )
    assert future.value.problems[0].code is ErrorCode.IN_FUTURE
    secretary = viewer_for(world.secretary, None, world.meigui, world.meigui)
    with pytest.raises(Forbidden):
        async with writing(sessionmaker) as db:
            await ops.add_honour(
                db, secretary, clock, world.meigui.id, "自评", HonourLevel.COUNTY, date(2024, 1, 1)
            )
    async with sessionmaker() as db:
        [honours] = await ops.honours_by_branch_id(db, [world.meigui.id])
        total = await db.scalar(select(func.count()).select_from(BranchHonour))
    assert [h.title for h in honours] == ['全省"枫桥式公安派出所"']
    assert total == 1


async def test_an_honour_awarded_today_in_pingyin_is_not_in_the_future(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    """01:00 on 1 July in Pingyin is still 30 June in UTC; the honour's day is the bureau's."""
    clock.now = datetime(2026, 6, 30, 17, 0, tzinfo=UTC)
    admin = viewer_for(world.admin, None, None, None)
    async with writing(sessionmaker) as db:
        await ops.add_honour(
            db, admin, clock, world.meigui.id, "七一先进支部", HonourLevel.COUNTY, date(2026, 7, 1)
        )
    with pytest.raises(InputError) as future:
        async with writing(sessionmaker) as db:
            await ops.add_honour(
                db, admin, clock, world.meigui.id, "明日荣誉", HonourLevel.COUNTY, date(2026, 7, 2)
            )
    assert future.value.problems[0].code is ErrorCode.IN_FUTURE
