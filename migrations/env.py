"""Alembic environment: async engines, the models' metadata, batch mode for SQLite.

Three ways in:
- `alembic ...` from the repository root (alembic.ini), URL from DATABASE_URL;
- `app.migrate.upgrade(url)`, URL in `config.attributes["database_url"]`;
- `app.migrate.upgrade_connection(conn)`, an open connection in
  `config.attributes["connection"]`, so a caller inside an event loop needs no second one.
"""

from __future__ import annotations

import asyncio
from logging.config import fileConfig
from typing import Any, Literal

import sqlalchemy as sa
from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import models
from core.settings import Settings, normalise_database_url
from models.base import UTCDateTime

config = context.config
target_metadata = models.Base.metadata

if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def database_url() -> str:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    return normalise_database_url(url) if url else Settings.from_env().database_url


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Write column types as plain SQLAlchemy types, so a migration never imports app code.

    Enums are stored as short strings without a CHECK (models.base.str_enum): a migration that
    listed their values would go stale the day a value is added.
    """
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, sa.Enum) and not obj.native_enum:
        return f"sa.String(length={obj.length})"
    return False


def configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        # Batch operations recreate tables on SQLite (which cannot ALTER much) and are plain
        # ALTERs elsewhere, so one migration file serves both databases.
        render_as_batch=True,
        compare_type=True,
        render_item=render_item,
        **kwargs,
    )


def run_migrations_offline() -> None:
    configure(url=database_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    # No pool and none of core.db's SQLite pragmas: batch migrations on SQLite recreate tables
    # and must run with foreign keys off, which is SQLite's default per connection.
    engine = create_async_engine(database_url(), poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection: Connection | None = config.attributes.get("connection")
    if connection is not None:
        do_run_migrations(connection)
    else:
        asyncio.run(run_async_migrations())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
