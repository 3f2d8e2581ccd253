"""Reporting periods: a month ("2026-05"), a quarter ("2026-Q2"), a year ("2026"), or a
rolling window ending today, written as an ISO 8601 duration ("P12M", "P3M", "P2W", "P30D").

Pure date arithmetic, no database and no GraphQL, so ledgers, assessment, reminders and the
dashboard all read a period the same way. `parse_period` is the only way in from text; a
wrong form raises `PeriodError` (a ValueError), which `period_input` turns into a field error.

A rolling window is a *span*: any run of whole days, written back as an ISO 8601 interval of
days ("2025-12-04/2026-12-03", which `parse_period` reads too). "P12M" on 3 December 2026 is the
twelve months that end with that day, 4 December 2025 to 3 December 2026; the same window a year
earlier (`same_period_last_year`) is 4 December 2024 to 3 December 2025. A span's sub-periods are
the calendar periods it overlaps, cut to it at its edges, so a year-on-year trend still has one
bucket a month; a ledger item is due in it for each of its calendar periods that ends inside it.
"""

from __future__ import annotations

import enum
import functools
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
# An ISO 8601 duration of whole days or more: years, months, weeks, days (PnYnMnWnD; ISO
# writes weeks alone, accepted here in any combination since the meaning is plain).
_DURATION = re.compile(
    r"P(?:(?P<years>[0-9]{1,3})Y)?(?:(?P<months>[0-9]{1,4})M)?"
    r"(?:(?P<weeks>[0-9]{1,4})W)?(?:(?P<days>[0-9]{1,5})D)?"
)
_INTERVAL = re.compile(
    r"(?P<first>[0-9]{4}-[0-9]{2}-[0-9]{2})/(?P<last>[0-9]{4}-[0-9]{2}-[0-9]{2})"
)
_QUARTER_NAMES = "一二三四"
# Average days in a month, for the length of a span that is not a whole number of months.
_DAYS_PER_MONTH = 365.2425 / 12


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


