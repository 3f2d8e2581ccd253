"""Field records on the web: connections with filters, and edits that go through the sync push."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import select

from app.graphql_http import MeijingGraphQL
from core.db import Sessionmaker
from models import SyncConflict, SyncQuarantine
from schema.node import to_global_id
from sync.feed import Feed, Notice
from tests.conftest import Api, Builders, World
from tests.schema.test_sync import count, pull, push, visit

LIST_VISITS = """
query($first: Int, $after: String, $subtree: ID, $branch: ID, $from: DateTime, $to: DateTime,
      $category: [String!], $status: [String!], $village: String, $officer: ID,
      $deleted: Boolean! = false) {
  visits(first: $first, after: $after, subtreeOf: $subtree, branchId: $branch, from: $from,
         to: $to, category: $category, status: $status, village: $village, officerId: $officer,
         includeDeleted: $deleted) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id village category categoryLabel status statusLabel deleted
            officer { name } branch { name } }
  }
}"""

RESULT = """
  __typename
  ... on VisitSaved { record { id village status peopleReached updatedAt deleted } }
  ... on VisitEditConflict { fields message record { id village status peopleReached } }
  ... on InvalidInput { errors { field code } }
"""
EDIT_VISIT = f"mutation($input: EditVisitInput!) {{ editVisit(input: $input) {{ {RESULT} }} }}"
CREATE_VISIT = f"mutation($input: VisitInput!) {{ createVisit(input: $input) {{ {RESULT} }} }}"
DELETE_VISIT = f"mutation($id: ID!) {{ deleteVisit(id: $id) {{ {RESULT} }} }}"


def feed_of(app: Any) -> Feed:
    """The feed the app's GraphQL endpoint publishes to (what stream subscriptions read)."""
    [endpoint] = {
        r.endpoint for r in app.routes if isinstance(getattr(r, "endpoint", None), MeijingGraphQL)
    }
    feed: Feed = endpoint.feed
    return feed


async def visits(api: Api, token: str, **variables: Any) -> dict[str, Any]:
    body = await api(LIST_VISITS, variables, token=token)
    result: dict[str, Any] = body["data"]["visits"]
    return result


