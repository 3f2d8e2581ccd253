"""Structured logs and metric labels."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from core.observability import OperationLabels, configure_logging, log


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """Logging configured to write into a buffer; put back to the test default afterwards."""
    buffer = io.StringIO()
    configure_logging("INFO", json=True, stream=buffer)
    yield buffer
    configure_logging("WARNING", json=True)


def lines(buffer: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_logs_are_json_lines_with_the_bound_request_id(stream: io.StringIO) -> None:
    with structlog.contextvars.bound_contextvars(request_id="r-1"):
        log.info("something_happened", answer=42, name="玫警")

    [line] = lines(stream)
    assert line["event"] == "something_happened"
    assert line["request_id"] == "r-1"
    assert (line["answer"], line["name"], line["level"]) == (42, "玫警", "info")
    assert line["logger"] == "meijing"
    assert str(line["timestamp"]).endswith("Z")


def test_other_libraries_log_in_the_same_format(stream: io.StringIO) -> None:
    try:
        raise ValueError("inner detail")
    except ValueError:
        logging.getLogger("sqlalchemy.pool").exception("pool trouble")

    [line] = lines(stream)
    assert (line["event"], line["logger"], line["level"]) == (
        "pool trouble",
        "sqlalchemy.pool",
        "error",
    )
    assert "ValueError: inner detail" in str(line["exception"])


def test_level_filters_and_reconfiguring_replaces_the_handler(stream: io.StringIO) -> None:
    log.debug("hidden")
    second = io.StringIO()
    configure_logging("DEBUG", json=True, stream=second)
    log.debug("shown")

    assert lines(stream) == []
    assert [line["event"] for line in lines(second)] == ["shown"]
    ours = [h for h in logging.getLogger().handlers if h.get_name() == "meijing"]
    assert len(ours) == 1


def test_operation_labels_are_only_names_the_server_knows() -> None:
    label = OperationLabels({"PullVisit", "me"})

    assert label(None) == "anonymous"
    assert label("") == "anonymous"
    assert [label(n) for n in ("PullVisit", "me", "Me", "bad name; drop table")] == [
        "PullVisit",
        "me",
        "other",
        "other",
    ]


def test_uvicorn_lines_come_out_as_json(stream: io.StringIO) -> None:
    plain = logging.StreamHandler(io.StringIO())  # what uvicorn's own logging config installs
    logging.getLogger("uvicorn").addHandler(plain)
    logging.getLogger("uvicorn").propagate = False
    configure_logging("INFO", json=True, stream=stream)

    logging.getLogger("uvicorn.error").info("Started server process [%d]", 7)

    assert lines(stream)[-1]["event"] == "Started server process [7]"
    assert plain not in logging.getLogger("uvicorn").handlers
