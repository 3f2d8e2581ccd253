"""Cursor connections (Relay spec) shared by every list."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import strawberry

from resolvers.pagination import Page, PageRequest, page_request
from schema.context import Info

T = TypeVar("T")
R = TypeVar("R")


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    _count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="All items matching the filters, across pages.")
    async def total_count(self) -> int:
        return await self._count()

    @strawberry.field(description="The nodes of this page, without edges.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


def connection_from_page(
    page: Page[R], nodes: list[T], count: Callable[[], Awaitable[int]]
) -> Connection[T]:
    edges = [Edge(cursor=c, node=n) for c, n in zip(page.cursors, nodes, strict=True)]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        ),
        _count=count,
    )


def page_of(info: Info, first: int | None, after: str | None, *, width: int = 2) -> PageRequest:
    """A list field's page from `first`/`after`, within the configured default and maximum size;
    `width` is the number of values in the list's cursor (its sort key)."""
    settings = info.context.settings
    return page_request(
        first,
        after,
        default=settings.default_page_size,
        maximum=settings.max_page_size,
        width=width,
    )
