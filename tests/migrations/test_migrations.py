"""The migrations build exactly the schema the models describe, and unwind to nothing.

SQLite always; PostgreSQL as in tests/conftest.py, inside a schema of its own that is dropped
afterwards, so the shared database is left as it was found.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, pool, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.migrate import (
    alembic_config,
    downgrade,
    downgrade_connection,
    upgrade,
    upgrade_connection,
)
from models import Base
from tests.conftest import PG_URL, REQUIRE_POSTGRES, ensure_database

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()
NAME_PREFIXES = {"pk": "pk_", "fk": "fk_", "uq": "uq_", "ix": "ix_"}


@pytest.fixture
async def empty_engine(backend: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An engine on a database with no tables at all."""
    if backend == "sqlite":
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
        yield engine
        await engine.dispose()
        return
    assert PG_URL is not None
    schema = f"migration_test_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(PG_URL, poolclass=pool.NullPool)
    try:
        # The worker's database may not exist yet when this is its first PostgreSQL test.
        await ensure_database(PG_URL)
        async with admin.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except (OSError, DBAPIError) as exc:
        await admin.dispose()
        if REQUIRE_POSTGRES:
            pytest.fail(f"REQUIRE_POSTGRES=1 but PostgreSQL is unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {PG_URL}: {exc}")
    engine = create_async_engine(
        PG_URL,
        poolclass=pool.NullPool,
        connect_args={"server_settings": {"search_path": schema}},
    )
    try:
        yield engine
    finally:
        await engine.dispose()
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


def _diffs(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _unnamed_or_misnamed(connection: Connection) -> list[str]:
    """Constraints and indexes whose names do not follow models.base.NAMING_CONVENTION."""
    inspector = inspect(connection)
    bad: list[str] = []
    for table in Base.metadata.tables:
        found = [("pk", inspector.get_pk_constraint(table).get("name"))]
        found += [("fk", fk.get("name")) for fk in inspector.get_foreign_keys(table)]
        found += [("uq", uq.get("name")) for uq in inspector.get_unique_constraints(table)]
        # PostgreSQL also lists each unique constraint's own index; the constraint is checked.
        found += [
            ("ix", ix.get("name"))
            for ix in inspector.get_indexes(table)
            if "duplicates_constraint" not in ix
        ]
        bad += [
            f"{table}: {kind} {name}"
            for kind, name in found
            if not (name or "").startswith(NAME_PREFIXES[kind])
        ]
    return bad


async def test_upgrade_matches_the_models(empty_engine: AsyncEngine) -> None:
    async with empty_engine.begin() as connection:
        await connection.run_sync(upgrade_connection)
    async with empty_engine.connect() as connection:
        assert await connection.run_sync(_revision) == HEAD
        assert await connection.run_sync(_diffs) == []
        assert await connection.run_sync(_unnamed_or_misnamed) == []


async def test_downgrade_to_base_removes_every_table(empty_engine: AsyncEngine) -> None:
    async with empty_engine.begin() as connection:
        await connection.run_sync(upgrade_connection)
    async with empty_engine.begin() as connection:
        await connection.run_sync(downgrade_connection)
    async with empty_engine.connect() as connection:
        assert await connection.run_sync(_tables) <= {"alembic_version"}
        assert await connection.run_sync(_revision) is None
    # And up again: the downgrade left nothing behind that would get in the way.
    async with empty_engine.begin() as connection:
        await connection.run_sync(upgrade_connection)
    async with empty_engine.connect() as connection:
        assert await connection.run_sync(_diffs) == []


def test_upgrade_by_url_works_from_any_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    url = f"sqlite:///{tmp_path / 'by-url.db'}"  # a plain URL, as people paste it
    upgrade(url)
    assert _sqlite_tables(tmp_path / "by-url.db") >= set(Base.metadata.tables) | {"alembic_version"}
    downgrade(url)
    assert _sqlite_tables(tmp_path / "by-url.db") <= {"alembic_version"}


def _sqlite_tables(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as db:
        rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in rows}
