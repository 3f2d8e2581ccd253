"""County overview benchmark: the real uvicorn server (one worker, PostgreSQL) under 10 clients.

    .venv/bin/python bench/graphql.py [--seconds 20] [--clients 10] [--database-url URL]

Prepares a dedicated database (default `meijing_bench` on the local PostgreSQL), migrates and
seeds the demo county, starts `uvicorn app.factory:create_app --factory --workers 1`, signs in as
admin and sends the county overview query — all 32 branches with their members (id, name, post,
party status) and children — from concurrent clients for a fixed time. Prints requests/s, p50
and p99 latency, SQL statements per request, server memory, and the same SQL run directly with
asyncpg as the limit. Results go to BENCHMARKS.md by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson

ROOT = Path(__file__).resolve().parents[1]
# This file is named graphql.py: keep its folder off the path so `import graphql` finds the library.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from app.migrate import upgrade  # noqa: E402
from core.clock import system_clock  # noqa: E402
from core.db import create_engine, create_sessionmaker  # noqa: E402
from core.settings import Settings  # noqa: E402
from demo.seed import seed_demo  # noqa: E402

OVERVIEW = """
query CountyOverview {
  branches(kind: BRANCH, first: 100) {
    totalCount
    edges {
      node {
        id name brandName
        children { id name }
        members { id name post partyStatus }
      }
    }
  }
}
"""

DIRECT_SQL = [
    (
        "SELECT branch.* FROM branch WHERE branch.kind = 'branch' "
        "ORDER BY branch.depth, branch.sort_order, branch.id LIMIT 101"
    ),
    "SELECT count(*) FROM branch WHERE branch.kind = 'branch'",
    "SELECT * FROM branch WHERE parent_id = ANY($1::uuid[]) ORDER BY sort_order, id",
    (
        "SELECT links.unit_id, member.* FROM ("
        " SELECT branch_id AS unit_id, id AS member_id FROM member WHERE branch_id = ANY($1::uuid[])"
        " UNION ALL SELECT task_unit_id, member_id FROM task_unit_membership"
        " WHERE task_unit_id = ANY($1::uuid[])) AS links"
        " JOIN member ON member.id = links.member_id ORDER BY links.unit_id, member.name, member.id"
    ),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def prepare_database(url: str) -> None:
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    base, _, name = dsn.rpartition("/")
    admin = await asyncpg.connect(f"{base}/postgres")
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    try:
        await seed_demo(create_sessionmaker(engine), Settings(database_url=url), system_clock)
    finally:
        await engine.dispose()


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class KeepAliveClient:
    """A minimal HTTP/1.1 client over one kept-alive connection.

    httpx costs about a millisecond of client CPU per request, which on this 2-core machine
    would make the load generator, not the server, the bottleneck.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> KeepAliveClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def send(self, request: bytes) -> tuple[int, bytes]:
        self.writer.write(request)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


def post_request(port: int, token: str, payload: dict[str, Any]) -> bytes:
    body = orjson.dumps(payload)
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Accept: application/graphql-response+json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def drive(port: int, token: str, clients: int, seconds: float) -> dict[str, Any]:
    request = post_request(port, token, {"query": OVERVIEW, "operationName": "CountyOverview"})
    metrics = f"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    latencies: list[float] = []
    errors = 0
    connections = [await KeepAliveClient.open(port) for _ in range(clients)]
    probe = connections[0]
    for _ in range(50):  # warm caches and pools
        status, body = await probe.send(request)
        assert status == 200 and b'"errors"' not in body, body[:300]
    before = statements_in(await probe.send(metrics))
    deadline = time.perf_counter() + seconds

    async def client(connection: KeepAliveClient) -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            status, body = await connection.send(request)
            latencies.append(time.perf_counter() - started)
            if status != 200 or b'"errors"' in body:
                errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(client(c) for c in connections))
    elapsed = time.perf_counter() - started
    after = statements_in(await probe.send(metrics))
    _, sample_body = await probe.send(request)
    for connection in connections:
        connection.close()
    sample = orjson.loads(sample_body)
    branches = sample["data"]["branches"]
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000,
        # /metrics itself sends no SQL, so the difference is the load's alone.
        "statements_per_request": (after - before) / max(1, len(latencies)),
        "branches": branches["totalCount"],
        "members": sum(len(e["node"]["members"]) for e in branches["edges"]),
        "response_bytes": len(sample_body),
    }


