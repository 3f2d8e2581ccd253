"""`GET /export/assessment.xlsx`: the ranking and the explanations, as an inspector prints them."""

from __future__ import annotations

import dataclasses
import io
from typing import Any
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook
from openpyxl.workbook import Workbook

from core.clock import FrozenClock
from core.db import Sessionmaker
from core.settings import Settings
from demo.seed import seed_catalogs
from exports.workbook import XLSX_MEDIA_TYPE
from schema.node import to_global_id
from tests.conftest import Api, World
from tests.schema.test_assessment import ADJUST

RANKING = """
query($period: String!, $branch: ID) {
  assessmentRanking(period: $period, branchId: $branch) {
    rankedCount
    items { code }
    rows { rank branch { name } total scores { code name points score adjustment explanation } }
  }
}"""


@pytest.fixture
def app_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, response_cache_entries=0)


@pytest.fixture
async def seeded(sessionmaker: Sessionmaker, clock: FrozenClock, world: World, api: Api) -> World:
    """The catalogs, and 玫瑰 marked down 5 points for 2026-Q2 so that 榆山 ranks first."""
    await seed_catalogs(sessionmaker, clock)
    body = await api(
        ADJUST,
        {
            "input": {
                "branchId": gid(world.meigui),
                "period": "2026-Q2",
                "delta": -5,
                "reason": "抽查发现问题",
            }
        },
        token=await api.login("inspector"),
    )
    assert body["data"]["adjustScore"]["__typename"] == "ScoreAdjusted"
    return world


def gid(branch: Any) -> str:
    return str(to_global_id("Branch", branch.id))


async def _get(api: Api, token: str | None, **params: str) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await api.client.get("/export/assessment.xlsx", params=params, headers=headers)


async def _book(api: Api, token: str, **params: str) -> Workbook:
    response = await _get(api, token, **params)
    assert response.status_code == 200, response.text
    return load_workbook(io.BytesIO(response.content))


async def _ranking(api: Api, token: str, branch: str | None = None) -> dict[str, Any]:
    body = await api(RANKING, {"period": "2026-Q2", "branch": branch}, token=token)
    return body["data"]["assessmentRanking"]  # type: ignore[no-any-return]


def _body(book: Workbook, sheet: str) -> list[tuple[Any, ...]]:
    return list(book[sheet].iter_rows(min_row=3, values_only=True))


async def test_assessment_export_ranks_the_branches_with_a_column_per_item(
    api: Api, seeded: World
) -> None:
    token = await api.login("inspector")
    response = await _get(api, token, period="2026-Q2")
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX_MEDIA_TYPE
    assert "考核_全县_2026-Q2.xlsx" in unquote(response.headers["content-disposition"])
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["考核排名", "评分说明"]
    sheet = book["考核排名"]
    assert sheet["A1"].value == "全县 2026年第二季度 党建工作考核排名(共2个党组织参评)"
    expected = await _ranking(api, token)
    codes = [i["code"] for i in expected["items"]]
    assert len(codes) == 28
    assert [c.value for c in sheet[2]] == ["名次", "党支部", "总分", *codes]
    assert _body(book, "考核排名") == [
        (row["rank"], row["branch"]["name"], row["total"], *(s["score"] for s in row["scores"]))
        for row in expected["rows"]
    ]
    # The adjustment moved 玫瑰 below 榆山.
    assert [r[:2] for r in _body(book, "考核排名")] == [
        (1, "榆山第二派出所党支部"),
        (2, "玫瑰派出所党支部"),
    ]
    assert sheet["C3"].number_format == sheet["D3"].number_format == "0.0"


async def test_assessment_export_explains_every_item_of_each_branch(
    api: Api, seeded: World
) -> None:
    token = await api.login("admin")
    book = await _book(api, token, period="2026-Q2")
    sheet = book["评分说明"]
    assert [c.value for c in sheet[2]] == [
        "名次",
        "党支部",
        "编号",
        "考核项目",
        "分值",
        "得分",
        "加减分",
        "评分说明",
    ]
    expected = await _ranking(api, token)
    assert _body(book, "评分说明") == [
        (
            row["rank"],
            row["branch"]["name"],
            s["code"],
            s["name"],
            s["points"],
            s["score"],
            s["adjustment"] or None,
            s["explanation"],
        )
        for row in expected["rows"]
        for s in row["scores"]
    ]
    assert len(_body(book, "评分说明")) == 2 * 28


async def test_assessment_export_is_formatted_for_printing(api: Api, seeded: World) -> None:
    book = await _book(api, await api.login("admin"), period="2026-Q2")
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A3"
        assert sheet.print_title_rows == "$1:$2"
        assert sheet.page_setup.orientation == "landscape"
        assert sheet.page_setup.fitToWidth == 1
        assert sheet["A2"].font.b
        assert sheet.column_dimensions["B"].width >= 24


async def test_assessment_export_follows_the_ranking_scope(api: Api, seeded: World) -> None:
    secretary = await api.login("secretary.meigui")
    # The secretary's own branch, with its place among all the branches ranked.
    own = await _book(api, secretary, period="2026-Q2")
    assert [r[:2] for r in _body(own, "考核排名")] == [(2, "玫瑰派出所党支部")]
    assert {r[1] for r in _body(own, "评分说明")} == {"玫瑰派出所党支部"}

    other = await _get(api, secretary, period="2026-Q2", branch=gid(seeded.yushan))
    assert other.status_code == 403
    assert other.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    # A subtree is ranked on its own, as `assessmentRanking(branchId:)` does.
    inspector = await api.login("inspector")
    subtree = await _book(api, inspector, period="2026-Q2", branch=gid(seeded.meigui))
    assert [r[:2] for r in _body(subtree, "考核排名")] == [(1, "玫瑰派出所党支部")]
    assert subtree["考核排名"]["A1"].value.startswith("玫瑰派出所党支部 2026年第二季度")


async def test_assessment_export_refuses_without_token_or_with_bad_parameters(
    api: Api, seeded: World
) -> None:
    missing = await _get(api, None, period="2026-Q2")
    assert missing.status_code == 401
    assert missing.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    token = await api.login("admin")
    for params in ({"period": "2026-Q5"}, {}):
        bad = await _get(api, token, **params)
        assert bad.status_code == 400
        error = bad.json()["errors"][0]["extensions"]
        assert error["code"] == "BAD_USER_INPUT" and error["problems"][0]["field"] == "period"
    assert (await _get(api, token, period="2026-Q5")).json()["errors"][0]["extensions"]["problems"][
        0
    ]["code"] == "invalid_period"
    bad_branch = await _get(api, token, period="2026-Q2", branch="nope")
    assert bad_branch.status_code == 400
    assert bad_branch.json()["errors"][0]["extensions"]["problems"][0]["field"] == "branch"
