"""Reporting periods: a month ("2026-05"), a quarter ("2026-Q2") or a year ("2026").

Pure date arithmetic, no database and no GraphQL, so ledgers, assessment, reminders and the
dashboard all read a period the same way. `parse_period` is the only way in from text; a
wrong form raises `PeriodError` (a ValueError), which `period_input` turns into a field error.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from access.errors import ErrorCode, InputError

# The platform's calendar: periods (and ledger dates) outside these years are refused as typos.
MIN_YEAR = 2000
MAX_YEAR = 2099

# ASCII digits only: \d would also take full-width ２０２６, which int() reads silently.
_PATTERNS = (
    re.compile(r"(?P<year>[0-9]{4})"),
    re.compile(r"(?P<year>[0-9]{4})-[Qq](?P<quarter>[0-9])"),
    re.compile(r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})"),
)
_QUARTER_NAMES = "一二三四"


class PeriodKind(enum.StrEnum):
    """From the finest to the coarsest."""

    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"

    @property
    def label(self) -> str:
        return {"month": "月度", "quarter": "季度", "year": "年度"}[self]

    @property
    def months(self) -> int:
        """How many calendar months a period of this kind spans."""
        return {"month": 1, "quarter": 3, "year": 12}[self]


class PeriodError(ValueError):
    """Text that is not a period of a supported form, or a year outside the calendar."""


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """A calendar month, quarter or year. Ordered by start, then by length (kind)."""

    year: int
    # First calendar month of the period (1–12): 1 for a year, 1/4/7/10 for quarters.
    first_month: int
    kind: PeriodKind

    def __post_init__(self) -> None:
        if not MIN_YEAR <= self.year <= MAX_YEAR:
            raise PeriodError(
                f"年份须在 {MIN_YEAR} 到 {MAX_YEAR} 之间 "
                f"(the year must be between {MIN_YEAR} and {MAX_YEAR})"
            )
        if (self.first_month - 1) % self.kind.months != 0 or not 1 <= self.first_month <= 12:
            raise PeriodError(f"{self.kind.value} cannot start in month {self.first_month}")

    # --- construction --------------------------------------------------------------------------

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls(year, month, PeriodKind.MONTH)

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        if not 1 <= quarter <= 4:
            raise PeriodError("季度须为 Q1 到 Q4 (the quarter must be Q1 to Q4)")
        return cls(year, 3 * quarter - 2, PeriodKind.QUARTER)

    @classmethod
    def whole_year(cls, year: int) -> Period:
        return cls(year, 1, PeriodKind.YEAR)

    @classmethod
    def containing(cls, kind: PeriodKind, day: date) -> Period:
        """The period of `kind` that contains `day`."""
        first = day.month - (day.month - 1) % kind.months
        return cls(day.year, first, kind)

    # --- reading -------------------------------------------------------------------------------

    @property
    def start(self) -> date:
        """First day, inclusive."""
        return date(self.year, self.first_month, 1)

    @property
    def end(self) -> date:
        """Last day, inclusive (the due date of work that belongs to this period)."""
        return self.end_exclusive - timedelta(days=1)

    @property
    def end_exclusive(self) -> date:
        """The day after the last day: `start <= d < end_exclusive` for SQL ranges."""
        months = self.year * 12 + self.first_month - 1 + self.kind.months
        return date(months // 12, months % 12 + 1, 1)

    @property
    def quarter_number(self) -> int:
        return (self.first_month - 1) // 3 + 1

    @property
    def label(self) -> str:
        """How people write it: 2026年5月, 2026年第二季度, 2026年."""
        if self.kind is PeriodKind.MONTH:
            return f"{self.year}年{self.first_month}月"
        if self.kind is PeriodKind.QUARTER:
            return f"{self.year}年第{_QUARTER_NAMES[self.quarter_number - 1]}季度"
        return f"{self.year}年"

    def __str__(self) -> str:
        """The canonical text form, which `parse_period` reads back."""
        if self.kind is PeriodKind.MONTH:
            return f"{self.year}-{self.first_month:02d}"
        if self.kind is PeriodKind.QUARTER:
            return f"{self.year}-Q{self.quarter_number}"
        return f"{self.year}"

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end_exclusive

    def covers(self, other: Period) -> bool:
        """True when `other` lies wholly inside this period."""
        return self.start <= other.start and other.end_exclusive <= self.end_exclusive

    # --- moving --------------------------------------------------------------------------------

    def shifted(self, steps: int) -> Period:
        """The period `steps` periods of the same kind later (earlier when negative)."""
        months = self.year * 12 + self.first_month - 1 + steps * self.kind.months
        return Period(months // 12, months % 12 + 1, self.kind)

    def previous(self) -> Period:
        """The period just before: 2026-Q1 → 2025-Q4, 2026-01 → 2025-12, 2026 → 2025."""
        return self.shifted(-1)

    def next(self) -> Period:
        return self.shifted(1)

    def same_period_last_year(self) -> Period:
        """For year-on-year (同比) figures: 2026-Q2 → 2025-Q2."""
        return Period(self.year - 1, self.first_month, self.kind)

    def sub_periods(self, kind: PeriodKind) -> list[Period]:
        """The periods of a finer (or the same) kind that make up this one, in order."""
        if kind.months > self.kind.months:
            raise PeriodError(f"a {self.kind.value} has no {kind.value}s inside it")
        count = self.kind.months // kind.months
        first = Period(self.year, self.first_month, kind)
        return [first.shifted(i) for i in range(count)]


def parse_period(text: str) -> Period:
    """ "2026" → the year, "2026-Q2" → a quarter, "2026-05" → a month; PeriodError otherwise."""
    cleaned = text.strip()
    for pattern in _PATTERNS:
        match = pattern.fullmatch(cleaned)
        if match is None:
            continue
        year = int(match["year"])
        groups = match.groupdict()
        if groups.get("quarter") is not None:
            return Period.quarter(year, int(match["quarter"]))
        if groups.get("month") is not None:
            month = int(match["month"])
            if not 1 <= month <= 12:
                raise PeriodError("月份须为 01 到 12 (the month must be 01 to 12)")
            return Period.month(year, month)
        return Period.whole_year(year)
    raise PeriodError(
        "期间格式应为 2026、2026-Q2 或 2026-05 (a period is written 2026, 2026-Q2 or 2026-05)"
    )


def period_input(text: str, field: str = "period") -> Period:
    """`parse_period` for input from clients: a wrong form is a field error (INVALID_PERIOD)."""
    try:
        return parse_period(text)
    except PeriodError as exc:
        raise InputError.one(field, str(exc), ErrorCode.INVALID_PERIOD) from exc


# The bureau's calendar: China Standard Time, which keeps no daylight saving.
BUREAU_TZ = timezone(timedelta(hours=8), "CST")


def local_date(moment: datetime) -> date:
    """The bureau's calendar day of an aware instant (an entry recorded at 23:30 UTC on 31 May
    was recorded on 1 June in Pingyin)."""
    return moment.astimezone(BUREAU_TZ).date()


def day_start(day: date) -> datetime:
    """Midnight at the start of a bureau calendar day, as an aware instant."""
    return datetime(day.year, day.month, day.day, tzinfo=BUREAU_TZ)
