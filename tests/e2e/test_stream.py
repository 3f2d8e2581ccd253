"""Guarantee 6 end to end: a write through one uvicorn process reaches a phone streaming from
another process on the same PostgreSQL (LISTEN/NOTIFY), and from the same process on SQLite;
a session revoked through one process closes its stream on the other."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sync.stream_guard import SIGNED_OUT
from tests.conftest import TEST_PASSWORD, World
from tests.e2e.test_server import Server, graphql, server_env, start, stop, wait_until_healthy
from tests.schema.test_sync import PUSH_VISIT, visit
from tests.sync.test_stream import REVOKE, STREAM_VISIT, GraphQLWebSocket, closed

pytestmark = pytest.mark.e2e

ATTEMPTS = 10

LOGIN = """mutation($u: String!, $p: String!) {
  login(username: $u, password: $p, deviceId: "e2e") {
    ... on SignInSuccess { accessToken session { id } }
  }
}"""


@pytest.fixture
def servers(backend: str, db_url: str, world: World, tmp_path: Path) -> Iterator[list[Server]]:
    """Two processes on PostgreSQL (the way Meijing scales out); one on SQLite."""
    env = server_env(
        DATABASE_URL=db_url,
        MEIJING_ENV="production",
        MEIJING_SECRET_KEY=secrets.token_urlsafe(48),  # shared: a token from A is valid at B
        MEIJING_LOG_LEVEL="INFO",
        MEIJING_SESSION_CACHE_SECONDS="1",  # a revoked session's stream ends within a second
    )
    started: list[Server] = []
    try:
        for name in ["a", "b"] if backend == "postgresql" else ["a"]:
            log_path = tmp_path / f"server-{name}.log"
            process, url = start(env, log_path)
            started.append(Server(process, url, log_path))
        for server in started:
            wait_until_healthy(server.process, server.url, server.log_path)
        yield started
    finally:
        for server in started:
            stop(server.process)


async def test_write_through_one_process_streams_to_a_phone_on_another(
    servers: list[Server], world: World
) -> None:
    writer, reader = servers[0], servers[-1]
    async with httpx.AsyncClient(base_url=writer.url, timeout=10.0) as client:
        signed_in = await graphql(client, LOGIN, u="officer.meigui", p=TEST_PASSWORD)
        token = signed_in["login"]["accessToken"]
        ws_url = reader.url.replace("http://", "ws://") + "/graphql"
        pushed: dict[str, dict[str, Any]] = {}
        async with GraphQLWebSocket.open(ws_url, {"Authorization": f"Bearer {token}"}) as phone:
            operation_id = await phone.subscribe(STREAM_VISIT)
            # The subscription is registered asynchronously and the server says nothing when it
            # is: until an event comes, write another visit (an early one may predate it).
            message = None
            while message is None and len(pushed) < ATTEMPTS:
                doc = visit(world)
                pushed[doc["id"]] = doc
                rows = [{"assumedMasterState": None, "newDocumentState": doc}]
                assert await graphql(client, PUSH_VISIT, token, rows=rows) == {"pushVisit": []}
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(1.0):
                        message = await phone.receive()
    assert message is not None, f"no event for {len(pushed)} writes"
    assert message["type"] == "next" and message["id"] == operation_id, message
    bulk = message["payload"]["data"]["streamVisit"]
    [streamed] = bulk["documents"]
    assert streamed["id"] in pushed
    assert streamed["village"] == pushed[streamed["id"]]["village"]
    assert streamed["deleted"] is False
    assert bulk["checkpoint"] == {"id": streamed["id"], "updatedAt": streamed["updatedAt"]}


async def first_event(
    client: httpx.AsyncClient, phone: GraphQLWebSocket, token: str, world: World
) -> dict[str, Any]:
    """Subscribes and writes visits until one streams back (registration is silent)."""
    await phone.subscribe(STREAM_VISIT)
    for _ in range(ATTEMPTS):
        rows = [{"assumedMasterState": None, "newDocumentState": visit(world)}]
        assert await graphql(client, PUSH_VISIT, token, rows=rows) == {"pushVisit": []}
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                return await phone.receive()
    raise AssertionError(f"no event for {ATTEMPTS} writes")


async def test_revoking_through_one_process_closes_the_stream_on_another(
    servers: list[Server], world: World
) -> None:
    writer, reader = servers[0], servers[-1]
    async with httpx.AsyncClient(base_url=writer.url, timeout=10.0) as client:
        signed_in = (await graphql(client, LOGIN, u="officer.meigui", p=TEST_PASSWORD))["login"]
        token = signed_in["accessToken"]
        ws_url = reader.url.replace("http://", "ws://") + "/graphql"
        async with GraphQLWebSocket.open(ws_url, {"Authorization": f"Bearer {token}"}) as phone:
            assert (await first_event(client, phone, token, world))["type"] == "next"
            await graphql(client, REVOKE, token, id=signed_in["session"]["id"])
            close = await closed(phone)
    assert (close.code, close.reason) == (SIGNED_OUT.code, SIGNED_OUT.reason)
