"""End to end: the real server, started with uvicorn on a loopback port, driven over HTTP."""

from __future__ import annotations

import contextlib
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.global_id import global_id
from models import BranchKind, Role
from tests.conftest import TEST_ARGON2_ENV, TEST_PASSWORD, XDIST_WORKER, Builders
from tests.e2e.launcher import Launched, Launcher

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
METRICS_TOKEN = secrets.token_urlsafe(48)
WAIT_SECONDS = 20.0
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


# Under pytest-xdist, worker gwN takes its ports from its own range, below Linux's ephemeral
# ports (32768 and up): a port the kernel hands one worker for port 0 could otherwise be handed to
# another between this probe and the server's bind.
WORKER_PORTS = 1000
FIRST_WORKER_PORT = 20000


def free_port() -> int:
    if XDIST_WORKER is None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return int(probe.getsockname()[1])
    first = FIRST_WORKER_PORT + WORKER_PORTS * int(XDIST_WORKER.removeprefix("gw"))
    for port in random.sample(range(first, first + WORKER_PORTS), WORKER_PORTS):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {first}..{first + WORKER_PORTS - 1}")


def server_env(**overrides: str) -> dict[str, str]:
    """The test process's environment without any Meijing setting, plus `overrides`; argon2 at
    the tests' cost (tests/conftest.py), as the accounts the tests insert are hashed with it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEIJING_")}
    env.pop("DATABASE_URL", None)
    return {**env, **TEST_ARGON2_ENV, **overrides}


def start(env: dict[str, str], log_path: Path) -> tuple[Launched, str]:
    """`python -m uvicorn app.factory:create_app --factory` on a free port, with `env` as its
    whole environment and its output in `log_path` (a file, not a pipe: a full pipe would stall
    the server). Forked from the test process's launcher (tests/e2e/launcher.py), which has done
    the imports already."""
    port = free_port()
    argv = ["app.factory:create_app", "--factory"]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
    return Launcher.get().spawn(argv, env, ROOT, log_path), f"http://127.0.0.1:{port}"


def stop(process: Launched) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=WAIT_SECONDS)


def production_env(database_url: str, **overrides: str) -> dict[str, str]:
    """A production server's environment on `database_url`, with a fresh secret key."""
    return server_env(
        DATABASE_URL=database_url,
        MEIJING_ENV="production",
        MEIJING_SECRET_KEY=secrets.token_urlsafe(48),
        **overrides,
    )


def wait_until_healthy(process: Launched, url: str, log_path: Path) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # bounded polling for a process we do not control
    pytest.fail(f"server not healthy after {WAIT_SECONDS} s:\n{log_path.read_text()}")


@dataclass
class Server:
    process: Launched
    url: str
    log_path: Path

    def stop(self) -> str:
        """Stops the server (again is fine) and returns everything it wrote."""
        stop(self.process)
        return self.log_path.read_text()

    def log_lines(self) -> list[dict[str, Any]]:
        """Stops the server (a request's line is written after its response) and parses its
        output, which must be JSON lines throughout."""
        return [json.loads(line) for line in self.stop().splitlines()]


@contextlib.contextmanager
def serving(env: dict[str, str], log_path: Path) -> Iterator[Server]:
    """A uvicorn server with `env`, healthy before the block runs, stopped after it."""
    process, url = start(env, log_path)
    try:
        wait_until_healthy(process, url, log_path)
        yield Server(process, url, log_path)
    finally:
        stop(process)


@pytest.fixture
async def prepared_db_url(db_url: str, make: Builders) -> str:
    """The test database (SQLite file or PostgreSQL) with one admin account and one branch."""
    await make.account(Role.ADMIN, username="admin")
    await make.branch(None, BranchKind.COMMITTEE, name="县局党委")
    return db_url


@pytest.fixture
def server(prepared_db_url: str, tmp_path: Path) -> Iterator[Server]:
    env = production_env(
        prepared_db_url, MEIJING_METRICS_TOKEN=METRICS_TOKEN, MEIJING_LOG_LEVEL="INFO"
    )
    log_path = tmp_path / "server.log"
    with serving(env, log_path) as started:
        yield started
    process = started.process
    # A clean shutdown; uvicorn re-raises the SIGTERM it handled, hence -15 rather than 0.
    assert process.returncode in (0, -signal.SIGTERM), log_path.read_text()
    assert "Application shutdown complete" in log_path.read_text()


async def graphql(
    client: httpx.AsyncClient, query: str, token: str | None = None, **variables: Any
) -> dict[str, Any]:
    headers = {"accept": GRAPHQL_RESPONSE_JSON}
    if token:
        headers["authorization"] = f"Bearer {token}"
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE_JSON)
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body["data"]  # type: ignore[no-any-return]


