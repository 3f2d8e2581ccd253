"""The demo's youth study groups (青年理论学习小组) and its education base, read back through
the API: the groups that keep ledger item L16 exist with their young members and follow-up
studies, and the 615 m² base is a record its activities belong to."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from core.clock import FrozenClock
from core.db import Sessionmaker
from core.settings import Settings
from demo.brand_care import ACTIVITIES, AUDIENCE
from demo.seed import SeedReport
from models import EducationActivity, LedgerEntry, LedgerItem, StudyGroup
from tests.conftest import Api

GROUPS = """{
  studyGroups(first: 50) {
    totalCount
    nodes { name branch { name } members { name birthday } }
  }
  studyRecords(form: [YOUTH_GROUP], period: "P12M", first: 1) { totalCount nodes { formLabel } }
}"""

BASES = """{
  educationBases { id name areaM2 address description totals(period: "P12M") { activities audience } }
  educationActivities(period: "P12M", first: 3) { nodes { heldOn base { name areaM2 } } }
}"""


async def test_demo_branches_keeping_l16_have_youth_study_groups(
    seeded_demo: SeedReport,
    sessionmaker: Sessionmaker,
    settings: Settings,
    clock: FrozenClock,
    api: Api,
) -> None:
    assert seeded_demo.study_groups == 32
    async with sessionmaker() as db:
        l16_branches = set(
            (
                await db.scalars(
                    select(LedgerEntry.branch_id)
                    .join(LedgerItem, LedgerItem.id == LedgerEntry.item_id)
                    .where(LedgerItem.code == "L16")
                )
            ).all()
        )
        grouped = set((await db.scalars(select(StudyGroup.branch_id))).all())
    assert l16_branches and l16_branches <= grouped

    token = await api.login("admin", settings.demo_password)
    data = (await api(GROUPS, token=token))["data"]
    groups = data["studyGroups"]
    assert groups["totalCount"] == 32
    assert {g["name"] for g in groups["nodes"]} == {"青年民警理论学习小组"}
    assert all(0 < len(g["members"]) <= 10 for g in groups["nodes"])
    # Young officers: born at most 36 years before the seed (the youngest few where none is).
    born = [date.fromisoformat(m["birthday"]) for g in groups["nodes"] for m in g["members"]]
    assert sum(b.year >= 1990 for b in born) > len(born) // 2
    records = data["studyRecords"]
    assert records["totalCount"] > 0
    assert records["nodes"][0]["formLabel"] == "青年理论学习小组跟进学"

    # 玫瑰's secretary sees their own branch's group.
    secretary = await api.login("secretary.meigui", settings.demo_password)
    mine = (await api(GROUPS, token=secretary))["data"]["studyGroups"]
    assert [g["branch"]["name"] for g in mine["nodes"]] == ["玫瑰派出所党支部"]


async def test_demo_education_base_is_a_record_its_activities_belong_to(
    seeded_demo: SeedReport,
    sessionmaker: Sessionmaker,
    settings: Settings,
    clock: FrozenClock,
    api: Api,
) -> None:
    assert seeded_demo.education_bases == 1
    async with sessionmaker() as db:
        homeless = await db.scalar(
            select(func.count())
            .select_from(EducationActivity)
            .where(EducationActivity.base_id.is_(None))
        )
    assert homeless == 0

    for username in ("admin", "officer.meigui"):
        token = await api.login(username, settings.demo_password)
        data = (await api(BASES, token=token))["data"]
        [base] = data["educationBases"]
        assert (base["name"], base["areaM2"]) == ("平阴县公安局党建文化阵地", 615)
        assert base["address"] and "615" in base["description"]
        for activity in data["educationActivities"]["nodes"]:
            assert activity["base"] == {"name": base["name"], "areaM2": 615}
    admin = await api.login("admin", settings.demo_password)
    data = (await api(BASES, token=admin))["data"]
    # The base's last twelve months: the article's 200余场次、7000余人次.
    assert data["educationBases"][0]["totals"] == {"activities": ACTIVITIES, "audience": AUDIENCE}
    node = await api(
        "query($id: ID!) { node(id: $id) { ... on EducationBase { name } } educationBase(id: $id) { areaM2 } }",
        {"id": data["educationBases"][0]["id"]},
        token=admin,
    )
    assert node["data"] == {
        "node": {"name": "平阴县公安局党建文化阵地"},
        "educationBase": {"areaM2": 615},
    }
