"""Schema extensions: error codes and masking, and per-operation metrics."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from app.observability import (
    GRAPHQL_ERRORS,
    GRAPHQL_LATENCY,
    GRAPHQL_REQUESTS,
    log,
    operation_label,
)
from resolvers.errors import Forbidden, InputError, Unauthenticated

INTERNAL_MESSAGE = "服务器内部错误,请将请求编号告知管理员 (internal error; quote the request id)"
LIMIT_MARKERS = ("exceeds maximum operation depth", "token limit", "aliases found", "max")


def _request_id(extension: SchemaExtension) -> str:
    context = extension.execution_context.context
    return str(getattr(context, "request_id", "") or "")


def shape_error(error: GraphQLError, request_id: str) -> GraphQLError:
    """Gives every error a stable `extensions.code`; hides internal details behind the request id."""
    original = error.original_error
    extensions: dict[str, Any] = dict(error.extensions or {})
    message = error.message
    if isinstance(original, Unauthenticated):
        extensions["code"] = "UNAUTHENTICATED"
    elif isinstance(original, Forbidden):
        extensions["code"] = "FORBIDDEN"
    elif isinstance(original, InputError):
        extensions["code"] = "BAD_USER_INPUT"
        extensions["problems"] = [
            {"field": p.field, "message": p.message, "code": p.code.value}
            for p in original.problems
        ]
    elif original is not None and not isinstance(original, GraphQLError):
        log.error(
            "internal_error",
            request_id=request_id,
            path=error.path,
            exc_info=(type(original), original, original.__traceback__),
        )
        message = INTERNAL_MESSAGE
        extensions["code"] = "INTERNAL_SERVER_ERROR"
    elif "code" not in extensions:
        lowered = message.lower()
        limit = any(marker in lowered for marker in LIMIT_MARKERS) and "exceed" in lowered
        extensions["code"] = "LIMIT_EXCEEDED" if limit else "GRAPHQL_VALIDATION_FAILED"
    extensions["requestId"] = request_id
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )


class ShapeErrors(SchemaExtension):
    """Like strawberry's MaskErrors, but keeps expected errors readable and coded."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            request_id = _request_id(self)
            result.errors = [shape_error(e, request_id) for e in errors]


class Metrics(SchemaExtension):
    """Counts operations and errors and times them, by operation name."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        ctx = self.execution_context
        name = operation_label(ctx.operation_name)
        try:
            kind = ctx.operation_type.value
        except RuntimeError:
            kind = "invalid"
        GRAPHQL_REQUESTS.labels(name, kind).inc()
        GRAPHQL_LATENCY.labels(name).observe(time.perf_counter() - started)
        for error in getattr(ctx.result, "errors", None) or ():
            code = (error.extensions or {}).get("code", "UNKNOWN")
            GRAPHQL_ERRORS.labels(name, str(code)).inc()
