"""End to end, the way `make run` does it: migrate, seed the demo county with the `meijing`
command, serve with uvicorn, then ask the dashboard as `admin` and download the exports."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from resolvers.period import BUREAU_TZ
from tests.e2e.test_server import (
    ROOT,
    Server,
    graphql,
    server_env,
    serving,
)

pytestmark = pytest.mark.e2e

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SEED_SECONDS = 300


def meijing(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "app.cli", *args]
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=SEED_SECONDS
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture
def demo_env(backend: str, db_url: str, tmp_path: Path) -> dict[str, str]:
    """A development environment (demo accounts are refused in production) on a database
    prepared as `make run` prepares it: migrated from nothing on SQLite; on PostgreSQL the test
    database, whose tables the fixture has just created."""
    if backend == "sqlite":
        db_url = f"sqlite+aiosqlite:///{tmp_path / 'meijing.db'}"
    env = server_env(DATABASE_URL=db_url, MEIJING_STORAGE_DIR=str(tmp_path / "files"))
    if backend == "sqlite":
        meijing(env, "db", "upgrade")
    return env


@pytest.fixture
def demo_server(demo_env: dict[str, str], tmp_path: Path) -> Iterator[Server]:
    seeded = meijing(demo_env, "seed", "--demo", "--if-empty")
    assert "admin" in seeded.stdout
    with serving(demo_env, tmp_path / "server.log") as started:
        yield started


DASHBOARD = """
query($period: String!) {
  dashboard(period: $period) {
    periodLabel
    members { total }
    education { activities { value previous } audience { value } }
    difficultiesSolved { value }
    bannersReceived { value }
    assessmentRanking { rankedCount top { rank branch { name } } }
  }
  branches(kind: BRANCH, first: 50) { totalCount nodes { id name } }
}
"""


async def sign_in(client: httpx.AsyncClient) -> str:
    signed_in = await graphql(
        client,
        """mutation {
             login(username: "admin", password: "meijing-demo", deviceId: "e2e-demo") {
               ... on SignInSuccess { accessToken } ... on AuthError { code message }
             }
           }""",
    )
    token: str = signed_in["login"]["accessToken"]
    return token


async def download(client: httpx.AsyncClient, path: str, token: str, **params: str) -> Any:
    response = await client.get(path, params=params, headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    assert "attachment" in response.headers["content-disposition"]
    return load_workbook(io.BytesIO(response.content))


async def test_after_make_run_the_dashboard_shows_the_articles_figures_and_every_export_downloads(
    demo_server: Server,
) -> None:
    """One seeded server for both checks: seeding through the CLI is the slowest step here.
    The server seeds with today's date, so the periods asked for are counted back from today:
    the last whole quarter and this year."""
    today = datetime.now(BUREAU_TZ).date()
    last_quarter = (today.month - 1) // 3  # 0 in the first quarter: the last of the year before
    year_of_quarter = today.year if last_quarter else today.year - 1
    quarter = f"{year_of_quarter}-Q{last_quarter or 4}"
    quarter_label = f"{year_of_quarter}年第{'一二三四'[(last_quarter or 4) - 1]}季度"
    year = str(today.year)
    async with httpx.AsyncClient(base_url=demo_server.url, timeout=60.0) as client:
        token = await sign_in(client)
        data = await graphql(client, DASHBOARD, token, period="P12M")
        meigui = next(b["id"] for b in data["branches"]["nodes"] if b["name"] == "玫瑰派出所党支部")
        workbook = await download(client, "/export/dashboard.xlsx", token, period="P12M")
        ledger = await download(client, "/export/ledger.xlsx", token, period=quarter, branch=meigui)
        assessment = await download(client, "/export/assessment.xlsx", token, period=year)
        anonymous = await client.get("/export/dashboard.xlsx", params={"period": "2026"})

    # The last twelve months of a demo seeded today hold the article's figures.
    dashboard = data["dashboard"]
    assert "至" in dashboard["periodLabel"]
    assert data["branches"]["totalCount"] == 32
    assert dashboard["members"]["total"] >= 500
    assert dashboard["education"]["activities"]["value"] >= 200
    assert dashboard["education"]["audience"]["value"] >= 7000
    assert dashboard["difficultiesSolved"]["value"] >= 350
    assert dashboard["bannersReceived"]["value"] == 96
    assert dashboard["assessmentRanking"]["rankedCount"] == 32

    assert len(workbook.sheetnames) >= 5
    assert ledger.sheetnames == ["电子台账", "完成情况"]
    assert ledger["电子台账"]["A1"].value == f"玫瑰派出所党支部 {quarter_label} 电子台账"
    assert ledger["电子台账"].max_row > 3  # the demo's entries, under the two header rows
    assert assessment.sheetnames == ["考核排名", "评分说明"]
    assert assessment["考核排名"]["A1"].value.startswith(f"全县 {year}年")
    assert assessment["考核排名"].max_row == 2 + 32  # title, headers, one row per branch
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"].startswith("application/json")
