"""What a role may not know of a member stays hidden, whatever else it reads.

On the demo county, each role that sees ID numbers masked reads everything it may about the
members through the GraphQL API, then rebuilds every ID number as far as that lets it: the
birthday, the age a collective birthday gives, a retirement date (the statutory ages are public
knowledge) and the ID's own check character (ISO 7064 MOD 11-2). It must get no further than the
mask itself and the month and day of birth (which collective birthdays show) take it: no birth
year ruled out, no ID number narrowed.
"""

from __future__ import annotations

import calendar
import itertools
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from sqlalchemy import insert

from core.clock import FrozenClock
from core.db import Sessionmaker, writing
from demo.county import County, build_county
from models import Account, Branch, Member, Role
from resolvers.member import ID_CHECK, ID_WEIGHTS, years_after
from schema.node import to_global_id
from tests.conftest import Api, Builders
from tests.schema.test_role_matrix import start_session

# Every birth date an ID number may carry, as far as anyone knows beforehand.
FIRST_BIRTHDAY = date(1900, 1, 1)
# Retirement comes at a statutory age, so a retirement date tells a birth date.
RETIREMENT_AGES = (60, 55, 50)
# A leap year: its collective birthdays show 29 February as it is.
LEAP_YEAR = 2028
assert calendar.isleap(LEAP_YEAR)
PAGE = 100

MEMBERS = """query($after: String) {
  members(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id idNumber birthday retiredOn }
  }
}"""
BIRTHDAYS = """query($month: String!) {
  collectiveBirthdays(month: $month, includeRetired: true) {
    groups { members { celebratedOn age member { id } } }
  }
}"""


@dataclass
class Seen:
    """Everything one role read about one member's birth and ID number."""

    id_number: str
    birthday: date | None = None
    retired_on: date | None = None
    # (celebratedOn, age) of each collective birthday that listed the member.
    celebrations: set[tuple[date, int | None]] = field(default_factory=set)

    @property
    def month_day(self) -> tuple[int, int] | None:
        """The month and day of birth, which a role may know from collective birthdays."""
        days = {(when.month, when.day) for when, _ in self.celebrations}
        assert len(days) <= 1, days
        return days.pop() if days else None


def _birth_dates(seen: Seen, today: date, everything: bool) -> list[date]:
    """Dates of birth consistent with the mask and the month and day of birth, and with
    everything else the role read when `everything`."""
    pattern = seen.id_number[6:14]
    month_day = seen.month_day
    if month_day is not None:
        years = range(FIRST_BIRTHDAY.year, today.year + 1)
        pool = [_day(y, *month_day) for y in years]
        days = [d for d in pool if d is not None and FIRST_BIRTHDAY <= d <= today]
    else:
        days = [FIRST_BIRTHDAY + timedelta(n) for n in range((today - FIRST_BIRTHDAY).days + 1)]
    days = [d for d in days if _fits(pattern, f"{d:%Y%m%d}")]
    if everything:
        if seen.birthday is not None:
            days = [d for d in days if d == seen.birthday]
        for when, age in seen.celebrations:
            if age is not None:
                days = [d for d in days if d.year == when.year - age]
        if seen.retired_on is not None:
            retired = seen.retired_on
            days = [d for d in days if any(years_after(d, a) == retired for a in RETIREMENT_AGES)]
    return days


