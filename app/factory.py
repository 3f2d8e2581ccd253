"""`create_app(settings)`: the Starlette application serving GraphQL, health and metrics."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from app.auth import ViewerCache, authenticate
from app.clock import Clock, system_clock
from app.db import Sessionmaker, create_engine, create_sessionmaker
from app.observability import HTTP_REQUESTS, configure_logging, log
from app.settings import Settings
from schema import build_schema
from schema.context import Context, Loaders

REQUEST_ID_HEADER = "x-request-id"


class MeijingGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view with Meijing's per-request context."""

    def __init__(
        self,
        settings: Settings,
        sessionmaker: Sessionmaker,
        clock: Clock,
        viewer_cache: ViewerCache,
    ) -> None:
        super().__init__(
            build_schema(settings),
            graphql_ide=None if settings.production else "graphiql",
            allow_queries_via_get=True,
        )
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.viewer_cache = viewer_cache

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        viewer, problem = await authenticate(
            request.headers.get("authorization"),
            self.settings.secret_key,
            self.sessionmaker,
            self.clock,
            self.viewer_cache,
        )
        return Context(
            settings=self.settings,
            sessionmaker=self.sessionmaker,
            clock=self.clock,
            request_id=request_id_of(request.scope),
            viewer=viewer,
            loaders=Loaders.build(self.sessionmaker, viewer),
            viewer_cache=self.viewer_cache,
            request=request,
            response=response,
            auth_problem=problem,
        )


def request_id_of(scope: Scope) -> str:
    state = scope.get("state") or {}
    return str(state.get("request_id", ""))


class RequestIdMiddleware:
    """Gives each request an id (or keeps a sane one sent by the client), logs and counts it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        sent = dict(scope.get("headers") or []).get(REQUEST_ID_HEADER.encode(), b"").decode()
        request_id = sent if sent and len(sent) <= 64 and sent.isprintable() else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message["headers"] = headers
            await send(message)

        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            structlog.contextvars.unbind_contextvars("request_id")
            if scope["type"] == "http":
                route = scope.get("path", "")
                route = route if route in ("/graphql", "/healthz", "/metrics") else "other"
                HTTP_REQUESTS.labels(route, scope.get("method", ""), str(status)).inc()
                log.info(
                    "http_request",
                    request_id=request_id,
                    method=scope.get("method"),
                    path=scope.get("path"),
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                )


def create_app(settings: Settings | None = None, *, clock: Clock = system_clock) -> Starlette:
    """The whole service. Refuses to build with a configuration unfit for production."""
    settings = settings or Settings.from_env()
    settings.check()
    configure_logging(settings.log_level, settings.log_json)
    engine = create_engine(settings.database_url)
    sessionmaker = create_sessionmaker(engine)
    graphql = MeijingGraphQL(
        settings, sessionmaker, clock, ViewerCache(settings.session_cache_seconds)
    )

    async def healthz(request: Request) -> Response:
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as exc:  # any failure to reach the database means "not ready"
            log.warning("healthz_failed", error=str(exc))
            return JSONResponse(
                {"status": "unavailable", "database": "unreachable"}, status_code=503
            )
        return JSONResponse({"status": "ok", "database": "ok"})

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        log.info(
            "startup", env=settings.env, database=engine.url.render_as_string(hide_password=True)
        )
        yield
        await engine.dispose()

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.add_middleware(RequestIdMiddleware)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker
    return app
