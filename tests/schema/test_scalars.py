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
