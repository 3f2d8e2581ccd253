"""Runs the Alembic migrations from code (`meijing db upgrade`, tests), from any working directory."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import migrations
from app.settings import normalise_database_url

MIGRATIONS_DIR = Path(migrations.__file__).resolve().parent


def alembic_config(database_url: str | None = None, connection: Connection | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations; no alembic.ini is read."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Passed as attributes, not main options: ConfigParser would read "%" in a password as
    # interpolation.
    if database_url is not None:
        config.attributes["database_url"] = normalise_database_url(database_url)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Upgrades the database to `revision`. Opens its own event loop: call it outside one."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    """Downgrades the database to `revision` (by default, no tables at all)."""
    command.downgrade(alembic_config(database_url), revision)


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at, None for a database Alembic never touched."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


async def upgrade_async(database_url: str, revision: str = "head") -> None:
    """`upgrade` for callers already inside an event loop (tests, an app's startup)."""
    await _run_async(database_url, revision, upgrade=True)


async def downgrade_async(database_url: str, revision: str = "base") -> None:
    await _run_async(database_url, revision, upgrade=False)


async def _run_async(database_url: str, revision: str, *, upgrade: bool) -> None:
    engine = create_async_engine(normalise_database_url(database_url), poolclass=pool.NullPool)

    def run(connection: Connection) -> None:
        config = alembic_config(connection=connection)
        if upgrade:
            command.upgrade(config, revision)
        else:
            command.downgrade(config, revision)

    try:
        async with engine.begin() as connection:
            await connection.run_sync(run)
    finally:
        await engine.dispose()
