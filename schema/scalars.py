"""Scalars that refuse, while the variables are coerced, values no resolver can compute with,
and a DateTime that answers in the bureau's time zone."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.schema.types.base_scalars import DateTimeDefinition
from strawberry.types.scalar import ScalarDefinition

# Resolvers turn every date-time into UTC, reading one without an offset as the bureau's time
# (UTC+8): a wall time within a day of year 1 or of the end of year 9999 has no UTC instant
# (datetime raises OverflowError), so it is refused with the other malformed date-times.
_EARLIEST = datetime.min + timedelta(days=1)
_LATEST = datetime.max - timedelta(days=1)


def parse_datetime(value: object) -> object:
    """strawberry's DateTime parsing, and a coercion error for a date-time UTC cannot hold."""
    moment = DateTimeDefinition.parse_value(value)  # type: ignore[misc]
    if isinstance(moment, datetime) and not _EARLIEST <= moment.replace(tzinfo=None) <= _LATEST:
        raise StrawberryInputCoercionError(
            f'Value cannot represent a DateTime: "{value}". 须在 0001-01-02 至 9999-12-30 之间 '
            "(must lie between 0001-01-02 and 9999-12-30)"
        )
    return moment


def in_zone(moment: datetime, zone: ZoneInfo) -> datetime:
    """`moment` as a wall time of `zone`; a naive one is UTC (as the database stores it)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone)


@lru_cache(maxsize=8)
def scalar_overrides(timezone: str) -> dict[object, ScalarDefinition]:
    """The scalars of a schema whose DateTimes are given in `timezone` (an IANA name).

    Stored instants are UTC; people entered them, and read them, in the bureau's time: a visit
    entered as 18:00+08:00 answers 18:00+08:00, the same instant as 10:00Z.
    """
    zone = ZoneInfo(timezone)

    def serialize(value: object) -> object:
        moment = in_zone(value, zone) if isinstance(value, datetime) else value
        return DateTimeDefinition.serialize(moment)  # type: ignore[misc]

    date_time = dataclasses.replace(
        DateTimeDefinition, parse_value=parse_datetime, serialize=serialize
    )
    return {datetime: date_time}
