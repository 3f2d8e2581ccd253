"""Argument limits checked before any resolver runs (schema/limits.py): characters no database
column can hold and lists longer than the maximum are refused as BAD_USER_INPUT, whatever the
field, and nothing is written."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from core.db import Sessionmaker
from core.global_id import global_id
from core.settings import Settings
from models import Branch, Visit
from schema import build_schema
from schema.limits import push_row_arguments
from sync.collection import COLLECTIONS
from tests.conftest import Api, World

CREATE_BRANCH = """
mutation($input: CreateBranchInput!) {
  createBranch(input: $input) { __typename ... on InvalidInput { errors { field code } } }
}"""


@pytest.fixture
def app_settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, log_level="WARNING", max_list_length=50)


async def post(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str | None = None
) -> dict[str, Any]:
    """Sends the body as escaped JSON text, so that any character gets through."""
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    response = await client.post(
        "/graphql", content=json.dumps({"query": query, "variables": variables}), headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def problems(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, code) of each problem of a BAD_USER_INPUT refusal; fails on anything else."""
    assert "data" not in body, body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", body
    assert error["extensions"]["requestId"]
    return [(p["field"], p["code"]) for p in error["extensions"]["problems"]]


async def branch_count(sessionmaker: Sessionmaker) -> int:
    async with sessionmaker() as db:
        return int(await db.scalar(select(func.count()).select_from(Branch)) or 0)


async def test_nul_in_a_login_username_is_bad_user_input(api: Api, world: World) -> None:
    body = await post(
        api.client,
        'mutation($u: String!) { login(username: $u, password: "x") { __typename } }',
        {"u": "ad\x00min"},
    )

    assert problems(body) == [("login.username", "invalid_character")]


async def test_nul_in_a_literal_argument_is_bad_user_input(api: Api, world: World) -> None:
    body = await post(
        api.client, 'mutation { login(username: "ad\\u0000min", password: "x") { __typename } }', {}
    )

    assert problems(body) == [("login.username", "invalid_character")]


async def test_nul_deep_in_a_mutation_input_is_refused_and_nothing_is_written(
    api: Api, world: World, sessionmaker: Sessionmaker
) -> None:
    token = await api.login("admin")
    before = await branch_count(sessionmaker)
    fine = {"kind": "BRANCH", "parentId": global_id("Branch", world.organ.id)}

    body = await post(
        api.client,
        CREATE_BRANCH,
        {"input": {**fine, "name": "新支部", "brandSlogan": "红心\x00向党"}},
        token,
    )

    assert problems(body) == [("createBranch.input.brandSlogan", "invalid_character")]
    assert await branch_count(sessionmaker) == before


async def test_a_lone_surrogate_in_an_argument_is_bad_user_input_and_nothing_is_written(
    api: Api, world: World, sessionmaker: Sessionmaker
) -> None:
    # JSON may escape a lone surrogate (a JavaScript string can hold one), and the HTTP layer
    # reads such a body so that a push can quarantine the row; anywhere else it is refused.
    token = await api.login("admin")
    before = await branch_count(sessionmaker)
    fine = {"kind": "BRANCH", "parentId": global_id("Branch", world.organ.id)}

    body = await post(api.client, CREATE_BRANCH, {"input": {**fine, "name": "新支部\ud800"}}, token)

    assert problems(body) == [("createBranch.input.name", "invalid_character")]
    assert await branch_count(sessionmaker) == before


async def test_every_bad_argument_is_named_with_its_path(api: Api, world: World) -> None:
    token = await api.login("admin")
    query = """
    mutation($finding: String!) {
      check: createSpotCheck(input: {
        branchId: "x", checkedOn: "2026-11-27", period: "2026-Q4", summary: "a\\u0000b",
        findings: [{text: "ok", deadline: "2026-12-10"}, {text: $finding, deadline: "2026-12-10"}]
      }) { __typename }
    }"""

    body = await post(api.client, query, {"finding": "\x00"}, token)

    assert problems(body) == [
        ("check.input.summary", "invalid_character"),
        ("check.input.findings[1].text", "invalid_character"),
    ]


async def test_list_argument_longer_than_the_limit_is_refused(api: Api, world: World) -> None:
    token = await api.login("admin")
    query = "query($s: [PartyStatus!]) { members(partyStatus: $s) { totalCount } }"

    refused = await post(api.client, query, {"s": ["FULL"] * 100_000}, token)
    at_limit = await post(api.client, query, {"s": ["FULL"] * 50}, token)

    assert problems(refused) == [("members.partyStatus", "too_many")]
    assert at_limit == {"data": {"members": {"totalCount": 4}}}


