"""The demo seed: the county from the article, its accounts, idempotence, production refusal."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.clock import FrozenClock
from app.db import Sessionmaker
from app.security import verify_password
from app.seed import SEED_STEPS, SeedRefused, seed_demo
from app.settings import Settings
from models import (
    Account,
    Base,
    Branch,
    BranchHonour,
    BranchKind,
    HonourLevel,
    Member,
    Post,
    Role,
    TaskUnitMembership,
)
from tests.conftest import Builders

NAMED_UNITS = {
    "玫瑰派出所",
    "榆山派出所",
    "榆山第二派出所",
    "锦水派出所",
    "东阿派出所",
    "孝直派出所",
    "孔村派出所",
    "洪范池派出所",
    "安城派出所",
    "店子派出所",
    "黄河专班",
    "刑事侦查大队",
    "交通警察大队",
    "巡特警大队",
}


async def _counts(db: AsyncSession) -> dict[str, int]:
    return {
        table.name: int(await db.scalar(select(func.count()).select_from(table)) or 0)
        for table in Base.metadata.sorted_tables
    }


async def _by_unit(db: AsyncSession, unit: str) -> Branch:
    return (
        await db.scalars(
            select(Branch).where(Branch.unit_name == unit, Branch.kind == BranchKind.BRANCH)
        )
    ).one()


async def test_seed_builds_the_county_of_the_article(
    sessionmaker: Sessionmaker, settings: Settings, clock: FrozenClock
) -> None:
    steps: list[tuple[str, int]] = []
    report = await seed_demo(sessionmaker, settings, clock, lambda d, n: steps.append((d, n)))

    assert report.created
    assert (report.branches, report.members) == (32, 520)
    assert sum(n for _, n in steps) == SEED_STEPS
    async with sessionmaker() as db:
        root = (await db.scalars(select(Branch).where(Branch.parent_id.is_(None)))).one()
        assert (root.kind, root.unit_name, root.brand_name) == (
            BranchKind.COMMITTEE,
            "平阴县公安局",
            "玫警初心 智慧党建",
        )
        organ = (await db.scalars(select(Branch).where(Branch.parent_id == root.id))).one()
        assert organ.kind is BranchKind.ORGAN_COMMITTEE
        branches = (await db.scalars(select(Branch).where(Branch.kind == BranchKind.BRANCH))).all()
        assert len(branches) == 32
        assert sorted(b.sort_order for b in branches) == list(range(1, 33))
        assert all(b.parent_id == organ.id and b.depth == 2 for b in branches)
        assert all(b.unit_name and b.brand_name and b.brand_slogan for b in branches)
        assert len({b.brand_name for b in branches}) == 32
        assert {b.unit_name for b in branches} >= NAMED_UNITS
        assert (await _by_unit(db, "榆山第二派出所")).brand_name == "红心向党 人民满意"
        assert (await _by_unit(db, "黄河专班")).brand_name == "党魂铸盾 锐鹰护航"

        honours = {
            (h.title, h.level, h.awarded_on.isoformat()[:7]): h.branch_id
            for h in (await db.scalars(select(BranchHonour))).all()
        }
        meigui = await _by_unit(db, "玫瑰派出所")
        yushan2 = await _by_unit(db, "榆山第二派出所")
        assert honours[('全省"枫桥式公安派出所"', HonourLevel.PROVINCE, "2023-12")] == meigui.id
        assert any(
            title == "全市标杆派出所" and level is HonourLevel.CITY and branch == yushan2.id
            for (title, level, _), branch in honours.items()
        )

        rows = await db.execute(select(Branch.kind, func.count()).group_by(Branch.kind))
        kinds = {kind: n for kind, n in rows}
        assert kinds[BranchKind.GROUP] >= 3
        assert kinds[BranchKind.TASK_FORCE] == 3  # two 破案尖刀队 and 民生小案攻坚小组
        assert kinds[BranchKind.COMMANDO_TEAM] == kinds[BranchKind.TEMPORARY_GROUP] == 1
        knife_teams = (
            await db.scalars(select(Branch).where(Branch.name.like("%破案尖刀队")))
        ).all()
        assert len(knife_teams) == 2

        assert await db.scalar(select(func.count()).select_from(Member)) == 520
        secretaries = (
            await db.execute(
                select(Member.branch_id, func.count())
                .where(Member.post == Post.SECRETARY)
                .group_by(Member.branch_id)
            )
        ).all()
        assert {bid: n for bid, n in secretaries} == {b.id: 1 for b in branches}


async def test_meigui_task_force_draws_members_from_several_branches(
    sessionmaker: Sessionmaker, settings: Settings, clock: FrozenClock
) -> None:
    await seed_demo(sessionmaker, settings, clock)
    async with sessionmaker() as db:
        meigui = await _by_unit(db, "玫瑰派出所")
        unit = (await db.scalars(select(Branch).where(Branch.name == "民生小案攻坚小组"))).one()
        assert (unit.kind, unit.parent_id) == (BranchKind.TASK_FORCE, meigui.id)
        homes = (
            await db.scalars(
                select(Branch.path)
                .join(Member, Member.branch_id == Branch.id)
                .join(TaskUnitMembership, TaskUnitMembership.member_id == Member.id)
                .where(TaskUnitMembership.task_unit_id == unit.id)
            )
        ).all()
        # A home may be a 党小组: count the 党支部 (depth 2 on the path) it belongs to.
        assert len({path.split("/")[3] for path in homes}) >= 3
        assert any(path.startswith(meigui.path) for path in homes)


async def test_demo_accounts_sign_in_with_the_demo_password(
    sessionmaker: Sessionmaker, settings: Settings, clock: FrozenClock
) -> None:
    report = await seed_demo(sessionmaker, settings, clock)
    assert report.accounts == ("admin", "inspector", "secretary.meigui", "officer.meigui")
    async with sessionmaker() as db:
        accounts = {a.username: a for a in (await db.scalars(select(Account))).all()}
        meigui = await _by_unit(db, "玫瑰派出所")
        assert {name: a.role for name, a in accounts.items()} == {
            "admin": Role.ADMIN,
            "inspector": Role.INSPECTOR,
            "secretary.meigui": Role.SECRETARY,
            "officer.meigui": Role.OFFICER,
        }
        secretary = accounts["secretary.meigui"]
        assert secretary.branch_id == meigui.id
        assert secretary.member_id is not None
        secretary_member = await db.get(Member, secretary.member_id)
        assert secretary_member is not None
        assert (secretary_member.post, secretary_member.branch_id) == (Post.SECRETARY, meigui.id)
        officer = accounts["officer.meigui"]
        assert officer.member_id is not None
        officer_member = await db.get(Member, officer.member_id)
        assert officer_member is not None and officer_member.branch_id == meigui.id
    # Hashed once for all four (argon2 is slow on purpose), so one check covers them all.
    (password_hash,) = {a.password_hash for a in accounts.values()}
    assert await verify_password(password_hash, settings.demo_password)
    assert not await verify_password(password_hash, "not-the-demo-password")


async def test_seeding_twice_changes_nothing(
    sessionmaker: Sessionmaker, settings: Settings, clock: FrozenClock
) -> None:
    await seed_demo(sessionmaker, settings, clock)
    async with sessionmaker() as db:
        before = await _counts(db)
    clock.advance(days=40)
    again = await seed_demo(sessionmaker, settings, clock)
    async with sessionmaker() as db:
        after = await _counts(db)
    assert not again.created
    assert (again.branches, again.members) == (32, 520)
    assert "已存在" in again.message
    assert after == before


async def test_taken_demo_usernames_are_left_alone(
    sessionmaker: Sessionmaker, settings: Settings, clock: FrozenClock, make: Builders
) -> None:
    mine = await make.account(Role.ADMIN, username="admin")
    report = await seed_demo(sessionmaker, settings, clock)
    assert report.skipped_accounts == ("admin",)
    async with sessionmaker() as db:
        admin = (await db.scalars(select(Account).where(Account.username == "admin"))).one()
    assert admin.password_hash == mine.password_hash


async def test_production_refuses_demo_accounts(
    sessionmaker: Sessionmaker, settings: Settings, clock: FrozenClock
) -> None:
    production: Any = Settings(
        env="production", database_url=settings.database_url, secret_key="s" * 40
    )
    with pytest.raises(SeedRefused, match="MEIJING_ENV=production"):
        await seed_demo(sessionmaker, production, clock)
    async with sessionmaker() as db:
        counts = await _counts(db)
    assert counts["branch"] == counts["member"] == counts["account"] == 0
