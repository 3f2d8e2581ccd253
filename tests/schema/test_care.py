"""警心110 and collective birthdays over GraphQL: who may do what, per role, and statement counts.

Refused operations leave the database exactly as it was.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from core.clock import FrozenClock
from core.db import Sessionmaker, writing
from core.settings import Settings
from models import HotlineCategory, HotlineNote, HotlineRequest, HotlineStatus, Member
from schema.node import to_global_id
from tests.conftest import Api, Builders, World
from tests.schema.test_role_matrix import Scene, scene, snapshot, token_of
from tests.schema.test_statement_count import counting

__all__ = ["scene"]  # the fixture, shared with the role matrix

ROLES = ("admin", "secretary", "inspector", "officer", "anonymous")


@pytest.fixture
def app_settings(settings: Settings) -> Settings:
    """Statement counts and before/after snapshots need answers that are not cached."""
    return dataclasses.replace(settings, response_cache_entries=0)


def gid(type_name: str, raw: uuid.UUID) -> str:
    return to_global_id(type_name, raw)


@dataclasses.dataclass
class Requests:
    """One request each: the demo officer's own, a 玫瑰 colleague's, and a 榆山 member's."""

    own: uuid.UUID
    colleague: uuid.UUID
    far: uuid.UUID


async def add_request(sessionmaker: Sessionmaker, member: Member, at: datetime) -> uuid.UUID:
    request_id = uuid.uuid4()
    async with writing(sessionmaker) as db:
        db.add(
            HotlineRequest(
                id=request_id,
                member_id=member.id,
                received_at=at,
                category=HotlineCategory.FAMILY,
                summary=f"{member.name}的求助",
                status=HotlineStatus.RECEIVED,
                created_at=at,
                updated_at=at,
            )
        )
        await db.flush()
        db.add(
            HotlineNote(
                id=uuid.uuid4(),
                request_id=request_id,
                status=HotlineStatus.RECEIVED,
                note="已受理",
                recorded_at=at,
            )
        )
    return request_id


@pytest.fixture
async def requests(scene: Scene, sessionmaker: Sessionmaker) -> Requests:
    w = scene.world
    at = datetime(2026, 10, 1, tzinfo=UTC)
    return Requests(
        await add_request(sessionmaker, w.officer_member, at),
        await add_request(sessionmaker, w.meigui_member, at.replace(day=2)),
        await add_request(sessionmaker, w.yushan_member, at.replace(day=3)),
    )


LIST = "{ hotlineRequests(first: 50) { totalCount nodes { id summary member { name } } } }"
ONE = "query($id: ID!) { hotlineRequest(id: $id) { summary notes { note } } }"
CREATE = """mutation($input: CreateHotlineRequestInput!) {
  createHotlineRequest(input: $input) {
    __typename
    ... on HotlineRequestPayload { request { status summary member { name } } }
    ... on InvalidInput { errors { field code message } }
  }
}"""
HANDLE = """mutation($input: HandleHotlineRequestInput!) {
  handleHotlineRequest(input: $input) {
    __typename
    ... on HotlineRequestPayload { request { status handledByUsername notes { note } } }
    ... on InvalidInput { errors { field code message } }
  }
}"""

# What each role reads: the officer their own, the secretary 玫瑰's, the admin all.
VISIBLE = {
    "admin": {"own", "colleague", "far"},
    "secretary": {"own", "colleague"},
    "inspector": set(),
    "officer": {"own"},
}


@pytest.mark.parametrize("role", ROLES)
async def test_hotline_reads_per_role(
    api: Api,
    scene: Scene,
    requests: Requests,
    sessionmaker: Sessionmaker,
    clock: FrozenClock,
    role: str,
) -> None:
    token = await token_of(role, scene, sessionmaker, clock)
    body = await api(LIST, token=token, expect_errors=True)
    if role == "anonymous":
        assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
        return
    ids = {gid("HotlineRequest", getattr(requests, k)): k for k in ("own", "colleague", "far")}
    seen = {ids[n["id"]] for n in body["data"]["hotlineRequests"]["nodes"]}
    assert seen == VISIBLE[role]
    assert body["data"]["hotlineRequests"]["totalCount"] == len(seen)
    for key in ("own", "colleague", "far"):
        one = await api(ONE, {"id": gid("HotlineRequest", getattr(requests, key))}, token=token)
        answer = one["data"]["hotlineRequest"]
        assert (answer is not None) == (key in VISIBLE[role]), (key, answer)


