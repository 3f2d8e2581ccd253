"""End to end: `meijing simulate` drives a real uvicorn server with several phones."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.db import Sessionmaker
from models import DeviceSession, Visit
from tests.conftest import TEST_PASSWORD, World
from tests.e2e.test_server import (
    ROOT,
    Server,
    free_port,
    production_env,
    serving,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def server(db_url: str, world: World, tmp_path: Path) -> Iterator[Server]:
    env = production_env(db_url)
    with serving(env, tmp_path / "server.log") as started:
        yield started


def run_simulate(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEIJING_")}
    command = [sys.executable, "-m", "app.cli", "simulate", "--url", url, *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


async def test_simulate_syncs_every_record_of_every_device(
    server: Server, sessionmaker: Sessionmaker
) -> None:
    done = run_simulate(
        server.url,
        *("--devices", "3", "--records", "25", "--chunk", "10"),
        *("--username", "officer.meigui", "--password", TEST_PASSWORD),
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "写入 (written) 75" in done.stdout
    assert "服务器缺失 (missing on server) 0" in done.stdout
    assert "75/75" in done.stderr  # the progress bar reached the end
    async with sessionmaker() as db:
        stored = await db.scalar(select(func.count()).select_from(Visit))
        writers = select(DeviceSession.device_id).join(
            Visit, Visit.updated_device == DeviceSession.id
        )
        device_names = set(await db.scalars(writers.distinct()))
    assert stored == 75
    assert device_names == {"simulate-001", "simulate-002", "simulate-003"}


def test_simulate_with_a_wrong_password_fails_with_a_clear_message(server: Server) -> None:
    done = run_simulate(
        server.url,
        "--devices",
        "1",
        "--records",
        "1",
        "--username",
        "officer.meigui",
        "--password",
        "wrong-password",
    )

    assert done.returncode == 1
    assert "登录失败 (sign-in failed)" in done.stderr


def test_simulate_against_no_server_fails_with_a_clear_message() -> None:
    nobody_listens = f"http://127.0.0.1:{free_port()}"
    done = run_simulate(nobody_listens, "--devices", "1", "--records", "1")

    assert done.returncode == 1
    assert "服务器无法访问 (server unreachable)" in done.stderr
