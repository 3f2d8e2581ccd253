"""Plain HTTP endpoints beside /graphql (exports, file downloads): the same bearer tokens and
scope rules, and errors as JSON in the GraphQL error shape, with a code and the request id.

401 when no valid token is sent, 403 when the role or scope does not allow it, 400 with the
field problems for bad input, 404 for what is not there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from access.auth import ViewerCache, authenticate
from access.errors import (
    AuthProblem,
    ErrorCode,
    Forbidden,
    InputError,
    Problem,
    Unauthenticated,
)
from access.viewer import Viewer
from app.graphql_http import request_id_of
from core.clock import Clock
from core.db import Sessionmaker
from core.observability import log
from core.settings import Settings
from schema.extensions import AUTH_CODES


@dataclass(frozen=True, slots=True)
class EndpointDeps:
    """What every endpoint needs; built once by the app factory."""

    settings: Settings
    sessionmaker: Sessionmaker
    clock: Clock
    viewer_cache: ViewerCache


class NotFound(Exception):
    """The thing asked for is not there (404)."""


Handler = Callable[[Request, Viewer], Awaitable[Response]]


def json_error(
    status: int,
    code: str,
    message: str,
    request_id: str,
    problems: list[Problem] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    extensions: dict[str, object] = {"code": code, "requestId": request_id}
    if problems:
        extensions["problems"] = [
            {"field": p.field, "message": p.message, "code": p.code.value} for p in problems
        ]
    return JSONResponse(
        {"errors": [{"message": message, "extensions": extensions}]},
        status_code=status,
        headers=headers,
    )


def www_authenticate(problem: AuthProblem | None) -> str:
    """The challenge of a 401 (RFC 6750): a refused token is named `invalid_token`, so plain
    HTTP clients can tell it from a request that sent none."""
    if problem is None:
        return "Bearer"
    return f'Bearer error="invalid_token", error_description="{problem.value}"'


def guarded(deps: EndpointDeps, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Wraps `handler` with authentication and the mapping of domain errors to HTTP answers."""

    async def endpoint(request: Request) -> Response:
        request_id = request_id_of(request.scope)
        viewer, refused = await authenticate(
            request.headers.get("authorization"),
            deps.settings.secret_key,
            deps.sessionmaker,
            deps.clock,
            deps.viewer_cache,
        )
        try:
            if viewer is None:
                raise Unauthenticated(refused)
            return await handler(request, viewer)
        except Unauthenticated as exc:
            return json_error(
                401,
                AUTH_CODES[exc.problem].value,
                str(exc),
                request_id,
                headers={"www-authenticate": www_authenticate(exc.problem)},
            )
        except Forbidden as exc:
            return json_error(403, "FORBIDDEN", str(exc), request_id)
        except NotFound as exc:
            return json_error(404, "NOT_FOUND", str(exc), request_id)
        except InputError as exc:
            if all(p.code is ErrorCode.NOT_FOUND for p in exc.problems):
                return json_error(404, "NOT_FOUND", str(exc), request_id, exc.problems)
            return json_error(400, "BAD_USER_INPUT", str(exc), request_id, exc.problems)
        except Exception as exc:  # the client sees a code and the request id, never a traceback
            log.error("internal_error", request_id=request_id, exc_info=exc)
            return json_error(
                500, "INTERNAL_SERVER_ERROR", "服务器内部错误 (internal error)", request_id
            )

    return endpoint
