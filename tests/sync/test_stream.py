"""Guarantee 6, the stream: every accepted write a subscriber may see reaches it over
graphql-transport-ws, with the checkpoint of its last document, on SQLite and PostgreSQL.

The app is served by a real uvicorn in the test's event loop and spoken to by a real WebSocket
client; writes go through the same app over HTTP, so both share the process's feed.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import pytest
import uvicorn
from sqlalchemy import event, text, update
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.frames import Close

from core.clock import FrozenClock
from core.db import Sessionmaker, writing
from core.settings import Settings
from models import Account
from schema.node import to_global_id
from sync.feed import Notice, PostgresFeed, announce, create_feed
from sync.stream_guard import SIGNED_OUT, TOKEN_EXPIRED
from tests.conftest import Api, World
from tests.schema.test_sync import push, visit

TIMEOUT_SECONDS = 10.0
"""Only so a broken stream fails instead of hanging; speed is measured in the benchmarks."""

STREAM_VISIT = """
subscription($headers: VisitInputHeaders) {
  streamVisit(headers: $headers) {
    documents { id branchId village updatedAt deleted }
    checkpoint { id updatedAt }
  }
}"""


class BinaryFrame(AssertionError):
    """The server sent a binary frame, which graphql-ws (RxDB's client) refuses with 4004."""


class GraphQLWebSocket:
    """A minimal graphql-transport-ws client, as strict as RxDB's graphql-ws: every message must
    be a text frame (graphql-ws closes the socket with 4004 on a binary one)."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self._ids = itertools.count(1)

    @classmethod
    @contextlib.asynccontextmanager
    async def open(
        cls, url: str, connection_params: dict[str, Any] | None = None
    ) -> AsyncIterator[GraphQLWebSocket]:
        async with connect(url, subprotocols=["graphql-transport-ws"]) as connection:  # type: ignore[list-item]
            client = cls(connection)
            await client.send({"type": "connection_init", "payload": connection_params or {}})
            ack = await client.receive()
            assert ack["type"] == "connection_ack", ack
            yield client

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self) -> dict[str, Any]:
        async with asyncio.timeout(TIMEOUT_SECONDS):
            while True:
                frame = await self.connection.recv()
                if not isinstance(frame, str):
                    await self.connection.close(4004, "Message is missing the 'type' property")
                    raise BinaryFrame(f"binary frame from the server: {frame!r:.200}")
                message: dict[str, Any] = json.loads(frame)
                if message["type"] == "ping":
                    await self.send({"type": "pong"})
                    continue
                return message

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        operation_id = str(next(self._ids))
        payload = {"query": query, "variables": variables or {}}
        await self.send({"id": operation_id, "type": "subscribe", "payload": payload})
        return operation_id


async def eventually(condition: Callable[[], bool]) -> None:
    """Waits for a state of the server that it signals to no one (bounded polling)."""
    async with asyncio.timeout(TIMEOUT_SECONDS):
        while not condition():  # noqa: ASYNC110 - nothing to wait on but the state itself
            await asyncio.sleep(0.01)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def ws_url(app: Any) -> AsyncIterator[str]:
    """The `app` fixture served by uvicorn on a loopback port (lifespan included)."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="on", ws="websockets-sansio", log_level="warning"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    await eventually(lambda: server.started)
    yield f"ws://127.0.0.1:{port}/graphql"
    server.should_exit = True
    await task


@contextlib.asynccontextmanager
async def subscribed(
    url: str, app: Any, params: dict[str, Any], variables: dict[str, Any] | None = None
) -> AsyncIterator[tuple[GraphQLWebSocket, str]]:
    """A client subscribed to streamVisit, once the server registered it with its feed."""
    async with GraphQLWebSocket.open(url, params) as client:
        before = app.state.feed.subscriber_count
        operation_id = await client.subscribe(STREAM_VISIT, variables)
        await eventually(lambda: app.state.feed.subscriber_count > before)
        yield client, operation_id


def bearer(token: str) -> str:
    return f"Bearer {token}"


async def closed(client: GraphQLWebSocket) -> Close:
    """How the server closed the socket; fails if it stays open for TIMEOUT_SECONDS."""
    with pytest.raises(ConnectionClosed) as raised:
        while True:
            message = await client.receive()
            assert message["type"] != "next", f"a document after the sign-in ended: {message}"
    assert raised.value.rcvd is not None, "closed without a close frame"
    return raised.value.rcvd


REVOKE = "mutation($id: ID!) { revokeSession(sessionId: $id) { __typename } }"
MY_SESSIONS = "{ me { sessions { id } } }"


async def next_event(client: GraphQLWebSocket, operation_id: str) -> dict[str, Any]:
    message = await client.receive()
    assert message["type"] == "next" and message["id"] == operation_id, message
    assert "errors" not in message["payload"], message
    bulk: dict[str, Any] = message["payload"]["data"]["streamVisit"]
    return bulk


async def test_every_graphql_transport_ws_message_is_a_text_frame(
    api: Api, world: World, app: Any, ws_url: str
) -> None:
    token = await api.login("officer.meigui")
    frames: list[str | bytes] = []

    async def exchange(connection: ClientConnection, message: dict[str, Any]) -> dict[str, Any]:
        await connection.send(json.dumps(message))
        async with asyncio.timeout(TIMEOUT_SECONDS):
            frames.append(await connection.recv())
        # Parsed as graphql-ws does: a binary frame would carry no `type` at all.
        return json.loads(frames[-1]) if isinstance(frames[-1], str) else {}

    async with connect(ws_url, subprotocols=["graphql-transport-ws"]) as connection:  # type: ignore[list-item]
        ack = await exchange(connection, {"type": "connection_init", "payload": {}})
        pong = await exchange(connection, {"type": "ping"})
        error = await exchange(
            connection, {"id": "1", "type": "subscribe", "payload": {"query": "{ nope }"}}
        )
        variables = {"headers": {"Authorization": bearer(token)}}
        before = app.state.feed.subscriber_count
        await connection.send(
            json.dumps(
                {
                    "id": "2",
                    "type": "subscribe",
                    "payload": {"query": STREAM_VISIT, "variables": variables},
                }
            )
        )
        await eventually(lambda: app.state.feed.subscriber_count > before)
        await push(api, token, (None, visit(world)))
        async with asyncio.timeout(TIMEOUT_SECONDS):
            frames.append(await connection.recv())
    assert [type(f) for f in frames] == [str] * 4, frames
    assert [ack["type"], pong["type"], error["type"]] == ["connection_ack", "pong", "error"]
    assert json.loads(frames[-1])["type"] == "next"


@pytest.mark.parametrize(
    "placement", ["connection_params", "connection_params_headers", "headers_argument"]
)
async def test_stream_delivers_an_accepted_write_with_its_checkpoint(
    api: Api, world: World, app: Any, ws_url: str, placement: str
) -> None:
    token = await api.login("officer.meigui")
    params: dict[str, Any] = {}
    variables: dict[str, Any] = {}
    if placement == "connection_params":
        params = {"Authorization": bearer(token)}
    elif placement == "connection_params_headers":
        params = {"headers": {"Authorization": bearer(token)}}
    else:
        variables = {"headers": {"Authorization": bearer(token)}}
    async with subscribed(ws_url, app, params, variables) as (client, operation_id):
        doc = visit(world)
        assert await push(api, token, (None, doc)) == []
        bulk = await next_event(client, operation_id)
    [streamed] = bulk["documents"]
    assert streamed["id"] == doc["id"] and streamed["village"] == doc["village"]
    assert streamed["deleted"] is False
    assert bulk["checkpoint"] == {"id": doc["id"], "updatedAt": streamed["updatedAt"]}


@pytest.mark.parametrize(
    ("authorization", "code"), [("Bearer not-a-token", "TOKEN_INVALID"), (None, "UNAUTHENTICATED")]
)
async def test_stream_refuses_a_bad_or_missing_token_with_an_unauthenticated_error(
    app: Any, ws_url: str, authorization: str | None, code: str
) -> None:
    params = {"Authorization": authorization} if authorization else {}
    async with GraphQLWebSocket.open(ws_url, params) as client:
        operation_id = await client.subscribe(STREAM_VISIT)
        message = await client.receive()
    # A GraphQL error the client can read and retry on, not a socket closed without a word.
    assert message["id"] == operation_id, message
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    assert [e["extensions"]["code"] for e in errors] == [code]
    assert errors[0]["message"]


async def test_stream_closes_with_4401_once_the_access_token_expires(
    api: Api, world: World, app: Any, ws_url: str, clock: FrozenClock
) -> None:
    token = await api.login("officer.meigui")
    async with subscribed(ws_url, app, {"Authorization": bearer(token)}) as (client, operation_id):
        await push(api, token, (None, visit(world)))
        await next_event(client, operation_id)
        # Time travels past the token's 15 minutes; a write made meanwhile must not reach it.
        clock.advance(minutes=16)
        admin = await api.login("admin")
        await push(api, admin, (None, visit(world)))
        close = await closed(client)
    assert (close.code, close.reason) == (TOKEN_EXPIRED.code, TOKEN_EXPIRED.reason)
    assert len(close.reason.encode()) <= 123  # the most a WebSocket close frame carries


async def test_stream_closes_with_4403_once_the_session_is_revoked(
    api: Api, world: World, app: Any, ws_url: str
) -> None:
    token = await api.login("officer.meigui", device="phone")
    [session] = (await api(MY_SESSIONS, token=token))["data"]["me"]["sessions"]
    async with subscribed(ws_url, app, {"Authorization": bearer(token)}) as (client, operation_id):
        await push(api, token, (None, visit(world)))
        await next_event(client, operation_id)
        await api(REVOKE, {"id": session["id"]}, token=token)
        close = await closed(client)
    assert (close.code, close.reason) == (SIGNED_OUT.code, SIGNED_OUT.reason)
    assert len(close.reason.encode()) <= 123


async def test_stream_closes_with_4403_once_the_account_is_disabled(
    api: Api, world: World, app: Any, ws_url: str, sessionmaker: Sessionmaker
) -> None:
    token = await api.login("officer.meigui")
    async with subscribed(ws_url, app, {"Authorization": bearer(token)}) as (client, operation_id):
        await push(api, token, (None, visit(world)))
        await next_event(client, operation_id)
        # Straight in the database: no request of this process ever hears of it.
        async with writing(sessionmaker) as db:
            await db.execute(
                update(Account).where(Account.id == world.officer.id).values(disabled=True)
            )
        close = await closed(client)
    assert close.code == SIGNED_OUT.code


async def test_stream_of_a_live_sign_in_stays_open_while_others_end(
    api: Api, world: World, app: Any, ws_url: str
) -> None:
    ending = await api.login("officer.meigui", device="old-phone")
    [session] = (await api(MY_SESSIONS, token=ending))["data"]["me"]["sessions"]
    staying = await api.login("secretary.meigui")
    async with (
        subscribed(ws_url, app, {"Authorization": bearer(ending)}) as (gone, _),
        subscribed(ws_url, app, {"Authorization": bearer(staying)}) as (kept, kept_id),
    ):
        await api(REVOKE, {"id": session["id"]}, token=ending)
        assert (await closed(gone)).code == SIGNED_OUT.code
        doc = visit(world)
        await push(api, staying, (None, doc))
        bulk = await next_event(kept, kept_id)
    assert [d["id"] for d in bulk["documents"]] == [doc["id"]]


async def test_stream_shows_an_officer_only_their_own_branch(
    api: Api, world: World, app: Any, ws_url: str
) -> None:
    officer = await api.login("officer.meigui")
    admin = await api.login("admin")
    elsewhere = visit(world, branchId=to_global_id("Branch", world.yushan.id))
    own = visit(world)
    async with subscribed(ws_url, app, {"Authorization": bearer(officer)}) as (
        client,
        operation_id,
    ):
        await push(api, admin, (None, elsewhere))
        await push(api, admin, (None, own))
        bulk = await next_event(client, operation_id)
    assert [d["id"] for d in bulk["documents"]] == [own["id"]]


async def test_stream_shows_a_secretary_their_subtree(
    api: Api, world: World, app: Any, ws_url: str
) -> None:
    secretary = await api.login("secretary.meigui")
    admin = await api.login("admin")
    elsewhere = visit(world, branchId=to_global_id("Branch", world.yushan.id))
    in_group = visit(world, branchId=to_global_id("Branch", world.meigui_group.id))
    params = {"Authorization": bearer(secretary)}
    async with subscribed(ws_url, app, params) as (client, operation_id):
        await push(api, admin, (None, elsewhere))
        await push(api, admin, (None, in_group))
        bulk = await next_event(client, operation_id)
    assert [d["id"] for d in bulk["documents"]] == [in_group["id"]]


async def test_stream_sends_a_removal_when_a_document_leaves_the_viewers_scope(
    api: Api, world: World, app: Any, ws_url: str
) -> None:
    officer = await api.login("officer.meigui")
    admin = await api.login("admin")
    doc = visit(world)
    await push(api, officer, (None, doc))
    moved = {**doc, "branchId": to_global_id("Branch", world.yushan.id)}
    async with subscribed(ws_url, app, {"Authorization": bearer(officer)}) as (
        client,
        operation_id,
    ):
        assert await push(api, admin, (doc, moved)) == []
        bulk = await next_event(client, operation_id)
    [removal] = bulk["documents"]
    assert removal["id"] == doc["id"] and removal["deleted"] is True
    assert bulk["checkpoint"] == {"id": doc["id"], "updatedAt": removal["updatedAt"]}


async def test_stream_reads_each_write_once_however_many_subscribe(
    api: Api, world: World, app: Any, ws_url: str
) -> None:
    token = await api.login("officer.meigui")
    reads: list[str] = []

    def watch(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # changes_at's second statement (exits at one stamp), once per read. Not any statement
        # on sync_scope_exit: the tombstone purge the app starts at start-up reads and deletes
        # there too, and may run after the listener is attached.
        if statement.startswith("SELECT") and "sync_scope_exit.updated_at =" in statement:
            reads.append(statement)

    event.listen(app.state.engine.sync_engine, "before_cursor_execute", watch)
    params = {"Authorization": bearer(token)}
    doc = visit(world)
    async with (
        subscribed(ws_url, app, params) as (first, first_id),
        subscribed(ws_url, app, params) as (second, second_id),
        subscribed(ws_url, app, params) as (third, third_id),
    ):
        await push(api, token, (None, doc))
        bulks = [
            await next_event(first, first_id),
            await next_event(second, second_id),
            await next_event(third, third_id),
        ]
    event.remove(app.state.engine.sync_engine, "before_cursor_execute", watch)
    assert [[d["id"] for d in b["documents"]] for b in bulks] == [[doc["id"]]] * 3
    assert len(reads) == 1


# LISTEN/NOTIFY is PostgreSQL's: this test runs on that backend only.
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_postgres_feed_reconnects_and_delivers_what_was_written_meanwhile(
    api: Api, world: World, app: Any, ws_url: str, sessionmaker: Sessionmaker
) -> None:
    feed = app.state.feed
    assert isinstance(feed, PostgresFeed) and feed.listening
    token = await api.login("officer.meigui")
    doc = visit(world)
    async with subscribed(ws_url, app, {"Authorization": bearer(token)}) as (client, operation_id):
        async with sessionmaker() as db:
            await db.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid() "
                    "AND datname = current_database()"
                )
            )
        await eventually(lambda: not feed.listening)
        # Written while nobody listens: its NOTIFY reaches no one; the reconnect catches it up.
        await push(api, token, (None, doc))
        bulk = await next_event(client, operation_id)
    assert [d["id"] for d in bulk["documents"]] == [doc["id"]]


