"""INSERT ... ON CONFLICT DO NOTHING on both backends, for rows two sessions may add at once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def insert_ignoring_duplicates(
    db: AsyncSession, table: Any, index_elements: Sequence[str] | None = None
) -> Any:
    """An insert into `table` that does nothing where a unique key (any, or the one on
    `index_elements`) already holds the row (on PostgreSQL it first waits for a concurrent
    transaction that holds it to end)."""
    dialect = db.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=index_elements)
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=index_elements)
    raise NotImplementedError(dialect)
