"""The demo ends at the moment it is seeded, whatever day that is, and its last twelve months
(`dashboard(period: "P12M")`) show the article's figures beside a quieter year before them.

Each case seeds the whole county (seconds), so the days are few: New Year's Day in the small
hours, a leap day, the last evening of June and a December morning.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import Date, func, select

from core.clock import FrozenClock
from core.db import Sessionmaker
from core.settings import Settings
from demo.seed import seed_demo
from models import Base
from models.base import UTCDateTime
from resolvers.period import BUREAU_TZ, local_date, parse_period
from tests.conftest import BACKENDS, Api

SEED_MOMENTS = (
    datetime(2027, 1, 1, 0, 30, tzinfo=BUREAU_TZ),
    datetime(2028, 2, 29, 12, 0, tzinfo=BUREAU_TZ),
    datetime(2026, 6, 30, 23, 59, tzinfo=BUREAU_TZ),
    datetime(2026, 12, 3, 9, 0, tzinfo=BUREAU_TZ),
)

# Dates that look ahead by nature: when work is due or a status ends, not when anything
# happened. Everything else the seed writes with a date has happened by the seed's moment.
AHEAD = {
    ("directive", "deadline"),
    ("spot_check_finding", "deadline"),
    ("reminder", "due_on"),
    ("reminder", "period_end"),
    ("device_session", "expires_at"),
    ("account", "locked_until"),
}

ARTICLE = """
query {
  dashboard(period: "P12M") {
    period periodLabel previousPeriod
    partyBranches
    members { total }
    education { activities { value previous } audience { value previous } }
    difficultiesSolved { value previous }
    bannersReceived { value previous }
    fieldRecords { visits { value previous } byMonth { label visits { value previous } } }
  }
}"""


async def _latest_dates(sessionmaker: Sessionmaker) -> dict[tuple[str, str], date | datetime]:
    """The latest value of every date and timestamp column the seed filled."""
    latest: dict[tuple[str, str], date | datetime] = {}
    async with sessionmaker() as db:
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                if not isinstance(column.type, Date | UTCDateTime):
                    continue
                value = await db.scalar(select(func.max(column)))
                if value is not None:
                    latest[(table.name, column.name)] = value
    return latest


# Where records fall is decided in Python, the same on both databases, and seeding is the slowest
# thing the suite does: each moment is seeded once, today's on PostgreSQL and the others on SQLite
# (all of them on SQLite when PostgreSQL is not there).
CASES = [
    pytest.param(backend, moment, id=f"{backend}-{moment.date().isoformat()}")
    for moment in SEED_MOMENTS
    for backend in BACKENDS
    if (backend == "postgresql") == (moment == SEED_MOMENTS[-1])
    or (backend == "sqlite" and "postgresql" not in BACKENDS)
]


@pytest.mark.parametrize(("backend", "moment"), CASES, indirect=["backend"])
async def test_demo_holds_no_record_after_its_seed_moment_and_p12m_shows_the_article(
    moment: datetime,
    sessionmaker: Sessionmaker,
    settings: Settings,
    clock: FrozenClock,
    api: Api,
) -> None:
    clock.now = moment
    await seed_demo(sessionmaker, settings, clock)
    today = local_date(moment)

    latest = await _latest_dates(sessionmaker)
    for key in (
        ("visit", "visited_at"),
        ("education_activity", "held_on"),
        ("ledger_entry", "occurred_on"),
    ):
        assert key in latest  # the check below reads the records, not an empty table
    late = {
        key: value
        for key, value in latest.items()
        if key not in AHEAD and (value > moment if isinstance(value, datetime) else value > today)
    }
    assert late == {}

    token = await api.login("admin", settings.demo_password)
    d = (await api(ARTICLE, token=token))["data"]["dashboard"]
    # The twelve months ending with the seed's day, and the same window a year earlier.
    window = parse_period("P12M", today)
    assert window.end == today and window.start.year == today.year - 1
    assert (d["period"], d["previousPeriod"]) == (str(window), str(window.same_period_last_year()))
    assert d["periodLabel"].endswith(f"至{today.year}年{today.month}月{today.day}日")
    assert d["partyBranches"] == 32  # 32个党支部
    assert d["members"]["total"] >= 500  # 党员500余名
    education = d["education"]
    assert education["activities"] == {"value": 216, "previous": 152}  # 200余场次
    assert education["audience"] == {"value": 7320, "previous": 5180}  # 7000余人次
    assert d["difficultiesSolved"] == {"value": 356, "previous": 288}  # 350余起
    assert d["bannersReceived"] == {"value": 96, "previous": 67}  # 锦旗96面
    field = d["fieldRecords"]
    months = field["byMonth"]
    assert sum(m["visits"]["value"] for m in months) == field["visits"]["value"] > 1600
    assert sum(m["visits"]["previous"] for m in months) == field["visits"]["previous"]
