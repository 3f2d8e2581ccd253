"""Keyset pagination with opaque cursors, shared by every connection."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import orjson

from access.errors import ErrorCode, InputError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PageRequest:
    first: int
    after: list[Any] | None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool


def encode_cursor(values: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(values), default=str)).decode().rstrip("=")


def decode_cursor(cursor: str, width: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = orjson.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError) as exc:
        raise InputError.one("after", "无效的游标 (invalid cursor)", ErrorCode.CURSOR) from exc
    if not isinstance(values, list) or len(values) != width:
        raise InputError.one("after", "无效的游标 (invalid cursor)", ErrorCode.CURSOR)
    return values


def page_request(
    first: int | None, after: str | None, *, default: int, maximum: int, width: int
) -> PageRequest:
    """Checks the page size: a size above the maximum is refused, never silently capped."""
    size = default if first is None else first
    if size < 0 or size > maximum:
        raise InputError.one(
            "first",
            f"每页数量须在 0 到 {maximum} 之间 (first must be between 0 and {maximum})",
            ErrorCode.PAGE_SIZE,
        )
    return PageRequest(size, decode_cursor(after, width) if after else None)


def cursor_values(values: Sequence[Any], *parsers: Callable[[Any], Any]) -> list[Any]:
    """A decoded cursor's values read by `parsers` (`date.fromisoformat`, `uuid.UUID`, ...), one
    each. A value a parser refuses (a forged cursor, or another list's) is a CURSOR error on
    `after`, like a cursor that does not decode."""
    try:
        return [parse(value) for parse, value in zip(parsers, values, strict=True)]
    except (TypeError, ValueError, AttributeError) as exc:
        raise InputError.one("after", "无效的游标 (invalid cursor)", ErrorCode.CURSOR) from exc


def aware_datetime(value: Any) -> datetime:
    """An ISO date-time with its offset, as `encode_cursor` writes the stored aware values."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("a cursor's date-time carries its offset")
    return moment
