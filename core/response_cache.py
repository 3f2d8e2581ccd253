"""Whole-response cache for queries, validated against the data version on every request.

A cached result is served only while the data version it was computed at is still current and it
is younger than `max_age` (for answers that depend on the clock rather than on the data). The
version is read before the query runs and moved by every write transaction (`writing`, core/db.py), so a
result is never filed under a version newer than the data it saw. Entries are per account, so
scope and masking never leak between viewers.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter
from sqlalchemy import select

from core.db import Sessionmaker
from models import DataVersion

CACHE_LOOKUPS = Counter(
    "meijing_response_cache_lookups_total", "Response cache lookups, by outcome.", ["outcome"]
)

CacheKey = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Entry:
    version: int
    stored_at: float
    data: dict[str, Any]


class ResponseCache:
    """A bounded LRU of query results keyed by viewer, document, operation and variables."""

    def __init__(
        self, max_entries: int, max_age: float, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_entries = max_entries
        self.max_age = max_age
        self.now = now
        self._entries: OrderedDict[CacheKey, _Entry] = OrderedDict()

    def get(self, key: CacheKey, version: int) -> dict[str, Any] | None:
        entry = self._entries.get(key)
        if entry is None:
            CACHE_LOOKUPS.labels("miss").inc()
            return None
        if entry.version != version or self.now() - entry.stored_at > self.max_age:
            del self._entries[key]
            CACHE_LOOKUPS.labels("stale").inc()
            return None
        self._entries.move_to_end(key)
        CACHE_LOOKUPS.labels("hit").inc()
        return entry.data

    def put(self, key: CacheKey, version: int, data: dict[str, Any]) -> None:
        self._entries[key] = _Entry(version, self.now(), data)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


_READ_VERSION = select(DataVersion.version).where(DataVersion.id == 1)


async def current_version(sessionmaker: Sessionmaker) -> int:
    """The data version now; 0 when the counter row is missing (an empty database).

    One autocommit statement: no BEGIN/ROLLBACK round trips around it on the hot path.
    """
    engine = sessionmaker.kw["bind"]
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        version = await autocommit.scalar(_READ_VERSION)
    return int(version or 0)
