"""INSERT ... ON CONFLICT DO NOTHING on both backends, for rows two sessions may add at once."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def insert_ignoring_duplicates(db: AsyncSession, table: Any) -> Any:
    """An insert into `table` that does nothing where a unique key already holds the row (on
    PostgreSQL it first waits for a concurrent transaction that holds it to end)."""
    dialect = db.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    raise NotImplementedError(dialect)