async def test_visits_are_listed_newest_first_within_scope_and_paged(
    api: Api, world: World
) -> None:
    officer = await api.login("officer.meigui")
    admin = await api.login("admin")
    docs = [visit(world, visitedAt=f"2026-05-0{i}T10:00:00+08:00") for i in range(1, 6)]
    await push(api, officer, *[(None, d) for d in docs])
    yushan = visit(
        world,
        branchId=to_global_id("Branch", world.yushan.id),
        officerId=to_global_id("Member", world.yushan_member.id),
        visitedAt="2026-05-09T10:00:00+08:00",
    )
    await push(api, admin, (None, yushan))

    seen: list[str] = []
    after = None
    while True:
        page = await visits(api, admin, first=2, after=after)
        assert page["totalCount"] == 6
        seen += [n["id"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [yushan["id"]] + [d["id"] for d in reversed(docs)]

    secretary = await api.login("secretary.meigui")
    mine = await visits(api, secretary)
    assert mine["totalCount"] == 5
    first = mine["nodes"][0]
    assert first["officer"] == {"name": "李民警"}
    assert first["branch"] == {"name": "玫瑰派出所党支部"}
    assert first["categoryLabel"] == "入户走访"
    assert first["statusLabel"] == "待办"


async def test_visit_filters_narrow_the_list(api: Api, world: World) -> None:
    admin = await api.login("admin")
    a = visit(world, village="玫瑰村", category="fraud_prevention", status="resolved")
    b = visit(world, village="桃园村", visitedAt="2026-06-01T09:00:00+08:00")
    c = visit(
        world,
        branchId=to_global_id("Branch", world.meigui_group.id),
        officerId=to_global_id("Member", world.meigui_member.id),
    )
    await push(api, admin, (None, a), (None, b), (None, c))

    async def ids(**flt: Any) -> set[str]:
        return {n["id"] for n in (await visits(api, admin, **flt))["nodes"]}

    assert await ids(village="桃园") == {b["id"]}
    assert await ids(category=["fraud_prevention"]) == {a["id"]}
    assert await ids(status=["open"]) == {b["id"], c["id"]}
    assert await ids(**{"from": "2026-05-15T00:00:00+08:00"}) == {b["id"]}
    assert await ids(to="2026-05-15T00:00:00+08:00") == {a["id"], c["id"]}
    assert await ids(branch=to_global_id("Branch", world.meigui.id)) == {a["id"], b["id"]}
    assert await ids(subtree=to_global_id("Branch", world.meigui.id)) == {a["id"], b["id"], c["id"]}
    assert await ids(subtree=to_global_id("Branch", world.yushan.id)) == set()
    assert await ids(officer=to_global_id("Member", world.meigui_member.id)) == {c["id"]}


async def test_deleted_visits_are_listed_only_when_asked(api: Api, world: World) -> None:
    admin = await api.login("admin")
    doc = visit(world)
    await push(api, admin, (None, doc))
    result = (await api(DELETE_VISIT, {"id": doc["id"]}, token=admin))["data"]["deleteVisit"]
    assert result["__typename"] == "VisitSaved"
    assert result["record"]["deleted"] is True
    assert (await visits(api, admin))["totalCount"] == 0
    assert (await visits(api, admin, deleted=True))["totalCount"] == 1
    # Phones learn of the deletion as a tombstone.
    officer = await api.login("officer.meigui")
    [pulled] = (await pull(api, officer))["documents"]
    assert pulled["deleted"] is True


async def test_web_edit_keeps_untouched_fields_a_phone_changed_meanwhile(
    api: Api, world: World, sessionmaker: Sessionmaker
) -> None:
    officer = await api.login("officer.meigui")
    secretary = await api.login("secretary.meigui")
    loaded = visit(world)
    await push(api, officer, (None, loaded))
    # While the form is open, the phone changes peopleReached.
    await push(api, officer, (loaded, {**loaded, "peopleReached": 9}))
    result = await api(
        EDIT_VISIT,
        {
            "input": {
                "id": loaded["id"],
                "before": loaded,
                "after": {**loaded, "village": "玫瑰东村"},
            }
        },
        token=secretary,
    )
    saved = result["data"]["editVisit"]
    assert saved["__typename"] == "VisitSaved"
    assert saved["record"]["village"] == "玫瑰东村"
    assert saved["record"]["peopleReached"] == 9
    assert await count(sessionmaker, SyncConflict) == 0
    [pulled] = (await pull(api, officer))["documents"]
    assert (pulled["village"], pulled["peopleReached"]) == ("玫瑰东村", 9)


async def test_web_edit_of_a_field_a_phone_changed_is_a_logged_conflict(
    api: Api, world: World, sessionmaker: Sessionmaker
) -> None:
    officer = await api.login("officer.meigui")
    secretary = await api.login("secretary.meigui")
    loaded = visit(world)
    await push(api, officer, (None, loaded))
    await push(api, officer, (loaded, {**loaded, "village": "玫瑰西村"}))
    result = await api(
        EDIT_VISIT,
        {
            "input": {
                "id": loaded["id"],
                "before": loaded,
                "after": {**loaded, "village": "玫瑰东村", "peopleReached": 4},
            }
        },
        token=secretary,
    )
    conflict = result["data"]["editVisit"]
    assert conflict["__typename"] == "VisitEditConflict"
    assert conflict["fields"] == ["village"]
    assert conflict["record"]["village"] == "玫瑰西村"
    assert conflict["record"]["peopleReached"] == 4
    async with sessionmaker() as db:
        [logged] = (await db.execute(select(SyncConflict))).scalars().all()
    assert (logged.field, logged.client, logged.server) == ("village", "玫瑰东村", "玫瑰西村")
    assert logged.account_id == world.secretary.id


async def test_web_edit_adding_a_note_beside_a_phones_note_saves_both_without_a_conflict(
    api: Api, world: World, sessionmaker: Sessionmaker
) -> None:
    officer = await api.login("officer.meigui")
    secretary = await api.login("secretary.meigui")
    loaded = visit(world, concerns="路灯坏了")
    await push(api, officer, (None, loaded))
    await push(api, officer, (loaded, {**loaded, "concerns": "路灯坏了\n已拍照上报"}))
    edit = {
        "id": loaded["id"],
        "before": loaded,
        "after": {**loaded, "concerns": "路灯坏了\n已派电工"},
    }

    result = (await api(EDIT_VISIT, {"input": edit}, token=secretary))["data"]["editVisit"]

    # Nothing the secretary wrote was overruled, so the form is not told it was.
    assert result["__typename"] == "VisitSaved"
    [pulled] = (await pull(api, officer))["documents"]
    assert pulled["concerns"] == "路灯坏了\n已拍照上报\n已派电工"
    assert await count(sessionmaker, SyncConflict) == 0
    # A line both changed is overruled, and the form is told.
    edit = {"id": loaded["id"], "before": pulled, "after": {**pulled, "concerns": "路灯已修好"}}
    await push(api, officer, (pulled, {**pulled, "concerns": "路灯坏了\n已拍照上报\n电工未到"}))
    result = (await api(EDIT_VISIT, {"input": edit}, token=secretary))["data"]["editVisit"]
    assert (result["__typename"], result["fields"]) == ("VisitEditConflict", ["concerns"])


async def test_invalid_web_edit_is_refused_with_field_errors_and_not_quarantined(
    api: Api, world: World, sessionmaker: Sessionmaker
) -> None:
    admin = await api.login("admin")
    doc = visit(world)
    await push(api, admin, (None, doc))
    result = await api(
        EDIT_VISIT,
        {
            "input": {
                "id": doc["id"],
                "before": doc,
                "after": {**doc, "category": "karaoke", "village": ""},
            }
        },
        token=admin,
    )
    invalid = result["data"]["editVisit"]
    assert invalid["__typename"] == "InvalidInput"
    assert {e["field"] for e in invalid["errors"]} == {"category", "village"}
    assert await count(sessionmaker, SyncQuarantine) == 0
    [stored] = (await visits(api, admin))["nodes"]
    assert stored["category"] == "household"


async def test_secretary_cannot_edit_into_or_outside_their_subtree(api: Api, world: World) -> None:
    admin = await api.login("admin")
    secretary = await api.login("secretary.meigui")
    theirs = visit(world)
    other = visit(
        world,
        branchId=to_global_id("Branch", world.yushan.id),
        officerId=to_global_id("Member", world.yushan_member.id),
    )
    await push(api, admin, (None, theirs), (None, other))
    moved = {**theirs, "branchId": to_global_id("Branch", world.yushan.id)}
    result = await api(
        EDIT_VISIT,
        {"input": {"id": theirs["id"], "before": theirs, "after": moved}},
        token=secretary,
    )
    assert result["data"]["editVisit"]["errors"] == [{"field": "branchId", "code": "OUT_OF_SCOPE"}]
    result = await api(DELETE_VISIT, {"id": other["id"]}, token=secretary)
    assert result["data"]["deleteVisit"]["errors"] == [{"field": "id", "code": "NOT_FOUND"}]


async def test_officers_and_inspectors_cannot_edit_from_the_web(api: Api, world: World) -> None:
    for username in ("officer.meigui", "inspector"):
        token = await api.login(username)
        body = await api(CREATE_VISIT, {"input": visit(world)}, token=token, expect_errors=True)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_web_create_is_streamed_and_a_retry_is_harmless(
    api: Api, world: World, app: Any
) -> None:
    admin = await api.login("admin")
    doc = visit(world)
    feed = feed_of(app)
    notices: list[Notice] = []

    async def listen() -> None:
        async for notice in feed.subscribe():
            notices.append(notice)
            return

    listener = asyncio.create_task(listen())
    await asyncio.sleep(0)
    first = (await api(CREATE_VISIT, {"input": doc}, token=admin))["data"]["createVisit"]
    assert first["__typename"] == "VisitSaved"
    again = (await api(CREATE_VISIT, {"input": doc}, token=admin))["data"]["createVisit"]
    assert again == first
    clash = {**doc, "village": "别的村"}
    result = (await api(CREATE_VISIT, {"input": clash}, token=admin))["data"]["createVisit"]
    assert result["errors"] == [{"field": "id", "code": "DUPLICATE"}]
    await asyncio.wait_for(listener, 1)
    assert [n.collection for n in notices] == ["visit"]


async def test_patrol_and_service_action_participants_resolve_to_members(
    api: Api, world: World, make: Builders
) -> None:
    admin = await api.login("admin")
    member = to_global_id("Member", world.meigui_member.id)
    officer = to_global_id("Member", world.officer_member.id)
    branch = to_global_id("Branch", world.meigui.id)
    patrol = {
        "id": str(uuid.uuid4()),
        "branchId": branch,
        "officerId": officer,
        "kind": "night",
        "area": "玫瑰镇",
        "startedAt": "2026-05-01T21:00:00+08:00",
        "participants": f'["{member}", "{officer}"]',
    }
    action = {
        "id": str(uuid.uuid4()),
        "branchId": branch,
        "officerId": officer,
        "type": "forum",
        "title": "警民恳谈会",
        "happenedAt": "2026-05-02T09:00:00+08:00",
        "participants": (
            f'[{{"memberId": "{member}"}}, '
            '{"name": "刘大爷", "role": "old_party_member", "phone": "13700001111"}]'
        ),
        "peopleReached": 40,
        "difficultiesSolved": 2,
        "bannersReceived": 0,
    }
    for mutation, value in (("createPatrol", patrol), ("createServiceAction", action)):
        kind = "Patrol" if mutation == "createPatrol" else "ServiceAction"
        body = await api(
            f"mutation($input: {kind}Input!) {{ {mutation}(input: $input) {{ __typename }} }}",
            {"input": value},
            token=admin,
        )
        assert body["data"][mutation]["__typename"] == f"{kind}Saved"
    body = await api(
        """{ patrols { nodes { kindLabel participantMembers { name } } }
             serviceActions(type: ["forum"]) { nodes { typeLabel participantMembers { name }
               volunteers { name roleLabel phone } } } }""",
        token=admin,
    )
    [p] = body["data"]["patrols"]["nodes"]
    assert p == {
        "kindLabel": "夜间巡逻",
        "participantMembers": [{"name": "张党员"}, {"name": "李民警"}],
    }
    [s] = body["data"]["serviceActions"]["nodes"]
    assert s["typeLabel"] == "警民恳谈会开起来"
    assert s["participantMembers"] == [{"name": "张党员"}]
    assert s["volunteers"] == [{"name": "刘大爷", "roleLabel": "老党员", "phone": "13700001111"}]
    inspector = await api.login("inspector")
    body = await api("{ serviceActions { nodes { volunteers { phone } } } }", token=inspector)
    assert body["data"]["serviceActions"]["nodes"][0]["volunteers"] == [{"phone": "137****1111"}]


async def test_a_web_record_names_only_members_of_the_editors_subtree(
    api: Api, world: World
) -> None:
    secretary = await api.login("secretary.meigui")
    stranger = to_global_id("Member", world.yushan_member.id)
    created = await api(CREATE_VISIT, {"input": visit(world, officerId=stranger)}, token=secretary)
    assert created["data"]["createVisit"]["errors"] == [
        {"field": "officerId", "code": "OUT_OF_SCOPE"}
    ]
    mine = visit(world)
    assert (await api(CREATE_VISIT, {"input": mine}, token=secretary))["data"]["createVisit"][
        "__typename"
    ] == "VisitSaved"
    edited = await api(
        EDIT_VISIT,
        {"input": {"id": mine["id"], "before": mine, "after": {**mine, "officerId": stranger}}},
        token=secretary,
    )
    assert edited["data"]["editVisit"]["errors"] == [{"field": "officerId", "code": "OUT_OF_SCOPE"}]
    [stored] = (await visits(api, secretary))["nodes"]
    assert stored["officer"]["name"] == "李民警"