async def test_real_server_signs_in_and_answers_me_and_branches(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=10.0) as client:
        signed_in = await graphql(
            client,
            """mutation($u: String!, $p: String!) {
                 login(username: $u, password: $p, deviceId: "e2e") {
                   __typename ... on SignInSuccess { accessToken } ... on AuthError { message }
                 }
               }""",
            u="admin",
            p=TEST_PASSWORD,
        )
        token = signed_in["login"]["accessToken"]
        me = await graphql(
            client, "{ me { account { username role } member { name } branch { name } } }", token
        )
        branches = await graphql(
            client, "{ branches { totalCount edges { node { name kind } } } }", token
        )
        by_get = await client.get("/graphql", params={"query": "{ __typename }"})
        unscraped = await client.get("/metrics")
        metrics = (
            await client.get("/metrics", headers={"authorization": f"Bearer {METRICS_TOKEN}"})
        ).text

    assert me == {
        "me": {"account": {"username": "admin", "role": "ADMIN"}, "member": None, "branch": None}
    }
    assert branches["branches"]["totalCount"] == 1
    assert branches["branches"]["edges"][0]["node"] == {"name": "县局党委", "kind": "COMMITTEE"}
    assert by_get.json() == {"data": {"__typename": "Query"}}
    assert 'meijing_graphql_operations_total{operation="anonymous",type="query"}' in metrics
    # In production /metrics is for whoever holds MEIJING_METRICS_TOKEN only.
    assert unscraped.status_code == 401
    lines = server.log_lines()
    assert "Application startup complete." in [line["event"] for line in lines]
    requests = [line for line in lines if line["event"] == "http_request"]
    assert {line["path"] for line in requests} >= {"/healthz", "/graphql", "/metrics"}
    assert all(line["request_id"] for line in requests)
    refused = [(line["path"], line["status"]) for line in requests if line["status"] != 200]
    assert refused == [("/metrics", 401)]


def test_real_server_refuses_to_start_in_production_without_a_secret_key(
    tmp_path: Path,
) -> None:
    env = server_env(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'never.db'}", MEIJING_ENV="production"
    )
    log_path = tmp_path / "server.log"
    process, _ = start(env, log_path)
    try:
        process.wait(timeout=WAIT_SECONDS)
    finally:
        stop(process)

    assert process.returncode != 0
    assert "MEIJING_SECRET_KEY" in log_path.read_text()
    assert not (tmp_path / "never.db").exists()


async def test_a_poisoned_row_never_stalls_a_phones_push_on_the_real_server(
    server: Server, make: Builders
) -> None:
    """RxDB's JSON.stringify escapes a NUL and a lone surrogate; PostgreSQL stores neither. The
    batch is written but for those rows, which wait in the quarantine, readable."""
    branch = await make.branch(None, BranchKind.COMMITTEE, name="县局机关")
    member = await make.member(branch, name="李民警")
    fields = "id village concerns deleted"
    push = f"""mutation($rows: [VisitInputPushRow!]) {{
                 pushVisit(visitPushRow: $rows) {{ {fields} }} }}"""

    def visit(concerns: str) -> dict[str, Any]:
        return {
            "id": secrets.token_hex(8),
            "branchId": global_id("Branch", branch.id),
            "officerId": global_id("Member", member.id),
            "village": "玫瑰村",
            "category": "household",
            "concerns": concerns,
            "status": "open",
            "peopleReached": 2,
            "visitedAt": "2026-05-01T10:00:00+08:00",
            "deleted": False,
        }

    good, nul, surrogate, last = (visit(c) for c in ("路灯坏了", "a\x00b", "\ud83d", "噪音"))
    rows = [{"newDocumentState": doc} for doc in (good, nul, surrogate, last)]
    async with httpx.AsyncClient(base_url=server.url, timeout=10.0) as client:
        signed_in = await graphql(
            client,
            """mutation($p: String!) { login(username: "admin", password: $p, deviceId: "e2e") {
                 ... on SignInSuccess { accessToken } } }""",
            p=TEST_PASSWORD,
        )
        token = signed_in["login"]["accessToken"]
        response = await client.post(
            "/graphql",
            content=json.dumps({"query": push, "variables": {"rows": rows}}),  # ASCII escapes
            headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
        )
        pulled = await graphql(
            client, f"{{ pullVisit(limit: 10) {{ documents {{ {fields} }} }} }}", token
        )
        kept = await graphql(
            client, "{ syncQuarantine { nodes { documentId row reasons { field code } } } }", token
        )

    assert response.status_code == 200 and response.json() == {"data": {"pushVisit": []}}
    assert {d["id"] for d in pulled["pullVisit"]["documents"]} == {good["id"], last["id"]}
    quarantined = {
        n["documentId"]: (json.loads(n["row"])["newDocumentState"]["concerns"], n["reasons"])
        for n in kept["syncQuarantine"]["nodes"]
    }
    assert quarantined == {
        nul["id"]: ("a\x00b", [{"field": "concerns", "code": "INVALID_CHARACTER"}]),
        surrogate["id"]: ("\ud83d", [{"field": "concerns", "code": "INVALID_CHARACTER"}]),
    }