def _create(s: Scene, member: Member | None) -> dict[str, Any]:
    data: dict[str, Any] = {"category": "PSYCHOLOGICAL", "summary": "压力大,想找人聊聊"}
    if member is not None:
        data["memberId"] = gid("Member", member.id)
    return {"input": data}


OK, FORBIDDEN, NOT_FOUND, INVALID = "ok", "FORBIDDEN", "NOT_FOUND", "REQUIRED"
WRITES: dict[str, tuple[str, Any, dict[str, str]]] = {
    "create for oneself": (
        CREATE,
        lambda s, r: _create(s, None),
        # Accounts without a member (admin and inspector in the scene) must name one.
        {"admin": INVALID, "secretary": OK, "inspector": INVALID, "officer": OK},
    ),
    "create for a 玫瑰 member": (
        CREATE,
        lambda s, r: _create(s, s.world.meigui_member),
        {"admin": OK, "secretary": OK, "inspector": FORBIDDEN, "officer": FORBIDDEN},
    ),
    "create for a 榆山 member": (
        CREATE,
        lambda s, r: _create(s, s.world.yushan_member),
        {"admin": OK, "secretary": FORBIDDEN, "inspector": FORBIDDEN, "officer": FORBIDDEN},
    ),
    "handle the officer's own request": (
        HANDLE,
        lambda s, r: {
            "input": {"id": gid("HotlineRequest", r.own), "status": "IN_PROGRESS", "note": "谈心"}
        },
        {"admin": OK, "secretary": OK, "inspector": NOT_FOUND, "officer": FORBIDDEN},
    ),
    "handle a 榆山 request": (
        HANDLE,
        lambda s, r: {
            "input": {"id": gid("HotlineRequest", r.far), "status": "RESOLVED", "note": "已办结"}
        },
        {"admin": OK, "secretary": NOT_FOUND, "inspector": NOT_FOUND, "officer": NOT_FOUND},
    ),
}
WRITE_CASES = [
    pytest.param(role, name, id=f"{role}-{name}")
    for name in WRITES
    for role in ROLES
    if role != "anonymous"
]


@pytest.mark.parametrize(("role", "name"), WRITE_CASES)
async def test_hotline_writes_per_role(
    api: Api,
    scene: Scene,
    requests: Requests,
    sessionmaker: Sessionmaker,
    clock: FrozenClock,
    role: str,
    name: str,
) -> None:
    query, variables, expected = WRITES[name]
    token = await token_of(role, scene, sessionmaker, clock)
    before = await snapshot(sessionmaker)
    body = await api(query, variables(scene, requests), token=token, expect_errors=True)
    field = "createHotlineRequest" if query is CREATE else "handleHotlineRequest"
    outcome = expected[role]
    if outcome == FORBIDDEN:
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"], body
        assert await snapshot(sessionmaker) == before
        return
    answer = body["data"][field]
    if outcome == OK:
        assert answer["__typename"] == "HotlineRequestPayload", body
        assert await snapshot(sessionmaker) != before
    else:
        assert answer["__typename"] == "InvalidInput", body
        assert [e["code"] for e in answer["errors"]] == [outcome], body
        assert await snapshot(sessionmaker) == before


async def test_unknown_category_is_refused_before_anything_is_written(
    api: Api, scene: Scene, sessionmaker: Sessionmaker, clock: FrozenClock
) -> None:
    token = await token_of("officer", scene, sessionmaker, clock)
    before = await snapshot(sessionmaker)
    body = await api(
        CREATE, {"input": {"category": "GOSSIP", "summary": "x"}}, token=token, expect_errors=True
    )
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", body
    assert await snapshot(sessionmaker) == before


