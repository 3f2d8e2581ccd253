"""Structured logs (structlog, JSON lines) and Prometheus metrics."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import TextIO

import structlog
from prometheus_client import Counter, Histogram

GRAPHQL_REQUESTS = Counter(
    "meijing_graphql_operations_total",
    "GraphQL operations executed, by operation name and type.",
    ["operation", "type"],
)
GRAPHQL_LATENCY = Histogram(
    "meijing_graphql_operation_seconds",
    "Time to execute a GraphQL operation.",
    ["operation"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
GRAPHQL_ERRORS = Counter(
    "meijing_graphql_errors_total",
    "Errors returned by GraphQL operations, by operation name and error code.",
    ["operation", "code"],
)
HTTP_REQUESTS = Counter(
    "meijing_http_requests_total",
    "HTTP requests, by route, method and status code.",
    ["route", "method", "status"],
)

_HANDLER_NAME = "meijing"


class OperationLabels:
    """The `operation` label of the GraphQL metrics: the operation's name when the server knows
    it, "other" when not, "anonymous" without one.

    A client names its operations as it likes, and anyone may send a request: taken as sent,
    names would let an anonymous caller write into the metrics and grow them without bound.
    """

    def __init__(self, known: Iterable[str] = ()) -> None:
        self.known = frozenset(known)

    def __call__(self, name: str | None) -> str:
        if not name:
            return "anonymous"
        return name if name in self.known else "other"


_SHARED: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def formatter(json: bool = True) -> logging.Formatter:
    """Renders structlog events and other libraries' records alike, one line each."""
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )


def configure_logging(level: str = "INFO", json: bool = True, stream: TextIO | None = None) -> None:
    """One event per line on stdout (JSON unless `json` is false), the request id bound per request.

    structlog hands its events to the standard library, so the lines of other libraries
    (strawberry, SQLAlchemy, asyncio, uvicorn) come out in the same format, and levels are the
    standard library's. Calling it again replaces the handler it installed.
    """
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter(json))
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # uvicorn gives its own loggers plain-text handlers; its lines go through ours instead, so
    # the whole stream is JSON. (Its access log stays its own: the app logs every request.)
    for name in ("uvicorn", "uvicorn.error"):
        server_logger = logging.getLogger(name)
        server_logger.handlers.clear()
        server_logger.propagate = True
        # Our level governs, not whatever level the last uvicorn.Config set on its loggers.
        server_logger.setLevel(logging.NOTSET)
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_SHARED,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Not cached: a logger bound before a later call (tests build many apps) would keep
        # the earlier configuration.
        cache_logger_on_first_use=False,
    )


log: structlog.stdlib.BoundLogger = structlog.get_logger("meijing")
