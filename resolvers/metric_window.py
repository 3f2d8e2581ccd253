"""Windows of days that metrics aggregate over, and the derived table that groups by them.

A metric (resolvers/assessment/metric.py) is asked for several windows at once — a year's
twelve months for the trend, a period and the same period a year earlier for the dashboard —
and answers them all with one statement: the records joined to `WindowTable` and grouped by
the window's index. A record in two overlapping windows counts in both, so each window's
figures are exactly those of a query of that window alone.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Select,
    Subquery,
    and_,
    literal,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import UTCDateTime
from resolvers.period import day_start


@dataclass(frozen=True, slots=True, order=True)
class Window:
    """Bureau calendar days [start, end): `end` is the day after the last day."""

    start: date
    end: date


Answer = list[dict[uuid.UUID, tuple[int, int]]]
"""A metric's answer: one dict per window, in the windows' order: branch id → (done, total)."""


_INSTANT = UTCDateTime()


@functools.lru_cache(maxsize=256)
def _table(
    windows: tuple[Window, ...], extra: tuple[tuple[str, tuple[date, ...]], ...]
) -> Subquery:
    """The derived table of `WindowTable`, built once per set of windows: building a UNION of
    a dozen SELECTs and its column collection costs more than running the statement on
    SQLite, and every metric of a trend asks for the same windows. Expression objects are
    immutable once built, so one may serve any number of statements."""
    rows = [
        select(
            literal(i, Integer).label("w"),
            literal(w.start, Date).label("start_day"),
            literal(w.end, Date).label("end_day"),
            literal(day_start(w.start), _INSTANT).label("start_at"),
            literal(day_start(w.end), _INSTANT).label("end_at"),
            *(literal(days[i], Date).label(name) for name, days in extra),
        )
        for i, w in enumerate(windows)
    ]
    table = (rows[0] if len(rows) == 1 else union_all(*rows)).subquery("windows")
    table.c  # noqa: B018  (builds the column collection now, once)
    return table


class WindowTable:
    """The windows as a small derived table joined to the records, so one statement groups
    figures by window: columns `w` (the window's index), `start_day`, `end_day` (dates),
    `start_at`, `end_at` (the days' first instants, for timestamp columns) and any `extra`
    date columns computed per window.

    A UNION ALL of one-row SELECTs of typed bind parameters, not VALUES: SQLite names no
    columns of a VALUES list, and typed parameters compare with the columns as the plain
    `column >= :day` comparisons do on both SQLite and PostgreSQL.
    """

    def __init__(self, windows: Sequence[Window], **extra: Callable[[Window], date]) -> None:
        if not windows:
            raise ValueError("no windows")
        self.windows = tuple(windows)
        columns = tuple(
            (name, tuple(make(w) for w in self.windows)) for name, make in extra.items()
        )
        self.table = _table(self.windows, columns)
        self.c = self.table.c

    def during(self, column: Any, *, instants: bool) -> ColumnElement[bool]:
        """The join condition: `column` (a timestamp when `instants`, else a date) lies in the
        window; plus the bounds of all windows together, which an index on `column` serves."""
        first = min(w.start for w in self.windows)
        last = max(w.end for w in self.windows)
        if instants:
            return and_(
                column >= self.c.start_at,
                column < self.c.end_at,
                column >= day_start(first),
                column < day_start(last),
            )
        return and_(
            column >= self.c.start_day,
            column < self.c.end_day,
            column >= first,
            column < last,
        )

    def every(self) -> ColumnElement[bool]:
        """Joins every window (for figures that do not depend on the window, such as the
        branch's members)."""
        return true()


async def pairs(db: AsyncSession, query: Select[Any], windows: int) -> Answer:
    """Runs a (branch id, window index, done, total) query into the providers' answer."""
    answer: Answer = [{} for _ in range(windows)]
    for branch_id, w, done, total in await db.execute(query):
        answer[int(w)][branch_id] = (int(done or 0), int(total or 0))
    return answer
