"""Scalars that refuse, while the variables are coerced, values no resolver can compute with."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

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


DATETIME: ScalarDefinition = dataclasses.replace(DateTimeDefinition, parse_value=parse_datetime)
SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {datetime: DATETIME}
