"""Brand building: the criteria catalog, checklists, the matrix and honours by committees."""

from __future__ import annotations

import asyncio
from datetime import date
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
    BranchHonour,
    BranchKind,
    BrandChecklistItem,
    BrandCriterion,
    BrandItemStatus,
    HonourLevel,
    Role,
)
from resolvers import branch as branch_ops
from resolvers import brand as ops
from tests.conftest import Builders, World, wait_until_blocked

SEVEN = [
    "有品牌名称",
    "有创建目标",
    "有特色载体",
    "有工作机制",
    "有展示阵地",
    "有工作成效",
    "运行规范",
]


def as_viewer(account: Account, branch: Branch | None = None) -> Viewer:
    return viewer_for(account, None, branch, branch)


async def count(sessionmaker: Sessionmaker, model: Any) -> int:
    async with sessionmaker() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
async def criteria(sessionmaker: Sessionmaker, clock: FrozenClock) -> None:
    async with writing(sessionmaker) as db:
        await ops.ensure_brand_criteria(db, clock())


async def set_item(
    sessionmaker: Sessionmaker,
    clock: FrozenClock,
    viewer: Viewer,
    branch: Branch,
    code: str,
    status: BrandItemStatus = BrandItemStatus.MET,
    evidence: str | None = "已建立",
    links: list[str] | None = None,
) -> BrandChecklistItem:
    async with writing(sessionmaker) as db:
        return await ops.set_checklist_item(
            db, viewer, clock, branch.id, code, status, evidence, links or []
        )


