"""Periods: parsing, bounds, moving and splitting, checked by example and by property."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from access.errors import ErrorCode, InputError
from resolvers.period import (
    MAX_YEAR,
    MIN_YEAR,
    Period,
    PeriodError,
    PeriodKind,
    local_date,
    parse_period,
    period_input,
)

years = st.integers(MIN_YEAR + 1, MAX_YEAR - 1)
periods = st.one_of(
    st.builds(Period.whole_year, years),
    st.builds(Period.quarter, years, st.integers(1, 4)),
    st.builds(Period.month, years, st.integers(1, 12)),
)


@pytest.mark.parametrize(
    ("text", "kind", "start", "end"),
    [
        ("2026", PeriodKind.YEAR, date(2026, 1, 1), date(2026, 12, 31)),
        ("2026-Q1", PeriodKind.QUARTER, date(2026, 1, 1), date(2026, 3, 31)),
        ("2026-Q2", PeriodKind.QUARTER, date(2026, 4, 1), date(2026, 6, 30)),
        ("2026-q4", PeriodKind.QUARTER, date(2026, 10, 1), date(2026, 12, 31)),
        ("2026-05", PeriodKind.MONTH, date(2026, 5, 1), date(2026, 5, 31)),
        ("2028-02", PeriodKind.MONTH, date(2028, 2, 1), date(2028, 2, 29)),
        (" 2026-12 ", PeriodKind.MONTH, date(2026, 12, 1), date(2026, 12, 31)),
    ],
)
def test_parse_period_reads_year_quarter_and_month(
    text: str, kind: PeriodKind, start: date, end: date
) -> None:
    period = parse_period(text)
    assert (period.kind, period.start, period.end) == (kind, start, end)
    assert period.end_exclusive == end + timedelta(days=1)


@pytest.mark.parametrize(
    "text",
    ["", "26", "2026-5", "2026-13", "2026-00", "2026-Q0", "2026-Q5", "2026Q2", "2026-H1", "Q2-2026",
     "1999", "2100-01", "２０２６", "2026-05-01"],
)  # fmt: skip
def test_parse_period_refuses_wrong_forms(text: str) -> None:
    with pytest.raises(PeriodError):
        parse_period(text)


def test_period_input_turns_a_wrong_form_into_an_invalid_period_field_error() -> None:
    with pytest.raises(InputError) as caught:
        period_input("2026/05", "period")
    (problem,) = caught.value.problems
    assert problem.field == "period"
    assert problem.code is ErrorCode.INVALID_PERIOD
    assert "2026-Q2" in problem.message


def test_labels_are_the_way_people_write_them() -> None:
    assert parse_period("2026-05").label == "2026年5月"
    assert parse_period("2026-Q2").label == "2026年第二季度"
    assert parse_period("2026").label == "2026年"


def test_previous_and_same_period_last_year_cross_year_boundaries() -> None:
    assert str(parse_period("2026-01").previous()) == "2025-12"
    assert str(parse_period("2026-Q1").previous()) == "2025-Q4"
    assert str(parse_period("2026").previous()) == "2025"
    assert str(parse_period("2026-Q2").same_period_last_year()) == "2025-Q2"
    assert str(parse_period("2026-12").next()) == "2027-01"


def test_sub_periods_split_a_period_into_finer_ones() -> None:
    year = parse_period("2026")
    assert [str(q) for q in year.sub_periods(PeriodKind.QUARTER)] == [
        "2026-Q1",
        "2026-Q2",
        "2026-Q3",
        "2026-Q4",
    ]
    assert [str(m) for m in parse_period("2026-Q3").sub_periods(PeriodKind.MONTH)] == [
        "2026-07",
        "2026-08",
        "2026-09",
    ]
    with pytest.raises(PeriodError):
        parse_period("2026-05").sub_periods(PeriodKind.QUARTER)


def test_local_date_is_the_bureaus_calendar_day() -> None:
    from datetime import UTC, datetime

    assert local_date(datetime(2026, 5, 31, 16, 30, tzinfo=UTC)) == date(2026, 6, 1)
    assert local_date(datetime(2026, 5, 31, 15, 59, tzinfo=UTC)) == date(2026, 5, 31)


@given(periods)
def test_str_and_parse_round_trip(period: Period) -> None:
    assert parse_period(str(period)) == period


@given(periods)
def test_previous_ends_the_day_before_and_next_undoes_it(period: Period) -> None:
    before = period.previous()
    assert before.end_exclusive == period.start
    assert before.kind is period.kind
    assert before.next() == period


@given(periods)
def test_same_period_last_year_is_one_year_earlier(period: Period) -> None:
    last = period.same_period_last_year()
    assert (last.year, last.first_month, last.kind) == (
        period.year - 1,
        period.first_month,
        period.kind,
    )


@given(periods, st.sampled_from(list(PeriodKind)))
def test_sub_periods_tile_the_period_without_gaps(period: Period, kind: PeriodKind) -> None:
    if kind.months > period.kind.months:
        return
    parts = period.sub_periods(kind)
    assert parts[0].start == period.start
    assert parts[-1].end == period.end
    for a, b in itertools.pairwise(parts):
        assert a.end_exclusive == b.start
    assert all(period.covers(p) for p in parts)


@given(st.dates(date(MIN_YEAR, 1, 1), date(MAX_YEAR, 12, 31)), st.sampled_from(list(PeriodKind)))
def test_containing_contains_the_day(day: date, kind: PeriodKind) -> None:
    period = Period.containing(kind, day)
    assert period.contains(day)
    assert period.kind is kind


# --- rolling windows: ISO 8601 durations ending today --------------------------------------

TODAY = date(2026, 12, 3)
today_dates = st.dates(date(MIN_YEAR + 12, 1, 1), date(MAX_YEAR, 12, 31))
durations = st.sampled_from(["P12M", "P3M", "P1M", "P1Y", "P2Y", "P30D", "P7D", "P2W", "P1Y6M"])


@pytest.mark.parametrize(
    ("text", "today", "start"),
    [
        ("P12M", TODAY, date(2025, 12, 4)),
        ("P1Y", TODAY, date(2025, 12, 4)),
        ("P3M", TODAY, date(2026, 9, 4)),
        ("P30D", TODAY, date(2026, 11, 4)),
        ("P2W", TODAY, date(2026, 11, 20)),
        ("P1Y6M", TODAY, date(2025, 6, 4)),
        ("P1D", TODAY, TODAY),
        ("p12m", TODAY, date(2025, 12, 4)),
        # A leap day: the twelve months after 29 February 2027, which has none, start 1 March.
        ("P12M", date(2028, 2, 29), date(2027, 3, 1)),
        # 31 May less three months: the window starts the day after 29 February.
        ("P3M", date(2028, 5, 30), date(2028, 2, 29)),
        ("P3M", date(2028, 5, 31), date(2028, 3, 1)),
    ],
)
def test_a_duration_is_the_window_ending_today(text: str, today: date, start: date) -> None:
    period = parse_period(text, today)
    assert (period.start, period.end) == (start, today)
    assert period_input(text, today=today) == period


def test_a_rolling_window_reads_and_writes_as_an_interval_of_days() -> None:
    period = parse_period("P12M", TODAY)
    assert period.is_span
    assert str(period) == "2025-12-04/2026-12-03"
    assert period.label == "2025年12月4日至2026年12月3日"
    assert parse_period(str(period)) == period  # no `today` needed: the days are named
    assert period.file_part == "2025-12-04_2026-12-03"
    assert period.months == 12
    # A window that is exactly a calendar period is that period.
    assert parse_period("P1M", date(2026, 5, 31)) == Period.month(2026, 5)
    assert parse_period("2026-01-01/2026-12-31") == Period.whole_year(2026)


def test_a_rolling_window_is_compared_with_the_same_window_a_year_earlier() -> None:
    period = parse_period("P12M", TODAY)
    assert str(period.same_period_last_year()) == "2024-12-04/2025-12-03"
    # Around a leap day the two windows stay next to each other, without gap or overlap.
    leap = parse_period("P12M", date(2028, 2, 29))
    earlier = leap.same_period_last_year()
    assert str(earlier) == "2026-03-01/2027-02-28"
    assert earlier.end_exclusive == leap.start


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("P", "时长须大于零"),
        ("P0M", "时长须大于零"),
        ("PT12H", "时长只能以年、月、周、日计"),
        ("P1DT2H", "时长只能以年、月、周、日计"),
        ("P1.5M", "ISO 8601"),
        ("P-3M", "ISO 8601"),
        ("P12X", "ISO 8601"),
        ("12M", "ISO 8601"),
        ("P200Y", "2000"),
        ("2026-12-03/2026-12-01", "起始日期晚于结束日期"),
        ("2026-02-30/2026-03-01", "日期无效"),
    ],
)
def test_a_bad_duration_is_an_invalid_period_field_error(text: str, message: str) -> None:
    with pytest.raises(InputError) as raised:
        period_input(text, today=TODAY)
    [problem] = raised.value.problems
    assert (problem.field, problem.code) == ("period", ErrorCode.INVALID_PERIOD)
    assert message in problem.message
    assert "(" in problem.message  # the English beside the Chinese


def test_a_duration_is_refused_where_a_calendar_period_is_stored() -> None:
    """Without `today` (a spot check's or a manual score's period is stored as text) a
    duration has no window to name: it is refused, with what is accepted instead."""
    with pytest.raises(PeriodError, match="不接受时长"):
        parse_period("P12M")


def test_a_windows_months_tile_it_and_its_due_periods_end_inside_it() -> None:
    period = parse_period("P12M", TODAY)
    months = period.sub_periods(PeriodKind.MONTH)
    # 4–31 December 2025, eleven whole months, 1–3 December 2026.
    assert [str(m) for m in months[:2]] == ["2025-12-04/2025-12-31", "2026-01"]
    assert str(months[-1]) == "2026-12-01/2026-12-03" and len(months) == 13
    # Ledger work due in it: the calendar periods whose last day lies inside it.
    assert [str(q) for q in period.ending_within(PeriodKind.QUARTER)] == [
        "2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3",
    ]  # fmt: skip
    assert [str(y) for y in period.ending_within(PeriodKind.YEAR)] == ["2025"]
    assert len(period.ending_within(PeriodKind.MONTH)) == 12


@given(durations, today_dates)
def test_rolling_window_months_tile_it_without_gaps(text: str, today: date) -> None:
    period = parse_period(text, today)
    assert period.end == today
    months = period.sub_periods(PeriodKind.MONTH)
    assert months[0].start == period.start and months[-1].end_exclusive == period.end_exclusive
    for a, b in itertools.pairwise(months):
        assert a.end_exclusive == b.start
    assert parse_period(str(period)) == period
    earlier = period.same_period_last_year()  # the same window, a year earlier
    for then, now in ((earlier.start, period.start), (earlier.end_exclusive, period.end_exclusive)):
        assert (then.year, then.month) == (now.year - 1, now.month)
        assert then.day == now.day or (now.month, now.day) == (2, 29)
    assert len(earlier.sub_periods(PeriodKind.MONTH)) in (
        len(months) - 1,
        len(months),
        len(months) + 1,
    )
    for kind in PeriodKind:
        # Calendar and rolling periods agree on what is due: periods ending inside.
        assert all(period.contains(p.end) for p in period.ending_within(kind))


@given(periods)
def test_a_calendar_periods_due_periods_are_its_sub_periods(period: Period) -> None:
    for kind in PeriodKind:
        if kind.months <= period.kind.months:
            assert period.ending_within(kind) == period.sub_periods(kind)
