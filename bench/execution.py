"""Where the time of one county overview goes, in-process and one request at a time.

    .venv/bin/python bench/execution.py [--database-url URL] [--repeat 30]

Runs against the database `bench/graphql.py` prepares (run that once first). It times the
overview query through `schema.execute` (no HTTP, response cache off), then the same four
statements through the resolvers' own functions without GraphQL. The difference is the cost of
GraphQL execution itself: resolving and completing each field of the response.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
# Keep this folder (which holds a graphql.py) off the path so `import graphql` finds the library.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from access.auth import ViewerCache  # noqa: E402
from access.viewer import viewer_for  # noqa: E402
from core.clock import system_clock  # noqa: E402
from core.db import create_engine, create_sessionmaker  # noqa: E402
from core.settings import Settings  # noqa: E402
from models import Account, BranchKind  # noqa: E402
from resolvers import branch as branch_ops  # noqa: E402
from resolvers import member as member_ops  # noqa: E402
from resolvers.branch import BranchFilter  # noqa: E402
from resolvers.pagination import PageRequest  # noqa: E402
from schema import build_schema  # noqa: E402
from schema.context import Context, Loaders  # noqa: E402

OVERVIEW = (
    "{ branches(kind: BRANCH, first: 100) { totalCount edges { node { id name brandName"
    " children { id name } members { id name post partyStatus } } } } }"
)


async def timed(label: str, repeat: int, work: Callable[[], Awaitable[object]]) -> float:
    for _ in range(5):
        await work()
    started = time.perf_counter()
    for _ in range(repeat):
        await work()
    per_request = (time.perf_counter() - started) / repeat * 1000
    print(f"| {label} | {per_request:.1f} |")
    return per_request


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/meijing_bench"
        ),
    )
    args = parser.parse_args()
    settings = dataclasses.replace(
        Settings(database_url=args.database_url), response_cache_entries=0
    )
    engine = create_engine(settings.database_url)
    sessionmaker = create_sessionmaker(engine)
    schema = build_schema(settings)
    async with sessionmaker() as db:
        admin = await db.scalar(select(Account).where(Account.username == "admin"))
    if admin is None:
        raise SystemExit("no demo data: run bench/graphql.py once first")
    viewer = viewer_for(admin, None, None, None)

    async def through_graphql() -> object:
        context = Context(
            settings=settings,
            sessionmaker=sessionmaker,
            clock=system_clock,
            request_id="bench",
            viewer=viewer,
            loaders=Loaders.build(sessionmaker, viewer),
            viewer_cache=ViewerCache(5),
        )
        result = await schema.execute(OVERVIEW, context_value=context)
        assert not result.errors, result.errors
        return result

    async def sql_only() -> object:
        flt = BranchFilter(kind=BranchKind.BRANCH)
        async with sessionmaker() as db:
            page = await branch_ops.list_branches(db, viewer, flt, PageRequest(100, None))
        async with sessionmaker() as db:
            await branch_ops.count_branches(db, viewer, flt)
        ids = [b.id for b in page.items]
        async with sessionmaker() as db:
            await branch_ops.children_by_parent_id(db, ids)
        async with sessionmaker() as db:
            return await member_ops.members_by_branch_id(db, viewer, ids)

    print("| one county overview, sequential | ms |")
    print("|---|---:|")
    whole = await timed("schema.execute (GraphQL + the 4 statements)", args.repeat, through_graphql)
    sql = await timed("the 4 statements through the resolvers, no GraphQL", args.repeat, sql_only)
    print(f"| GraphQL execution alone (difference) | {whole - sql:.1f} |")
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
