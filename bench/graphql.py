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

ROOT = Path(__file__).resolve().parents[1]
# This file is named graphql.py: keep its folder off the path so `import graphql` finds the library.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from app.clock import system_clock  # noqa: E402
from app.db import create_engine, create_sessionmaker  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.seed import seed_demo  # noqa: E402
from app.settings import Settings  # noqa: E402

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


async def statements_so_far(client: httpx.AsyncClient) -> float:
    text = (await client.get("/metrics")).text
    for line in text.splitlines():
        if line.startswith("meijing_sql_statements_total "):
            return float(line.split()[1])
    raise RuntimeError("meijing_sql_statements_total missing from /metrics")


async def drive(base_url: str, token: str, clients: int, seconds: float) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    payload = {"query": OVERVIEW, "operationName": "CountyOverview"}
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, limits=limits, timeout=30
    ) as c:
        for _ in range(50):  # warm caches, pools and the JIT-free interpreter alike
            (await c.post("/graphql", json=payload)).raise_for_status()
        before = await statements_so_far(c)
        deadline = time.perf_counter() + seconds

        async def client() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await c.post("/graphql", json=payload)
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200 or "errors" in response.json():
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        elapsed = time.perf_counter() - started
        after = await statements_so_far(c)
        sample = (await c.post("/graphql", json=payload)).json()
    branches = sample["data"]["branches"]
    members = sum(len(e["node"]["members"]) for e in branches["edges"])
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "statements_per_request": (after - before - 0) / max(1, len(latencies)),
        "branches": branches["totalCount"],
        "members": members,
        "response_bytes": len(httpx.Response(200, json=sample).content),
    }


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

    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "MEIJING_LOG_LEVEL": "WARNING",
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
        served = await drive(base_url, token, args.clients, args.seconds)
        memory = rss_mib(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=20)
    limit = await direct(url, args.clients, args.seconds)

    print(f"# County overview benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"data: {served['branches']} branches, {served['members']} members in the response, "
        f"{served['response_bytes'] / 1024:.0f} KiB"
    )
    print(f"load: {args.clients} concurrent clients for {args.seconds:.0f} s, one uvicorn worker\n")
    print("| | requests/s | p50 ms | p99 ms | SQL statements/request | server RSS MiB |")
    print("|---|---:|---:|---:|---:|---:|")
    print(
        f"| Meijing GraphQL (uvicorn) | {served['rps']:.0f} | {served['p50_ms']:.1f} | "
        f"{served['p99_ms']:.1f} | {served['statements_per_request']:.1f} | {memory:.0f} |"
    )
    print(
        f"| same SQL, asyncpg directly | {limit['rps']:.0f} | | | "
        f"{limit['statements_per_request']} | |"
    )
    if served["errors"]:
        print(f"\n{served['errors']} requests failed")


if __name__ == "__main__":
    asyncio.run(main())