def _day(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:  # 29 February in a common year
        return None


def _fits(pattern: str, digits: str) -> bool:
    return all(p in ("*", d) for p, d in zip(pattern, digits, strict=True))


def id_numbers(seen: Seen, today: date, everything: bool) -> Counter[int]:
    """How many valid ID numbers fit what was read, by year of birth."""
    pattern = seen.id_number
    assert len(pattern) == 18 and pattern[:6].isdigit(), pattern
    region = sum(int(d) * w for d, w in zip(pattern[:6], ID_WEIGHTS, strict=False))
    choices = [("0123456789" if p == "*" else p) for p in pattern[14:17]]
    # Residues mod 11 of the sequence digits' share of the check sum, over every sequence.
    sequences = Counter(
        sum(int(d) * w for d, w in zip(digits, ID_WEIGHTS[14:17], strict=True)) % 11
        for digits in itertools.product(*choices)
    )
    total = sum(sequences.values())
    found: Counter[int] = Counter()
    for day in _birth_dates(seen, today, everything):
        if pattern[17] == "*":
            found[day.year] += total
            continue
        base = region + sum(
            int(d) * w for d, w in zip(f"{day:%Y%m%d}", ID_WEIGHTS[6:14], strict=True)
        )
        found[day.year] += sum(
            n for r, n in sequences.items() if ID_CHECK[(base + r) % 11] == pattern[17]
        )
    return +found


async def view_of(api: Api, token: str) -> dict[str, Seen]:
    """Everything the role reads about members' birth and ID numbers, by member id."""
    seen: dict[str, Seen] = {}
    after: str | None = None
    while True:
        page = (await api(MEMBERS, {"after": after}, token=token))["data"]["members"]
        for node in page["nodes"]:
            if node["idNumber"] is not None:
                seen[node["id"]] = Seen(
                    node["idNumber"],
                    _date(node["birthday"]),
                    _date(node["retiredOn"]),
                )
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    for month in range(1, 13):
        body = await api(BIRTHDAYS, {"month": f"{LEAP_YEAR}-{month:02d}"}, token=token)
        for group in body["data"]["collectiveBirthdays"]["groups"]:
            for person in group["members"]:
                if person["member"]["id"] in seen:
                    when = date.fromisoformat(person["celebratedOn"])
                    seen[person["member"]["id"]].celebrations.add((when, person["age"]))
    return seen


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


async def insert_county(sessionmaker: Sessionmaker, county: County) -> None:
    async with writing(sessionmaker) as db:
        await db.execute(insert(Branch), county.branches)
        await db.execute(insert(Member), county.members)


def rebuilt(view: dict[str, Seen], today: date) -> tuple[list[str], list[str], list[str]]:
    """Members whose ID number the view rebuilds entirely; narrows beyond the mask; and whose
    birth year the mask with the month and day of birth narrows."""
    whole, narrowed, years_known = [], [], []
    for member_id, seen in view.items():
        allowed = id_numbers(seen, today, everything=False)
        found = id_numbers(seen, today, everything=True)
        if sum(found.values()) == 1:
            whole.append(member_id)
        if found != allowed:
            narrowed.append(member_id)
        month_day = seen.month_day
        if month_day is not None:
            birth_years = [
                y
                for y in range(FIRST_BIRTHDAY.year, today.year + 1)
                if (d := _day(y, *month_day)) is not None and d <= today
            ]
            if sorted(allowed) != birth_years:
                years_known.append(member_id)
    return whole, narrowed, years_known


@pytest.mark.parametrize("role", ["inspector", "officer"])
async def test_no_role_rebuilds_more_of_an_id_number_than_its_mask_shows(
    api: Api,
    make: Builders,
    sessionmaker: Sessionmaker,
    clock: FrozenClock,
    role: str,
) -> None:
    county = build_county(clock())
    await insert_county(sessionmaker, county)
    accounts: dict[str, Account] = {
        "inspector": await make.account(Role.INSPECTOR, username="inspector"),
        "officer": await make.account(
            Role.OFFICER, username="officer.meigui", member_id=county.meigui_officer_id
        ),
    }
    _, token = await start_session(sessionmaker, clock, accounts[role])
    officer = next(m for m in county.members if m["id"] == county.meigui_officer_id)
    masked_for = {
        # An inspector reads every member; an officer their branch, their own record in full.
        "inspector": [m for m in county.members],
        "officer": [
            m
            for m in county.members
            if m["branch_id"] == officer["branch_id"] and m["id"] != officer["id"]
        ],
    }[role]

    view = await view_of(api, token)
    expected = {to_global_id("Member", m["id"]) for m in masked_for if m["id_number"]}
    masked = {member_id for member_id, seen in view.items() if "*" in seen.id_number}
    whole, narrowed, years_known = rebuilt({k: view[k] for k in masked}, clock().date())

    assert masked == expected, "every ID number the role may not know comes masked"
    assert len(masked) > 20, "the demo county gives the role something to work on"
    assert whole == [], f"{len(whole)} of {len(masked)} ID numbers rebuilt whole"
    assert narrowed == [], f"{len(narrowed)} of {len(masked)} narrowed beyond their mask"
    assert years_known == [], f"{len(years_known)} birth years narrowed by the mask itself"


def test_the_rebuild_finds_what_a_leaky_view_gives_away() -> None:
    """The rebuild is no straw man: fed the views the issue reported, it rebuilds them."""
    today = date(2026, 11, 28)
    birthday_shown = Seen("370124********4630", birthday=date(1984, 4, 22))
    age_shown = Seen("370124********4630", celebrations={(date(LEAP_YEAR, 4, 22), 44)})
    retired = Seen("370124********4630", retired_on=date(2044, 4, 22))
    check_shown = Seen("370124****04224630", celebrations={(date(LEAP_YEAR, 4, 22), None)})

    def ids(seen: Seen) -> int:
        return sum(id_numbers(seen, today, everything=True).values())

    assert ids(birthday_shown) == ids(age_shown) == 1
    assert ids(retired) <= 3
    assert rebuilt({"m": birthday_shown}, today)[0] == ["m"]
    assert rebuilt({"m": check_shown}, today)[2] == ["m"], "the check digit narrows the year"
