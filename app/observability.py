"""Structured logs (structlog, JSON lines) and Prometheus metrics."""

from __future__ import annotations

import logging
import re
import sys

import structlog
from prometheus_client import Counter, Histogram

REGISTRY_PREFIX = "meijing"

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
    "HTTP requests, by route and status code.",
    ["route", "method", "status"],
)

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_MAX_OPERATION_NAMES = 500
_seen_operations: set[str] = set()


def operation_label(name: str | None) -> str:
    """Operation names come from clients: keep the label set small and well-formed."""
    if not name:
        return "anonymous"
    if not _NAME_RE.match(name):
        return "invalid"
    if name not in _seen_operations:
        if len(_seen_operations) >= _MAX_OPERATION_NAMES:
            return "other"
        _seen_operations.add(name)
    return name


def configure_logging(level: str = "INFO", json: bool = True) -> None:
    """JSON lines on stdout, one event per line, with the request id bound per request."""
    logging.basicConfig(format="%(message)s", stream=sys.stdout, level=level.upper())
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        cache_logger_on_first_use=True,
    )


log = structlog.get_logger("meijing")
