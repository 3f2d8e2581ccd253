"""`create_app(settings)`: the Starlette application serving GraphQL, health and metrics."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid
from collections.abc import AsyncIterator

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from access.auth import ViewerCache
from app.compression import add_compression
from app.download import export_routes
from app.endpoint import EndpointDeps
from app.files import file_routes
from app.graphql_http import MeijingGraphQL, request_id_of
from app.maintenance import every
from app.metrics import metrics_routes
from app.reminders import reminder_interval_seconds, run_reminders
from core.clock import Clock, system_clock
from core.db import create_engine, create_sessionmaker
from core.observability import HTTP_REQUESTS, configure_logging, log
from core.response_cache import ResponseCache
from core.settings import Settings
from exports.assessment import export_assessment
from exports.dashboard import export_dashboard
from exports.ledger import export_ledger
from exports.workbook import ExportHandler
from schema import build_schema
from sync.feed import create_feed
from sync.tombstone import purge_tombstones

__all__ = ["REQUEST_ID_HEADER", "RequestIdMiddleware", "create_app", "request_id_of"]

REQUEST_ID_HEADER = "x-request-id"
# A client's request id is kept only if it is short and made of safe characters, since it is
# echoed in a header and written to the logs.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
HEALTH_TIMEOUT_SECONDS = 3.0
# Spreadsheet exports, served at GET /export/<name>.xlsx (exports/workbook.py).
EXPORTS: dict[str, ExportHandler] = {
    "ledger": export_ledger,
    "dashboard": export_dashboard,
    "assessment": export_assessment,
}
# Paths named in the request metrics; any other path counts as "other".
_ROUTES = frozenset({"/graphql", "/healthz", "/metrics", *(f"/export/{n}.xlsx" for n in EXPORTS)})
# Tombstones older than `tombstone_days` go once a day (and at start-up).
TOMBSTONE_PURGE_SECONDS = 24 * 3600.0


class RequestIdMiddleware:
    """Gives each request an id (or keeps a sane one sent by the client), logs and counts it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        # ASGI header values are bytes; latin-1 decodes any of them.
        sent = dict(scope.get("headers") or []).get(REQUEST_ID_HEADER.encode(), b"")
        sent_id = sent.decode("latin-1")
        request_id = sent_id if _SAFE_REQUEST_ID.fullmatch(sent_id) else uuid.uuid4().hex
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

        try:
            with structlog.contextvars.bound_contextvars(request_id=request_id):
                await self.app(scope, receive, send_with_id)
        finally:
            if scope["type"] == "http":
                path = scope.get("path", "")
                method = scope.get("method", "")
                # Labels stay a small fixed set whatever clients send.
                HTTP_REQUESTS.labels(
                    path if path in _ROUTES else "other",
                    method if method in _METHODS else "other",
                    str(status),
                ).inc()
                log.info(
                    "http_request",
                    request_id=request_id,
                    method=method,
                    path=path,
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                )


async def database_answers(engine: AsyncEngine) -> bool:
    """True when `SELECT 1` comes back within HEALTH_TIMEOUT_SECONDS."""
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT_SECONDS), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the database means "not ready"
        log.warning("healthz_failed", error=f"{type(exc).__name__}: {exc}")
        return False
    return True


def create_app(settings: Settings | None = None, *, clock: Clock = system_clock) -> Starlette:
    """The whole service. Refuses to build with a configuration unfit for production."""
    settings = settings or Settings.from_env()
    settings.check()
    configure_logging(settings.log_level, settings.log_json)
    engine = create_engine(settings.database_url)
    sessionmaker = create_sessionmaker(engine)
    graphql = MeijingGraphQL(
        build_schema(settings),
        settings,
        sessionmaker,
        clock,
        ViewerCache(settings.session_cache_seconds),
        create_feed(engine),
    )
    if settings.response_cache_entries > 0:
        graphql.response_cache = ResponseCache(
            settings.response_cache_entries,
            settings.response_cache_seconds,
            # Age by the injectable clock, so answers that depend on the date expire in tests too.
            now=lambda: clock().timestamp(),
        )

    async def healthz(request: Request) -> Response:
        if await database_answers(engine):
            return JSONResponse({"status": "ok", "database": "ok"})
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        log.info(
            "startup", env=settings.env, database=engine.url.render_as_string(hide_password=True)
        )
        await graphql.feed.start()

        async def purge() -> object:
            return await purge_tombstones(sessionmaker, clock(), settings.tombstone_days)

        async def reminders() -> object:
            return await run_reminders(sessionmaker, clock(), settings, graphql.feed)

        try:
            async with contextlib.AsyncExitStack() as jobs:
                await jobs.enter_async_context(
                    every(TOMBSTONE_PURGE_SECONDS, purge, "purge_tombstones")
                )
                reminder_seconds = reminder_interval_seconds(settings)
                if reminder_seconds is not None:
                    await jobs.enter_async_context(
                        every(reminder_seconds, reminders, "generate_reminders")
                    )
                yield
        finally:
            await graphql.feed.stop()
            await engine.dispose()

    endpoints = EndpointDeps(settings, sessionmaker, clock, graphql.viewer_cache)
    app = Starlette(
        routes=[
            *export_routes(endpoints, EXPORTS),
            *file_routes(endpoints),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz, methods=["GET"]),
            *metrics_routes(settings),
        ],
        lifespan=lifespan,
    )
    add_compression(app)
    # Outermost: every response, compressed or refused, carries the request id and is logged.
    app.add_middleware(RequestIdMiddleware)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker
    app.state.feed = graphql.feed
    return app
