"""Running the reminder generator: the `meijing reminders run` command and the server's timer."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import uuid
from contextlib import closing
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from typer.testing import CliRunner

from app.cli import cli
from app.factory import create_app
from app.reminders import reminder_interval_seconds
from core.clock import FrozenClock
from core.db import Sessionmaker, writing
from core.settings import Settings
from models import LedgerFrequency, LedgerItem, Reminder
from tests.conftest import World


def add_branch(database: Path) -> None:
    """A 党支部 with no ledger entries at all, straight into the file."""
    branch_id = uuid.uuid4()
    with closing(sqlite3.connect(database)) as db, db:
        db.execute(
            "INSERT INTO branch (id, parent_id, path, depth, kind, name, sort_order, created_at,"
            " updated_at) VALUES (?, NULL, ?, 0, 'branch', '测试派出所党支部', 0, ?, ?)",
            (branch_id.hex, f"/{branch_id.hex}/", "2020-01-01 00:00:00", "2020-01-01 00:00:00"),
        )


def test_reminders_run_prints_counts_and_creates_nothing_the_second_time(tmp_path: Path) -> None:
    database = tmp_path / "meijing.db"
    runner = CliRunner(env={"DATABASE_URL": f"sqlite:///{database}", "MEIJING_ENV": None})
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(cli, ["seed"]).exit_code == 0  # the 24-item ledger catalog
    add_branch(database)

    first = runner.invoke(cli, ["reminders", "run"])
    second = runner.invoke(cli, ["reminders", "run"])

    assert first.exit_code == 0, first.output
    # Whatever today is, a branch without entries has monthly items due soon or overdue.
    assert "新建提醒 0 条" not in first.output
    assert "reminders created" in first.output
    assert "台账" in first.output  # the per-kind lines carry the Chinese labels
    assert second.exit_code == 0, second.output
    assert "新建提醒 0 条,自动办结 0 条 (reminders created 0, resolved 0)" in second.output


def test_reminders_run_explains_a_database_without_tables(tmp_path: Path) -> None:
    runner = CliRunner(env={"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"})

    result = runner.invoke(cli, ["reminders", "run"])

    assert result.exit_code == 1
    assert "meijing db upgrade" in result.output


async def _ledger_item(sessionmaker: Sessionmaker, clock: FrozenClock) -> None:
    async with writing(sessionmaker) as db:
        db.add(
            LedgerItem(
                id=uuid.uuid4(),
                code="L02",
                name="支部委员会会议",
                frequency=LedgerFrequency.MONTHLY,
                required=True,
                sort_order=2,
                active=True,
                created_at=clock(),
                updated_at=clock(),
            )
        )


async def _count(sessionmaker: Sessionmaker) -> int:
    async with sessionmaker() as db:
        return int(await db.scalar(select(func.count()).select_from(Reminder)) or 0)


async def _serve_briefly(settings: Settings, clock: FrozenClock, seconds: float) -> None:
    app: Any = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        await asyncio.sleep(seconds)


async def test_server_generates_reminders_on_its_timer(
    settings: Settings, sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    await _ledger_item(sessionmaker, clock)
    fast = dataclasses.replace(settings, reminder_interval_minutes=0.001)  # every 60 ms

    app: Any = create_app(fast, clock=clock)
    async with app.router.lifespan_context(app):
        for _ in range(200):
            if await _count(sessionmaker):
                break
            await asyncio.sleep(0.02)
        # L02 of 玫瑰 and 榆山: November due soon, January-October overdue.
        assert await _count(sessionmaker) == 22
        # Rounds keep running and keep the count: nothing is created twice.
        await asyncio.sleep(0.2)
    assert await _count(sessionmaker) == 22


async def test_server_timer_is_off_with_zero_interval(
    settings: Settings, sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    await _ledger_item(sessionmaker, clock)

    await _serve_briefly(dataclasses.replace(settings, reminder_interval_minutes=0), clock, 0.2)

    assert await _count(sessionmaker) == 0


def test_reminder_interval_is_read_from_the_environment() -> None:
    settings = Settings.from_env({"MEIJING_REMINDER_INTERVAL_MINUTES": "15"})

    assert reminder_interval_seconds(settings) == 900
    assert (
        reminder_interval_seconds(Settings.from_env({"MEIJING_REMINDER_INTERVAL_MINUTES": "0"}))
        is None
    )
    assert Settings().reminder_interval_minutes == 60
