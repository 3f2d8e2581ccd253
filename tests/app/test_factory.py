"""Operations: health, metrics, request ids and request logs."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine

from app import factory
from core.observability import formatter
from core.settings import Settings
from tests.conftest import Api, ClientFor


async def metric(api: Api, name: str, **labels: str) -> float:
    """The current value of one sample on /metrics (0 when absent)."""
    text = (await api.client.get("/metrics")).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


def rendered(caplog: pytest.LogCaptureFixture, event: str) -> list[dict[str, Any]]:
    render = formatter(json=True)
    lines = [json.loads(render.format(record)) for record in caplog.records]
    return [line for line in lines if line.get("event") == event]


async def test_healthz_is_200_when_the_database_answers(api: Api) -> None:
    response = await api.client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_healthz_is_503_when_the_database_does_not_answer(client_for: ClientFor) -> None:
    # A closed port refuses at once. (Not a SQLite file in a missing folder: aiosqlite then
    # leaves its worker thread racing the closing event loop, an unhandled thread exception in
    # whichever test runs next.)
    client = await client_for(
        Settings(database_url="postgresql+asyncpg://postgres@127.0.0.1:1/none")
    )

    response = await client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable"}


async def test_healthz_gives_up_on_a_database_that_hangs(monkeypatch: pytest.MonkeyPatch) -> None:
    class Hanging:
        @asynccontextmanager
        async def connect(self) -> AsyncIterator[None]:
            await asyncio.Event().wait()  # never set: a server that accepts and never answers
            yield

    monkeypatch.setattr(factory, "HEALTH_TIMEOUT_SECONDS", 0.01)

    assert await factory.database_answers(cast(AsyncEngine, Hanging())) is False


async def test_metrics_count_operations_latency_and_errors_by_operation(api: Api) -> None:
    # Counters live as long as the process: compare with what earlier tests left.
    name, failing = "Branches", "Me"
    samples = {
        "ops": ("meijing_graphql_operations_total", {"operation": name, "type": "query"}),
        "seconds": ("meijing_graphql_operation_seconds_count", {"operation": name}),
        "inf": ("meijing_graphql_operation_seconds_bucket", {"operation": name, "le": "+Inf"}),
        "ok_errors": (
            "meijing_graphql_errors_total",
            {"operation": name, "code": "UNAUTHENTICATED"},
        ),
        "errors": (
            "meijing_graphql_errors_total",
            {"operation": failing, "code": "UNAUTHENTICATED"},
        ),
    }
    before = {k: await metric(api, n, **labels) for k, (n, labels) in samples.items()}

    for _ in range(2):
        await api(f"query {name} {{ __typename }}")
    await api(f"query {failing} {{ me {{ account {{ username }} }} }}", expect_errors=True)

    after = {k: await metric(api, n, **labels) for k, (n, labels) in samples.items()}
    assert {k: after[k] - before[k] for k in samples} == {
        "ops": 2,
        "seconds": 2,
        "inf": 2,
        "ok_errors": 0,
        "errors": 1,
    }


async def test_metrics_count_documents_refused_before_execution(api: Api) -> None:
    labels = {"operation": "anonymous", "code": "GRAPHQL_PARSE_FAILED"}
    before = await metric(api, "meijing_graphql_errors_total", **labels)

    await api("{ me {", expect_errors=True)

    assert await metric(api, "meijing_graphql_errors_total", **labels) == before + 1


async def test_metrics_content_type_is_prometheus_text(api: Api) -> None:
    response = await api.client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")


async def test_http_metric_labels_stay_bounded(api: Api) -> None:
    labels = {"route": "other", "method": "other", "status": "404"}
    before = await metric(api, "meijing_http_requests_total", **labels)

    await api.client.request("BREW", f"/{uuid.uuid4().hex}")

    assert await metric(api, "meijing_http_requests_total", **labels) == before + 1


async def test_structured_log_line_per_request(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="meijing")

    response = await api.client.get("/healthz", headers={"x-request-id": "probe-1"})

    [line] = rendered(caplog, "http_request")
    assert line["request_id"] == response.headers["x-request-id"] == "probe-1"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/healthz", 200)
    assert isinstance(line["duration_ms"], float)
    assert line["level"] == "info"
    assert line["timestamp"].endswith("Z")


async def test_request_id_sent_by_a_client_is_echoed(api: Api) -> None:
    sent = "phone-7f3a:42"

    response = await api.client.post(
        "/graphql", json={"query": "{ me { __typename } }"}, headers={"x-request-id": sent}
    )

    assert response.headers["x-request-id"] == sent
    assert response.json()["errors"][0]["extensions"]["requestId"] == sent


@pytest.mark.parametrize(
    "sent",
    ["has space", "x" * 65, b"\xff\xfe", "", "line\nbreak"],
    ids=["space", "too-long", "not-ascii", "empty", "newline"],
)
async def test_unsafe_request_id_is_replaced(api: Api, sent: str | bytes) -> None:
    request = api.client.build_request("GET", "/healthz")
    request.headers["x-request-id"] = sent if isinstance(sent, str) else sent.decode("latin-1")

    response = await api.client.send(request)

    assert response.status_code == 200
    echoed = response.headers["x-request-id"]
    assert echoed != sent
    assert len(echoed) == 32
    int(echoed, 16)
