"""Education-base activities over GraphQL: the connection and totals in constant statements,
typed errors for bad input, and nothing written when refused."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from core.db import Sessionmaker, writing
from core.settings import Settings
from models import Branch, EducationActivity, EducationActivityType, EducationBase
from schema.node import to_global_id
from tests.conftest import Api, Builders, World
from tests.schema.test_statement_count import counting


@pytest.fixture
def app_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, response_cache_entries=0)


CREATE = """mutation($input: CreateEducationActivityInput!) {
  createEducationActivity(input: $input) {
    __typename
    ... on EducationActivityPayload { activity { id title typeLabel audienceCount branch { name } } }
    ... on InvalidInput { errors { field code message } }
  }
}"""
LIST = """query($period: String, $types: [EducationActivityType!], $subtreeOf: ID) {
  educationActivities(first: 50, period: $period, types: $types, subtreeOf: $subtreeOf) {
    totalCount
    nodes { title heldOn type typeLabel audienceCount branch { name parent { name } } }
  }
  educationTotals(period: $period, types: $types, subtreeOf: $subtreeOf) {
    period
    total { activities audience }
    byType { type label activities audience }
    byMonth { month activities audience }
  }
}"""


def activity(branch: Branch, **extra: Any) -> dict[str, Any]:
    return {
        "input": {
            "branchId": to_global_id("Branch", branch.id),
            "title": "党建教育基地开放日",
            "heldOn": "2026-05-01",
            "type": "OPEN_DAY",
            "audienceCount": 40,
            **extra,
        }
    }


async def stored(sessionmaker: Sessionmaker) -> int:
    async with sessionmaker() as db:
        return int(await db.scalar(select(func.count()).select_from(EducationActivity)) or 0)


async def add(make: Builders, branch: Branch, held_on: date, audience: int) -> None:
    async with writing(make.sessionmaker) as db:
        db.add(
            EducationActivity(
                id=uuid.uuid4(),
                branch_id=branch.id,
                title="参观学习",
                held_on=held_on,
                type=EducationActivityType.STUDY_VISIT,
                audience_count=audience,
                created_at=make.clock(),
                updated_at=make.clock(),
            )
        )


async def test_secretary_creates_edits_and_deletes_an_activity(
    api: Api, world: World, sessionmaker: Sessionmaker
) -> None:
    token = await api.login("secretary.meigui")
    body = await api(CREATE, activity(world.meigui), token=token)
    created = body["data"]["createEducationActivity"]["activity"]
    assert (created["typeLabel"], created["branch"]["name"]) == ("开放日", "玫瑰派出所党支部")
    update = """mutation($input: UpdateEducationActivityInput!) {
      updateEducationActivity(input: $input) {
        ... on EducationActivityPayload { activity { audienceCount type } }
        ... on InvalidInput { errors { field code } }
      }
    }"""
    body = await api(
        update,
        {"input": {"id": created["id"], "audienceCount": 66, "type": "LECTURE"}},
        token=token,
    )
    assert body["data"]["updateEducationActivity"]["activity"] == {
        "audienceCount": 66,
        "type": "LECTURE",
    }
    body = await api(update, {"input": {"id": created["id"], "audienceCount": -1}}, token=token)
    assert body["data"]["updateEducationActivity"]["errors"] == [
        {"field": "audienceCount", "code": "OUT_OF_RANGE"}
    ]
    delete = """mutation($input: DeleteEducationActivityInput!) {
      deleteEducationActivity(input: $input) {
        __typename
        ... on EducationActivityDeleted { id }
      }
    }"""
    body = await api(delete, {"input": {"id": created["id"]}}, token=token)
    assert body["data"]["deleteEducationActivity"]["id"] == created["id"]
    assert await stored(sessionmaker) == 0


async def test_bad_activities_are_refused_with_typed_errors_and_nothing_written(
    api: Api, world: World, sessionmaker: Sessionmaker
) -> None:
    token = await api.login("admin")
    body = await api(
        CREATE,
        activity(world.meigui, audienceCount=-3, heldOn="2030-01-01", title=""),
        token=token,
    )
    errors = body["data"]["createEducationActivity"]["errors"]
    assert {e["field"]: e["code"] for e in errors} == {
        "audienceCount": "OUT_OF_RANGE",
        "heldOn": "IN_FUTURE",
        "title": "REQUIRED",
    }
    body = await api(CREATE, activity(world.meigui, heldOn="1990-06-01"), token=token)
    assert body["data"]["createEducationActivity"]["errors"][0]["code"] == "OUT_OF_RANGE"
    # An unknown type never reaches the resolver: the enum refuses it, as a coded error.
    body = await api(CREATE, activity(world.meigui, type="PICNIC"), token=token, expect_errors=True)
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    officer = await api.login("officer.meigui")
    body = await api(CREATE, activity(world.meigui), token=officer, expect_errors=True)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await stored(sessionmaker) == 0


async def test_a_period_in_the_wrong_form_is_a_typed_error(api: Api, world: World) -> None:
    token = await api.login("admin")
    body = await api(LIST, {"period": "2026-13"}, token=token, expect_errors=True)
    codes = {e["extensions"]["problems"][0]["field"] for e in body["errors"]}
    assert codes == {"period"}
    assert {e["extensions"]["code"] for e in body["errors"]} == {"BAD_USER_INPUT"}


async def test_activity_list_and_totals_statement_count_is_constant(
    api: Api, app: Any, world: World, make: Builders
) -> None:
    token = await api.login("admin")
    await api("{ me { account { username } } }", token=token)
    await add(make, world.meigui, date(2026, 3, 1), 30)
    await add(make, world.yushan, date(2025, 3, 1), 99)
    with counting(app) as small:
        body = await api(LIST, {"period": "2026"}, token=token)
    assert body["data"]["educationTotals"]["total"] == {"activities": 1, "audience": 30}
    for i in range(12):
        branch = await make.branch(world.organ, name=f"扩展派出所{i}")
        await add(make, branch, date(2026, 1 + i, 10), 20 + i)
    with counting(app) as large:
        body = await api(LIST, {"period": "2026"}, token=token)
    totals = body["data"]["educationTotals"]
    assert totals["total"] == {"activities": 13, "audience": 30 + sum(20 + i for i in range(12))}
    assert [m["month"] for m in totals["byMonth"]] == [f"2026-{m:02d}" for m in range(1, 13)]
    assert totals["byType"] == [
        {
            "type": "STUDY_VISIT",
            "label": "参观学习",
            "activities": 13,
            "audience": totals["total"]["audience"],
        }
    ]
    assert body["data"]["educationActivities"]["totalCount"] == 13
    # The page, totalCount, totals, the branches and their parents.
    assert len(small) == len(large) == 5


async def test_secretary_sees_their_subtrees_activities_only(
    api: Api, world: World, make: Builders
) -> None:
    await add(make, world.meigui_group, date(2026, 3, 1), 30)
    await add(make, world.yushan, date(2026, 3, 2), 50)
    token = await api.login("secretary.meigui")
    body = await api(LIST, {"period": "2026-Q1"}, token=token)
    assert [n["branch"]["name"] for n in body["data"]["educationActivities"]["nodes"]] == [
        "玫瑰第一党小组"
    ]
    assert body["data"]["educationTotals"]["total"] == {"activities": 1, "audience": 30}


async def test_node_refetches_an_activity_within_scope(
    api: Api, world: World, make: Builders, sessionmaker: Sessionmaker
) -> None:
    await add(make, world.yushan, date(2026, 3, 2), 50)
    async with sessionmaker() as db:
        activity_id = await db.scalar(select(EducationActivity.id))
    assert activity_id is not None
    query = "query($id: ID!) { node(id: $id) { ... on EducationActivity { audienceCount } } }"
    variables = {"id": to_global_id("EducationActivity", activity_id)}
    admin = await api.login("admin")
    assert (await api(query, variables, token=admin))["data"]["node"] == {"audienceCount": 50}
    secretary = await api.login("secretary.meigui")
    assert (await api(query, variables, token=secretary))["data"]["node"] is None


CREATE_AT_BASE = """mutation($input: CreateEducationActivityInput!) {
  createEducationActivity(input: $input) {
    __typename
    ... on EducationActivityPayload { activity { base { name areaM2 address } } }
    ... on InvalidInput { errors { field code } }
  }
}"""


async def add_base(make: Builders, name: str) -> uuid.UUID:
    base_id = uuid.uuid4()
    async with writing(make.sessionmaker) as db:
        db.add(
            EducationBase(
                id=base_id,
                name=name,
                area_m2=615,
                address="平阴县公安局机关院内",
                created_at=make.clock(),
                updated_at=make.clock(),
            )
        )
    return base_id


async def test_an_activity_is_held_at_the_only_base_unless_another_is_named(
    api: Api, world: World, make: Builders, sessionmaker: Sessionmaker
) -> None:
    token = await api.login("admin")
    await add_base(make, "党建文化阵地")
    body = await api(CREATE_AT_BASE, activity(world.meigui), token=token)
    held = body["data"]["createEducationActivity"]["activity"]["base"]
    assert held == {"name": "党建文化阵地", "areaM2": 615, "address": "平阴县公安局机关院内"}

    unknown = to_global_id("EducationBase", uuid.uuid4())
    before = await stored(sessionmaker)
    body = await api(CREATE_AT_BASE, activity(world.meigui, baseId=unknown), token=token)
    result = body["data"]["createEducationActivity"]
    assert result == {
        "__typename": "InvalidInput",
        "errors": [{"field": "baseId", "code": "NOT_FOUND"}],
    }
    assert await stored(sessionmaker) == before

    # With two bases, one is named or none is assumed.
    second = await add_base(make, "玫瑰派出所警史室")
    body = await api(CREATE_AT_BASE, activity(world.meigui), token=token)
    assert body["data"]["createEducationActivity"]["activity"]["base"] is None
    named = activity(world.meigui, baseId=to_global_id("EducationBase", second))
    body = await api(CREATE_AT_BASE, named, token=token)
    assert body["data"]["createEducationActivity"]["activity"]["base"]["name"] == "玫瑰派出所警史室"
    bases = await api("{ educationBases { name } }", token=token)
    assert [b["name"] for b in bases["data"]["educationBases"]] == sorted(
        ["党建文化阵地", "玫瑰派出所警史室"]
    )