async def test_list_inside_an_input_longer_than_the_limit_is_refused_and_nothing_is_written(
    api: Api, world: World, sessionmaker: Sessionmaker
) -> None:
    token = await api.login("admin")
    query = """
    mutation($input: IssueDirectiveInput!) { issueDirective(input: $input) { __typename } }"""
    organ = global_id("Branch", world.organ.id)

    body = await post(
        api.client,
        query,
        {
            "input": {
                "title": "通知",
                "content": "内容",
                "priority": "URGENT",
                "deadline": "2026-12-20T18:00:00+08:00",
                "targetBranchIds": [organ] * 51,
            }
        },
        token,
    )

    assert problems(body) == [("issueDirective.input.targetBranchIds", "too_many")]


async def test_nul_in_a_push_row_is_left_to_the_push(
    api: Api, world: World, sessionmaker: Sessionmaker
) -> None:
    """The push quarantines a bad row (sync/push.py); refusing the whole request would stop the
    phone's sync for good, since RxDB retries the same batch forever."""
    token = await api.login("officer.meigui")
    row = {
        "id": str(uuid.uuid4()),
        "branchId": global_id("Branch", world.meigui.id),
        "officerId": global_id("Member", world.officer_member.id),
        "village": "玫瑰\x00村",
        "category": "household",
        "status": "open",
        "peopleReached": 1,
        "visitedAt": "2026-11-20T10:00:00+08:00",
        "deleted": False,
    }
    query = """
    mutation($rows: [VisitInputPushRow!]) { pushVisit(visitPushRow: $rows) { id } }"""

    body = await post(api.client, query, {"rows": [{"newDocumentState": row}]}, token)

    codes = [e["extensions"]["code"] for e in body.get("errors", [])]
    assert "BAD_USER_INPUT" not in codes, body


async def test_push_above_the_row_limit_is_refused_as_a_page_size_error(
    client_for: Any, db_url: str, world: World
) -> None:
    """The push's own limit (MEIJING_SYNC_MAX_PUSH_ROWS), not the list limit, applies to rows:
    the client sees the error and uses smaller batches."""
    client = await client_for(
        Settings(database_url=db_url, log_level="WARNING", max_list_length=5, sync_max_push_rows=3)
    )
    api = Api(client)
    token = await api.login("officer.meigui")
    rows = [
        {
            "newDocumentState": {
                "id": str(uuid.uuid4()),
                "branchId": global_id("Branch", world.meigui.id),
                "officerId": global_id("Member", world.officer_member.id),
                "village": "玫瑰村",
                "category": "household",
                "status": "open",
                "peopleReached": 1,
                "visitedAt": "2026-11-20T10:00:00+08:00",
                "deleted": False,
            }
        }
        for _ in range(4)
    ]
    query = "mutation($rows: [VisitInputPushRow!]) { pushVisit(visitPushRow: $rows) { id } }"

    body = await post(client, query, {"rows": rows}, token)

    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert [p["code"] for p in error["extensions"]["problems"]] == ["page_size"]


async def test_visits_stay_unwritten_when_a_request_is_refused(
    api: Api, world: World, sessionmaker: Sessionmaker
) -> None:
    """A web form's write (createVisit) is not a push: a NUL refuses the request."""
    token = await api.login("secretary.meigui")
    query = "mutation($input: VisitRecordInput!) { createVisit(input: $input) { __typename } }"
    visit = {
        "branchId": global_id("Branch", world.meigui.id),
        "officerId": global_id("Member", world.officer_member.id),
        "village": "玫瑰村",
        "category": "HOUSEHOLD",
        "concerns": "\x00",
        "status": "OPEN",
        "peopleReached": 1,
        "visitedAt": "2026-11-20T10:00:00+08:00",
    }

    body = await post(api.client, query, {"input": visit}, token)

    assert problems(body) == [("createVisit.input.concerns", "invalid_character")]
    async with sessionmaker() as db:
        assert await db.scalar(select(func.count()).select_from(Visit)) == 0


def test_every_push_mutation_is_known_to_the_limits() -> None:
    """A collection added later gets its push rows left to the push layer as well."""
    mutation = build_schema(Settings())._schema.mutation_type
    assert mutation is not None
    pushes = {
        (name, arg)
        for name, field in mutation.fields.items()
        for arg in field.args
        if name.startswith("push")
    }

    assert pushes == push_row_arguments()
    assert len(pushes) == len(COLLECTIONS)
