"""`GET /export/dashboard.xlsx`: the dashboard as a printable workbook, behind the bearer token."""

from __future__ import annotations

import dataclasses
import io
from typing import Any
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook

from core.clock import FrozenClock
from core.db import Sessionmaker
from core.settings import Settings
from exports.workbook import XLSX_MEDIA_TYPE
from schema.node import to_global_id
from tests.conftest import Api, Builders, World
from tests.schema.test_dashboard import Data, _assess_and_remind, fill


@pytest.fixture
def app_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, response_cache_entries=0)


@pytest.fixture
async def data(sessionmaker: Sessionmaker, world: World, make: Builders) -> Data:
    return await fill(sessionmaker, world, make)


async def _get(api: Api, token: str | None, **params: str) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await api.client.get("/export/dashboard.xlsx", params=params, headers=headers)


async def test_dashboard_export_is_a_workbook_with_a_sheet_per_section(
    api: Api, data: Data
) -> None:
    response = await _get(api, await api.login("admin"), period="2026")
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX_MEDIA_TYPE
    assert "数据分析_全县_2026.xlsx" in unquote(response.headers["content-disposition"])
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [
        "概览",
        "完成率",
        "组织",
        "党员",
        "教育基地",
        "走访",
        "为民服务",
        "月度",
        "台账",
        "考核排名",
        "上级指令",
        "荣誉",
    ]
    overview = book["概览"]
    assert [c.value for c in overview[1]] == ["指标", "本期", "去年同期", "同比增减(%)"]
    rows = {r[0]: r[1:] for r in overview.iter_rows(min_row=2, values_only=True)}
    assert rows["党支部数"][0] == 2
    assert rows["解决群众困难(起)"] == (5, 1, 400.0)
    assert rows["收到锦旗(面)"] == (3, 0, None)
    assert rows["教育基地接待(人次)"] == (90, 10, 800.0)
    rates = {r[0]: r[1:] for r in book["完成率"].iter_rows(min_row=2, values_only=True)}
    assert rates["指令按期办结率"] == (0.6, 0.5, 20.0)
    assert book["完成率"]["B2"].number_format == "0.0%"
    ledger = list(book["台账"].iter_rows(min_row=2, values_only=True))
    assert ledger[0] == ("玫瑰派出所党支部", 12, 9, 1, 1, 2, 0.9)
    months = list(book["月度"].iter_rows(min_row=2, values_only=True))
    assert len(months) == 12 and months[2][:3] == ("2026年3月", 3, 1)


async def test_dashboard_export_has_the_ranking_and_open_reminders(
    api: Api, data: Data, clock: FrozenClock
) -> None:
    await _assess_and_remind(data, clock)
    token = await api.login("admin")
    query = '{ dashboard(period: "2026") { assessmentRanking { rows { score previousScore } } } }'
    scores = (await api(query, token=token))["data"]["dashboard"]["assessmentRanking"]["rows"]
    book = load_workbook(io.BytesIO((await _get(api, token, period="2026")).content))
    ranking = book["考核排名"]
    assert [c.value for c in ranking[1]] == [
        "名次",
        "党支部",
        "总分",
        "去年同期名次",
        "去年同期总分",
    ]
    assert list(ranking.iter_rows(min_row=2, values_only=True)) == [
        (1, "玫瑰派出所党支部", scores[0]["score"], 1, scores[0]["previousScore"]),
        (2, "榆山第二派出所党支部", scores[1]["score"], 2, scores[1]["previousScore"]),
    ]
    assert ranking["C2"].number_format == "0.0"
    overview = {r[0]: r[1:] for r in book["概览"].iter_rows(min_row=2, values_only=True)}
    assert overview["未办结督导提醒(件)"] == (3, None, None)
    assert overview["其中已逾期(件)"] == (1, None, None)


async def test_dashboard_export_is_formatted_for_printing(api: Api, data: Data) -> None:
    response = await _get(api, await api.login("admin"), period="2026")
    book = load_workbook(io.BytesIO(response.content))
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
        assert sheet["A1"].font.b
        assert sheet.page_setup.orientation == "landscape"
        assert sheet.page_setup.fitToWidth == 1
        setup = sheet.sheet_properties.pageSetUpPr
        assert setup is not None and setup.fitToPage
        assert sheet.print_title_rows == "$1:$1"
        assert sheet.column_dimensions["A"].width >= 12
        assert sheet.oddHeader is not None and "2026年" in (sheet.oddHeader.center.text or "")


async def test_dashboard_export_follows_the_dashboard_scope(
    api: Api, data: Data, world: World
) -> None:
    secretary = await api.login("secretary.meigui")
    own = await _get(api, secretary, period="2026")
    assert own.status_code == 200
    assert "玫瑰派出所党支部" in unquote(own.headers["content-disposition"])
    rows = {
        r[0]: r[1:]
        for r in load_workbook(io.BytesIO(own.content))["概览"].iter_rows(
            min_row=2, values_only=True
        )
    }
    assert rows["解决群众困难(起)"][0] == 3

    other = await _get(
        api, secretary, period="2026", branch=to_global_id("Branch", world.yushan.id)
    )
    assert other.status_code == 403
    assert other.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_dashboard_export_refuses_without_token_or_with_bad_parameters(
    api: Api, world: World
) -> None:
    missing = await _get(api, None, period="2026")
    assert missing.status_code == 401
    assert missing.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    bad_token = await _get(api, "not-a-token", period="2026")
    assert bad_token.status_code == 401

    token = await api.login("admin")
    for params, field in (({"period": "26"}, "period"), ({}, "period")):
        bad = await _get(api, token, **params)
        assert bad.status_code == 400
        error = bad.json()["errors"][0]["extensions"]
        assert error["code"] == "BAD_USER_INPUT" and error["problems"][0]["field"] == field
    bad_branch = await _get(api, token, period="2026", branch="nope")
    assert bad_branch.status_code == 400
    assert bad_branch.json()["errors"][0]["extensions"]["problems"][0]["field"] == "branch"
