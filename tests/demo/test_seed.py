"""The demo seed: the county from the article, its accounts, idempotence, production refusal."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import FrozenClock
from core.db import Sessionmaker
from core.security import verify_password
from core.settings import Settings
from demo.records import LAST_YEAR
from demo.seed import SEED_STEPS, SeedRefused, SeedReport, seed_demo
from demo.timeline import timeline
from models import (
    Account,
    Base,
    Branch,
    BranchHonour,
    BranchKind,
    DataVersion,
    HonourLevel,
    Member,
    Patrol,
    PatrolKind,
    Post,
    Role,
    ServiceAction,
    TaskUnitMembership,
    Visit,
)
from models.service_action import SIX_ACTIONS
from resolvers.period import day_start
from tests.conftest import SEED_PROGRESS, Api, Builders

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
    seeded_demo: SeedReport, backend: str, sessionmaker: Sessionmaker
) -> None:
    # The process's seeded county, with the progress seeding it reported (tests/conftest.py).
    report, steps = seeded_demo, SEED_PROGRESS[backend]

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
    seeded_demo: SeedReport, sessionmaker: Sessionmaker, settings: Settings, clock: FrozenClock
) -> None:
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
    seeded_demo: SeedReport, sessionmaker: Sessionmaker, settings: Settings, clock: FrozenClock
) -> None:
    report = seeded_demo
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
    seeded_demo: SeedReport, sessionmaker: Sessionmaker, settings: Settings, clock: FrozenClock
) -> None:
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


# --- the two years of field records --------------------------------------------------------

PULL = """
query($checkpoint: %(name)sInputCheckpoint, $limit: Int!) {
  pull%(name)s(checkpoint: $checkpoint, limit: $limit) {
    documents { %(fields)s }
    checkpoint { id updatedAt }
  }
}"""
FIELDS = {
    "Visit": "id branchId officerId village status category visitedAt updatedAt deleted",
    "Patrol": "id branchId kind participants track updatedAt deleted",
    "ServiceAction": (
        "id branchId type participants difficultiesSolved bannersReceived happenedAt updatedAt"
        " deleted"
    ),
}


async def _pull_all(api: Api, token: str, name: str, limit: int = 1000) -> list[dict[str, Any]]:
    """Pages through a collection as RxDB does: until the first page shorter than `limit`."""
    documents: list[dict[str, Any]] = []
    checkpoint = None
    while True:
        body = await api(
            PULL % {"name": name, "fields": FIELDS[name]},
            {"checkpoint": checkpoint, "limit": limit},
            token=token,
        )
        page = body["data"][f"pull{name}"]
        documents += page["documents"]
        checkpoint = page["checkpoint"]
        if len(page["documents"]) < limit:
            return documents


async def test_seed_adds_a_year_that_adds_up_to_the_article(
    seeded_demo: SeedReport, sessionmaker: Sessionmaker, settings: Settings, clock: FrozenClock
) -> None:
    report = seeded_demo
    async with sessionmaker() as db:
        live = ServiceAction.deleted.is_(False)
        recent = timeline(clock()).recent  # the twelve months ending with the seed's day
        in_recent_year = ServiceAction.happened_at.between(
            day_start(recent.start), day_start(recent.end_exclusive)
        )
        solved, banners, types = (
            await db.execute(
                select(
                    func.sum(ServiceAction.difficulties_solved),
                    func.sum(ServiceAction.banners_received),
                    func.count(distinct(ServiceAction.type)),
                ).where(live, in_recent_year)
            )
        ).one()
        assert (solved, banners) == (356, 96)  # 解决群众困难350余起,收到锦旗96面
        six = await db.scalars(
            select(ServiceAction.type)
            .distinct()
            .where(live, ServiceAction.type.in_([t.value for t in SIX_ACTIONS]))
        )
        assert len(six.all()) == 6 and types == 8
        categories = await db.scalar(select(func.count(distinct(Visit.category))))
        assert categories == 7
        night = await db.scalar(select(func.count()).where(Patrol.kind == PatrolKind.NIGHT.value))
        assert night and night > 300
        counts = await _counts(db)
        assert (counts["visit"], counts["patrol"], counts["service_action"]) == (
            report.visits,
            report.patrols,
            report.service_actions,
        )
        # Every branch does 为民服务: all 32 党支部 (depth 2 on the path) record service actions.
        paths = await db.scalars(
            select(Branch.path).join(ServiceAction, ServiceAction.branch_id == Branch.id)
        )
        assert len({path.split("/")[3] for path in paths}) == 32


async def test_seeded_stamps_are_unique_and_the_sync_clock_covers_them(
    seeded_demo: SeedReport, sessionmaker: Sessionmaker, settings: Settings, clock: FrozenClock
) -> None:
    async with sessionmaker() as db:
        stamps: list[int] = []
        for model in (Visit, Patrol, ServiceAction):
            stamps += (await db.scalars(select(model.updated_at))).all()
        sync_clock = await db.scalar(select(DataVersion.sync_clock))
    assert len(set(stamps)) == len(stamps)
    assert sync_clock == max(stamps) <= int(clock().timestamp() * 1000)


async def test_admin_pulls_the_seeded_years_oldest_first_and_a_new_push_stamps_after_them(
    seeded_demo: SeedReport,
    sessionmaker: Sessionmaker,
    settings: Settings,
    clock: FrozenClock,
    api: Api,
) -> None:
    report = seeded_demo
    token = await api.login("admin", settings.demo_password)
    visits = await _pull_all(api, token, "Visit")
    patrols = await _pull_all(api, token, "Patrol")
    actions = await _pull_all(api, token, "ServiceAction")
    assert (len(visits), len(patrols), len(actions)) == (
        report.visits,
        report.patrols,
        report.service_actions,
    )
    when = timeline(clock())

    def day(text: str) -> date:
        return datetime.fromisoformat(text).date()

    for window, solved, banners in (
        (when.earlier, LAST_YEAR.difficulties_solved, LAST_YEAR.banners_received),
        (when.recent, 356, 96),
    ):
        of_year = [a for a in actions if not a["deleted"] and window.contains(day(a["happenedAt"]))]
        assert sum(a["difficultiesSolved"] for a in of_year) == solved
        assert sum(a["bannersReceived"] for a in of_year) == banners
    # The stamps follow the moments recorded: a fresh phone gets the earlier year first.
    assert when.earlier.contains(day(visits[0]["visitedAt"]))
    assert when.recent.contains(day(visits[-1]["visitedAt"]))
    assert [v["visitedAt"] for v in visits] == sorted(v["visitedAt"] for v in visits)
    assert {a["type"] for a in actions} >= {t.value for t in SIX_ACTIONS}
    assert sum(v["deleted"] for v in visits) > 0  # tombstones reach a fresh phone too
    first_track = json.loads(patrols[0]["track"])
    assert first_track and {"t", "lat", "lng"} <= set(first_track[0])
    async with sessionmaker() as db:
        ids = set((await db.scalars(select(Visit.id))).all())
    assert {v["id"] for v in visits} == ids
    last = max(d["updatedAt"] for d in [*visits, *patrols, *actions])

    # The seeded officer records a visit on the same frozen instant: it still sorts after.
    officer = await api.login("officer.meigui", settings.demo_password)
    mine = await _pull_all(api, officer, "Visit")
    assert mine and all(v["branchId"] == mine[0]["branchId"] for v in mine)
    me = (await api("{ me { member { id } } }", token=officer))["data"]["me"]
    new = {
        "id": str(uuid.uuid4()),
        "branchId": mine[0]["branchId"],
        "officerId": me["member"]["id"],  # officers record as themselves
        "village": "玫瑰村",
        "category": "household",
        "status": "open",
        "peopleReached": 2,
        "visitedAt": "2026-11-28T16:00:00+08:00",
        "deleted": False,
    }
    body = await api(
        "mutation($rows: [VisitInputPushRow!]) { pushVisit(visitPushRow: $rows) { id } }",
        {"rows": [{"newDocumentState": new}]},
        token=officer,
    )
    assert body["data"]["pushVisit"] == []
    after = await _pull_all(api, officer, "Visit")
    assert after[-1]["id"] == new["id"] and after[-1]["updatedAt"] > last
