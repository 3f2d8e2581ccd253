"""Expected failures as union members, and the helpers that run a write in one transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from access.errors import ErrorCode, InputError
from access.viewer import Viewer
from core.db import writing
from schema.context import Info

ErrorCodeEnum = strawberry.enum(
    ErrorCode, name="ErrorCode", description="Stable machine-readable error codes."
)

T = TypeVar("T")


@strawberry.type(description="One problem with the input, addressed to an input field.")
class FieldError:
    field: str | None = strawberry.field(
        description="Input field (camelCase), null for the whole input."
    )
    message: str = strawberry.field(description="Shown to people, in Chinese with English.")
    code: ErrorCode


@strawberry.type(description="The input broke one or more rules; nothing was written.")
class InvalidInput:
    message: str
    errors: list[FieldError]

    @classmethod
    def from_error(cls, error: InputError) -> InvalidInput:
        return cls(
            message="输入有误,未保存 (invalid input, nothing saved)",
            errors=[
                FieldError(field=p.field, message=p.message, code=p.code) for p in error.problems
            ],
        )


async def write(
    info: Info, operation: Callable[[AsyncSession, Viewer], Awaitable[T]]
) -> T | InvalidInput:
    """Runs `operation` in one transaction; an InputError rolls it back and becomes InvalidInput."""
    ctx = info.context
    viewer = ctx.require_viewer()
    try:
        async with writing(ctx.sessionmaker) as db:
            return await operation(db, viewer)
    except InputError as error:
        return InvalidInput.from_error(error)


async def read(info: Info, operation: Callable[[AsyncSession, Viewer], Awaitable[T]]) -> T:
    """Runs a read in a short session of its own (never shared between concurrent fields)."""
    ctx = info.context
    viewer = ctx.require_viewer()
    async with ctx.sessionmaker() as db:
        return await operation(db, viewer)


__all__ = ["ErrorCodeEnum", "FieldError", "InvalidInput", "read", "write"]
