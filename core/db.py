"""Engine and session factory for the configured database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from prometheus_client import Counter
from sqlalchemy import event, update
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from models import DataVersion

Sessionmaker = async_sessionmaker[AsyncSession]

VERSION_MOVED = "data_version_moved"
"""Session info flag: this transaction's sync stamp moved the data version already (sync/stamp.py)."""


def create_engine(database_url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets foreign keys, WAL and a busy timeout like a server would."""
    if database_url.startswith("sqlite"):
        engine = create_async_engine(database_url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        count_statements(engine)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_pre_ping", True)
    engine = create_async_engine(database_url, **kwargs)
    count_statements(engine)
    return engine


@asynccontextmanager
async def writing(sessionmaker: Sessionmaker) -> AsyncIterator[AsyncSession]:
    """A write transaction that readers must see: it moves the data version just before commit.

    Readers that cached a response at an older version (core/response_cache.py) then know it may
    be stale. The version row is locked only from that last statement to the commit. A sync write
    moved the version already when it took its stamp (sync/stamp.py), so it is not moved twice.
    Bookkeeping that no reader's answer depends on (a device's last-seen time) writes through a
    plain `sessionmaker.begin()` and leaves the version alone; reads use `sessionmaker()`, which
    never commits.
    """
    async with sessionmaker.begin() as db:
        yield db
        if not db.info.pop(VERSION_MOVED, False):
            await db.execute(BUMP_DATA_VERSION)


BUMP_DATA_VERSION = (
    update(DataVersion).where(DataVersion.id == 1).values(version=DataVersion.version + 1)
)


def create_sessionmaker(engine: AsyncEngine) -> Sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


SQL_STATEMENTS = Counter(
    "meijing_sql_statements_total", "SQL statements sent to the database by this process."
)


def count_statements(engine: AsyncEngine) -> None:
    """Feeds `meijing_sql_statements_total`, so statements per request can be watched in prod."""

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _count(*_args: Any) -> None:
        SQL_STATEMENTS.inc()
