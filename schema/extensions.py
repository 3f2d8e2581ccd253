"""Schema extensions: error codes and masking, and per-operation metrics."""

from __future__ import annotations

import enum
import time
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from access.errors import AuthProblem, Forbidden, InputError, Unauthenticated
from core.observability import (
    GRAPHQL_ERRORS,
    GRAPHQL_LATENCY,
    GRAPHQL_REQUESTS,
    OperationLabels,
    log,
)
from sync.pull import ResyncRequired

INTERNAL_MESSAGE = "服务器内部错误,请将请求编号告知管理员 (internal error; quote the request id)"
REQUEST_ID_KEY = "requestId"


class GraphQLErrorCode(enum.StrEnum):
    """`extensions.code` of every GraphQL error. Clients switch on these: never rename one."""

    # No token was sent: sign in.
    UNAUTHENTICATED = "UNAUTHENTICATED"
    # The access token is past its lifetime: renew it with refreshToken.
    TOKEN_EXPIRED = "TOKEN_EXPIRED"
    # Not a bearer token this server signed: sign in again.
    TOKEN_INVALID = "TOKEN_INVALID"
    # The token's session has ended (signed out, expired, account disabled): sign in again.
    SESSION_REVOKED = "SESSION_REVOKED"
    FORBIDDEN = "FORBIDDEN"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    OPERATION_RESOLUTION_FAILURE = "OPERATION_RESOLUTION_FAILURE"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    # Sync: the device must drop its local copy of the collection and pull from the start.
    RESYNC_REQUIRED = "RESYNC_REQUIRED"
    # Refusals at the HTTP level, before any GraphQL is parsed.
    BAD_REQUEST = "BAD_REQUEST"
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    NOT_ACCEPTABLE = "NOT_ACCEPTABLE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"


AUTH_CODES: dict[AuthProblem | None, GraphQLErrorCode] = {
    None: GraphQLErrorCode.UNAUTHENTICATED,
    AuthProblem.MALFORMED: GraphQLErrorCode.TOKEN_INVALID,
    AuthProblem.INVALID: GraphQLErrorCode.TOKEN_INVALID,
    AuthProblem.EXPIRED: GraphQLErrorCode.TOKEN_EXPIRED,
    AuthProblem.REVOKED: GraphQLErrorCode.SESSION_REVOKED,
}


def _is_internal(error: GraphQLError) -> bool:
    """An unexpected exception, as opposed to a refusal the client can act on.

    During execution (the error has a path) only the domain exceptions, handled before this, and
    deliberately coded GraphQLErrors are expected. Before execution, an error located in the
    document (say a scalar refusing a literal or a variable) is the client's; an exception with
    neither path nor location came from our own code.
    """
    original = error.original_error
    unexpected = original is not None and not isinstance(original, GraphQLError)
    if error.path is not None:
        return unexpected or "code" not in (error.extensions or {})
    return unexpected and not error.nodes


def shape_error(error: GraphQLError, request_id: str) -> GraphQLError:
    """A copy of `error` with a stable `extensions.code` and the request id; internals masked.

    Always a copy: validation errors are cached and shared between requests.
    """
    original = error.original_error
    extensions: dict[str, Any] = dict(error.extensions or {})
    message = error.message
    if isinstance(original, Unauthenticated):
        extensions["code"] = AUTH_CODES[original.problem].value
    elif isinstance(original, Forbidden):
        extensions["code"] = GraphQLErrorCode.FORBIDDEN.value
    elif isinstance(original, ResyncRequired):
        extensions["code"] = GraphQLErrorCode.RESYNC_REQUIRED.value
        extensions["reason"] = original.reason
    elif isinstance(original, InputError):
        extensions["code"] = GraphQLErrorCode.BAD_USER_INPUT.value
        extensions["problems"] = [
            {"field": p.field, "message": p.message, "code": p.code.value}
            for p in original.problems
        ]
    elif _is_internal(error):
        cause = original or error
        log.error(
            "internal_error",
            request_id=request_id,
            path=error.path,
            error=error.message,
            exc_info=(type(cause), cause, cause.__traceback__),
        )
        message = INTERNAL_MESSAGE
        extensions = {"code": GraphQLErrorCode.INTERNAL_SERVER_ERROR.value}
    elif "code" not in extensions:
        extensions["code"] = GraphQLErrorCode.GRAPHQL_VALIDATION_FAILED.value
    extensions[REQUEST_ID_KEY] = request_id
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )


def is_shaped(error: GraphQLError) -> bool:
    return REQUEST_ID_KEY in (error.extensions or {})


def error_code(error: GraphQLError) -> str:
    return str((error.extensions or {}).get("code", "UNKNOWN"))


class ShapeErrors(SchemaExtension):
    """Like strawberry's MaskErrors, but keeps expected errors readable and coded."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            request_id = str(getattr(self.execution_context.context, "request_id", "") or "")
            result.errors = [shape_error(e, request_id) for e in result.errors]

    def on_stream_result(self, result: Any) -> Iterator[None]:
        # A subscription's results are sent one by one, long before its operation ends: each is
        # shaped as it goes, or a refused stream (say, a bad token) reaches the phone uncoded.
        errors = getattr(result, "errors", None)
        if errors:
            request_id = str(getattr(self.execution_context.context, "request_id", "") or "")
            result.errors = [e if is_shaped(e) else shape_error(e, request_id) for e in errors]
        yield


ERROR_CODES = frozenset(code.value for code in GraphQLErrorCode)


class Metrics(SchemaExtension):
    """Counts operations and errors and times them, by operation name (`labels` says which
    names count as themselves)."""

    def __init__(self, labels: OperationLabels) -> None:
        self.labels = labels

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        ctx = self.execution_context
        name = self.labels(ctx.operation_name)
        try:
            kind = ctx.operation_type.value
        except RuntimeError:  # the document did not parse
            kind = "invalid"
        GRAPHQL_REQUESTS.labels(name, kind).inc()
        GRAPHQL_LATENCY.labels(name).observe(time.perf_counter() - started)
        for error in (ctx.result.errors if ctx.result else None) or ():
            code = error_code(error)
            GRAPHQL_ERRORS.labels(name, code if code in ERROR_CODES else "other").inc()
