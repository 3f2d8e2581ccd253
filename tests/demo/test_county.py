"""The demo county's people are plausible and follow the rules the resolvers enforce; its recent
year of field records (the twelve months ending with the seed's day) is valid sync data adding
up to the article's figures, beside a quieter year before it drawn by the same generator."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

import pytest

from core.global_id import global_id_uuid_or_none
from demo.county import DEMO_MEMBERS, UNITS, County, build_county
from demo.records import (
    BANNERS_RECEIVED,
    DELETED_VISITS,
    DIFFICULTIES_SOLVED,
    FIELD_YEARS,
    LAST_YEAR,
    FieldYear,
    build_field_year,
    build_field_years,
    happened_at,
)
from demo.timeline import Timeline, timeline
from models import (
    BranchKind,
    PartyStatus,
    PatrolKind,
    PersonnelType,
    Post,
    ServiceActionType,
    ServiceStatus,
    VisitCategory,
    VisitStatus,
)
from resolvers.member import (
    MINIMUM_YEARS_BEFORE,
    PHONE_RE,
    id_number_birthday,
    id_number_valid,
    years_after,
)
from sync.merge import JSON

NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def county() -> County:
    return build_county(NOW)


def test_the_catalog_adds_up_to_the_article() -> None:
    assert len(UNITS) == 32
    assert sum(unit.size for unit in UNITS) == DEMO_MEMBERS == 520


def test_build_is_deterministic(county: County) -> None:
    again = build_county(NOW)
    strip = ("id", "branch_id", "member_id")

    def shape(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in row.items() if k not in strip} for row in rows]

    assert shape(again.members) == shape(county.members)
    assert shape(again.status_changes) == shape(county.status_changes)


def test_personal_data_is_valid_and_unique(county: County) -> None:
    members = county.members
    assert len(members) == 520
    for key in ("name", "police_number", "phone", "id_number"):
        assert len({m[key] for m in members}) == 520, key
    for m in members:
        assert id_number_valid(m["id_number"]), m
        assert id_number_birthday(m["id_number"]) == m["birthday"]
        assert PHONE_RE.match(m["phone"])
        if m["personnel_type"] is PersonnelType.POLICE:
            assert m["police_number"].isdigit() and len(m["police_number"]) == 6
        else:
            assert m["police_number"].startswith("F") and m["police_number"][1:].isdigit()
    assert sum(m["id_number"].startswith("370124") for m in members) > 400  # 平阴县
    assert {"朱磊", "巩伟"}.isdisjoint(m["name"] for m in members)


def test_mix_of_people(county: County) -> None:
    members = county.members
    kinds = Counter(m["personnel_type"] for m in members)
    assert 0.5 < kinds[PersonnelType.POLICE] / 520 < 0.8
    statuses = Counter(m["party_status"] for m in members)
    assert set(statuses) == set(PartyStatus)
    assert statuses[PartyStatus.FULL] / 520 > 0.75
    retired = [m for m in members if m["service_status"] is ServiceStatus.RETIRED]
    assert 20 <= len(retired) <= 32  # about 5%
    for m in retired:
        assert m["retired_on"] is not None
        assert years_after(m["birthday"], 60) <= m["retired_on"] <= NOW.date()
    assert all(
        m["retired_on"] is None for m in members if m["service_status"] is ServiceStatus.ACTIVE
    )


def test_each_branch_has_one_secretary_and_a_committee(county: County) -> None:
    by_unit: dict[str, Counter[Post]] = {
        unit: Counter(m["post"] for m in people) for unit, people in county.unit_members.items()
    }
    assert len(by_unit) == 32
    for unit, posts in by_unit.items():
        assert posts[Post.SECRETARY] == 1, unit
        assert 2 <= sum(n for post, n in posts.items() if post is not Post.MEMBER) - 1 <= 5, unit


def test_party_history_follows_the_pipeline_rules(county: County) -> None:
    history: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for change in county.status_changes:
        history[change["member_id"]].append(change)
    today = NOW.date()
    fast_tracked = 0
    for m in county.members:
        steps = history[m["id"]]
        assert [s["to_status"] for s in steps] == list(PartyStatus)[: m["party_status"].rank + 1]
        assert steps[0]["from_status"] is None
        assert steps[0]["effective_on"] >= years_after(m["birthday"], 18)
        assert steps[-1]["effective_on"] == m["party_status_since"] <= today
        for before, after in pairwise(steps):
            assert after["from_status"] is before["to_status"]
            assert before["effective_on"] <= after["effective_on"]
            years = MINIMUM_YEARS_BEFORE.get(after["to_status"])
            on_time = years is None or after["effective_on"] >= years_after(
                before["effective_on"], years
            )
            assert on_time or (after["fast_track"] and after["reason"]), (m, after)
            fast_tracked += after["fast_track"]
        joined = [s["effective_on"] for s in steps if s["to_status"] is PartyStatus.PROBATIONARY]
        assert m["joined_party_on"] == (joined[0] if joined else None)
    assert fast_tracked == 2  # 火线发展, recorded with a reason


def test_task_units_draw_from_several_branches(county: County) -> None:
    kinds = Counter(b["kind"] for b in county.branches)
    assert kinds[BranchKind.BRANCH] == 32
    assert kinds[BranchKind.TASK_FORCE] == 3
    assert kinds[BranchKind.COMMANDO_TEAM] == kinds[BranchKind.TEMPORARY_GROUP] == 1
    unit_of_member = {m["id"]: unit for unit, people in county.unit_members.items() for m in people}
    members_by_task_unit: dict[Any, set[str]] = defaultdict(set)
    for row in county.memberships:
        members_by_task_unit[row["task_unit_id"]].add(unit_of_member[row["member_id"]])
    assert len(members_by_task_unit) == 5
    assert all(len(units) >= 3 for units in members_by_task_unit.values())


# --- the year of field records ------------------------------------------------------------


@pytest.fixture(scope="module")
def when() -> Timeline:
    return timeline(NOW)


@pytest.fixture(scope="module")
def year(county: County, when: Timeline) -> FieldYear:
    return build_field_year(county, when)


def test_field_year_is_deterministic(county: County, when: Timeline, year: FieldYear) -> None:
    again = build_field_year(county, when)
    assert again.visits == year.visits
    assert again.patrols == year.patrols
    assert again.service_actions == year.service_actions


def test_field_year_documents_pass_the_sync_validation(when: Timeline, year: FieldYear) -> None:
    for collection, documents in year.by_collection():
        ids = [d["id"] for d in documents]
        assert len(set(ids)) == len(ids), collection.name
        for document in documents:
            assert collection.validate(document) == [], (collection.name, document)
            assert when.recent.contains(datetime.fromisoformat(happened_at(document)).date())
            assert happened_at(document).endswith("+08:00")


def test_field_year_covers_every_category_status_and_action(year: FieldYear) -> None:
    live = [v for v in year.visits if not v["deleted"]]
    assert {v["category"] for v in live} == {c.value for c in VisitCategory}
    assert {v["status"] for v in live} == {s.value for s in VisitStatus}
    assert all(v["resolution"] for v in live if v["status"] == "resolved")
    assert sum(bool(v["deleted"]) for v in year.visits) == DELETED_VISITS
    assert {p["kind"] for p in year.patrols} == {k.value for k in PatrolKind}
    types = Counter(a["type"] for a in year.service_actions)
    assert set(types) == {t.value for t in ServiceActionType}  # six actions and both campaigns


def test_field_year_adds_up_to_the_article(year: FieldYear) -> None:
    actions = year.service_actions
    assert sum(int(str(a["difficultiesSolved"])) for a in actions) == DIFFICULTIES_SOLVED == 356
    assert sum(int(str(a["bannersReceived"])) for a in actions) == BANNERS_RECEIVED == 96
    # Banners come where difficulties were solved.
    assert all(a["difficultiesSolved"] for a in actions if a["bannersReceived"])


def test_every_branch_records_field_work_and_stations_visit_most(
    county: County, year: FieldYear
) -> None:
    unit_of_branch = {
        m["branch_id"]: unit for unit, people in county.unit_members.items() for m in people
    }
    visits = Counter(unit_of_branch[parse(v["branchId"], "Branch")] for v in year.visits)
    actions = Counter(unit_of_branch[parse(a["branchId"], "Branch")] for a in year.service_actions)
    assert len(actions) == 32 and min(actions.values()) >= 12  # 为民服务 about monthly
    assert len(visits) == 32
    assert visits.most_common(1)[0][0].endswith("派出所")
    night = Counter(
        unit_of_branch[parse(p["branchId"], "Branch")] for p in year.patrols if p["kind"] == "night"
    )
    assert night.most_common(1)[0][0] == "治安巡逻大队"


def test_records_belong_to_their_officers_branch(county: County, year: FieldYear) -> None:
    home = {m["id"]: m for m in county.members}
    for _, documents in year.by_collection():
        for document in documents:
            officer = home[parse(document["officerId"], "Member")]
            assert officer["service_status"] is ServiceStatus.ACTIVE
            assert parse(document["branchId"], "Branch") == officer["branch_id"]


def test_patrols_and_actions_carry_people_and_tracks(year: FieldYear) -> None:
    for patrol in year.patrols:
        track = patrol["track"]
        assert isinstance(track, list) and 3 <= len(track) <= 6
        times = [str(point["t"]) for point in track if isinstance(point, dict)]
        assert times == sorted(times)
        assert times[0] == patrol["startedAt"] and times[-1] == patrol["endedAt"]
        assert isinstance(patrol["participants"], list)
        assert patrol["officerId"] in patrol["participants"]
    volunteers = members = 0
    for action in year.service_actions:
        people = action["participants"]
        assert isinstance(people, list)
        members += sum(isinstance(p, dict) and "memberId" in p for p in people)
        volunteers += sum(isinstance(p, dict) and "role" in p for p in people)
        assert {"memberId": action["officerId"]} in people
    assert members > 0 and volunteers > 0


# --- the quieter year before it ---------------------------------------------------------------


@pytest.fixture(scope="module")
def years(county: County, when: Timeline) -> list[FieldYear]:
    return build_field_years(county, when)


def test_field_years_draw_the_recent_year_exactly_as_it_is_drawn_alone(
    year: FieldYear, years: list[FieldYear]
) -> None:
    assert [shape.recent for shape in FIELD_YEARS] == [False, True]
    this_year = years[-1]
    assert this_year.visits == year.visits
    assert this_year.patrols == year.patrols
    assert this_year.service_actions == year.service_actions


def test_every_field_year_is_valid_sync_data_within_its_year(
    when: Timeline, years: list[FieldYear]
) -> None:
    ids: list[JSON] = []
    for shape, built in zip(FIELD_YEARS, years, strict=True):
        window = when.recent if shape.recent else when.earlier
        for collection, documents in built.by_collection():
            ids += [d["id"] for d in documents]
            for document in documents:
                assert collection.validate(document) == [], (collection.name, document)
                assert window.contains(datetime.fromisoformat(happened_at(document)).date())
        actions = built.service_actions
        assert sum(int(str(a["difficultiesSolved"])) for a in actions) == shape.difficulties_solved
        assert sum(int(str(a["bannersReceived"])) for a in actions) == shape.banners_received
        assert sum(bool(v["deleted"]) for v in built.visits) == shape.deleted_visits
        assert {a["type"] for a in actions} == {t.value for t in ServiceActionType}
    assert len(set(ids)) == len(ids)  # no document of one year shares an id with the other's


def test_the_earlier_year_is_quieter_with_every_case_settled(years: list[FieldYear]) -> None:
    last, this = years

    def live(documents: list[dict[str, JSON]]) -> int:
        return sum(not d["deleted"] for d in documents)

    def night(built: FieldYear) -> int:
        return sum(p["kind"] == PatrolKind.NIGHT.value for p in built.patrols)

    for then, now in (
        (live(last.visits), live(this.visits)),
        (live(last.patrols), live(this.patrols)),
        (night(last), night(this)),
        (live(last.service_actions), live(this.service_actions)),
    ):
        assert 0.8 * now <= then <= 0.9 * now
    assert 0 < LAST_YEAR.difficulties_solved < DIFFICULTIES_SOLVED
    assert 0 < LAST_YEAR.banners_received < BANNERS_RECEIVED
    statuses = {v["status"] for v in last.visits if not v["deleted"]}
    assert statuses == {VisitStatus.RESOLVED.value, VisitStatus.ESCALATED.value}


def test_units_patrol_around_the_same_centre_every_year(
    county: County, years: list[FieldYear]
) -> None:
    unit_of_branch = {
        m["branch_id"]: unit for unit, people in county.unit_members.items() for m in people
    }

    def centres(built: FieldYear) -> dict[str, tuple[float, float]]:
        starts: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for patrol in built.patrols:
            track = patrol["track"]
            assert isinstance(track, list) and isinstance(track[0], dict)
            unit = unit_of_branch[parse(patrol["branchId"], "Branch")]
            starts[unit].append((float(str(track[0]["lat"])), float(str(track[0]["lng"]))))
        return {
            unit: (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))
            for unit, points in starts.items()
        }

    last, this = (centres(built) for built in years)
    assert set(last) == set(this)
    for unit, (lat, lng) in this.items():
        # Tracks start within ±0.03° of their unit's centre; the centres lie up to 0.3° apart.
        assert abs(last[unit][0] - lat) < 0.02 and abs(last[unit][1] - lng) < 0.02, unit


def parse(value: object, kind: str) -> Any:
    raw = global_id_uuid_or_none(str(value), kind)
    assert raw is not None
    return raw
