"""GET /export/ledger.xlsx: the workbook a branch prints for an inspection, and its refusals."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import update

from core.clock import FrozenClock
from core.db import Sessionmaker, writing
from core.settings import Settings
from demo.seed import seed_catalogs
from exports.workbook import Column, add_table
from models import DeviceSession
from schema.node import to_global_id
from tests.conftest import Api, World
from tests.schema.test_ledger import UPLOAD, create, gid
from tests.schema.test_statement_count import counting

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def app_settings(settings: Settings, tmp_path: Path) -> Settings:
    return dataclasses.replace(settings, storage_dir=str(tmp_path / "files"))


@pytest.fixture
async def catalog(sessionmaker: Sessionmaker, clock: FrozenClock) -> None:
    await seed_catalogs(sessionmaker, clock)


async def download(api: Api, token: str | None, **params: str) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await api.client.get("/export/ledger.xlsx", params=params, headers=headers)


async def test_ledger_export_lists_entries_and_completeness_with_chinese_headers(
    api: Api, world: World, catalog: None
) -> None:
    token = await api.login("secretary.meigui")
    entry = (await create(api, token, world, occurredOn="2026-05-12", content="研究发展党员"))[
        "entry"
    ]
    await api(
        UPLOAD,
        {"input": {"entryId": entry["id"], "fileName": "纪要.pdf", "contentBase64": "JVBERg=="}},
        token=token,
    )
    await create(api, token, world, occurredOn="2026-04-02", itemCode="L01", attendeeIds=[])
    await create(api, token, world, occurredOn="2026-07-02")  # outside the quarter

    response = await download(api, token, branch=gid("Branch", world.meigui), period="2026-Q2")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["电子台账", "完成情况"]

    sheet = book["电子台账"]
    assert sheet["A1"].value == "玫瑰派出所党支部 2026年第二季度 电子台账"
    assert [c.value for c in sheet[2]] == [
        "序号",
        "台账项目",
        "日期",
        "标题",
        "内容",
        "参会人员",
        "附件",
    ]
    assert sheet["A2"].font.bold
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
    assert rows == [
        [1, "L01 支部党员大会", "2026-04-02", "11月支委会", "研究发展党员工作", None, None],
        [2, "L02 支部委员会会议", "2026-05-12", "11月支委会", "研究发展党员", "张党员、王书记", "纪要.pdf"],
    ]  # fmt: skip
    assert sheet.freeze_panes == "A3"
    assert sheet.print_title_rows == "$1:$2"
    assert sheet.page_setup.orientation == "landscape"
    assert str(sheet.page_setup.paperSize) == sheet.PAPERSIZE_A4
    assert sheet.page_setup.fitToWidth == 1
    setup = sheet.sheet_properties.pageSetUpPr
    assert setup is not None and setup.fitToPage
    assert sheet.column_dimensions["E"].width == 60

    status = book["完成情况"]
    header = [c.value for c in status[2]]
    assert header[:5] == ["序号", "台账项目", "频次", "应记", "已记"]
    by_item = {row[1]: row for row in status.iter_rows(min_row=3, values_only=True)}
    assert by_item["L02 支部委员会会议"][3:6] == (3, 1, "2026年4月、2026年6月")
    assert by_item["L01 支部党员大会"][3:5] == (1, 1)


async def test_ledger_export_statement_count_does_not_grow_with_entries(
    api: Api, app: Any, world: World, catalog: None
) -> None:
    token = await api.login("secretary.meigui")
    params = {"branch": gid("Branch", world.meigui), "period": "2026"}

    async def export_statements() -> int:
        await download(api, token, **params)  # the viewer is cached from here on
        with counting(app) as seen:
            response = await download(api, token, **params)
        assert response.status_code == 200
        return len(seen)

    await create(api, token, world, occurredOn="2026-05-12")
    small = await export_statements()
    for month in range(1, 12):
        entry = (await create(api, token, world, occurredOn=f"2026-{month:02d}-03"))["entry"]
        await api(
            UPLOAD,
            {
                "input": {
                    "entryId": entry["id"],
                    "fileName": f"{month}.pdf",
                    "contentBase64": "JVBERg==",
                }
            },
            token=token,
        )
    large = await export_statements()
    # The branch; entries, attendees and attachments; the catalog and the entry counts.
    assert small == large == 6


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"period": "2026-Q2"}, 400, "BAD_USER_INPUT"),
        ({"branch": "meigui", "period": "2026-Q2"}, 400, "BAD_USER_INPUT"),
        ({"branch": "@meigui", "period": "2026-Q9"}, 400, "BAD_USER_INPUT"),
        ({"branch": "@yushan", "period": "2026-Q2"}, 403, "FORBIDDEN"),
    ],
)
async def test_ledger_export_refuses_bad_parameters_and_other_branches(
    api: Api, world: World, catalog: None, params: dict[str, str], status: int, code: str
) -> None:
    branches = {"@meigui": world.meigui, "@yushan": world.yushan}
    if params.get("branch") in branches:
        params = {**params, "branch": str(to_global_id("Branch", branches[params["branch"]].id))}
    token = await api.login("officer.meigui")
    response = await download(api, token, **params)
    assert response.status_code == status
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == code
    assert error["extensions"]["requestId"]


async def test_ledger_export_needs_a_valid_token(api: Api, world: World) -> None:
    response = await download(api, None, branch="x", period="2026")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    response = await download(api, "not-a-token", branch="x", period="2026")
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "TOKEN_INVALID"


# Fixed, not uuid4(): pytest-xdist needs every worker to collect the same test ids.
NO_SUCH_FILE = UUID("3f0c9b1e-7d1a-4c55-9a2e-5b8f6d2c4e10")


@pytest.mark.parametrize(
    "path", ["/export/ledger.xlsx?period=2026", f"/files/ledger/{NO_SUCH_FILE}"]
)
async def test_exports_and_downloads_tell_an_expired_token_from_a_refused_one(
    api: Api, world: World, clock: FrozenClock, sessionmaker: Sessionmaker, path: str
) -> None:
    async def refusal(token: str | None) -> tuple[int, str, str]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await api.client.get(path, headers=headers)
        code = response.json()["errors"][0]["extensions"]["code"]
        return response.status_code, code, response.headers["www-authenticate"]

    expired = await api.login("officer.meigui", device="old-phone")
    clock.advance(minutes=Settings().access_token_minutes)
    revoked = await api.login("officer.meigui", device="lost-phone")
    async with writing(sessionmaker) as db:
        await db.execute(update(DeviceSession).values(revoked_at=clock()))

    challenge = 'Bearer error="invalid_token", error_description='
    assert await refusal(None) == (401, "UNAUTHENTICATED", "Bearer")
    assert await refusal(expired) == (401, "TOKEN_EXPIRED", f'{challenge}"expired"')
    assert await refusal("not-a-token") == (401, "TOKEN_INVALID", f'{challenge}"invalid"')
    assert await refusal(revoked) == (401, "SESSION_REVOKED", f'{challenge}"revoked"')


def test_add_table_formats_any_export_for_print() -> None:
    book = Workbook()
    sheet = add_table(
        book, "考核", "2026年 考核", [Column("序号", 6), Column("支部", 20)], [(1, "玫瑰")],
        first_sheet=True,
    )  # fmt: skip
    assert book.sheetnames == ["考核"]
    assert sheet["A3"].border.left.style == "thin"
    assert [r.coord for r in sheet.merged_cells.ranges] == ["A1:B1"]