def statements_in(response: tuple[int, bytes]) -> float:
    for line in response[1].decode().splitlines():
        if line.startswith("meijing_sql_statements_total "):
            return float(line.split()[1])
    raise RuntimeError("meijing_sql_statements_total missing from /metrics")


async def direct(url: str, clients: int, seconds: float) -> dict[str, Any]:
    """The same statements through asyncpg, rows decoded, no GraphQL: the ceiling."""
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    pool = await asyncpg.create_pool(dsn, min_size=clients, max_size=clients)
    count = 0

    async def one() -> None:
        async with pool.acquire() as conn:
            branches = await conn.fetch(DIRECT_SQL[0])
            await conn.fetchval(DIRECT_SQL[1])
        ids = [b["id"] for b in branches]
        async with pool.acquire() as conn:
            await conn.fetch(DIRECT_SQL[2], ids)
        async with pool.acquire() as conn:
            await conn.fetch(DIRECT_SQL[3], ids)

    for _ in range(50):
        await one()
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal count
        while time.perf_counter() < deadline:
            await one()
            count += 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    await pool.close()
    return {"rps": count / elapsed, "statements_per_request": len(DIRECT_SQL)}


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/meijing_bench"
        ),
    )
    args = parser.parse_args()
    url: str = args.database_url
    await prepare_database(url)

    runs: dict[str, dict[str, Any]] = {}
    for label, cache_entries in (
        ("response cache on (default)", "128"),
        ("response cache off", "0"),
    ):
        runs[label] = await serve_and_drive(url, cache_entries, args.clients, args.seconds)
    limit = await direct(url, args.clients, args.seconds)

    sample = next(iter(runs.values()))
    print(f"# County overview benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"data: {sample['branches']} branches, {sample['members']} members in the response, "
        f"{sample['response_bytes'] / 1024:.0f} KiB"
    )
    print(f"load: {args.clients} concurrent clients for {args.seconds:.0f} s, one uvicorn worker\n")
    print("| | requests/s | p50 ms | p99 ms | SQL statements/request | server RSS MiB |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, run in runs.items():
        print(
            f"| Meijing GraphQL, {label} | {run['rps']:.0f} | {run['p50_ms']:.1f} | "
            f"{run['p99_ms']:.1f} | {run['statements_per_request']:.1f} | {run['rss_mib']:.0f} |"
        )
    print(
        f"| same SQL, asyncpg directly | {limit['rps']:.0f} | | | "
        f"{limit['statements_per_request']} | |"
    )
    failed = sum(run["errors"] for run in runs.values())
    if failed:
        print(f"\n{failed} requests failed")
        sys.exit(1)


async def serve_and_drive(
    url: str, cache_entries: str, clients: int, seconds: float
) -> dict[str, Any]:
    """Starts one uvicorn worker on `url`, signs in as admin and drives the overview query."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "MEIJING_LOG_LEVEL": "WARNING",
        "MEIJING_RESPONSE_CACHE_ENTRIES": cache_entries,
        "MEIJING_DEMO_PASSWORD": os.environ.get("MEIJING_DEMO_PASSWORD", "meijing-demo"),
    }
    server = subprocess.Popen(  # noqa: ASYNC220 - starting it does not block; it runs alongside
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.factory:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=5) as c:
            for _ in range(200):
                try:
                    if (await c.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("server did not become healthy")
            login = await c.post(
                "/graphql",
                json={
                    "query": 'mutation($p: String!) { login(username: "admin", password: $p,'
                    ' deviceId: "bench") { ... on SignInSuccess { accessToken } } }',
                    "variables": {"p": env["MEIJING_DEMO_PASSWORD"]},
                },
            )
            token = login.json()["data"]["login"]["accessToken"]
        served = await drive(port, token, clients, seconds)
        served["rss_mib"] = rss_mib(server.pid)
        return served
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    asyncio.run(main())