async def test_only_committed_writes_are_announced_and_in_commit_order(
    engine: Any, sessionmaker: Sessionmaker
) -> None:
    """The NOTIFY is part of the writing transaction: a rolled-back write announces nothing,
    and notices arrive in commit (= stamp) order. In-process, publishing follows the commit."""
    feed = create_feed(engine)
    await feed.start()
    received: list[Notice] = []

    async def collect() -> None:
        async for notice in feed.subscribe():
            received.append(notice)

    listener = asyncio.create_task(collect())
    await asyncio.sleep(0)
    try:
        with contextlib.suppress(RuntimeError):
            async with writing(sessionmaker) as db:
                await announce(db, "visit", 1)
                raise RuntimeError("the write fails after announcing")
        for stamp in (2, 3):
            async with writing(sessionmaker) as db:
                await announce(db, "visit", stamp)
            await feed.publish(Notice("visit", stamp))
        await eventually(lambda: len(received) >= 2)
        await asyncio.sleep(0.2)  # room for a wrongly announced notice to show up
        assert received == [Notice("visit", 2), Notice("visit", 3)]
    finally:
        listener.cancel()
        await feed.stop()


def test_notice_payload_round_trips_and_foreign_payloads_are_ignored() -> None:
    notice = Notice("service_action", 1764316800123)
    assert Notice.parse(notice.payload()) == notice
    assert Notice.parse("karaoke:12") is None
    assert Notice.parse("visit:twelve") is None


@pytest.fixture
async def app_settings(settings: Settings) -> Settings:
    """Sessions rechecked every second rather than every 5: the revocation tests wait one
    recheck, and what they check (the stream ends, with 4403) does not depend on its length."""
    return replace(settings, session_cache_seconds=1.0)
