"""A rolling period (an ISO 8601 duration such as P12M) on the API: the window ending today
beside the same window a year earlier, wherever a period is accepted, and a typed error for a
bad one. The data are tests/schema/test_dashboard.py's two stations; the test clock stands at
28 November 2026 (16:00 in Pingyin), so P12M is 29 November 2025 to 28 November 2026."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from core.db import Sessionmaker
from core.settings import Settings
from schema.node import to_global_id
from tests.conftest import Api, Builders, World
from tests.schema.test_dashboard import Data, fill

ROLLING = """
query($period: String!) {
  dashboard(period: $period) {
    period periodLabel previousPeriod
    education { activities { value previous } audience { value previous } }
    fieldRecords { visits { value previous } byMonth { label visits { value previous } } }
    difficultiesSolved { value previous }
    bannersReceived { value previous }
    ledger { expected { value previous } }
  }
  educationTotals(period: $period) { period total { activities audience } }
}"""


@pytest.fixture
def app_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, response_cache_entries=0)


@pytest.fixture
async def data(sessionmaker: Sessionmaker, world: World, make: Builders) -> Data:
    return await fill(sessionmaker, world, make)


async def _rolling(api: Api, period: str) -> dict[str, Any]:
    body = await api(ROLLING, {"period": period}, token=await api.login("admin"))
    return body["data"]  # type: ignore[no-any-return]


async def test_p12m_is_the_twelve_months_ending_today_beside_the_twelve_before(
    api: Api, data: Data
) -> None:
    result = await _rolling(api, "P12M")
    d = result["dashboard"]
    assert (d["period"], d["previousPeriod"]) == ("2025-11-29/2026-11-28", "2024-11-29/2025-11-28")
    assert d["periodLabel"] == "2025年11月29日至2026年11月28日"
    # 2026's four visits (March, May); 2025's one in March lies in the window before.
    assert d["fieldRecords"]["visits"] == {"value": 4, "previous": 1}
    months = d["fieldRecords"]["byMonth"]
    # 29–30 November 2025, eleven whole months, 1–28 November 2026.
    assert [m["label"] for m in months[:2]] == ["2025年11月29日至2025年11月30日", "2025年12月"]
    assert months[-1]["label"] == "2026年11月1日至2026年11月28日" and len(months) == 13
    assert sum(m["visits"]["value"] for m in months) == 4
    assert sum(m["visits"]["previous"] for m in months) == 1
    assert d["education"]["activities"] == {"value": 3, "previous": 1}
    assert d["difficultiesSolved"] == {"value": 5, "previous": 1}
    # One monthly ledger item, due for the months ending in the window (November 2025 to
    # October 2026) in each of the two stations.
    assert d["ledger"]["expected"]["value"] == 2 * 12
    assert result["educationTotals"] == {
        "period": "2025-11-29/2026-11-28",
        "total": {"activities": 3, "audience": 90},
    }


async def test_p6m_counts_only_the_last_six_months(api: Api, data: Data) -> None:
    d = (await _rolling(api, "P6M"))["dashboard"]
    assert d["period"] == "2026-05-29/2026-11-28"
    assert d["fieldRecords"]["visits"] == {"value": 0, "previous": 0}
    # 榆山's June action and the July and August activities.
    assert (d["difficultiesSolved"], d["bannersReceived"]) == (
        {"value": 2, "previous": 0},
        {"value": 2, "previous": 0},
    )
    assert d["education"]["audience"] == {"value": 60, "previous": 0}


@pytest.mark.parametrize(
    ("period", "message"),
    [("PT12H", "时长只能以年、月、周、日计"), ("P0D", "时长须大于零"), ("P1.5M", "P12M")],
)
async def test_a_bad_duration_is_an_invalid_period_error(
    api: Api, world: World, period: str, message: str
) -> None:
    token = await api.login("admin")
    body = await api(ROLLING, {"period": period}, token=token, expect_errors=True)
    [problem] = body["errors"][0]["extensions"]["problems"]
    assert (problem["field"], problem["code"]) == ("period", "invalid_period")
    assert message in problem["message"]


async def test_ledger_and_assessment_queries_take_a_rolling_period(
    api: Api, data: Data, world: World
) -> None:
    token = await api.login("admin")
    body = await api(
        """query($branchId: ID!) {
             ledgerCompleteness(branchId: $branchId, period: "P12M") { periodLabel expected }
             assessmentRanking(period: "P3M") { rows { branch { name } } }
           }""",
        {"branchId": to_global_id("Branch", world.meigui.id)},
        token=token,
    )
    completeness = body["data"]["ledgerCompleteness"]
    assert completeness == {"periodLabel": "2025年11月29日至2026年11月28日", "expected": 12}
    assert body["data"]["assessmentRanking"]["rows"]


async def test_exports_take_a_rolling_period(api: Api, data: Data, world: World) -> None:
    token = await api.login("admin")
    headers = {"Authorization": f"Bearer {token}"}
    for path in ("/export/dashboard.xlsx", "/export/assessment.xlsx"):
        response = await api.client.get(path, params={"period": "P12M"}, headers=headers)
        assert response.status_code == 200, response.text
        assert "2025-11-29_2026-11-28" in response.headers["content-disposition"]
    response = await api.client.get(
        "/export/dashboard.xlsx", params={"period": "PT1H"}, headers=headers
    )
    assert response.status_code == 400
