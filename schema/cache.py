"""Serves repeated queries from the response cache (core/response_cache.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
from graphql import ExecutionResult
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from core.response_cache import CacheKey, current_version


class ResponseCacheExtension(SchemaExtension):
    """Queries by a signed-in viewer are answered from the cache while the data is unchanged."""

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        cache = getattr(context, "response_cache", None)
        viewer = getattr(context, "viewer", None)
        if (
            cache is None
            or viewer is None
            or execution.operation_type is not OperationType.QUERY
            # Answered by an earlier extension (FastPull): nothing to look up or keep.
            or execution.result is not None
        ):
            yield
            return
        key: CacheKey = (
            str(viewer.account_id),
            execution.query or "",
            execution.operation_name or "",
            orjson.dumps(execution.variables or {}, option=orjson.OPT_SORT_KEYS).decode(),
        )
        version = await current_version(context.sessionmaker)
        cached = cache.get(key, version)
        if cached is not None:
            execution.result = ExecutionResult(data=cached, errors=None)
            yield
            return
        yield
        result = execution.result
        if isinstance(result, ExecutionResult) and not result.errors and result.data is not None:
            cache.put(key, version, result.data)
