"""End to end, the way `make run` does it: migrate, seed the demo county with the `meijing`
command, serve with uvicorn, then ask the dashboard as `admin` and download the exports."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

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


async def test_after_make_run_the_admin_dashboard_shows_the_articles_figures(
    demo_server: Server,
) -> None:
    async with httpx.AsyncClient(base_url=demo_server.url, timeout=60.0) as client:
        token = await sign_in(client)
        data = await graphql(client, DASHBOARD, token, period="2026")

    dashboard = data["dashboard"]
    assert dashboard["periodLabel"] == "2026年"
    assert data["branches"]["totalCount"] == 32
    assert dashboard["members"]["total"] >= 500
    assert dashboard["education"]["activities"]["value"] >= 200
    assert dashboard["education"]["audience"]["value"] >= 7000
    assert dashboard["difficultiesSolved"]["value"] >= 350
    assert dashboard["bannersReceived"]["value"] == 96
    assert dashboard["assessmentRanking"]["rankedCount"] == 32


async def test_after_make_run_every_export_downloads_as_a_valid_workbook(
    demo_server: Server,
) -> None:
    async with httpx.AsyncClient(base_url=demo_server.url, timeout=60.0) as client:
        token = await sign_in(client)
        branches = (await graphql(client, DASHBOARD, token, period="2026"))["branches"]
        meigui = next(b["id"] for b in branches["nodes"] if b["name"] == "玫瑰派出所党支部")
        dashboard = await download(client, "/export/dashboard.xlsx", token, period="2026")
        ledger = await download(
            client, "/export/ledger.xlsx", token, period="2026-Q2", branch=meigui
        )
        assessment = await download(client, "/export/assessment.xlsx", token, period="2026")
        anonymous = await client.get("/export/dashboard.xlsx", params={"period": "2026"})

    assert len(dashboard.sheetnames) >= 5
    assert ledger.sheetnames == ["电子台账", "完成情况"]
    assert ledger["电子台账"]["A1"].value == "玫瑰派出所党支部 2026年第二季度 电子台账"
    assert ledger["电子台账"].max_row > 3  # the demo's entries, under the two header rows
    assert assessment.sheetnames == ["考核排名", "评分说明"]
    assert assessment["考核排名"]["A1"].value.startswith("全县 2026年")
    assert assessment["考核排名"].max_row == 2 + 32  # title, headers, one row per branch
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"].startswith("application/json")