@functools.total_ordering
@dataclass(frozen=True, slots=True)
class Period:
    """A calendar month, quarter or year, or a span of days (`span`). Ordered by start, then by
    length."""

    year: int
    # First calendar month of the period (1–12): 1 for a year, 1/4/7/10 for quarters.
    first_month: int
    kind: PeriodKind
    # A span's first and last day (a rolling window, or the part of a month at a window's
    # edge); None for a calendar period. A span's `year`, `first_month` and `kind` are those of
    # the calendar year it ends in: read `start`, `end` and `months` instead.
    span: tuple[date, date] | None = None

    def __post_init__(self) -> None:
        if not MIN_YEAR <= self.year <= MAX_YEAR:
            raise PeriodError(
                f"年份须在 {MIN_YEAR} 到 {MAX_YEAR} 之间 "
                f"(the year must be between {MIN_YEAR} and {MAX_YEAR})"
            )
        if (self.first_month - 1) % self.kind.months != 0 or not 1 <= self.first_month <= 12:
            raise PeriodError(f"{self.kind.value} cannot start in month {self.first_month}")
        if self.span is not None:
            first, last = self.span
            if first > last:
                raise PeriodError("起始日期晚于结束日期 (the first day is after the last day)")
            if first.year < MIN_YEAR:
                raise PeriodError(
                    f"期间须始于 {MIN_YEAR} 年以后 (the period must start in {MIN_YEAR} or later)"
                )

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return (self.start, self.end_exclusive) < (other.start, other.end_exclusive)

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

    @classmethod
    def between(cls, first: date, last: date) -> Period:
        """The days from `first` to `last` inclusive: the calendar period when they are exactly
        one (2026-05-01 to 2026-05-31 is 2026-05), else a span."""
        for kind in PeriodKind:
            calendar = cls.containing(kind, first)
            if calendar.start == first and calendar.end == last:
                return calendar
        return cls(last.year, 1, PeriodKind.YEAR, (first, last))

    @classmethod
    def rolling(cls, years: int, months: int, days: int, today: date) -> Period:
        """The window of the given length that ends with `today` (a bureau calendar day)."""
        end_exclusive = today + timedelta(days=1)
        start = _months_before(end_exclusive, 12 * years + months) - timedelta(days=days)
        if start.year < MIN_YEAR:
            raise PeriodError(
                f"期间须始于 {MIN_YEAR} 年以后 (the period must start in {MIN_YEAR} or later)"
            )
        return cls.between(start, today)

    # --- reading -------------------------------------------------------------------------------

    @property
    def is_span(self) -> bool:
        """True for a span of days (a rolling window), False for a calendar period."""
        return self.span is not None

    @property
    def start(self) -> date:
        """First day, inclusive."""
        if self.span is not None:
            return self.span[0]
        return date(self.year, self.first_month, 1)

    @property
    def end(self) -> date:
        """Last day, inclusive (the due date of work that belongs to this period)."""
        return self.end_exclusive - timedelta(days=1)

    @property
    def end_exclusive(self) -> date:
        """The day after the last day: `start <= d < end_exclusive` for SQL ranges."""
        if self.span is not None:
            return self.span[1] + timedelta(days=1)
        months = self.year * 12 + self.first_month - 1 + self.kind.months
        return date(months // 12, months % 12 + 1, 1)

    @property
    def months(self) -> float:
        """The length in months (a span's from its days, where it is not whole months), for
        targets set per month, quarter or year."""
        if self.span is None:
            return float(self.kind.months)
        start, end = self.start, self.end_exclusive
        if start.day == end.day:
            return float((end.year - start.year) * 12 + end.month - start.month)
        return (end - start).days / _DAYS_PER_MONTH

    @property
    def quarter_number(self) -> int:
        return (self.first_month - 1) // 3 + 1

    @property
    def label(self) -> str:
        """How people write it: 2026年5月, 2026年第二季度, 2026年, 2025年12月4日至2026年12月3日."""
        if self.span is not None:
            return f"{_day_label(self.span[0])}至{_day_label(self.span[1])}"
        if self.kind is PeriodKind.MONTH:
            return f"{self.year}年{self.first_month}月"
        if self.kind is PeriodKind.QUARTER:
            return f"{self.year}年第{_QUARTER_NAMES[self.quarter_number - 1]}季度"
        return f"{self.year}年"

    def __str__(self) -> str:
        """The canonical text form, which `parse_period` reads back (a span as an ISO 8601
        interval of days: 2025-12-04/2026-12-03)."""
        if self.span is not None:
            return f"{self.span[0].isoformat()}/{self.span[1].isoformat()}"
        if self.kind is PeriodKind.MONTH:
            return f"{self.year}-{self.first_month:02d}"
        if self.kind is PeriodKind.QUARTER:
            return f"{self.year}-Q{self.quarter_number}"
        return f"{self.year}"

    @property
    def file_part(self) -> str:
        """The text form fit for a file name (a span's "/" becomes "_")."""
        return str(self).replace("/", "_")

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end_exclusive

    def covers(self, other: Period) -> bool:
        """True when `other` lies wholly inside this period."""
        return self.start <= other.start and other.end_exclusive <= self.end_exclusive

    # --- moving --------------------------------------------------------------------------------

    def shifted(self, steps: int) -> Period:
        """The period `steps` periods of the same kind later (earlier when negative); a span
        moves by its own number of days."""
        if self.span is not None:
            step = timedelta(days=steps * (self.end_exclusive - self.start).days)
            return Period.between(self.span[0] + step, self.span[1] + step)
        months = self.year * 12 + self.first_month - 1 + steps * self.kind.months
        return Period(months // 12, months % 12 + 1, self.kind)

    def previous(self) -> Period:
        """The period just before: 2026-Q1 → 2025-Q4, 2026-01 → 2025-12, 2026 → 2025."""
        return self.shifted(-1)

    def next(self) -> Period:
        return self.shifted(1)

    def same_period_last_year(self) -> Period:
        """For year-on-year (同比) figures: 2026-Q2 → 2025-Q2; a span's days a year earlier (a
        bound on 29 February moves to the 28th, and the window ending the day before it
        ends on the 28th too, so the two stay next to each other)."""
        if self.span is not None:
            end = _months_before(self.end_exclusive, 12)
            return Period.between(_months_before(self.start, 12), end - timedelta(days=1))
        return Period(self.year - 1, self.first_month, self.kind)

    def sub_periods(self, kind: PeriodKind) -> list[Period]:
        """The periods of a finer (or the same) kind that make up this one, in order. A span's
        are the calendar periods of `kind` it overlaps, cut to it at its edges (spans there)."""
        if self.span is not None:
            span_first, span_last = self.span
            return [
                Period.between(max(part.start, span_first), min(part.end, span_last))
                for part in _calendar_periods(kind, span_first, span_last)
            ]
        if kind.months > self.kind.months:
            raise PeriodError(f"a {self.kind.value} has no {kind.value}s inside it")
        count = self.kind.months // kind.months
        first = Period(self.year, self.first_month, kind)
        return [first.shifted(i) for i in range(count)]

    def ending_within(self, kind: PeriodKind) -> list[Period]:
        """The calendar periods of `kind` whose last day lies in this period, in order: those
        due in it (for a calendar period of a coarser or the same kind, its sub-periods)."""
        return [p for p in _calendar_periods(kind, self.start, self.end) if self.contains(p.end)]


def _calendar_periods(kind: PeriodKind, first: date, last: date) -> list[Period]:
    """The calendar periods of `kind` that overlap the days `first` to `last`, in order."""
    parts = [Period.containing(kind, first)]
    while parts[-1].end < last:
        parts.append(parts[-1].next())
    return parts


def _months_before(day: date, months: int) -> date:
    """`day` moved `months` calendar months earlier, the day of month kept where the month has
    it and else the month's last day (31 May less 3 months is 28 or 29 February)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    if year < 1:
        raise PeriodError(
            f"期间须始于 {MIN_YEAR} 年以后 (the period must start in {MIN_YEAR} or later)"
        )
    first_of_next = date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    last_day = (first_of_next - timedelta(days=1)).day
    return date(year, month + 1, min(day.day, last_day))


def _day_label(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


FORMS = (
    "期间格式应为 2026、2026-Q2、2026-05,或 P12M、P3M、P30D 这样的 ISO 8601 时长(截至今天)"
    " (a period is written 2026, 2026-Q2, 2026-05, or as an ISO 8601 duration such as P12M, P3M"
    " or P30D for the window ending today)"
)


def parse_period(text: str, today: date | None = None) -> Period:
    """ "2026" → the year, "2026-Q2" → a quarter, "2026-05" → a month; "P12M" → the twelve
    months ending with `today` (durations need `today`: where it is None they are refused);
    "2025-12-04/2026-12-03" → those days. PeriodError otherwise."""
    cleaned = text.strip()
    if cleaned[:1] in ("P", "p"):
        return _parse_duration(cleaned, today)
    interval = _INTERVAL.fullmatch(cleaned)
    if interval is not None:
        try:
            first, last = (date.fromisoformat(interval[k]) for k in ("first", "last"))
        except ValueError as exc:
            raise PeriodError(f"日期无效 (not a valid date): {exc}") from exc
        if not (first.year >= MIN_YEAR and last.year <= MAX_YEAR):
            raise PeriodError(
                f"年份须在 {MIN_YEAR} 到 {MAX_YEAR} 之间 "
                f"(the year must be between {MIN_YEAR} and {MAX_YEAR})"
            )
        return Period.between(first, last)
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
    raise PeriodError(FORMS)


def _parse_duration(text: str, today: date | None) -> Period:
    match = _DURATION.fullmatch(text.upper())
    if match is None:
        if "T" in text.upper():
            raise PeriodError(
                "时长只能以年、月、周、日计,如 P12M、P30D (a duration counts years, months, "
                "weeks or days, e.g. P12M or P30D; hours and minutes are not periods)"
            )
        raise PeriodError(FORMS)
    years, months, weeks, days = (int(match[k] or 0) for k in ("years", "months", "weeks", "days"))
    if years == months == weeks == days == 0:
        raise PeriodError("时长须大于零,如 P12M (a duration must be longer than zero, e.g. P12M)")
    if today is None:
        raise PeriodError(
            "此处只接受 2026、2026-Q2 或 2026-05 这样的日历期间,不接受时长 (this argument takes a "
            "calendar period such as 2026, 2026-Q2 or 2026-05, not a duration)"
        )
    return Period.rolling(years, months, 7 * weeks + days, today)


def period_input(text: str, field: str = "period", *, today: date | None = None) -> Period:
    """`parse_period` for input from clients: a wrong form is a field error (INVALID_PERIOD).
    `today` (the bureau's calendar day) lets a duration name the window ending with it."""
    try:
        return parse_period(text, today)
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
