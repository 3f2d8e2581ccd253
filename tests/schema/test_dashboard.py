"""The dashboard: figures from the data, year-on-year, scope per role, a fixed statement count."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from core.clock import FrozenClock
from core.db import Sessionmaker, writing
from core.settings import Settings
from demo.seed_assessment import seed_assessment_items
from models import (
    Branch,
    BranchHonour,
    BranchKind,
    Directive,
    DirectiveLevel,
    DirectivePriority,
    DirectiveRecipient,
    DirectiveStatus,
    EducationActivity,
    EducationActivityType,
    HonourLevel,
    LedgerEntry,
    LedgerFrequency,
    LedgerItem,
    Member,
    Patrol,
    RecipientStatus,
    Reminder,
    ReminderKind,
    ReminderStatus,
    ServiceAction,
    Visit,
)
from schema.node import to_global_id
from tests.conftest import Api, Builders, World
from tests.schema.test_statement_count import counting

CST = timezone(timedelta(hours=8))


@pytest.fixture
def app_settings(settings: Settings) -> Settings:
    """Statement counts and changing data: the response cache is off."""
    return dataclasses.replace(settings, response_cache_entries=0)


def _at(year: int, month: int, day: int = 10, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=CST)


def _synced(branch: Branch, officer: Member, when: datetime) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "branch_id": branch.id,
        "officer_id": officer.id,
        "updated_at": 1,
        "deleted": False,
        "created_at": when,
    }


@dataclasses.dataclass
class Data:
    """Writes records of each kind the dashboard counts."""

    sessionmaker: Sessionmaker
    world: World

    async def add(self, *rows: Any) -> None:
        async with writing(self.sessionmaker) as db:
            db.add_all(rows)

    async def visit(self, branch: Branch, when: datetime, category: str = "household") -> None:
        officer = self.world.officer_member
        await self.add(
            Visit(
                **_synced(branch, officer, when),
                village="玫瑰村",
                category=category,
                status="resolved",
                people_reached=2,
                visited_at_text=when.isoformat(),
                visited_at=when,
            )
        )

    async def patrol(self, branch: Branch, when: datetime, kind: str) -> None:
        await self.add(
            Patrol(
                **_synced(branch, self.world.officer_member, when),
                kind=kind,
                area="主街",
                started_at_text=when.isoformat(),
                started_at=when,
            )
        )

    async def action(self, branch: Branch, when: datetime, solved: int, banners: int) -> None:
        await self.add(
            ServiceAction(
                **_synced(branch, self.world.officer_member, when),
                type="forum",
                title="警民恳谈会",
                happened_at_text=when.isoformat(),
                happened_at=when,
                people_reached=30,
                difficulties_solved=solved,
                banners_received=banners,
            )
        )

    async def activity(self, branch: Branch, day: date, audience: int) -> None:
        now = datetime.now(UTC)
        await self.add(
            EducationActivity(
                id=uuid.uuid4(),
                branch_id=branch.id,
                title="开放日",
                held_on=day,
                type=EducationActivityType.OPEN_DAY,
                audience_count=audience,
                created_at=now,
                updated_at=now,
            )
        )


@pytest.fixture
async def data(sessionmaker: Sessionmaker, world: World, make: Builders) -> Data:
    return await fill(sessionmaker, world, make)


async def fill(sessionmaker: Sessionmaker, world: World, make: Builders) -> Data:
    """Two stations over two years (2025 and 2026); the test clock stands at 2026-11-28."""
    d = Data(sessionmaker, world)
    meigui, yushan, group = world.meigui, world.yushan, world.meigui_group
    for month in (3, 3):
        await d.visit(meigui, _at(2026, month))
    await d.visit(group, _at(2026, 3), "fraud_prevention")
    await d.visit(yushan, _at(2026, 5), "fraud_prevention")
    await d.visit(meigui, _at(2025, 3))
    await d.patrol(meigui, _at(2026, 4, hour=21), "night")
    await d.patrol(meigui, _at(2026, 4), "day")
    await d.patrol(meigui, _at(2025, 4, hour=21), "night")
    await d.action(meigui, _at(2026, 4), 3, 1)
    await d.action(meigui, _at(2025, 4), 1, 0)
    await d.action(yushan, _at(2026, 6), 2, 2)
    await d.activity(meigui, date(2026, 2, 1), 30)
    await d.activity(meigui, date(2026, 7, 1), 20)
    await d.activity(yushan, date(2026, 8, 1), 40)
    await d.activity(meigui, date(2025, 2, 1), 10)
    now = make.clock()
    await d.add(
        BranchHonour(
            id=uuid.uuid4(),
            branch_id=meigui.id,
            title="全市标杆派出所",
            level=HonourLevel.CITY,
            awarded_on=date(2026, 6, 1),
            created_at=now,
        )
    )
    await _ledger(d, now)
    await _directives(d, now)
    return d


async def _ledger(d: Data, now: datetime) -> None:
    """One monthly item. 玫瑰: 2026 Jan–Oct but March (September's recorded late), 2025
    Jan–Jun; 榆山: nothing."""
    item = LedgerItem(
        id=uuid.uuid4(),
        code="L02",
        name="支部委员会会议",
        frequency=LedgerFrequency.MONTHLY,
        required=True,
        sort_order=1,
        active=True,
        created_at=now,
        updated_at=now,
    )
    await d.add(item)
    entries = []
    for year, months in ((2026, [1, 2, 4, 5, 6, 7, 8, 9, 10]), (2025, [1, 2, 3, 4, 5, 6])):
        for month in months:
            recorded = _at(year, month, 20)
            if (year, month) == (2026, 9):
                recorded = _at(2026, 10, 30)
            entries.append(
                LedgerEntry(
                    id=uuid.uuid4(),
                    branch_id=d.world.meigui.id,
                    item_id=item.id,
                    occurred_on=date(year, month, 15),
                    title="支委会",
                    created_at=recorded,
                    updated_at=recorded,
                )
            )
    await d.add(*entries)


async def _directives(d: Data, now: datetime) -> None:
    """2026: five recipients due (3 on time, 1 late, 1 open); one due in December (not yet).
    2025: two due, one on time."""
    w = d.world
    plans: list[tuple[datetime, list[tuple[Branch, DirectiveLevel, datetime | None]]]] = [
        (
            _at(2026, 6, 30),
            [
                (w.committee, DirectiveLevel.COUNTY_COMMITTEE, _at(2026, 6, 20)),
                (w.meigui, DirectiveLevel.BRANCH, _at(2026, 6, 25)),
                (w.yushan, DirectiveLevel.BRANCH, _at(2026, 7, 5)),
            ],
        ),
        (_at(2026, 10, 31), [(w.meigui, DirectiveLevel.BRANCH, None)]),
        (_at(2026, 10, 31, hour=8), [(w.yushan, DirectiveLevel.BRANCH, _at(2026, 10, 1))]),
        (_at(2026, 12, 31), [(w.meigui, DirectiveLevel.BRANCH, None)]),
        (
            _at(2025, 6, 30),
            [
                (w.meigui, DirectiveLevel.BRANCH, _at(2025, 6, 1)),
                (w.yushan, DirectiveLevel.BRANCH, None),
            ],
        ),
    ]
    for deadline, recipients in plans:
        directive = Directive(
            id=uuid.uuid4(),
            title="专项工作",
            content="按期完成",
            priority=DirectivePriority.ROUTINE,
            deadline=deadline,
            issued_by_branch_id=w.committee.id,
            issued_by_account_id=w.admin.id,
            status=DirectiveStatus.ISSUED,
            issued_at=deadline - timedelta(days=60),
            created_at=now,
            updated_at=now,
        )
        await d.add(directive)
        await d.add(
            *(
                DirectiveRecipient(
                    id=str(uuid.uuid4()),
                    branch_id=branch.id,
                    officer_id=None,
                    updated_at=1,
                    deleted=False,
                    created_at=now,
                    directive_id=directive.id,
                    level=level,
                    target=f"b:{branch.id}",
                    status=RecipientStatus.CLOSED if closed else RecipientStatus.SIGNED,
                    dispatched_at=deadline - timedelta(days=60),
                    signed_at=deadline - timedelta(days=50),
                    closed_at=closed,
                )
                for branch, level, closed in recipients
            )
        )


DASHBOARD = """
query($period: String!, $branchId: ID) {
  dashboard(period: $period, branchId: $branchId) {
    period periodLabel previousPeriod
    branch { name }
    partyBranches
    branchesByKind { kind label count }
    members { total active retired byPersonnelType { type label count } byPartyStatus { status label count } }
    education { activities { value previous change } audience { value previous change } }
    fieldRecords {
      visits { value previous change }
      visitsByCategory { category label count { value previous } }
      patrols { value previous }
      nightPatrols { value previous }
      serviceActions { value previous }
      serviceActionsByType { type label count { value } difficultiesSolved { value previous } }
      byMonth { month label visits { value previous } nightPatrols { value previous } }
    }
    difficultiesSolved { value previous change }
    bannersReceived { value previous change }
    ledger {
      branches expected { value previous } present { value previous } late { value previous }
      missing { value previous } pending { value previous } rate { value previous change }
      byBranch { branch { name } expected present late missing pending rate }
    }
    directives {
      due { value previous } closedOnTime { value previous } closedLate { value previous }
      overdueOpen { value previous } completionRate { value previous change }
    }
    honours { value previous }
    honoursByLevel { level label count { value previous } }
    assessmentRanking {
      rankedCount
      top { rank branch { name } score previousRank previousScore }
      rows { rank branch { name } score }
      own { rank branch { name } score }
    }
    openReminders { open { value previous change } overdue { value previous } }
  }
}"""


async def _dashboard(
    api: Api, token: str, period: str = "2026", branch: Branch | None = None
) -> dict[str, Any]:
    variables: dict[str, Any] = {"period": period}
    if branch is not None:
        variables["branchId"] = to_global_id("Branch", branch.id)
    body = await api(DASHBOARD, variables, token=token)
    return body["data"]["dashboard"]  # type: ignore[no-any-return]


def _by(rows: list[dict[str, Any]], key: str) -> dict[str, Any]:
    return {row[key]: row for row in rows}


async def test_dashboard_counts_the_county_for_the_period_and_a_year_earlier(
    api: Api, data: Data
) -> None:
    d = await _dashboard(api, await api.login("admin"))
    assert (d["period"], d["periodLabel"], d["previousPeriod"]) == ("2026", "2026年", "2025")
    assert d["branch"] is None
    assert d["partyBranches"] == 2
    kinds = {k["kind"]: (k["label"], k["count"]) for k in d["branchesByKind"]}
    assert kinds["BRANCH"] == ("党支部", 2)
    assert kinds["COMMITTEE"] == ("党委", 1)
    assert (d["members"]["total"], d["members"]["active"], d["members"]["retired"]) == (4, 4, 0)
    assert _by(d["members"]["byPartyStatus"], "status")["FULL"] == {
        "status": "FULL",
        "label": "正式党员",
        "count": 4,
    }
    assert d["education"]["activities"] == {"value": 3, "previous": 1, "change": 200.0}
    assert d["education"]["audience"] == {"value": 90, "previous": 10, "change": 800.0}
    records = d["fieldRecords"]
    assert records["visits"] == {"value": 4, "previous": 1, "change": 300.0}
    categories = _by(records["visitsByCategory"], "category")
    assert categories["FRAUD_PREVENTION"]["label"] == "反诈宣传"
    assert categories["FRAUD_PREVENTION"]["count"] == {"value": 2, "previous": 0}
    assert records["patrols"] == {"value": 2, "previous": 1}
    assert records["nightPatrols"] == {"value": 1, "previous": 1}
    assert records["serviceActions"] == {"value": 2, "previous": 1}
    forum = _by(records["serviceActionsByType"], "type")["FORUM"]
    assert (forum["label"], forum["difficultiesSolved"]) == (
        "警民恳谈会开起来",
        {"value": 5, "previous": 1},
    )
    months = records["byMonth"]
    assert [m["month"] for m in months] == [f"2026-{m:02d}" for m in range(1, 13)]
    assert months[2]["label"] == "2026年3月"
    assert months[2]["visits"] == {"value": 3, "previous": 1}
    assert months[3]["nightPatrols"] == {"value": 1, "previous": 1}
    assert d["difficultiesSolved"] == {"value": 5, "previous": 1, "change": 400.0}
    # Nothing to compare with: no percentage is invented.
    assert d["bannersReceived"] == {"value": 3, "previous": 0, "change": None}
    assert d["honours"] == {"value": 1, "previous": 0}
    assert _by(d["honoursByLevel"], "level")["CITY"]["count"] == {"value": 1, "previous": 0}
    # No assessment catalog and no reminders in this data: every branch scores 0.
    assert [(r["rank"], r["score"]) for r in d["assessmentRanking"]["rows"]] == [(1, 0), (2, 0)]
    assert d["openReminders"]["open"] == {"value": 0, "previous": None, "change": None}


async def test_dashboard_ledger_completeness_sums_the_branches_completeness(
    api: Api, data: Data
) -> None:
    ledger = (await _dashboard(api, await api.login("admin")))["ledger"]
    # Two branches × 12 months; on 2026-11-28 November and December are still pending.
    assert ledger["branches"] == 2
    assert ledger["expected"] == {"value": 24, "previous": 24}
    assert ledger["present"] == {"value": 9, "previous": 6}
    assert ledger["late"] == {"value": 1, "previous": 0}
    assert ledger["missing"] == {"value": 11, "previous": 18}
    assert ledger["pending"] == {"value": 4, "previous": 0}
    assert ledger["rate"] == {"value": 9 / 20, "previous": 6 / 24, "change": 80.0}
    assert [r["branch"]["name"] for r in ledger["byBranch"]] == [
        "玫瑰派出所党支部",
        "榆山第二派出所党支部",
    ]
    meigui = ledger["byBranch"][0]
    assert (meigui["present"], meigui["late"], meigui["missing"], meigui["rate"]) == (9, 1, 1, 0.9)


async def test_dashboard_directive_rate_is_closed_on_time_over_due(api: Api, data: Data) -> None:
    directives = (await _dashboard(api, await api.login("admin")))["directives"]
    assert directives["due"] == {"value": 5, "previous": 2}
    assert directives["closedOnTime"] == {"value": 3, "previous": 1}
    assert directives["closedLate"] == {"value": 1, "previous": 0}
    assert directives["overdueOpen"] == {"value": 1, "previous": 1}
    assert directives["completionRate"] == {"value": 0.6, "previous": 0.5, "change": 20.0}


async def test_dashboard_compares_a_month_with_the_same_month_last_year(
    api: Api, data: Data
) -> None:
    d = await _dashboard(api, await api.login("admin"), "2026-03")
    assert (d["period"], d["previousPeriod"]) == ("2026-03", "2025-03")
    assert d["fieldRecords"]["visits"] == {"value": 3, "previous": 1, "change": 200.0}
    assert [m["month"] for m in d["fieldRecords"]["byMonth"]] == ["2026-03"]
    assert d["fieldRecords"]["patrols"] == {"value": 0, "previous": 0}
    quarter = await _dashboard(api, await api.login("admin"), "2026-Q2")
    assert quarter["previousPeriod"] == "2025-Q2"
    assert quarter["difficultiesSolved"] == {"value": 5, "previous": 1, "change": 400.0}


async def test_secretary_sees_their_subtree_by_default(api: Api, data: Data, world: World) -> None:
    d = await _dashboard(api, await api.login("secretary.meigui"))
    assert d["branch"] == {"name": "玫瑰派出所党支部"}
    assert d["partyBranches"] == 1
    # The 党小组's visit counts for its branch's secretary.
    assert d["fieldRecords"]["visits"] == {"value": 3, "previous": 1, "change": 200.0}
    assert d["difficultiesSolved"] == {"value": 3, "previous": 1, "change": 200.0}
    assert d["members"]["total"] == 3
    assert d["education"]["audience"] == {"value": 50, "previous": 10, "change": 400.0}
    assert d["ledger"]["branches"] == 1
    assert d["ledger"]["rate"]["value"] == 0.9
    assert d["directives"]["due"] == {"value": 2, "previous": 1}
    assert d["directives"]["completionRate"]["value"] == 0.5
    group = await _dashboard(api, await api.login("secretary.meigui"), branch=world.meigui_group)
    assert group["fieldRecords"]["visits"]["value"] == 1


async def test_secretary_asking_for_a_branch_outside_their_subtree_is_forbidden(
    api: Api, data: Data, world: World
) -> None:
    for username in ("secretary.meigui", "officer.meigui"):
        body = await api(
            DASHBOARD,
            {"period": "2026", "branchId": to_global_id("Branch", world.yushan.id)},
            token=await api.login(username),
            expect_errors=True,
        )
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_officer_sees_their_own_branch_only(api: Api, data: Data, world: World) -> None:
    d = await _dashboard(api, await api.login("officer.meigui"))
    assert d["branch"] == {"name": "玫瑰派出所党支部"}
    # Not the 党小组's visit: officers read their own branch's records.
    assert d["fieldRecords"]["visits"]["value"] == 2
    assert d["partyBranches"] == 1


async def test_inspector_reads_any_branch(api: Api, data: Data, world: World) -> None:
    token = await api.login("inspector")
    d = await _dashboard(api, token, branch=world.yushan)
    assert d["branch"] == {"name": "榆山第二派出所党支部"}
    assert d["bannersReceived"] == {"value": 2, "previous": 0, "change": None}
    county = await _dashboard(api, token)
    assert county["fieldRecords"]["visits"]["value"] == 4


async def test_dashboard_refuses_a_malformed_period_or_branch(api: Api, world: World) -> None:
    token = await api.login("admin")
    body = await api(DASHBOARD, {"period": "2026-13"}, token=token, expect_errors=True)
    problems = body["errors"][0]["extensions"]["problems"]
    assert problems[0]["field"] == "period" and problems[0]["code"] == "invalid_period"
    body = await api(
        DASHBOARD,
        {"period": "2026", "branchId": to_global_id("Branch", uuid.uuid4())},
        token=token,
        expect_errors=True,
    )
    assert body["errors"][0]["extensions"]["problems"][0]["code"] == "not_found"
    body = await api(DASHBOARD, {"period": "2026"}, expect_errors=True)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def _assess_and_remind(d: Data, clock: FrozenClock) -> None:
    """The assessment catalog, and reminders: 玫瑰 one overdue and one acknowledged not yet due,
    its 党小组 one open, 榆山 one resolved (not counted); the clock stands at 2026-11-28."""
    async with writing(d.sessionmaker) as db:
        await seed_assessment_items(db, clock())
    w = d.world

    def reminder(branch: Branch, due_on: date, status: ReminderStatus) -> Reminder:
        return Reminder(
            id=str(uuid.uuid4()),
            kind=ReminderKind.LEDGER_OVERDUE,
            dedup_key=str(uuid.uuid4()),
            title="提醒",
            branch_id=branch.id,
            due_on=due_on,
            status=status,
            updated_at=1,
            deleted=False,
            created_at=clock(),
        )

    await d.add(
        reminder(w.meigui, date(2026, 11, 1), ReminderStatus.OPEN),
        reminder(w.meigui, date(2026, 12, 1), ReminderStatus.ACKNOWLEDGED),
        reminder(w.meigui_group, date(2026, 12, 5), ReminderStatus.OPEN),
        reminder(w.yushan, date(2026, 11, 1), ReminderStatus.RESOLVED),
    )


async def test_dashboard_ranks_the_assessed_branches_by_score_with_last_years_rank(
    api: Api, data: Data, clock: FrozenClock
) -> None:
    await _assess_and_remind(data, clock)
    ranking = (await _dashboard(api, await api.login("admin")))["assessmentRanking"]
    assert ranking["rankedCount"] == 2 and ranking["own"] is None
    top = ranking["top"]
    assert [(r["rank"], r["branch"]["name"]) for r in top] == [
        (1, "玫瑰派出所党支部"),
        (2, "榆山第二派出所党支部"),
    ]
    # 玫瑰 keeps its ledger, 榆山 does not: the ranking follows the scores.
    assert top[0]["score"] > top[1]["score"] > 0
    assert [r["previousRank"] for r in top] == [1, 2]
    assert all(r["previousScore"] is not None for r in top)
    assert [r["score"] for r in ranking["rows"]] == [r["score"] for r in top]


async def test_dashboard_ranking_of_a_subtree_keeps_the_county_positions(
    api: Api, data: Data, clock: FrozenClock, world: World
) -> None:
    await _assess_and_remind(data, clock)
    admin = await api.login("admin")
    county = (await _dashboard(api, admin))["assessmentRanking"]["rows"]
    yushan = (await _dashboard(api, admin, branch=world.yushan))["assessmentRanking"]
    assert yushan["rankedCount"] == 2
    assert [(r["rank"], r["branch"]["name"]) for r in yushan["rows"]] == [
        (2, "榆山第二派出所党支部")
    ]
    assert yushan["own"] == county[1]
    # A 党小组's dashboard ranks the branch it belongs to.
    group = await _dashboard(api, admin, branch=world.meigui_group)
    assert group["assessmentRanking"]["rows"] == []
    assert group["assessmentRanking"]["own"] == county[0]
    secretary = await _dashboard(api, await api.login("secretary.meigui"))
    assert secretary["assessmentRanking"]["own"] == county[0]


async def test_dashboard_counts_open_and_overdue_reminders_of_the_subtree(
    api: Api, data: Data, clock: FrozenClock, world: World
) -> None:
    await _assess_and_remind(data, clock)
    county = (await _dashboard(api, await api.login("admin")))["openReminders"]
    assert county == {
        "open": {"value": 3, "previous": None, "change": None},
        "overdue": {"value": 1, "previous": None},
    }
    # The secretary's subtree holds the 党小组; the officer reads their own branch only.
    secretary = (await _dashboard(api, await api.login("secretary.meigui")))["openReminders"]
    assert (secretary["open"]["value"], secretary["overdue"]["value"]) == (3, 1)
    officer = (await _dashboard(api, await api.login("officer.meigui")))["openReminders"]
    assert officer["open"]["value"] == 2
    yushan = await _dashboard(api, await api.login("admin"), branch=world.yushan)
    assert yushan["openReminders"]["open"]["value"] == 0


async def test_dashboard_statement_count_does_not_grow_with_data(
    api: Api, app: Any, data: Data, world: World, make: Builders, clock: FrozenClock
) -> None:
    await _assess_and_remind(data, clock)
    token = await api.login("admin")

    async def warm() -> None:
        # The viewer is cached for a few seconds: load it now, so only the dashboard is counted.
        await api("{ me { account { username } } }", token=token)

    await warm()
    with counting(app) as small:
        await _dashboard(api, token)
    await warm()
    with counting(app) as scoped_small:
        await _dashboard(api, token, branch=world.meigui)

    for i in range(6):
        branch = await make.branch(world.organ, name=f"扩展派出所{i}", sort_order=20 + i)
        await make.branch(branch, BranchKind.GROUP, name=f"扩展党小组{i}")
        member = await make.member(branch, name=f"扩展党员{i}")
        for month in range(1, 13):
            await data.visit(branch, _at(2026, month))
            await data.action(branch, _at(2025, month), 1, 1)
        await data.activity(branch, date(2026, 5, 5), 12)
        assert member is not None

    await warm()
    with counting(app) as large:
        d = await _dashboard(api, token)
    await warm()
    with counting(app) as scoped_large:
        await _dashboard(api, token, branch=world.meigui)
    assert d["partyBranches"] == 8 and d["fieldRecords"]["visits"]["value"] == 4 + 72
    assert d["assessmentRanking"]["rankedCount"] == 8
    # Branches by kind, members, education, visits, patrols, service actions, the ledger's
    # branches, completeness of both periods together (catalog + entries), directives, honours
    # (11); the assessment ranking of both periods together (18: assessed branches, the
    # catalog once, ledger completeness (2), one per metric (10), manual scores, adjustments,
    # the brand checklist for A24's suggestion (2)); the subtree's branches and their open
    # reminders (2).
    assert len(small) == len(large) == 11 + 18 + 2
    # The catalog is read once, not once per period and again for the ranking's columns.
    assert sum("FROM assessment_item" in s for s in large) == 1
    # The same and the subtree's root.
    assert len(scoped_small) == len(scoped_large) == 11 + 18 + 2 + 1


async def test_dashboard_computes_only_the_sections_a_query_selects(
    api: Api, app: Any, data: Data, world: World
) -> None:
    token = await api.login("admin")
    await api("{ me { account { username } } }", token=token)  # the viewer is cached from here

    with counting(app) as statements:
        body = await api('{ dashboard(period: "2026") { period members { total } } }', token=token)
    assert body["data"]["dashboard"]["members"]["total"] > 0
    # The members' one statement: no ranking, ledger, field records or reminders.
    assert len(statements) == 1 and "FROM member" in statements[0]

    with counting(app) as statements:
        body = await api('{ dashboard(period: "2026") { periodLabel } }', token=token)
    assert body["data"]["dashboard"] == {"periodLabel": "2026年"}
    assert statements == []


async def test_dashboard_computes_a_section_that_several_fields_read_once(
    api: Api, app: Any, data: Data, world: World
) -> None:
    token = await api.login("admin")
    await api("{ me { account { username } } }", token=token)
    query = """{ dashboard(period: "2026") {
      partyBranches branchesByKind { count }
      fieldRecords { visits { value } } difficultiesSolved { value } bannersReceived { value }
      honours { value } honoursByLevel { level }
      a: members { total } b: members { active }
    } }"""
    with counting(app) as statements:
        body = await api(query, token=token)
    d = body["data"]["dashboard"]
    assert d["fieldRecords"]["visits"]["value"] == 4 and d["difficultiesSolved"]["value"] == 5
    # Branches by kind (1), visits, patrols and service actions (3), honours (1), members (1).
    assert len(statements) == 6