async def test_hotline_list_statement_count_is_constant(
    api: Api, app: Any, scene: Scene, sessionmaker: Sessionmaker, clock: FrozenClock, make: Builders
) -> None:
    query = """{ hotlineRequests(first: 50) {
      totalCount nodes { summary statusLabel member { name branch { name } } notes { note byUsername } }
    } }"""
    token = await token_of("admin", scene, sessionmaker, clock)
    await api("{ me { account { username } } }", token=token)
    at = datetime(2026, 10, 1, tzinfo=UTC)
    await add_request(sessionmaker, scene.world.meigui_member, at)
    with counting(app) as small:
        await api(query, token=token)
    for i in range(8):
        member = await make.member(scene.world.yushan, name=f"求助人{i}")
        await add_request(sessionmaker, member, at.replace(day=2 + i))
    with counting(app) as large:
        body = await api(query, token=token)
    assert body["data"]["hotlineRequests"]["totalCount"] == 9
    # The page, totalCount, members, notes, and the members' branches.
    assert len(small) == len(large) <= 5


BIRTHDAYS = """query($month: String!, $branchId: ID) {
  collectiveBirthdays(month: $month, branchId: $branchId) {
    month total
    groups { branch { name } members { celebratedOn age member { name branch { name } } } }
  }
}"""


async def test_collective_birthdays_over_graphql_in_constant_statements(
    api: Api, app: Any, world: World, make: Builders
) -> None:
    token = await api.login("secretary.meigui")
    await api("{ me { account { username } } }", token=token)
    await make.member(world.meigui_group, name="闰日生", birthday=date(1992, 2, 29))
    with counting(app) as small:
        body = await api(BIRTHDAYS, {"month": "2026-02"}, token=token)
    assert body["data"]["collectiveBirthdays"] == {
        "month": "2026-02",
        "total": 1,
        "groups": [
            {
                "branch": {"name": "玫瑰派出所党支部"},
                "members": [
                    {
                        "celebratedOn": "2026-02-28",
                        "age": 34,
                        "member": {"name": "闰日生", "branch": {"name": "玫瑰第一党小组"}},
                    }
                ],
            }
        ],
    }
    for i in range(10):
        await make.member(world.meigui, name=f"二月{i}", birthday=date(1990, 2, 1 + i))
        await make.member(world.yushan, name=f"榆山二月{i}", birthday=date(1990, 2, 1 + i))
    with counting(app) as large:
        body = await api(BIRTHDAYS, {"month": "2026-02"}, token=token)
    assert body["data"]["collectiveBirthdays"]["total"] == 11  # 榆山 is outside the scope
    assert len(small) == len(large) <= 3
    bad = await api(BIRTHDAYS, {"month": "2026-2"}, token=token, expect_errors=True)
    [error] = bad["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["problems"][0]["field"] == "month"


async def test_node_refetches_a_hotline_request_only_for_those_who_may_read_it(
    api: Api, scene: Scene, requests: Requests, sessionmaker: Sessionmaker, clock: FrozenClock
) -> None:
    query = "query($id: ID!) { node(id: $id) { ... on HotlineRequest { summary } } }"
    variables = {"id": gid("HotlineRequest", requests.own)}
    for role, sees in (("officer", True), ("secretary", True), ("inspector", False)):
        token = await token_of(role, scene, sessionmaker, clock)
        node = (await api(query, variables, token=token))["data"]["node"]
        assert (node is not None) == sees, role


async def test_a_received_time_without_offset_is_read_on_the_bureaus_clock(
    api: Api, scene: Scene, sessionmaker: Sessionmaker, clock: FrozenClock
) -> None:
    # Now is 16:00 in Pingyin (08:00 UTC). 15:30 without an offset is half an hour ago there.
    token = await token_of("officer", scene, sessionmaker, clock)
    query = """mutation($input: CreateHotlineRequestInput!) { createHotlineRequest(input: $input) {
      __typename ... on HotlineRequestPayload { request { receivedAt } }
      ... on InvalidInput { errors { field code } } } }"""
    body = await api(
        query,
        {
            "input": {
                "category": "FAMILY",
                "summary": "家中老人住院",
                "receivedAt": "2026-11-28T15:30:00",
            }
        },
        token=token,
    )
    assert body["data"]["createHotlineRequest"]["request"] == {
        "receivedAt": "2026-11-28T15:30:00+08:00"
    }
    before = await snapshot(sessionmaker)
    body = await api(
        query,
        {
            "input": {
                "category": "FAMILY",
                "summary": "家中老人住院",
                "receivedAt": "2026-11-28T16:30:00",
            }
        },
        token=token,
    )
    assert body["data"]["createHotlineRequest"]["errors"] == [
        {"field": "receivedAt", "code": "IN_FUTURE"}
    ]
    assert await snapshot(sessionmaker) == before
