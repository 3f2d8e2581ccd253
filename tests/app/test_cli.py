"""The `meijing` command against a temporary SQLite file, the way an operator would use it."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from app.cli import cli


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "meijing.db"


@pytest.fixture
def meijing(database: Path) -> CliRunner:
    return CliRunner(env={"DATABASE_URL": f"sqlite:///{database}", "MEIJING_ENV": None})


def run(runner: CliRunner, *args: str, input: str | None = None) -> Result:
    return runner.invoke(cli, list(args), input=input)


def police_number_in(database: Path, unit: str) -> str:
    with closing(sqlite3.connect(database)) as db:
        row = db.execute(
            "SELECT m.police_number FROM member m JOIN branch b ON b.id = m.branch_id"
            " WHERE b.unit_name = ? AND m.personnel_type = 'police' AND m.post = 'member'"
            " ORDER BY m.police_number LIMIT 1",
            (unit,),
        ).fetchone()
    return str(row[0])


def test_upgrade_seed_and_add_accounts(meijing: CliRunner, database: Path) -> None:
    result = run(meijing, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "database upgraded" in result.output

    result = run(meijing, "seed", "--demo")
    assert result.exit_code == 0, result.output
    assert "32 个党支部,520 名党员" in result.output
    assert "secretary.meigui" in result.output

    result = run(meijing, "seed", "--demo", "--if-empty")
    assert result.exit_code == 0, result.output
    assert "nothing seeded" in result.output

    result = run(meijing, "user", "add", "Bad Name!", "--role", "admin", "--password", "short")
    assert result.exit_code == 1
    assert "USERNAME: 用户名须为" in result.output
    assert "--password: 密码至少 8 位" in result.output

    result = run(
        meijing,
        *("user", "add", "secretary.jinshui", "--role", "secretary"),
        *("--branch", "锦水派出所", "--password", "jinshui-secret"),
    )
    assert result.exit_code == 0, result.output
    assert "已创建账号 secretary.jinshui" in result.output

    number = police_number_in(database, "锦水派出所")
    result = run(
        meijing,
        *("user", "add", "officer.jinshui", "--role", "officer"),
        *("--member-police-number", number),
        input="jinshui-secret\njinshui-secret\n",  # prompted twice, not echoed
    )
    assert result.exit_code == 0, result.output
    assert "jinshui-secret" not in result.output

    result = run(
        meijing, "user", "add", "officer.jinshui", "--role", "officer", "--password", "x" * 12
    )
    assert result.exit_code == 1
    assert "username taken" in result.output
    assert "--member-police-number" in result.output  # an officer needs a member


def test_user_add_names_unknown_branch_and_member(meijing: CliRunner) -> None:
    assert run(meijing, "db", "upgrade").exit_code == 0
    result = run(
        meijing,
        "user",
        "add",
        "someone",
        "--role",
        "secretary",
        "--branch",
        "不存在的所",
        "--password",
        "long-enough",
    )
    assert result.exit_code == 1
    assert "--branch: 找不到组织 不存在的所" in result.output
    result = run(
        meijing,
        "user",
        "add",
        "someone",
        "--role",
        "officer",
        "--member-police-number",
        "000000",
        "--password",
        "long-enough",
    )
    assert result.exit_code == 1
    assert "找不到警号为 000000 的党员" in result.output


def test_seed_is_refused_in_production(database: Path) -> None:
    runner = CliRunner(
        env={
            "DATABASE_URL": f"sqlite:///{database}",
            "MEIJING_ENV": "production",
            "MEIJING_SECRET_KEY": "k" * 40,
        }
    )
    result = run(runner, "seed", "--demo")
    assert result.exit_code == 1
    assert "MEIJING_ENV=production" in result.output
    assert not database.exists()  # refused before touching the database


def test_seed_before_upgrade_says_what_to_do(meijing: CliRunner) -> None:
    result = run(meijing, "seed", "--demo")
    assert result.exit_code == 1
    assert "meijing db upgrade" in result.output
    assert "Traceback" not in result.output


def test_serve_runs_the_app_factory_with_uvicorn(
    meijing: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: calls.append((app, kwargs)))
    result = run(meijing, "serve", "--port", "8123", "--workers", "2")
    assert result.exit_code == 0, result.output
    [(app, options)] = calls
    assert app == "app.factory:create_app"
    assert options["factory"] is True
    assert (options["host"], options["port"], options["workers"]) == ("127.0.0.1", 8123, 2)


def test_serve_refuses_production_without_a_secret_key(database: Path) -> None:
    runner = CliRunner(env={"DATABASE_URL": f"sqlite:///{database}", "MEIJING_ENV": "production"})
    result = run(runner, "serve")
    assert result.exit_code == 1
    assert "MEIJING_SECRET_KEY" in result.output


def test_sync_purge_tombstones_reports_what_it_purged(meijing: CliRunner) -> None:
    assert run(meijing, "db", "upgrade").exit_code == 0
    result = run(meijing, "sync", "purge-tombstones", "--days", "30")
    assert result.exit_code == 0, result.output
    assert "visit 0" in result.output
    assert "purged tombstones older than 30 days" in result.output


def test_seed_without_demo_adds_the_catalogs_once(meijing: CliRunner, database: Path) -> None:
    assert run(meijing, "db", "upgrade").exit_code == 0
    result = run(meijing, "seed")
    assert result.exit_code == 0, result.output
    assert "新增台账项目 24 项、品牌创建标准 7 项" in result.output
    with closing(sqlite3.connect(database)) as db:
        db.execute("UPDATE brand_criterion SET name = '有响亮的品牌名称' WHERE code = 'B1'")
        db.commit()
    result = run(meijing, "seed")
    assert "catalogs ready: 0 entries added" in result.output
    with closing(sqlite3.connect(database)) as db:
        names = [
            row[0] for row in db.execute("SELECT name FROM brand_criterion ORDER BY sort_order")
        ]
        assert db.execute("SELECT count(*) FROM ledger_item").fetchone() == (24,)
        branches = db.execute("SELECT count(*) FROM branch").fetchone()[0]
    assert names[0] == "有响亮的品牌名称" and len(names) == 7  # an edit survives a second seed
    assert branches == 0  # no demo county without --demo