async def test_seeding_criteria_is_idempotent_and_keeps_edits(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    async with writing(sessionmaker) as db:
        assert await ops.ensure_brand_criteria(db, clock()) == 7
    async with writing(sessionmaker) as db:
        await ops.save_criterion(db, as_viewer(world.admin), clock, "B1", "有响亮的品牌名称", 9)
    async with writing(sessionmaker) as db:
        assert await ops.ensure_brand_criteria(db, clock()) == 0
        names = [c.name for c in await ops.list_criteria(db)]
    assert names == [*SEVEN[1:], "有响亮的品牌名称"]


async def test_only_admins_edit_the_catalog(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, criteria: None
) -> None:
    for account, branch in ((world.secretary, world.meigui), (world.inspector, None)):
        with pytest.raises(Forbidden):
            async with writing(sessionmaker) as db:
                await ops.save_criterion(
                    db, as_viewer(account, branch), clock, "B8", "有新标准", None
                )
    async with writing(sessionmaker) as db:
        added = await ops.save_criterion(db, as_viewer(world.admin), clock, "B8", "有新标准", None)
    assert added.sort_order == 8
    assert await count(sessionmaker, BrandCriterion) == 8


async def test_secretary_sets_checklist_items_in_their_subtree_only(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, criteria: None
) -> None:
    secretary = as_viewer(world.secretary, world.meigui)
    item = await set_item(sessionmaker, clock, secretary, world.meigui, "B1", links=["方案.pdf"])
    assert (item.status, item.evidence_links, item.updated_by) == (
        BrandItemStatus.MET,
        ["方案.pdf"],
        world.secretary.id,
    )
    # Setting it again updates the same row.
    clock.advance(days=1)
    again = await set_item(
        sessionmaker, clock, secretary, world.meigui, "B1", BrandItemStatus.IN_PROGRESS, None
    )
    assert again.id == item.id and again.updated_at == clock()
    assert await count(sessionmaker, BrandChecklistItem) == 1
    for account, branch in (
        (world.secretary, world.yushan),
        (world.officer, world.meigui),
        (world.inspector, world.meigui),
    ):
        viewer = as_viewer(account, world.meigui if account.role is Role.SECRETARY else None)
        with pytest.raises(Forbidden):
            await set_item(sessionmaker, clock, viewer, branch, "B2")
    await set_item(sessionmaker, clock, as_viewer(world.admin), world.yushan, "B2")
    assert await count(sessionmaker, BrandChecklistItem) == 2


async def test_a_criterion_without_code_or_name_is_refused_and_nothing_written(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, criteria: None
) -> None:
    admin = as_viewer(world.admin)
    for code, name, expected in (
        (" ", "有新标准", {"code": ErrorCode.REQUIRED}),
        ("B8", "", {"name": ErrorCode.REQUIRED}),
        ("B" * 17, "有" * 101, {"code": ErrorCode.TOO_LONG, "name": ErrorCode.TOO_LONG}),
    ):
        with pytest.raises(InputError) as caught:
            async with writing(sessionmaker) as db:
                await ops.save_criterion(db, admin, clock, code, name, None)
        assert {p.field: p.code for p in caught.value.problems} == expected, (code, name)
    async with sessionmaker() as db:
        names = list(await db.scalars(select(BrandCriterion.name).order_by(BrandCriterion.code)))
    assert names == SEVEN


async def test_bad_checklist_input_is_refused_with_nothing_written(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, criteria: None
) -> None:
    admin = as_viewer(world.admin)
    with pytest.raises(InputError) as unknown:
        await set_item(sessionmaker, clock, admin, world.meigui, "B99")
    assert {p.field: p.code for p in unknown.value.problems} == {
        "criterionCode": ErrorCode.NOT_FOUND
    }
    with pytest.raises(InputError) as no_evidence:
        await set_item(sessionmaker, clock, admin, world.meigui, "B1", evidence="  ")
    assert {p.field: p.code for p in no_evidence.value.problems} == {"evidence": ErrorCode.REQUIRED}
    with pytest.raises(InputError) as group:
        await set_item(sessionmaker, clock, admin, world.meigui_group, "B1")
    assert group.value.problems[0].code is ErrorCode.INVALID_KIND
    with pytest.raises(InputError) as links:
        await set_item(sessionmaker, clock, admin, world.meigui, "B1", links=["x" * 501])
    assert links.value.problems[0].code is ErrorCode.TOO_LONG
    assert await count(sessionmaker, BrandChecklistItem) == 0


async def test_met_needs_evidence_but_links_are_enough(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, criteria: None
) -> None:
    item = await set_item(
        sessionmaker,
        clock,
        as_viewer(world.admin),
        world.meigui,
        "B5",
        evidence=None,
        links=["展示阵地照片.zip"],
    )
    assert item.status is BrandItemStatus.MET and item.evidence is None


async def test_matrix_lists_branches_by_criteria_with_complete_flag_and_honours(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, criteria: None
) -> None:
    admin = as_viewer(world.admin)
    async with sessionmaker() as db:
        codes = [c.code for c in await ops.list_criteria(db)]
    for code in codes:
        await set_item(sessionmaker, clock, admin, world.meigui, code)
    await set_item(sessionmaker, clock, admin, world.yushan, "B1")
    await set_item(sessionmaker, clock, admin, world.yushan, "B2", BrandItemStatus.IN_PROGRESS)
    async with writing(sessionmaker) as db:
        for level in (HonourLevel.PROVINCE, HonourLevel.CITY, HonourLevel.CITY):
            await branch_ops.add_honour(
                db, admin, clock, world.meigui.id, f"荣誉{level}", level, date(2024, 1, 1)
            )
    async with sessionmaker() as db:
        matrix = await ops.brand_matrix(db, as_viewer(world.officer))
        only_meigui = await ops.brand_matrix(db, admin, world.meigui.id)
    assert [c.name for c in matrix.criteria] == SEVEN
    rows = {r.branch.name: r for r in matrix.rows}
    # Branches only: no committees, groups or task units.
    assert set(rows) == {"玫瑰派出所党支部", "榆山第二派出所党支部"}
    meigui, yushan = rows["玫瑰派出所党支部"], rows["榆山第二派出所党支部"]
    assert meigui.complete and meigui.met_count == 7
    assert not yushan.complete and yushan.met_count == 1
    assert [c.status for c in yushan.cells][:3] == [
        BrandItemStatus.MET,
        BrandItemStatus.IN_PROGRESS,
        BrandItemStatus.NOT_STARTED,
    ]
    assert meigui.honours == {HonourLevel.PROVINCE: 1, HonourLevel.CITY: 2}
    assert yushan.honours == {}
    assert matrix.complete_count == 1
    assert [r.branch.name for r in only_meigui.rows] == ["玫瑰派出所党支部"]


async def test_a_new_criterion_makes_complete_branches_incomplete(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, criteria: None
) -> None:
    admin = as_viewer(world.admin)
    for code, _, _ in ops.DEFAULT_CRITERIA:
        await set_item(sessionmaker, clock, admin, world.meigui, code)
    async with sessionmaker() as db:
        [before] = await ops.checklist_completeness(db, [world.meigui.id])
    async with writing(sessionmaker) as db:
        await ops.save_criterion(db, admin, clock, "B8", "有数字化平台", None)
    async with sessionmaker() as db:
        [after, yushan] = await ops.checklist_completeness(db, [world.meigui.id, world.yushan.id])
    assert (before.met, before.total, before.complete) == (7, 7, True)
    assert (after.met, after.total, after.complete) == (7, 8, False)
    assert (yushan.met, yushan.complete) == (0, False)


async def test_honour_counts_filter_by_award_date(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    admin = as_viewer(world.admin)
    async with writing(sessionmaker) as db:
        for on in (date(2025, 3, 1), date(2026, 3, 1), date(2026, 9, 1)):
            await branch_ops.add_honour(
                db, admin, clock, world.yushan.id, "锦旗", HonourLevel.COUNTY, on
            )
    async with sessionmaker() as db:
        [year, none] = await ops.honour_counts(
            db, [world.yushan.id, world.meigui.id], date(2026, 1, 1), date(2027, 1, 1)
        )
    assert year == {HonourLevel.COUNTY: 2} and none == {}


async def test_committee_secretary_records_and_removes_honours_below_it(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, make: Builders
) -> None:
    organ_secretary = await make.account(Role.SECRETARY, branch_id=world.organ.id)
    committee = as_viewer(organ_secretary, world.organ)
    async with writing(sessionmaker) as db:
        honour = await branch_ops.add_honour(
            db,
            committee,
            clock,
            world.yushan.id,
            "全市标杆派出所",
            HonourLevel.CITY,
            date(2024, 1, 1),
        )
    # A branch secretary may not record honours, not even for their own branch.
    with pytest.raises(Forbidden):
        async with writing(sessionmaker) as db:
            await branch_ops.remove_honour(db, as_viewer(world.secretary, world.meigui), honour.id)
    # A committee's reach ends at its subtree.
    other = await make.branch(None, BranchKind.COMMITTEE, name="外县党委")
    far = await make.branch(other, name="外县派出所党支部")
    with pytest.raises(Forbidden):
        async with writing(sessionmaker) as db:
            await branch_ops.add_honour(
                db, committee, clock, far.id, "外县荣誉", HonourLevel.COUNTY, date(2024, 1, 1)
            )
    async with writing(sessionmaker) as db:
        branch = await branch_ops.remove_honour(db, committee, honour.id)
    assert branch.id == world.yushan.id
    assert await count(sessionmaker, BranchHonour) == 0
    with pytest.raises(InputError) as gone:
        async with writing(sessionmaker) as db:
            await branch_ops.remove_honour(db, as_viewer(world.admin), honour.id)
    assert gone.value.problems[0].code is ErrorCode.NOT_FOUND


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_two_first_settings_of_one_criterion_at_once_keep_one_row(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, criteria: None
) -> None:
    """Two sessions set a criterion the branch has not touched: both find no row. The second's
    insert waits for the first to commit, then meets its row and updates it (a plain INSERT
    would fail on the unique (branch, criterion))."""
    secretary = as_viewer(world.secretary, world.meigui)
    admin = as_viewer(world.admin)
    async with writing(sessionmaker) as first:
        await ops.set_checklist_item(
            first, secretary, clock, world.meigui.id, "B1", BrandItemStatus.IN_PROGRESS, None, []
        )
        second = asyncio.create_task(
            set_item(sessionmaker, clock, admin, world.meigui, "B1", evidence="品牌名称已确定")
        )
        await wait_until_blocked(sessionmaker, second)  # on the first's row
        assert not second.done()
    item = await second
    assert (item.status, item.evidence) == (BrandItemStatus.MET, "品牌名称已确定")
    async with sessionmaker() as db:
        rows = (await db.scalars(select(BrandChecklistItem))).all()
    assert [(r.status, r.updated_by) for r in rows] == [(BrandItemStatus.MET, world.admin.id)]
