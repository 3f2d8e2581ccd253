"""The demo's brand matrix, the education base's recent year and hotline, read back through the API: the
article's figures (32 brands, 200+ activities, 7,000+ visitors) come from real queries."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from core.clock import FrozenClock
from core.db import Sessionmaker
from core.settings import Settings
from demo.brand_care import ACTIVITIES, AUDIENCE, build_brand_care
from demo.county import build_county
from demo.seed import SeedReport
from demo.timeline import timeline
from tests.conftest import Api

FIGURES = """{
  educationTotals(period: "P12M") { total { activities audience } byType { type activities } }
  brandMatrix { completeCount criteria { name } rows { brandName complete metCount honours { total } } }
}"""
CODES = ("B1", "B2", "B3", "B4", "B5", "B6", "B7")
HOTLINE = "{ hotlineRequests(first: 50) { totalCount nodes { statusLabel notes { note } } } }"


async def test_demo_year_reproduces_the_articles_education_and_brand_figures(
    seeded_demo: SeedReport,
    api: Api,
    sessionmaker: Sessionmaker,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    report = seeded_demo
    assert (report.education_activities, report.hotline_requests) == (ACTIVITIES, 6)
    admin = await api.login("admin", settings.demo_password)
    data = (await api(FIGURES, token=admin))["data"]
    total = data["educationTotals"]["total"]
    assert total["activities"] >= 200 and total["audience"] >= 7000  # 200余场次、7000余人次
    assert (total["activities"], total["audience"]) == (ACTIVITIES, AUDIENCE)
    assert len(data["educationTotals"]["byType"]) == 6  # every type of activity happened
    matrix = data["brandMatrix"]
    assert len(matrix["criteria"]) == 7
    assert len(matrix["rows"]) == 32 and all(r["brandName"] for r in matrix["rows"])
    # Most brands meet all of 六有一规范; a few are still in progress.
    assert 26 <= matrix["completeCount"] < 32
    incomplete = [r for r in matrix["rows"] if not r["complete"]]
    assert all(3 <= r["metCount"] < 7 for r in incomplete)
    # Each branch still at it has one criterion in progress; the rest are not started (no row).
    assert report.brand_items == sum(r["metCount"] for r in matrix["rows"]) + len(incomplete)
    assert sum(r["honours"]["total"] for r in matrix["rows"]) == 5

    # The hotline: the demo officer sees his own request, 玫瑰's secretary the branch's two.
    seen = {}
    for username in ("admin", "secretary.meigui", "officer.meigui", "inspector"):
        token = admin if username == "admin" else await api.login(username, settings.demo_password)
        seen[username] = (await api(HOTLINE, token=token))["data"]["hotlineRequests"]["totalCount"]
    assert seen == {"admin": 6, "secretary.meigui": 2, "officer.meigui": 1, "inspector": 0}


def test_demo_brand_and_education_data_are_deterministic() -> None:
    now = datetime(2026, 11, 28, tzinfo=UTC)

    def shape() -> list[tuple[object, ...]]:
        county = build_county(now)
        names = {b["id"]: b["name"] for b in county.branches}
        criteria = {code: uuid.uuid5(uuid.NAMESPACE_URL, code) for code in CODES}
        data = build_brand_care(county, criteria, timeline(now), uuid.UUID(int=615))
        return [
            (names[a["branch_id"]], a["held_on"], a["type"], a["audience_count"], a["title"])
            for a in data.activities
        ] + [(names[i["branch_id"]], i["criterion_id"], i["status"]) for i in data.checklist_items]

    assert shape() == shape()
