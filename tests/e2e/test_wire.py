"""End to end, what crosses the wire: the body limit and compression on a real uvicorn server,
with the WebSocket stream running through the same middleware."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from websockets.asyncio.client import connect

from core.global_id import global_id
from models import BranchKind, Role
from tests.conftest import TEST_PASSWORD, Builders
from tests.e2e.test_server import (
    Server,
    production_env,
    serving,
)

pytestmark = pytest.mark.e2e

BODY_LIMIT = 1024 * 1024
PUSH = """mutation($rows: [VisitInputPushRow!]) { pushVisit(visitPushRow: $rows) { id } }"""
PULL = """query($n: Int!) {
  pullVisit(limit: $n) {
    documents { id branchId officerId village household category concerns resolution status
                peopleReached visitedAt updatedAt deleted }
    checkpoint { id updatedAt }
  }
}"""
STREAM = """subscription($headers: VisitInputHeaders) {
  streamVisit(headers: $headers) { documents { id village } checkpoint { id updatedAt } }
}"""


@pytest.fixture
async def county(db_url: str, make: Builders) -> dict[str, str]:
    """An admin and a branch with one member, as Relay ids for pushed visits."""
    await make.account(Role.ADMIN, username="admin")
    committee = await make.branch(None, BranchKind.COMMITTEE, name="县局党委")
    member = await make.member(committee, name="李民警")
    return {
        "db_url": db_url,
        "branchId": global_id("Branch", committee.id),
        "officerId": global_id("Member", member.id),
    }


@pytest.fixture
def server(county: dict[str, str], tmp_path: Path) -> Iterator[Server]:
    env = production_env(
        county["db_url"],
        MEIJING_MAX_BODY_BYTES=str(BODY_LIMIT),
        MEIJING_LEDGER_ATTACHMENT_MAX_BYTES=str(BODY_LIMIT // 2),
    )
    with serving(env, tmp_path / "server.log") as started:
        yield started


def visit(county: dict[str, str], n: int) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "branchId": county["branchId"],
        "officerId": county["officerId"],
        "village": f"玫瑰村{n % 9}组",
        "household": None,
        "category": "household",
        "concerns": "邻里纠纷,已上门调解" if n % 3 == 0 else None,
        "resolution": None,
        "status": "open",
        "peopleReached": n % 5 + 1,
        "visitedAt": "2026-11-20T10:00:00+08:00",
        "deleted": False,
    }


async def sign_in(client: httpx.AsyncClient) -> str:
    response = await client.post(
        "/graphql",
        json={
            "query": """mutation($p: String!) { login(username: "admin", password: $p) {
                          ... on SignInSuccess { accessToken } } }""",
            "variables": {"p": TEST_PASSWORD},
        },
    )
    return str(response.json()["data"]["login"]["accessToken"])


def post_head(url: str, declared: int, sent: bytes) -> bytes:
    """Announces a body of `declared` bytes, sends only `sent`, and reads the answer."""
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {declared}\r\n\r\n"
    ).encode()
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as connection:
        connection.sendall(head + sent)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def test_real_server_refuses_a_body_over_the_limit_before_reading_it(server: Server) -> None:
    # 10 MB announced, 1 KB sent: the answer comes without the server waiting for the rest,
    # and it closes the connection (recv returns b"" once the answer is complete).
    answer = post_head(server.url, 10_000_000, b'{"query": "' + b" " * 1024)

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"connection: close" in head.lower()
    [error] = json.loads(body)["errors"]
    assert error["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert httpx.get(f"{server.url}/healthz").status_code == 200


async def test_real_server_compresses_pulls_and_streams_over_websocket(
    server: Server, county: dict[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=10.0) as client:
        token = await sign_in(client)
        auth = {"authorization": f"Bearer {token}"}
        rows = [{"newDocumentState": visit(county, n)} for n in range(100)]
        pushed = await client.post(
            "/graphql", json={"query": PUSH, "variables": {"rows": rows}}, headers=auth
        )
        assert pushed.json() == {"data": {"pushVisit": []}}

        sizes: dict[str, int] = {}
        for encoding in ("identity", "gzip", "br", "zstd"):
            response = await client.post(
                "/graphql",
                json={"query": PULL, "variables": {"n": 100}},
                headers={**auth, "accept-encoding": encoding},
            )
            assert len(response.json()["data"]["pullVisit"]["documents"]) == 100
            assert response.headers.get("content-encoding", "identity") == encoding
            assert response.headers["x-request-id"]
            sizes[encoding] = response.num_bytes_downloaded
        assert all(sizes[e] * 4 < sizes["identity"] for e in ("gzip", "br", "zstd")), sizes

        ws_url = server.url.replace("http://", "ws://") + "/graphql"
        async with connect(
            ws_url,
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            additional_headers={"Accept-Encoding": "gzip, deflate, br, zstd"},
        ) as ws:
            await ws.send(
                json.dumps(
                    {"type": "connection_init", "payload": {"Authorization": auth["authorization"]}}
                )
            )
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(
                json.dumps({"id": "1", "type": "subscribe", "payload": {"query": STREAM}})
            )
            # The subscription registers asynchronously: push new visits until one arrives.
            event: Any = None
            sent: list[str] = []
            for n in range(50):
                new = visit(county, n)
                sent.append(new["id"])
                await client.post(
                    "/graphql",
                    json={"query": PUSH, "variables": {"rows": [{"newDocumentState": new}]}},
                    headers=auth,
                )
                try:
                    event = await asyncio.wait_for(ws.recv(), timeout=0.2)
                except TimeoutError:
                    continue
                break
    # Whole JSON, untouched by the HTTP compression (frame types are the stream's concern).
    message = json.loads(event)
    assert message["type"] == "next", message
    [document] = message["payload"]["data"]["streamVisit"]["documents"]
    assert document["id"] in sent
