"""Engine and session factory for the configured database."""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter
from sqlalchemy import event, update
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session

from models import DataVersion

Sessionmaker = async_sessionmaker[AsyncSession]

VERSION_BUMPED = "data_version_bumped"
"""Session info flag: this transaction already moved the data version (a sync stamp does, under
the same row lock, sync/stamp.py; bookkeeping writes set it so that readers' caches stay valid)."""


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


class WriteSession(Session):
    """Every commit also moves the data version forward, in the same transaction.

    By convention writes go through `sessionmaker.begin()` and reads through `sessionmaker()`,
    which never commits; so each committed write, and only a write, bumps the version.
    Readers that cached a response at an older version then know it may be stale.
    """


@event.listens_for(WriteSession, "before_commit")
def _bump_data_version(session: Session) -> None:
    # A sync write took its stamp by moving the version already, under the same row lock.
    if not session.info.pop(VERSION_BUMPED, False):
        session.execute(BUMP_DATA_VERSION)


@event.listens_for(WriteSession, "after_rollback")
def _forget_bump(session: Session) -> None:
    session.info.pop(VERSION_BUMPED, None)


BUMP_DATA_VERSION = (
    update(DataVersion).where(DataVersion.id == 1).values(version=DataVersion.version + 1)
)


def create_sessionmaker(engine: AsyncEngine) -> Sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=WriteSession)


SQL_STATEMENTS = Counter(
    "meijing_sql_statements_total", "SQL statements sent to the database by this process."
)


def count_statements(engine: AsyncEngine) -> None:
    """Feeds `meijing_sql_statements_total`, so statements per request can be watched in prod."""

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _count(*_args: Any) -> None:
        SQL_STATEMENTS.inc()
