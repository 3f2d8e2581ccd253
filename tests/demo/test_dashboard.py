"""The demo data reproduces the article's figures through the real `dashboard` query."""

from __future__ import annotations

from sqlalchemy import func, select

from core.clock import FrozenClock
from core.db import Sessionmaker
from core.settings import Settings
from demo.seed import SeedReport
from models import (
    Directive,
    DirectiveLevel,
    DirectiveRecipient,
    EducationActivity,
    LedgerEntry,
    LedgerItem,
    StudyRecord,
)
from tests.conftest import Api

ARTICLE = """
query {
  dashboard(period: "P12M") {
    partyBranches
    members { total }
    education { activities { value previous change } audience { value previous change } }
    difficultiesSolved { value }
    bannersReceived { value }
    ledger { branches rate { value previous change } late { value } missing { value } byBranch { rate } }
    directives { due { value } closedOnTime { value } closedLate { value } overdueOpen { value } completionRate { value } }
    assessmentRanking { rankedCount top { rank score } rows { rank score } }
  }
}"""


async def test_demo_dashboard_reproduces_the_articles_figures(
    seeded_demo: SeedReport,
    sessionmaker: Sessionmaker,
    settings: Settings,
    clock: FrozenClock,
    api: Api,
) -> None:
    token = await api.login("admin", settings.demo_password)
    d = (await api(ARTICLE, token=token))["data"]["dashboard"]
    assert d["partyBranches"] == 32  # 32个党支部
    assert d["members"]["total"] >= 500  # 党员500余名
    education = d["education"]
    assert education["activities"]["value"] >= 200  # 开展活动200余场次
    assert education["audience"]["value"] >= 7000  # 接待7000余人次
    assert education["activities"]["previous"] == 152
    assert education["audience"]["previous"] == 5180
    assert education["audience"]["change"] is not None and education["audience"]["change"] > 0
    assert d["difficultiesSolved"]["value"] >= 350  # 解决群众困难350余起
    assert d["bannersReceived"]["value"] == 96  # 收到锦旗96面

    ledger = d["ledger"]
    assert ledger["branches"] == 32
    # Most branches keep their ledgers, a few have gaps; the year before was kept less well.
    assert 0.85 < ledger["rate"]["value"] < 0.99
    assert ledger["rate"]["previous"] < ledger["rate"]["value"]
    assert ledger["late"]["value"] > 0 and ledger["missing"]["value"] > 0
    rates = [row["rate"] for row in ledger["byBranch"]]
    assert min(rates) < 0.8 and max(rates) > 0.95

    directives = d["directives"]
    assert directives["due"]["value"] > 100
    assert 0 < directives["closedLate"]["value"] < directives["closedOnTime"]["value"]
    assert directives["overdueOpen"]["value"] > 0
    assert 0.6 < directives["completionRate"]["value"] < 1

    ranking = d["assessmentRanking"]
    assert ranking["rankedCount"] == len(ranking["rows"]) >= 32
    assert [r["rank"] for r in ranking["rows"]] == list(range(1, ranking["rankedCount"] + 1))
    scores = [r["score"] for r in ranking["rows"]]
    assert scores == sorted(scores, reverse=True) and scores[0] > scores[-1]
    assert ranking["top"] == ranking["rows"][:5]


FIELD_RECORDS = """
query($branchId: ID) {
  dashboard(period: "P12M", branchId: $branchId) {
    previousPeriod
    fieldRecords {
      visits { value previous change }
      patrols { value previous change }
      nightPatrols { value previous change }
      serviceActions { value previous change }
      byMonth { visits { value previous } serviceActions { value previous } }
    }
    difficultiesSolved { value previous change }
    bannersReceived { value previous change }
  }
}"""


async def test_demo_dashboard_compares_the_last_twelve_months_with_a_quieter_year_before(
    seeded_demo: SeedReport,
    sessionmaker: Sessionmaker,
    settings: Settings,
    clock: FrozenClock,
    api: Api,
) -> None:
    token = await api.login("admin", settings.demo_password)
    d = (await api(FIELD_RECORDS, token=token))["data"]["dashboard"]
    # The seed's clock reads 28 November 2026: P12M is 29 November 2025 to that day.
    assert d["previousPeriod"] == "2024-11-29/2025-11-28"
    field = d["fieldRecords"]
    # The last twelve months are the article's year; the year before had less of everything
    # the article says grew.
    assert field["visits"]["value"] == 1678
    assert field["nightPatrols"]["value"] == 380
    assert d["difficultiesSolved"]["value"] == 356
    assert d["bannersReceived"]["value"] == 96
    for figure in (
        field["visits"],
        field["patrols"],
        field["nightPatrols"],
        field["serviceActions"],
        d["difficultiesSolved"],
        d["bannersReceived"],
    ):
        assert 0 < figure["previous"] < figure["value"]
        assert figure["change"] is not None and figure["change"] > 0
    # Every month of the year before has records to compare with, not only a part of it.
    assert all(m["visits"]["previous"] > 0 for m in field["byMonth"])
    assert all(m["serviceActions"]["previous"] > 0 for m in field["byMonth"])

    # A secretary opening the demo sees their own branch's year before too.
    secretary = await api.login("secretary.meigui", settings.demo_password)
    mine = (await api(FIELD_RECORDS, token=secretary))["data"]["dashboard"]["fieldRecords"]
    for figure in (mine["visits"], mine["patrols"], mine["serviceActions"]):
        assert 0 < figure["previous"] < figure["value"]


async def test_demo_ledger_links_every_first_agenda_study_to_its_entry(
    seeded_demo: SeedReport, sessionmaker: Sessionmaker, settings: Settings, clock: FrozenClock
) -> None:
    async with sessionmaker() as db:
        l06 = await db.scalar(
            select(func.count())
            .select_from(LedgerEntry)
            .join(LedgerItem, LedgerItem.id == LedgerEntry.item_id)
            .where(LedgerItem.code == "L06")
        )
        linked = await db.scalar(
            select(func.count(StudyRecord.ledger_entry_id.distinct())).join(
                LedgerEntry, LedgerEntry.id == StudyRecord.ledger_entry_id
            )
        )
        assert l06 and linked == l06
        # Nothing is recorded after the seed's day.
        latest = await db.scalar(select(func.max(LedgerEntry.created_at)))
        assert latest is not None and latest <= clock()


async def test_demo_directives_reach_all_four_levels(
    seeded_demo: SeedReport, sessionmaker: Sessionmaker, settings: Settings, clock: FrozenClock
) -> None:
    async with sessionmaker() as db:
        levels = dict(
            (
                await db.execute(
                    select(DirectiveRecipient.level, func.count()).group_by(
                        DirectiveRecipient.level
                    )
                )
            ).all()
        )
        directives = await db.scalar(select(func.count()).select_from(Directive))
        assert directives and levels[DirectiveLevel.COUNTY_COMMITTEE] == directives
        assert levels[DirectiveLevel.ORGAN_COMMITTEE] == directives
        assert levels[DirectiveLevel.BRANCH] > directives * 10
        assert levels[DirectiveLevel.MEMBER] > levels[DirectiveLevel.BRANCH]
        assert await db.scalar(select(func.count()).select_from(EducationActivity)) == 216 + 152
