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
