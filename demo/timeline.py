"""When the demo county's records fall: the year that ends with the seed's day and the year
before it, so the demo never holds a record dated after the moment it is seeded, whatever day
that is, and `dashboard(period: "P12M")` reads exactly the demo's recent year.

The two years are the windows the dashboard itself reads (resolvers/period.py): "P12M" ending
with the seed's bureau calendar day, and the same window a year earlier. Records of the recent
year fall on its days up to `last_day`, early enough that even a night patrol begun on it has
ended before the seed's moment; events the article ties to a date of the calendar (七一, the
Spring Festival) fall on that date's latest occurrence that has passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from resolvers.period import BUREAU_TZ, Period, local_date, parse_period

# The latest a record's moment runs past its day: a night patrol begun before midnight ends by
# 04:00, and a ledger entry is written up by 19:00 the next day at the latest.
SPILL = timedelta(hours=5)
RECENT_YEAR = "P12M"


@dataclass(frozen=True, slots=True)
class Timeline:
    """The seed's moment and the demo's two years."""

    now: datetime
    # The twelve months ending with the seed's day ("P12M"), and the same window a year earlier.
    recent: Period
    earlier: Period
    # The last day a record of the recent year falls on (the day before the seed's, or the day
    # before that in the small hours).
    last_day: date

    @property
    def today(self) -> date:
        return local_date(self.now)

    def days(self, window: Period) -> tuple[date, int]:
        """The first day records of `window` may fall on, and how many days they may take."""
        end = min(window.end_exclusive, self.last_day + timedelta(days=1))
        return window.start, (end - window.start).days

    def latest(self, month: int, day: int, years_back: int = 0) -> date:
        """The latest `month`-`day` on or before `last_day`, `years_back` years earlier still (29
        February falls on the 28th in other years)."""
        year = self.last_day.year
        if (month, day) > (self.last_day.month, self.last_day.day):
            year -= 1
        year -= years_back
        try:
            return date(year, month, day)
        except ValueError:
            return date(year, month, day - 1)

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        """A moment of a bureau calendar day."""
        return datetime.combine(day, time(hour, minute), tzinfo=BUREAU_TZ)


def timeline(now: datetime) -> Timeline:
    """The demo's timeline for a seed at `now`."""
    today = local_date(now)
    recent = parse_period(RECENT_YEAR, today)
    last_day = local_date(now - SPILL) - timedelta(days=1)
    return Timeline(now, recent, recent.same_period_last_year(), last_day)
