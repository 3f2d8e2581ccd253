"""GraphQL over HTTP: strawberry's ASGI view, made to follow the GraphQL-over-HTTP spec.

https://graphql.github.io/graphql-over-http/draft/ — where strawberry 0.341 differs, this view:
- answers in the media type the `Accept` header asks for (`application/graphql-response+json`
  or `application/json`; none given means the former), and 406 when neither is acceptable;
- with `application/graphql-response+json`, answers a request error (the document does not
  parse or validate, the variables do not coerce, the operation is unknown) with 400, and an
  unexpected failure before execution with 500; with `application/json` every well-formed
  request gets 200, as the spec asks for legacy clients;
- leaves `data` out of a request error's response, as the GraphQL spec requires;
- answers a mutation sent with GET with 405 and `Allow: POST`, not 400;
- answers a POST that is not `application/json` with 415, a body that is not a JSON object with
  400 (strawberry failed with 500), treats an empty `operationName` as none and refuses one that
  is not a string;
- answers every refusal and unexpected failure with a GraphQL-shaped JSON body carrying
  `extensions.code` and the request id, never with plain text or a traceback;
- sends every WebSocket message as a text frame (strawberry sends bytes as binary frames).
- refuses a body larger than `max_body_bytes` with 413, by its Content-Length before reading
  any of it, or while reading it, before it is held whole.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.base import BaseSchema
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

from access.auth import ViewerCache, identify
from core.clock import Clock
from core.db import Sessionmaker
from core.observability import log
from core.response_cache import ResponseCache
from core.settings import Settings
from schema.context import Context, Loaders
from schema.extensions import (
    INTERNAL_MESSAGE,
    REQUEST_ID_KEY,
    GraphQLErrorCode,
    error_code,
    is_shaped,
    shape_error,
)
from sync.feed import Feed
from sync.fleet import DeviceTracker
from sync.stream import ChangeCache
from sync.stream_guard import Close, StreamEnd, StreamGuard

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
# How well each acceptable media range matches; wildcards get the legacy type.
_SPECIFICITY = {GRAPHQL_RESPONSE_JSON: 3, JSON: 2, "application/*": 1, "*/*": 1}
_HTTP_CODES = {
    400: GraphQLErrorCode.BAD_REQUEST,
    404: GraphQLErrorCode.NOT_FOUND,
    405: GraphQLErrorCode.METHOD_NOT_ALLOWED,
    406: GraphQLErrorCode.NOT_ACCEPTABLE,
    415: GraphQLErrorCode.UNSUPPORTED_MEDIA_TYPE,
}


class BodyTooLarge(Exception):
    """The request body passed the limit while it was being read."""


def limit_body(receive: Receive, limit: int) -> Receive:
    """`receive`, raising BodyTooLarge as soon as the body read so far passes `limit` bytes."""
    received = 0

    async def receive_within_limit() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge
        return message

    return receive_within_limit


def declared_too_large(request: Request, limit: int) -> bool:
    """The client announced a body larger than `limit` (a malformed length is left to the
    server, which refuses it; reading then counts the bytes anyway)."""
    length = request.headers.get("content-length", "")
    return length.isdigit() and int(length) > limit


def negotiate(accept: str | None) -> str | None:
    """The response media type for an `Accept` header; None when nothing we serve is acceptable.

    Highest quality wins; on a tie the more specific range. No header means
    `application/graphql-response+json` (the spec's default since 2025-01-01).
    """
    if accept is None or not accept.strip():
        return GRAPHQL_RESPONSE_JSON
    best: tuple[float, int] = (0.0, 0)
    chosen: str | None = None
    for item in accept.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        specificity = _SPECIFICITY.get(media.lower())
        if specificity is None:
            continue
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0 and (quality, specificity) > best:
            best = (quality, specificity)
            chosen = GRAPHQL_RESPONSE_JSON if specificity == 3 else JSON
    return chosen


def _refuse_constant(name: str) -> object:
    # NaN and Infinity are not JSON; the stdlib would read them, orjson (the usual path) does not.
    raise json.JSONDecodeError(f"{name} is not JSON", name, 0)


def request_id_of(scope: Scope) -> str:
    state = scope.get("state") or {}
    return str(state.get("request_id", ""))


class TextFrameWebSocket(ASGIWebSocketAdapter):
    """Sends each graphql-transport-ws message as a text frame, as the protocol requires.

    Our JSON encoder returns bytes (fast for HTTP bodies), which strawberry would send as
    binary frames; graphql-ws, the client RxDB uses, closes the socket on them (4004 "Message
    is missing the 'type' property"), so no phone would receive a live change.
    """

    async def send_json(self, message: Mapping[str, object]) -> None:
        if self.ws.application_state is WebSocketState.DISCONNECTED:
            # We closed it (a stream whose sign-in ended): what strawberry still sends, such as
            # the operation's `complete`, has nowhere to go.
            return
        encoded = self.view.encode_json(message)
        text = encoded.decode() if isinstance(encoded, bytes) else encoded
        try:
            await self.ws.send_text(text)
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


def _closer(websocket: WebSocket) -> Close:
    """Closes the socket with a stream's end; once, however many of its streams end."""

    async def close(end: StreamEnd) -> None:
        if websocket.application_state is WebSocketState.CONNECTED:
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):  # the client left first
                await websocket.close(end.code, end.reason)

    return close


class MeijingGraphQL(GraphQL[Context, None]):
    """The /graphql endpoint: Meijing's per-request context, spec-conforming HTTP."""

    websocket_adapter_class = TextFrameWebSocket

    def __init__(
        self,
        schema: BaseSchema,
        settings: Settings,
        sessionmaker: Sessionmaker,
        clock: Clock,
        viewer_cache: ViewerCache,
        feed: Feed | None = None,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide=None if settings.production else "graphiql",
            allow_queries_via_get=True,
        )
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.viewer_cache = viewer_cache
        self.response_cache: ResponseCache | None = None
        # Shared by every request and subscription of this process; the app starts and stops it.
        self.feed: Feed = feed if feed is not None else Feed()
        self.change_cache = ChangeCache()
        self.device_tracker = DeviceTracker()
        # Streams end within seconds of a revocation anywhere: the same bound as the viewer cache.
        self.stream_guard = StreamGuard(
            sessionmaker, clock, recheck_seconds=settings.session_cache_seconds
        )

    def encode_json(self, data: object) -> bytes:
        # orjson: a county overview is ~60 KiB of JSON per response; the stdlib takes ~5x longer.
        try:
            return orjson.dumps(data)
        except TypeError:
            # A lone surrogate a client sent, echoed back (orjson refuses them): escaped as JSON
            # allows, so the answer still reaches the client.
            return json.dumps(data, ensure_ascii=True, allow_nan=False).encode()

    def parse_json(self, data: str | bytes) -> object:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            # JSON allows an escaped lone surrogate (JavaScript strings may hold one, and
            # JSON.stringify writes it so); orjson refuses it. One such character must not fail
            # a whole push batch: the sync quarantines that row instead.
            return json.loads(data, parse_constant=_refuse_constant)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        identity = await identify(
            request.headers.get("authorization"),
            self.settings.secret_key,
            self.sessionmaker,
            self.clock,
            self.viewer_cache,
        )
        viewer = identity.viewer
        return Context(
            settings=self.settings,
            sessionmaker=self.sessionmaker,
            clock=self.clock,
            request_id=request_id_of(request.scope),
            viewer=viewer,
            loaders=Loaders.build(self.sessionmaker, viewer),
            viewer_cache=self.viewer_cache,
            response_cache=self.response_cache,
            request=request,
            response=response,
            auth_problem=identity.problem,
            ended_session=identity.ended_session,
            feed=self.feed,
            change_cache=self.change_cache,
            device_tracker=self.device_tracker,
            stream_guard=self.stream_guard,
            close_socket=_closer(request) if isinstance(request, WebSocket) else None,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, limit_body(receive, self.settings.max_body_bytes))
        media = negotiate(request.headers.get("accept"))
        try:
            if declared_too_large(request, self.settings.max_body_bytes):
                raise BodyTooLarge
            response = await self._respond(request, media)
        except BodyTooLarge:
            response = self.body_too_large(request_id_of(scope), media)
        except Exception as exc:  # whatever escapes, the client sees a code and the request id
            request_id = request_id_of(scope)
            log.error("internal_error", request_id=request_id, exc_info=exc)
            response = self.error_response(
                500, GraphQLErrorCode.INTERNAL_SERVER_ERROR, INTERNAL_MESSAGE, request_id, media
            )
        await response(scope, receive, send)

    async def _respond(self, request: Request, media: str | None) -> Response:
        request_id = request_id_of(request.scope)
        if media is None and not self.should_render_graphql_ide(
            self.request_adapter_class(request)
        ):
            reason = f"请接受 {GRAPHQL_RESPONSE_JSON} 或 {JSON} (Accept one of them)"
            return self.error_response(406, GraphQLErrorCode.NOT_ACCEPTABLE, reason, request_id)
        try:
            response = await self.run(request)
        except HTTPException as exc:
            code = _HTTP_CODES.get(exc.status_code, GraphQLErrorCode.BAD_REQUEST)
            # GET was refused for a mutation; any other method is refused outright.
            allow = "POST" if request.method == "GET" else "GET, POST"
            headers = {"allow": allow} if exc.status_code == 405 else None
            return self.error_response(
                exc.status_code, code, exc.reason, request_id, media, headers
            )
        status = getattr(request.state, "graphql_status", None)
        if status is not None and media is not None:  # a GraphQL response, not GraphiQL
            response.headers["content-type"] = f"{media}; charset=utf-8"
            if media == GRAPHQL_RESPONSE_JSON and response.status_code == 200:
                response.status_code = status
        return response

    def body_too_large(self, request_id: str, media: str | None) -> Response:
        limit = self.settings.max_body_bytes
        message = f"请求体超过 {limit} 字节 (the request body is larger than {limit} bytes)"
        # The rest of the body stays unread, so the connection cannot carry another request.
        return self.error_response(
            413,
            GraphQLErrorCode.PAYLOAD_TOO_LARGE,
            message,
            request_id,
            media,
            {"connection": "close"},
        )

    def error_response(
        self,
        status: int,
        code: GraphQLErrorCode,
        message: str,
        request_id: str,
        media: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        body = {
            "errors": [
                {"message": message, "extensions": {"code": code.value, REQUEST_ID_KEY: request_id}}
            ]
        }
        response = Response(self.encode_json(body), status_code=status, headers=headers)
        response.headers["content-type"] = f"{media or JSON}; charset=utf-8"
        return response

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData:
        data: object
        if request.method == "GET":
            data = self.parse_query_params(request.query_params)
        else:
            content_type, _ = parse_content_type(request.content_type or "")
            if content_type.lower() != JSON:
                raise HTTPException(415, f"请求体须为 {JSON} (POST a JSON body)")
            data = self.parse_json(await request.get_body())
        if not isinstance(data, dict):
            raise HTTPException(400, "请求须为 JSON 对象 (the request must be a JSON object)")
        query, name = data.get("query"), data.get("operationName")
        variables, extensions = data.get("variables"), data.get("extensions")
        if not isinstance(query, str | None) or not isinstance(name, str | None):
            raise HTTPException(400, "query 与 operationName 须为字符串 (must be strings)")
        if not isinstance(variables, dict | None) or not isinstance(extensions, dict | None):
            raise HTTPException(400, "variables 与 extensions 须为对象 (must be objects)")
        return GraphQLRequestData(
            query=query, variables=variables, operation_name=name or None, extensions=extensions
        )

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        try:
            return await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        except HTTPException as exc:
            cause = exc.__cause__
            if isinstance(cause, InvalidOperationTypeError) and request_adapter.method == "GET":
                raise HTTPException(405, "变更须用 POST 提交 (send mutations with POST)") from cause
            if isinstance(cause, CannotGetOperationTypeError):
                error = GraphQLError(
                    exc.reason,
                    extensions={
                        "code": GraphQLErrorCode.OPERATION_RESOLUTION_FAILURE.value,
                        REQUEST_ID_KEY: context.request_id,
                    },
                )
                return PreExecutionError(data=None, errors=[error])
            raise

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        request_id = request_id_of(request.scope)
        # A backstop: errors raised where ShapeErrors does not run are shaped (and masked) here.
        errors = [e if is_shaped(e) else shape_error(e, request_id) for e in result.errors or ()]
        body: GraphQLHTTPResponse = {}
        # A request error: nothing was executed, so the response has no `data` at all.
        request_error = result.data is None and bool(errors) and all(e.path is None for e in errors)
        if not request_error:
            body["data"] = result.data
        if errors:
            body["errors"] = [e.formatted for e in errors]
        if result.extensions:
            body["extensions"] = result.extensions
        internal = any(error_code(e) == GraphQLErrorCode.INTERNAL_SERVER_ERROR for e in errors)
        request.state.graphql_status = (500 if internal else 400) if request_error else 200
        return body
