"""`myDay`: an officer's day in one query, each part from its own domain, in bureau time."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from core.clock import FrozenClock
from core.db import Sessionmaker, writing
from core.global_id import global_id
from core.settings import Settings
from models import Branch, Member, Patrol, ReminderStatus, ServiceAction, Visit
from resolvers.my_day import month_of, week_of
from tests.conftest import Api, World
from tests.schema.test_statement_count import counting
from tests.schema.test_supervision import add_reminder
from tests.schema.test_sync import push, visit

CST = timezone(timedelta(hours=8))

MY_DAY = """
{ myDay {
    today
    reminders { totalCount nodes { title status } }
    directives { totalCount nodes { status directive { title } } }
    directiveCounts { toSign toReport }
    unreadBulletins { totalCount nodes { title } }
    thisWeek { startsOn endsOn visits patrols serviceActions }
    thisMonth { startsOn endsOn visits patrols serviceActions }
    heldRows { totalCount nodes { documentId reasons { field code } } }
} }"""
ISSUE = """mutation($t: String!, $b: ID!) {
  issueDirective(input: {title: $t, content: "落实", deadline: "2026-12-20T18:00:00+08:00",
                         targetBranchIds: [$b]}) { __typename } }"""
PUBLISH = """mutation($t: String!, $b: ID!) {
  publishBulletin(input: {title: $t, content: "……", kind: COMMENDATION, branchIds: [$b]}) {
    ... on BulletinPayload { bulletin { id } } } }"""


@pytest.fixture
def app_settings(settings: Settings) -> Settings:
    """Statement counts and changing data: the response cache is off."""
    return dataclasses.replace(settings, response_cache_entries=0)


def _synced(branch: Branch, officer: Member, when: datetime) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "branch_id": branch.id,
        "officer_id": officer.id,
        "updated_at": 1,
        "deleted": False,
        "created_at": when,
    }


async def add_records(
    sessionmaker: Sessionmaker, branch: Branch, officer: Member, *moments: datetime
) -> None:
    """A visit, a patrol and a service action by `officer` at each moment."""
    async with writing(sessionmaker) as db:
        for when in moments:
            db.add_all(
                [
                    Visit(
                        **_synced(branch, officer, when),
                        village="玫瑰村",
                        category="household",
                        status="open",
                        people_reached=1,
                        visited_at_text=when.isoformat(),
                        visited_at=when,
                    ),
                    Patrol(
                        **_synced(branch, officer, when),
                        kind="night",
                        area="主街",
                        started_at_text=when.isoformat(),
                        started_at=when,
                    ),
                    ServiceAction(
                        **_synced(branch, officer, when),
                        type="forum",
                        title="警民恳谈会",
                        happened_at_text=when.isoformat(),
                        happened_at=when,
                    ),
                ]
            )


async def dispatched_to_officer(api: Api, world: World, admin: str, *titles: str) -> list[str]:
    """Directives issued to 玫瑰 and dispatched by its secretary to the officer: their rows."""
    secretary = await api.login("secretary.meigui")
    for title in titles:
        await api(ISSUE, {"t": title, "b": global_id("Branch", world.meigui.id)}, token=admin)
    body = await api("{ myDirectives(first: 50) { nodes { id } } }", token=secretary)
    for node in body["data"]["myDirectives"]["nodes"]:
        await api(
            """mutation($r: ID!, $m: ID!) {
                 dispatchDirective(input: {recipientId: $r, memberIds: [$m]}) { __typename } }""",
            {"r": node["id"], "m": global_id("Member", world.officer_member.id)},
            token=secretary,
        )
    officer = await api.login("officer.meigui", device="directives")
    body = await api(
        "{ myDirectives(first: 50) { nodes { id directive { title } } } }", token=officer
    )
    by_title = {n["directive"]["title"]: n["id"] for n in body["data"]["myDirectives"]["nodes"]}
    return [by_title[t] for t in titles]


async def test_my_day_gathers_what_waits_for_the_officer(
    api: Api, world: World, sessionmaker: Sessionmaker, clock: FrozenClock
) -> None:
    # 2026-11-28 16:00 in Pingyin, a Saturday: the week runs from Monday 23 November.
    assert clock() == datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    me, colleague = world.officer_member, world.meigui_member
    await add_reminder(sessionmaker, clock, world.meigui, me, due_on=date(2026, 12, 1))
    await add_reminder(sessionmaker, clock, world.meigui, me, status=ReminderStatus.ACKNOWLEDGED)
    await add_reminder(sessionmaker, clock, world.meigui, me, status=ReminderStatus.RESOLVED)
    await add_reminder(sessionmaker, clock, world.meigui, colleague)
    await add_reminder(sessionmaker, clock, world.meigui)  # the branch's, for its secretary

    admin = await api.login("admin")
    to_sign, to_report, closed = await dispatched_to_officer(
        api, world, admin, "待签指令", "办理中指令", "已办结指令"
    )
    officer = await api.login("officer.meigui")
    for row, steps in [(to_report, ("sign",)), (closed, ("sign", "close"))]:
        for step in steps:
            mutation = {
                "sign": "signDirective(recipientId: $r) { __typename }",
                "close": "closeDirective(recipientId: $r) { __typename }",
            }[step]
            await api(f"mutation($r: ID!) {{ {mutation} }}", {"r": row}, token=officer)

    read = []
    for title in ("已读通报", "未读通报"):
        clock.advance(minutes=1)
        body = await api(
            PUBLISH, {"t": title, "b": global_id("Branch", world.meigui.id)}, token=admin
        )
        read.append(body["data"]["publishBulletin"]["bulletin"]["id"])
    await api(PUBLISH, {"t": "榆山通报", "b": global_id("Branch", world.yushan.id)}, token=admin)
    await api(
        "mutation($id: ID!) { markBulletinRead(id: $id) { __typename } }",
        {"id": read[0]},
        token=officer,
    )

    await add_records(
        sessionmaker,
        world.meigui,
        me,
        datetime(2026, 11, 27, 10, 0, tzinfo=CST),
        # Sunday 22 November at 16:30 UTC is already Monday in Pingyin: this week.
        datetime(2026, 11, 23, 0, 30, tzinfo=CST),
        datetime(2026, 11, 22, 23, 30, tzinfo=CST),  # last week, this month
        datetime(2026, 11, 1, 0, 10, tzinfo=CST),  # the month's first hour
        datetime(2026, 10, 31, 23, 50, tzinfo=CST),  # last month
    )
    await add_records(sessionmaker, world.meigui, colleague, datetime(2026, 11, 27, tzinfo=CST))
    held = visit(world, category="karaoke")
    await push(api, officer, (None, held))

    day = (await api(MY_DAY, token=officer))["data"]["myDay"]

    assert day["today"] == "2026-11-28"
    assert day["reminders"]["totalCount"] == 2
    assert {n["status"] for n in day["reminders"]["nodes"]} == {"OPEN", "ACKNOWLEDGED"}
    assert day["directives"]["totalCount"] == 2
    assert {(n["directive"]["title"], n["status"]) for n in day["directives"]["nodes"]} == {
        ("待签指令", "PENDING"),
        ("办理中指令", "SIGNED"),
    }
    assert day["directiveCounts"] == {"toSign": 1, "toReport": 1}
    assert day["unreadBulletins"] == {"totalCount": 1, "nodes": [{"title": "未读通报"}]}
    assert day["thisWeek"] == {
        "startsOn": "2026-11-23",
        "endsOn": "2026-11-30",
        "visits": 2,
        "patrols": 2,
        "serviceActions": 2,
    }
    assert day["thisMonth"] == {
        "startsOn": "2026-11-01",
        "endsOn": "2026-12-01",
        "visits": 4,
        "patrols": 4,
        "serviceActions": 4,
    }
    assert day["heldRows"]["totalCount"] == 1
    assert day["heldRows"]["nodes"][0]["documentId"] == held["id"]
    assert to_sign


async def test_my_day_of_an_account_without_a_member_is_empty_not_everyone_s(
    api: Api, world: World, sessionmaker: Sessionmaker
) -> None:
    await add_records(
        sessionmaker, world.meigui, world.officer_member, datetime(2026, 11, 27, tzinfo=CST)
    )
    day = (await api(MY_DAY, token=await api.login("admin")))["data"]["myDay"]
    assert (day["thisWeek"]["visits"], day["thisMonth"]["patrols"]) == (0, 0)
    assert day["reminders"]["totalCount"] == day["heldRows"]["totalCount"] == 0


async def test_my_day_needs_a_sign_in(api: Api, world: World) -> None:
    body = await api(MY_DAY, expect_errors=True)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_my_day_statement_count_does_not_grow_with_data(
    api: Api, app: Any, world: World, sessionmaker: Sessionmaker, clock: FrozenClock
) -> None:
    admin = await api.login("admin")

    async def grow(n: int) -> None:
        for i in range(n):
            await add_reminder(sessionmaker, clock, world.meigui, world.officer_member)
            await api(
                PUBLISH, {"t": f"通报{i}", "b": global_id("Branch", world.meigui.id)}, token=admin
            )
            await push(api, officer, (None, visit(world, category="karaoke")))
        await dispatched_to_officer(
            api, world, admin, *[f"指令{uuid.uuid4().hex[:6]}" for _ in range(n)]
        )

    async def statements() -> int:
        await api("{ me { account { username } } }", token=officer)
        with counting(app) as seen:
            await api(MY_DAY, token=officer)
        return len(seen)

    officer = await api.login("officer.meigui")
    await grow(1)
    small = await statements()
    await grow(5)
    assert await statements() == small


@pytest.mark.parametrize(
    ("day", "week", "month"),
    [
        (
            date(2026, 11, 28),
            (date(2026, 11, 23), date(2026, 11, 30)),
            (date(2026, 11, 1), date(2026, 12, 1)),
        ),
        (
            date(2026, 12, 31),
            (date(2026, 12, 28), date(2027, 1, 4)),
            (date(2026, 12, 1), date(2027, 1, 1)),
        ),
        (
            date(2024, 2, 29),
            (date(2024, 2, 26), date(2024, 3, 4)),
            (date(2024, 2, 1), date(2024, 3, 1)),
        ),
    ],
)
def test_weeks_start_on_monday_and_months_on_the_first(
    day: date, week: tuple[date, date], month: tuple[date, date]
) -> None:
    assert (week_of(day).starts_on, week_of(day).ends_on) == week
    assert (month_of(day).starts_on, month_of(day).ends_on) == month
