"""Assessment benchmark: recompute all 32 branches of the demo county for a year, on SQLite.

    .venv/bin/python bench/assessment.py [--runs 30] [--period 2026] [--today 2026-12-02]
        [--trend-runs 10] [--trend-year 2026]

Migrates a temporary SQLite file, seeds the demo county into it (`meijing seed --demo`: 32
branches, 520 members, two years of field records, education-base activities, honours), adds an
inspector's manual scores for every branch and the demo year's ledger entries for one branch,
then times the whole recomputation — the assessed branches read, every item of every branch
scored, ranked — `--runs` times, each in a fresh session, after one warm-up. Prints the machine,
the command, the statements per recomputation, and p50 / max in milliseconds of wall-clock
time and of the process's CPU time (less disturbed by other work on the machine).

Then the trend (`assessmentTrend`'s resolver): every assessed branch's twelve months of
`--trend-year`, one branch after the other as an admin would page through them, `--trend-runs`
times; it prints the statements of one branch's trend and the time of all of them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from core.db import writing

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, insert, select  # noqa: E402

from access.viewer import Viewer  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from core.clock import FrozenClock  # noqa: E402
from core.db import create_engine, create_sessionmaker  # noqa: E402
from core.ids import new_id  # noqa: E402
from core.settings import Settings  # noqa: E402
from demo.seed import seed_demo  # noqa: E402
from models import (  # noqa: E402
    Account,
    AssessmentItem,
    Branch,
    LedgerEntry,
    LedgerItem,
    ManualScore,
    RuleKind,
)
from resolvers.assessment import (  # noqa: E402
    assessed_branches,
    assessment_trend,
    rank,
    score_branches,
)
from resolvers.period import PeriodKind, parse_period  # noqa: E402


async def prepare(url: str, now: datetime) -> None:
    """The demo county, a manual score per branch and manual item, one branch's ledger year."""
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    await seed_demo(sessionmaker, Settings(database_url=url), FrozenClock(now))
    async with writing(sessionmaker) as db:
        branches = await assessed_branches(db)
        manual = (
            await db.scalars(
                select(AssessmentItem).where(AssessmentItem.rule_kind == RuleKind.MANUAL)
            )
        ).all()
        inspector = await db.scalar(select(Account.id).where(Account.username == "inspector"))
        rows: list[dict[str, Any]] = [
            {
                "id": new_id(),
                "branch_id": b.id,
                "item_id": i.id,
                "period": "2026",
                "score": i.points * (1 + n % 4) / 4,
                "reason": "年度督导评分",
                "inspector_id": inspector,
                "created_at": now,
            }
            for n, b in enumerate(branches)
            for i in manual
        ]
        await db.execute(insert(ManualScore), rows)
        ledger = (await db.scalars(select(LedgerItem))).all()
        first: Branch = branches[0]
        entries = [
            {
                "id": new_id(),
                "branch_id": first.id,
                "item_id": item.id,
                "occurred_on": date(2026, month, 10),
                "title": item.name,
                "created_at": now - timedelta(days=30),
                "updated_at": now,
            }
            for item in ledger
            for month in range(1, 12)
        ]
        await db.execute(insert(LedgerEntry), entries)
    await engine.dispose()


async def measure(
    url: str, period: str, today: date, runs: int
) -> tuple[list[float], list[float], int, int]:
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    statements: list[str] = []
    parsed = parse_period(period)

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    async def once() -> int:
        async with sessionmaker() as db:
            branches = await assessed_branches(db)
            ranked = rank(await score_branches(db, branches, parsed, today=today, grace_days=7))
        return len(ranked)

    await once()  # warm-up: connection, compiled-statement cache
    timings, cpu = [], []
    event.listen(engine.sync_engine, "before_cursor_execute", record)
    for _ in range(runs):
        statements.clear()
        started, started_cpu = time.perf_counter(), time.process_time()
        count = await once()
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    await engine.dispose()
    return timings, cpu, len(statements), count


async def measure_trend(
    url: str, year: int, today: date, runs: int
) -> tuple[list[float], list[float], int, int]:
    """Times the twelve-month trend of every assessed branch; returns the timings of all of
    them, the statements of one branch's trend, and the number of branches."""
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    async with sessionmaker() as db:
        account = await db.scalar(select(Account).where(Account.username == "admin"))
        branches = [b.id for b in await assessed_branches(db)]
    assert account is not None
    admin = Viewer(
        account_id=account.id,
        username=account.username,
        role=account.role,
        session_id=None,
        member_id=account.member_id,
        branch_id=None,
        branch_path=None,
    )

    async def once() -> None:
        for branch_id in branches:
            async with sessionmaker() as db:
                months = await assessment_trend(
                    db, admin, branch_id, year, PeriodKind.MONTH, today=today, grace_days=7
                )
            assert len(months) == 12

    await once()  # warm-up
    event.listen(engine.sync_engine, "before_cursor_execute", record)
    timings, cpu = [], []
    for _ in range(runs):
        statements.clear()
        started, started_cpu = time.perf_counter(), time.process_time()
        await once()
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    await engine.dispose()
    return timings, cpu, len(statements) // len(branches), len(branches)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--period", default="2026")
    parser.add_argument("--today", default="2026-12-02")
    parser.add_argument("--trend-runs", type=int, default=10)
    parser.add_argument("--trend-year", type=int, default=2026)
    args = parser.parse_args()
    today = date.fromisoformat(args.today)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'assessment_bench.db'}"
        upgrade(url)
        asyncio.run(prepare(url, datetime(today.year, today.month, today.day, 1, tzinfo=UTC)))
        timings, cpu, statements, branches = asyncio.run(
            measure(url, args.period, today, args.runs)
        )
        trend, trend_cpu, trend_statements, trended = asyncio.run(
            measure_trend(url, args.trend_year, today, args.trend_runs)
        )
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, SQLite {__import__('sqlite3').sqlite_version}; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"command: .venv/bin/python bench/assessment.py --runs {args.runs} --period {args.period}"
        f" --trend-runs {args.trend_runs} --trend-year {args.trend_year}"
    )
    print(
        f"recompute {branches} branches for {args.period}: {statements} SQL statements, "
        f"{args.runs} runs, p50 {statistics.median(timings):.1f} ms, max {max(timings):.1f} ms "
        f"(CPU time of the process: p50 {statistics.median(cpu):.1f} ms, max {max(cpu):.1f} ms)"
    )
    print(
        f"trend of the 12 months of {args.trend_year} for each of {trended} branches: "
        f"{trend_statements} SQL statements per branch, {args.trend_runs} runs of all "
        f"{trended}, p50 {statistics.median(trend):.1f} ms, max {max(trend):.1f} ms "
        f"(CPU p50 {statistics.median(trend_cpu):.1f} ms, max {max(trend_cpu):.1f} ms; "
        f"per branch p50 {statistics.median(trend) / trended:.1f} ms)"
    )


if __name__ == "__main__":
    main()
