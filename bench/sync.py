"""Offline sync benchmark: the real uvicorn server (one worker, PostgreSQL), RxDB's operations.

    .venv/bin/python bench/sync.py [--quick] [--visits 100000] [--database-url URL]

Recreates a dedicated database (default `sync_bench`), migrates it, seeds the demo county and
COPYs `--visits` visits into it, starts `uvicorn app.factory:create_app --factory --workers 1`
and measures, as RxDB's builders send them:

- initial pull: one device pulls every visit in pages of 1,000 (pullVisit, all 13 fields and
  the checkpoint), through the fast path, and for comparison a few pages through normal
  execution (the same document with `@include(if: true)`, which the fast path leaves alone);
- push: 10 devices concurrently push batches of 100 visits; every other batch edits the
  previous one with its assumedMasterState, so the content comparison (conflict detection)
  runs on every row;
- stream: 200 WebSocket subscribers (graphql-transport-ws) on streamVisit while one device
  pushes a visit at a time; latency from sending the push to each subscriber receiving it
  (so it includes the push's own round trip); then the server's RSS;
- the limit: the same pull and push database work done directly with asyncpg + orjson;
- the wire: bytes per visit of a pull page of 100 and of 1,000 visits as sent for each
  `Accept-Encoding` (none, gzip, br, zstd), and pages of 1,000 per second with each, which is
  what compressing them costs the server.

Prints one table. `--quick` (20,000 visits, shorter phases) checks that everything runs.
The in-process Feed carries stream notices within one server process; with several processes
the stream needs a cross-process feed (PostgreSQL LISTEN/NOTIFY), which this script does not
assume: it starts one worker.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# This file is named sync.py: keep its folder off the path so `import sync` finds the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import brotli  # noqa: E402
import httpx  # noqa: E402
import orjson  # noqa: E402
import websockets  # noqa: E402
import zstandard  # noqa: E402

from app.migrate import upgrade  # noqa: E402
from bench.graphql import KeepAliveClient, free_port, post_request  # noqa: E402
from bench.graphql import rss_mib as process_rss_mib  # noqa: E402
from core.clock import system_clock  # noqa: E402
from core.db import create_engine, create_sessionmaker  # noqa: E402
from core.global_id import global_id  # noqa: E402
from core.settings import Settings  # noqa: E402
from demo.seed import seed_demo  # noqa: E402

FIELDS = (
    "id branchId officerId village household category concerns resolution status "
    "peopleReached visitedAt updatedAt deleted"
)
# What RxDB's pullQueryBuilderFromRxSchema sends for Visit.
PULL = (
    "query PullVisit($checkpoint: VisitInputCheckpoint, $limit: Int!) {"
    " pullVisit(checkpoint: $checkpoint, limit: $limit) {"
    f" documents {{ {FIELDS} }} checkpoint {{ id updatedAt }} }} }}"
)
PULL_NORMAL = PULL.replace("limit: $limit)", "limit: $limit) @include(if: true)")
PUSH = (
    "mutation PushVisit($visitPushRow: [VisitInputPushRow!]) {"
    f" pushVisit(visitPushRow: $visitPushRow) {{ {FIELDS} }} }}"
)
STREAM = (
    "subscription onStream($headers: VisitInputHeaders) { streamVisit(headers: $headers) {"
    f" documents {{ {FIELDS} }} checkpoint {{ id updatedAt }} }} }}"
)
PAGE = 1000
ENCODINGS = ("identity", "gzip", "br", "zstd")
# What the server runs for each encoding (app/compression.py: level 4 throughout).
ENCODE: dict[str, Callable[[bytes], bytes]] = {
    "identity": lambda body: body,
    "gzip": lambda body: gzip.compress(body, compresslevel=4),
    "br": lambda body: brotli.compress(body, quality=4),
    "zstd": lambda body: zstandard.ZstdCompressor(level=4).compress(body),
}
DECODE: dict[str, Callable[[bytes], bytes]] = {
    "identity": lambda body: body,
    "gzip": gzip.decompress,
    "br": brotli.decompress,
    "zstd": lambda body: zstandard.ZstdDecompressor().decompressobj().decompress(body),
}
PASSWORD = os.environ.get("MEIJING_DEMO_PASSWORD", "meijing-demo")

# The pull's SQL for an admin (scope: everything), as sync/pull.py sends it.
DIRECT_PULL = (
    "SELECT id, branch_id, officer_id, village, household, category, concerns, resolution,"
    " status, people_reached, visited_at_text, updated_at, deleted FROM visit"
    " WHERE ($1::bigint IS NULL OR (updated_at, id) > ($1, $2))"
    " ORDER BY updated_at, id LIMIT $3"
)


def rss_mib(pid: int) -> float:
    """RSS of a process and its descendants (uvicorn's workers when there are several)."""
    total = process_rss_mib(pid)
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            total += rss_mib(int(child))
    return total


@dataclass
class County:
    """Branch and member ids of the demo county that visits are filed under."""

    pairs: list[tuple[uuid.UUID, uuid.UUID]]  # (branch id, member id) of members
    stored_visits: int = 0  # all visits in the database: the demo years' plus the COPYed ones

    def visit(self, n: int) -> dict[str, Any]:
        branch, member = self.pairs[n % len(self.pairs)]
        return {
            "id": str(uuid.uuid4()),
            "branchId": global_id("Branch", branch),
            "officerId": global_id("Member", member),
            "village": f"玫瑰村{n % 50}组",
            "household": None if n % 3 else f"{n}号",
            "category": "household",
            "concerns": "邻里纠纷" if n % 5 == 0 else None,
            "resolution": None,
            "status": "open",
            "peopleReached": n % 7 + 1,
            "visitedAt": "2026-11-20T10:00:00+08:00",
            "deleted": False,
        }


def dsn_of(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def prepare_database(url: str, visits: int) -> County:
    """A fresh database: migrated, the demo county, and `visits` visits COPYed in."""
    base, _, name = dsn_of(url).rpartition("/")
    admin = await asyncpg.connect(f"{base}/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    try:
        settings = Settings(database_url=url, demo_password=PASSWORD)
        await seed_demo(create_sessionmaker(engine), settings, system_clock)
    finally:
        await engine.dispose()
    conn = await asyncpg.connect(dsn_of(url))
    try:
        pairs = [
            (r["branch_id"], r["id"])
            for r in await conn.fetch("SELECT branch_id, id FROM member ORDER BY id")
        ]
        county = County(pairs)
        now = datetime.now(UTC)
        first_stamp = int(now.timestamp() * 1000) - visits
        rows = []
        for n in range(visits):
            branch, member = pairs[n % len(pairs)]
            doc = county.visit(n)
            # 100 documents share a stamp, as a pushed batch of 100 does.
            stamp = first_stamp + n // 100
            rows.append(
                (
                    doc["id"], branch, member, doc["village"], doc["household"],
                    doc["category"], doc["concerns"], None, "open", doc["peopleReached"],
                    doc["visitedAt"], now - timedelta(days=8), stamp, False, now,
                )
            )  # fmt: skip
        columns = [
            "id", "branch_id", "officer_id", "village", "household", "category", "concerns",
            "resolution", "status", "people_reached", "visited_at_text", "visited_at",
            "updated_at", "deleted", "created_at",
        ]  # fmt: skip
        await conn.copy_records_to_table("visit", records=rows, columns=columns)
        await conn.execute(
            "UPDATE data_version SET sync_clock = greatest(sync_clock, $1), version = version + 1",
            first_stamp + visits,
        )
        await conn.execute("ANALYZE visit")
        county.stored_visits = int(await conn.fetchval("SELECT count(*) FROM visit"))
    finally:
        await conn.close()
    return county


@asynccontextmanager
async def server(url: str, workers: int) -> AsyncIterator[tuple[subprocess.Popen[bytes], int]]:
    """uvicorn with `workers` worker processes on `url`, healthy."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "MEIJING_LOG_LEVEL": "WARNING",
        "MEIJING_DEMO_PASSWORD": PASSWORD,
    }
    command = [sys.executable, "-m", "uvicorn", "app.factory:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    command += ["--log-level", "warning", "--no-access-log"]
    process = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: ASYNC220 - runs alongside
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as c:
            for _ in range(200):
                try:
                    if (await c.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("server did not become healthy")
        yield process, port
    finally:
        process.terminate()
        process.wait(timeout=20)


async def login(port: int, device: str) -> str:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as c:
        response = await c.post(
            "/graphql",
            json={
                "query": 'mutation($p: String!, $d: String) { login(username: "admin",'
                " password: $p, deviceId: $d) { ... on SignInSuccess { accessToken } } }",
                "variables": {"p": PASSWORD, "d": device},
            },
        )
        body = response.json()
        if not (body.get("data") or {}).get("login"):
            raise RuntimeError(f"login failed: {body}")
        return str(body["data"]["login"]["accessToken"])


def pull_request(
    port: int,
    token: str,
    query: str,
    checkpoint: dict[str, Any] | None,
    limit: int,
    encoding: str = "identity",
) -> bytes:
    request = post_request(
        port, token, {"query": query, "variables": {"checkpoint": checkpoint, "limit": limit}}
    )
    return request.replace(b"\r\n\r\n", f"\r\nAccept-Encoding: {encoding}\r\n\r\n".encode(), 1)


async def pull_all(
    client: KeepAliveClient,
    port: int,
    token: str,
    query: str,
    max_pages: int | None = None,
    encoding: str = "identity",
) -> dict[str, Any]:
    """Pages through the collection from the start, as RxDB's initial pull does."""
    checkpoint: dict[str, Any] | None = None
    documents = pages = wire_bytes = 0
    latencies: list[float] = []
    started = time.perf_counter()
    while max_pages is None or pages < max_pages:
        request = pull_request(port, token, query, checkpoint, PAGE, encoding)
        sent = time.perf_counter()
        status, wire = await client.send(request)
        latencies.append(time.perf_counter() - sent)
        wire_bytes += len(wire)
        body = DECODE[encoding](wire)
        if status != 200 or b'"errors"' in body:
            raise RuntimeError(body[:500].decode())
        page = orjson.loads(body)["data"]["pullVisit"]
        documents += len(page["documents"])
        pages += 1
        checkpoint = page["checkpoint"]
        if len(page["documents"]) < PAGE:
            break
    elapsed = time.perf_counter() - started
    return {
        "documents": documents,
        "pages": pages,
        "docs_per_s": documents / elapsed,
        "pages_per_s": pages / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "bytes_per_visit": wire_bytes / documents,
    }


async def wire_sizes(client: KeepAliveClient, port: int, token: str, pages: int) -> list[str]:
    """Rows of the wire table: bytes per visit of a first page of 100 visits, and of `pages`
    pages of 1,000 with their rate, for each Accept-Encoding; and the CPU one page of 1,000
    costs to compress, timed here (the best of 20) since the rates move with the machine's load."""
    status, plain = await client.send(pull_request(port, token, PULL, None, PAGE))
    assert status == 200
    rows = []
    for encoding in ENCODINGS:
        timings = []
        for _ in range(20):
            started = time.perf_counter()
            ENCODE[encoding](plain)
            timings.append(time.perf_counter() - started)
        status, wire = await client.send(pull_request(port, token, PULL, None, 100, encoding))
        assert (
            status == 200
            and len(orjson.loads(DECODE[encoding](wire))["data"]["pullVisit"]["documents"]) == 100
        )
        paged = await pull_all(client, port, token, PULL, max_pages=pages, encoding=encoding)
        rows.append(
            f"| {encoding} | {len(wire):,} ({len(wire) / 100:.0f}) |"
            f" {paged['bytes_per_visit']:.0f} | {min(timings) * 1000:.1f} |"
            f" {paged['pages_per_s']:.0f} (p50 {paged['p50_ms']:.1f} ms) |"
        )
    return rows


async def direct_pull(url: str) -> dict[str, Any]:
    """The pull's SQL through asyncpg, each page turned into JSON by orjson: the ceiling."""
    conn = await asyncpg.connect(dsn_of(url))
    try:
        stamp: int | None = None
        last_id = ""
        documents = pages = 0
        started = time.perf_counter()
        while True:
            rows = await conn.fetch(DIRECT_PULL, stamp, last_id, PAGE)
            # The same wire form the server sends: Relay ids for references, float stamps.
            orjson.dumps(
                {
                    "data": {
                        "pullVisit": {
                            "documents": [
                                {
                                    "id": r[0],
                                    "branchId": global_id("Branch", r[1]),
                                    "officerId": global_id("Member", r[2]),
                                    "village": r[3],
                                    "household": r[4],
                                    "category": r[5],
                                    "concerns": r[6],
                                    "resolution": r[7],
                                    "status": r[8],
                                    "peopleReached": r[9],
                                    "visitedAt": r[10],
                                    "updatedAt": float(r[11]),
                                    "deleted": r[12],
                                }
                                for r in rows
                            ]
                        }
                    }
                }
            )
            documents += len(rows)
            pages += 1
            if len(rows) < PAGE:
                break
            stamp, last_id = rows[-1]["updated_at"], rows[-1]["id"]
        elapsed = time.perf_counter() - started
    finally:
        await conn.close()
    return {"docs_per_s": documents / elapsed, "pages_per_s": pages / elapsed}


async def push_load(
    port: int, county: County, devices: int, batch: int, seconds: float
) -> dict[str, Any]:
    """`devices` concurrent devices, each pushing `batch` new visits, then an edit of them."""
    tokens = [await login(port, f"bench-push-{i}") for i in range(devices)]
    accepted = conflicts = requests = 0
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def device(index: int, token: str) -> None:
        nonlocal accepted, conflicts, requests
        client = await KeepAliveClient.open(port)
        n = index * 10_000_000
        try:
            while time.perf_counter() < deadline:
                docs = [county.visit(n + i) for i in range(batch)]
                n += batch
                edits = [{**d, "status": "resolved", "resolution": "已调解"} for d in docs]
                for rows in (
                    [{"assumedMasterState": None, "newDocumentState": d} for d in docs],
                    [
                        {"assumedMasterState": d, "newDocumentState": e}
                        for d, e in zip(docs, edits, strict=True)
                    ],
                ):
                    request = post_request(
                        port, token, {"query": PUSH, "variables": {"visitPushRow": rows}}
                    )
                    sent = time.perf_counter()
                    status, body = await client.send(request)
                    latencies.append(time.perf_counter() - sent)
                    if status != 200 or b'"errors"' in body:
                        raise RuntimeError(body[:500].decode())
                    returned = orjson.loads(body)["data"]["pushVisit"]
                    conflicts += len(returned)
                    accepted += len(rows)
                    requests += 1
        finally:
            client.close()

    started = time.perf_counter()
    await asyncio.gather(*(device(i, t) for i, t in enumerate(tokens)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rows_per_s": accepted / elapsed,
        "requests": requests,
        "conflicts": conflicts,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000,
    }


async def direct_push(url: str, county: County, devices: int, batch: int, seconds: float) -> float:
    """A push's database work through asyncpg: lock the rows, take a stamp, write, commit."""
    pool = await asyncpg.create_pool(dsn_of(url), min_size=devices, max_size=devices)
    accepted = 0
    deadline = time.perf_counter() + seconds
    member_branch = {m: b for b, m in county.pairs}

    async def one(docs: list[dict[str, Any]], edit: bool) -> None:
        nonlocal accepted
        ids = [d["id"] for d in docs]
        async with pool.acquire() as conn, conn.transaction():
            stored = await conn.fetch(
                "SELECT * FROM visit WHERE id = ANY($1::varchar[]) FOR UPDATE", ids
            )
            assert len(stored) == (len(docs) if edit else 0)
            stamp = await conn.fetchval(
                "UPDATE data_version SET version = version + 1,"
                " sync_clock = greatest(sync_clock + 1, $1) WHERE id = 1 RETURNING sync_clock",
                int(time.time() * 1000),
            )
            now = datetime.now(UTC)
            records = [
                (
                    d["id"], member_branch[m], m, d["village"], d["household"], d["category"],
                    d["concerns"], d["resolution"], d["status"], d["peopleReached"],
                    d["visitedAt"], now, stamp, False, now,
                )
                for d in docs
                for m in [county.pairs[0][1]]
            ]  # fmt: skip
            await conn.executemany(
                "INSERT INTO visit (id, branch_id, officer_id, village, household, category,"
                " concerns, resolution, status, people_reached, visited_at_text, visited_at,"
                " updated_at, deleted, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
                " $9, $10, $11, $12, $13, $14, $15) ON CONFLICT (id) DO UPDATE SET"
                " status = excluded.status, resolution = excluded.resolution,"
                " updated_at = excluded.updated_at",
                records,
            )
        orjson.dumps([])
        accepted += len(docs)

    async def device(index: int) -> None:
        n = 900_000_000 + index * 10_000_000
        while time.perf_counter() < deadline:
            docs = [county.visit(n + i) for i in range(batch)]
            n += batch
            await one(docs, edit=False)
            await one([{**d, "status": "resolved", "resolution": "已调解"} for d in docs], True)

    started = time.perf_counter()
    await asyncio.gather(*(device(i) for i in range(devices)))
    elapsed = time.perf_counter() - started
    await pool.close()
    return accepted / elapsed


async def stream_load(
    port: int, process: subprocess.Popen[bytes], county: County, subscribers: int, events: int
) -> dict[str, Any]:
    """Latency from sending a push to each of `subscribers` WebSocket subscribers receiving it."""
    token = await login(port, "bench-stream")
    pusher_token = await login(port, "bench-stream-pusher")
    sent_at: dict[str, float] = {}
    latencies: list[float] = []
    received = 0
    ready = 0
    all_ready = asyncio.Event()
    all_received = asyncio.Event()
    stop = asyncio.Event()

    async def subscriber(index: int) -> None:
        nonlocal received, ready
        async with websockets.connect(
            f"ws://127.0.0.1:{port}/graphql",
            subprotocols=[websockets.Subprotocol("graphql-transport-ws")],
            max_size=None,
        ) as ws:
            init = {"Authorization": f"Bearer {token}"}
            await ws.send(orjson.dumps({"type": "connection_init", "payload": init}).decode())
            ack = orjson.loads(await ws.recv())
            assert ack["type"] == "connection_ack", ack
            subscribe = {"id": "1", "type": "subscribe", "payload": {"query": STREAM}}
            await ws.send(orjson.dumps(subscribe).decode())
            ready += 1
            if ready == subscribers:
                all_ready.set()
            while not stop.is_set():
                try:
                    message = await asyncio.wait_for(ws.recv(), timeout=0.5)
                except TimeoutError:
                    continue
                arrived = time.perf_counter()
                event = orjson.loads(message)
                if event["type"] != "next":
                    raise RuntimeError(str(event)[:500])
                for doc in event["payload"]["data"]["streamVisit"]["documents"]:
                    if doc["id"] in sent_at:
                        latencies.append(arrived - sent_at[doc["id"]])
                        received += 1
                        if received == events * subscribers:
                            all_received.set()

    tasks = [asyncio.create_task(subscriber(i)) for i in range(subscribers)]
    await asyncio.wait_for(all_ready.wait(), timeout=120)
    await asyncio.sleep(1.0)  # the subscribe messages are processed after the ack
    rss_connected = rss_mib(process.pid)
    client = await KeepAliveClient.open(port)
    for n in range(events):
        doc = county.visit(800_000_000 + n)
        rows = [{"assumedMasterState": None, "newDocumentState": doc}]
        request = post_request(
            port, pusher_token, {"query": PUSH, "variables": {"visitPushRow": rows}}
        )
        sent_at[doc["id"]] = time.perf_counter()
        status, body = await client.send(request)
        assert status == 200 and b'"errors"' not in body, body[:300]
        await asyncio.sleep(0.1)
    with contextlib.suppress(TimeoutError):  # what has not arrived in 10 s is reported missing
        await asyncio.wait_for(all_received.wait(), timeout=10)
    rss_after = rss_mib(process.pid)
    stop.set()
    await asyncio.gather(*tasks)
    client.close()
    latencies.sort()
    return {
        "expected": events * subscribers,
        "received": received,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p99_ms": latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000
        if latencies
        else float("nan"),
        "rss_connected": rss_connected,
        "rss_after": max(rss_connected, rss_after),
    }


async def profile(url: str, pages: int, batches: int) -> None:
    """cProfile of pulls and pushes in-process (create_app, httpx ASGI transport), top entries.

    Run after a benchmark run, on its database.
    """
    import cProfile
    import pstats

    from app.factory import create_app

    # Without the response cache: a device asks for each page once, so pulls never hit it.
    settings = Settings(
        database_url=url, log_level="WARNING", demo_password=PASSWORD, response_cache_entries=0
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as c:
        body = {
            "query": 'mutation($p: String!) { login(username: "admin", password: $p,'
            ' deviceId: "bench-profile") { ... on SignInSuccess { accessToken } } }',
            "variables": {"p": PASSWORD},
        }
        token = (await c.post("/graphql", json=body)).json()["data"]["login"]["accessToken"]
        headers = {"Authorization": f"Bearer {token}"}
        conn = await asyncpg.connect(dsn_of(url))
        pairs = [
            (r["branch_id"], r["id"])
            for r in await conn.fetch("SELECT branch_id, id FROM member ORDER BY id")
        ]
        await conn.close()
        county = County(pairs)

        async def pulls() -> None:
            checkpoint = None
            for _ in range(pages):
                variables = {"checkpoint": checkpoint, "limit": PAGE}
                r = await c.post(
                    "/graphql", json={"query": PULL, "variables": variables}, headers=headers
                )
                checkpoint = orjson.loads(r.content)["data"]["pullVisit"]["checkpoint"]

        async def pushes() -> None:
            for b in range(batches):
                docs = [county.visit(700_000_000 + b * 100 + i) for i in range(100)]
                rows = [{"assumedMasterState": None, "newDocumentState": d} for d in docs]
                r = await c.post(
                    "/graphql",
                    json={"query": PUSH, "variables": {"visitPushRow": rows}},
                    headers=headers,
                )
                assert "errors" not in r.json()

        await pulls()  # warm
        for label, work in (("pull", pulls), ("push", pushes)):
            profiler = cProfile.Profile()
            started = time.perf_counter()
            profiler.enable()
            await work()
            profiler.disable()
            print(f"\n## {label}: {time.perf_counter() - started:.2f} s in-process")
            stats = pstats.Stats(profiler)
            stats.sort_stats("tottime").print_stats(20)
            stats.sort_stats("cumulative").print_stats(40)
    await app.state.engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small and short: does it run")
    parser.add_argument("--visits", type=int, default=None)
    parser.add_argument("--push-seconds", type=float, default=None)
    parser.add_argument("--subscribers", type=int, default=200)
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="uvicorn worker processes; above 1 the stream needs a cross-process feed",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_SYNC_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/sync_bench"
        ),
    )
    parser.add_argument("--profile", action="store_true", help="cProfile in-process, then exit")
    args = parser.parse_args()
    if args.profile:
        await profile(args.database_url, pages=20, batches=20)
        return
    visits = args.visits or (20_000 if args.quick else 100_000)
    push_seconds = args.push_seconds or (3.0 if args.quick else 15.0)
    events = 10 if args.quick else 50
    url: str = args.database_url

    started = time.perf_counter()
    county = await prepare_database(url, visits)
    seeded_s = time.perf_counter() - started

    async with server(url, args.workers) as (process, port):
        token = await login(port, "bench-pull")
        client = await KeepAliveClient.open(port)
        await pull_all(client, port, token, PULL, max_pages=3)  # warm up
        normal = await pull_all(
            client, port, token, PULL_NORMAL, max_pages=10 if args.quick else 20
        )
        fast = await pull_all(client, port, token, PULL)
        wire = await wire_sizes(client, port, token, pages=10 if args.quick else 30)
        client.close()
        assert fast["documents"] == county.stored_visits, (fast["documents"], county)
        rss_after_pull = rss_mib(process.pid)
        push = await push_load(port, county, devices=10, batch=100, seconds=push_seconds)
        rss_after_push = rss_mib(process.pid)
        stream = await stream_load(port, process, county, args.subscribers, events)

    limit_pull = await direct_pull(url)
    limit_push = await direct_push(url, county, 10, 100, push_seconds)

    print(f"\n# Sync benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; {args.workers} uvicorn worker(s) on PostgreSQL; client on the same machine"
    )
    print(
        f"data: {visits} visits COPYed in, {county.stored_visits} with the demo years' (2025, 2026),"
        f" ready in {seeded_s:.1f} s\n"
    )
    print("| measure | Meijing | driver limit (asyncpg + orjson) | target |")
    print("|---|---:|---:|---|")
    print(
        f"| initial pull, visits/s (pages of {PAGE}, fast path) | {fast['docs_per_s']:,.0f}"
        f" ({fast['pages_per_s']:.0f} pages/s, p50 {fast['p50_ms']:.1f} ms) |"
        f" {limit_pull['docs_per_s']:,.0f} ({limit_pull['pages_per_s']:.0f} pages/s) |"
        f" ≥ 100,000 and ≥ ⅓ of the limit ({fast['docs_per_s'] / limit_pull['docs_per_s']:.0%}) |"
    )
    print(
        f"| pull through normal execution, visits/s ({normal['pages']} pages) |"
        f" {normal['docs_per_s']:,.0f} ({normal['pages_per_s']:.0f} pages/s,"
        f" p50 {normal['p50_ms']:.1f} ms) | | for comparison |"
    )
    print(
        f"| push, visits/s (10 devices, batches of 100, half edits) | {push['rows_per_s']:,.0f}"
        f" (p50 {push['p50_ms']:.0f} ms, p99 {push['p99_ms']:.0f} ms, {push['conflicts']}"
        f" conflicts) | {limit_push:,.0f} | ≥ 10,000 |"
    )
    print(
        f"| stream latency, push sent → event received, {args.subscribers} subscribers |"
        f" p50 {stream['p50_ms']:.0f} ms, p99 {stream['p99_ms']:.0f} ms"
        f" ({stream['received']}/{stream['expected']} events) | | p99 ≤ 200 ms |"
    )
    print(
        f"| server RSS, MiB | after pull {rss_after_pull:.0f}, after push {rss_after_push:.0f},"
        f" {args.subscribers} subscribers {stream['rss_after']:.0f} | | < 300 MB |"
    )
    print(
        "\n| Accept-Encoding | page of 100 visits, bytes (per visit) |"
        " pages of 1,000, bytes per visit | compressing one page of 1,000, ms |"
        " pages of 1,000 per second |"
    )
    print("|---|---:|---:|---:|---:|")
    print("\n".join(wire))


if __name__ == "__main__":
    asyncio.run(main())
