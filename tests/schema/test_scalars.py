"""Scalars (schema/scalars.py): a value the resolvers cannot compute with is refused while the
variables are coerced, as a typed error, and nothing is written."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from core.db import Sessionmaker
from core.global_id import global_id
from models import Directive, HotlineRequest
from tests.conftest import Api, World

HOTLINE = """mutation($input: CreateHotlineRequestInput!) {
  createHotlineRequest(input: $input) { __typename }
}"""
DIRECTIVE = """mutation($input: IssueDirectiveInput!) {
  issueDirective(input: $input) { __typename }
}"""


async def count(sessionmaker: Sessionmaker, model: Any) -> int:
    async with sessionmaker() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


def refused_while_coercing(body: dict[str, Any]) -> bool:
    return "data" not in body and [e["extensions"]["code"] for e in body["errors"]] == [
        "GRAPHQL_VALIDATION_FAILED"
    ]


@pytest.mark.parametrize(
    "moment",
    [
        "9999-12-31T23:59:59-12:00",  # past year 9999 in UTC
        "0001-01-01T00:00:00+08:00",  # before year 1 in UTC
        "0001-01-01T00:00:00",  # the bureau's time (UTC+8): before year 1 in UTC
    ],
)
async def test_a_date_time_beyond_the_years_utc_can_hold_is_refused_as_bad_input(
    api: Api, world: World, sessionmaker: Sessionmaker, moment: str
) -> None:
    token = await api.login("admin")
    hotline = {
        "category": "FAMILY",
        "summary": "家中老人需要照顾",
        "memberId": global_id("Member", world.meigui_member.id),
        "receivedAt": moment,
    }
    directive = {
        "title": "通知",
        "content": "内容",
        "deadline": moment,
        "targetBranchIds": [global_id("Branch", world.organ.id)],
    }

    bodies = [
        await api(HOTLINE, {"input": hotline}, token=token, expect_errors=True),
        await api(DIRECTIVE, {"input": directive}, token=token, expect_errors=True),
    ]

    assert all(refused_while_coercing(body) for body in bodies), bodies
    assert "DateTime" in bodies[0]["errors"][0]["message"]
    assert await count(sessionmaker, HotlineRequest) == 0
    assert await count(sessionmaker, Directive) == 0


async def test_a_date_time_near_the_ends_of_the_years_still_parses(api: Api, world: World) -> None:
    token = await api.login("admin")
    hotline = {
        "category": "FAMILY",
        "summary": "家中老人需要照顾",
        "memberId": global_id("Member", world.meigui_member.id),
        "receivedAt": "0001-01-02T00:00:00",
    }

    body = await api(HOTLINE, {"input": hotline}, token=token)

    assert body["data"]["createHotlineRequest"]["__typename"] == "HotlineRequestPayload"


def test_a_datetime_is_given_in_the_bureaus_time_zone() -> None:
    from datetime import UTC, datetime

    from schema.scalars import scalar_overrides

    serialize = scalar_overrides("Asia/Shanghai")[datetime].serialize
    assert serialize is not None
    assert serialize(datetime(2026, 5, 1, 10, tzinfo=UTC)) == "2026-05-01T18:00:00+08:00"
    # The database's naive instants are UTC.
    assert serialize(datetime(2026, 5, 1, 10)) == "2026-05-01T18:00:00+08:00"
    berlin = scalar_overrides("Europe/Berlin")[datetime].serialize
    assert berlin is not None
    assert berlin(datetime(2026, 5, 1, 10, tzinfo=UTC)) == "2026-05-01T12:00:00+02:00"


def test_the_time_zone_setting_is_read_and_an_unknown_one_refused() -> None:
    from core.settings import Settings, SettingsError

    assert Settings().timezone == "Asia/Shanghai"
    assert Settings.from_env({"MEIJING_TIMEZONE": "Asia/Urumqi"}).timezone == "Asia/Urumqi"
    with pytest.raises(SettingsError, match="MEIJING_TIMEZONE"):
        Settings(timezone="Mars/Olympus").check()


async def test_a_stored_instant_answers_in_the_bureaus_offset(api: Api, world: World) -> None:
    token = await api.login("admin")
    body = await api("{ me { account { lastLoginAt } } }", token=token)
    # The test clock's sign-in, 08:00 UTC, is 16:00 in Pingyin.
    assert body["data"]["me"]["account"]["lastLoginAt"].endswith("T16:00:00+08:00")
