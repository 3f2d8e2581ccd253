"""Field records on the web: connections with filters, and edits that go through the sync push."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from sqlalchemy import select

from app.graphql_http import MeijingGraphQL
from core.db import Sessionmaker
from core.global_id import document_global_id
from models import SyncConflict, SyncQuarantine
from schema.node import to_global_id
from sync.feed import Feed, Notice
from tests.conftest import Api, Builders, World
from tests.schema.test_sync import count, pull, push, visit

LIST_VISITS = """
query($first: Int, $after: String, $subtree: ID, $branch: ID, $from: DateTime, $to: DateTime,
      $category: [VisitCategory!], $status: [VisitStatus!], $village: String, $officer: ID,
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
  ... on VisitRecordSaved { record { id village status peopleReached deleted } }
  ... on VisitRecordEditConflict { fields message record { id village status peopleReached } }
  ... on InvalidInput { errors { field code } }
"""
EDIT_VISIT = f"mutation($input: EditVisitInput!) {{ editVisit(input: $input) {{ {RESULT} }} }}"
CREATE_VISIT = f"""mutation($input: VisitRecordInput!, $documentId: String) {{
  createVisit(input: $input, documentId: $documentId) {{ {RESULT} }} }}"""
DELETE_VISIT = f"mutation($id: ID!) {{ deleteVisit(id: $id) {{ {RESULT} }} }}"


def feed_of(app: Any) -> Feed:
    """The feed the app's GraphQL endpoint publishes to (what stream subscriptions read)."""
    [endpoint] = {
        r.endpoint for r in app.routes if isinstance(getattr(r, "endpoint", None), MeijingGraphQL)
    }
    feed: Feed = endpoint.feed
    return feed


ENUMS = ("category", "status", "kind", "type")


def form(doc: dict[str, Any]) -> dict[str, Any]:
    """A phone's document as a web form submits it: enum names, typed tracks and participants,
    and no wire bookkeeping (id, updatedAt, deleted)."""
    fields = {k: v for k, v in doc.items() if k not in ("id", "updatedAt", "deleted")}
    for name in ENUMS:
        if isinstance(fields.get(name), str):
            fields[name] = fields[name].upper()
    if isinstance(fields.get("track"), str):
        fields["track"] = [
            {"latitude": p["lat"], "longitude": p["lng"], "at": p["t"]}
            for p in json.loads(fields["track"])
        ]
    if isinstance(fields.get("participants"), str):
        fields["participants"] = [_participant(p) for p in json.loads(fields["participants"])]
    return fields


def _participant(element: Any) -> dict[str, Any]:
    if isinstance(element, str):
        return {"memberId": element}
    person = dict(element)
    if isinstance(person.get("role"), str):
        person["role"] = person["role"].upper()
    return person


def new(doc: dict[str, Any]) -> dict[str, Any]:
    """createVisit's variables for a phone's document, under the same document id."""
    return {"input": form(doc), "documentId": doc["id"]}


def gid(doc: dict[str, Any]) -> str:
    """The web's global id of a visit document."""
    return document_global_id("Visit", doc["id"])


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
    assert seen == [gid(yushan)] + [gid(d) for d in reversed(docs)]

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
        found = {n["id"] for n in (await visits(api, admin, **flt))["nodes"]}
        return {d["id"] for d in (a, b, c) if gid(d) in found}

    assert await ids(village="桃园") == {b["id"]}
    assert await ids(category=["FRAUD_PREVENTION"]) == {a["id"]}
    assert await ids(status=["OPEN"]) == {b["id"], c["id"]}
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
    result = (await api(DELETE_VISIT, {"id": gid(doc)}, token=admin))["data"]["deleteVisit"]
    assert result["__typename"] == "VisitRecordSaved"
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
                "id": gid(loaded),
                "before": form(loaded),
                "after": form({**loaded, "village": "玫瑰东村"}),
            }
        },
        token=secretary,
    )
    saved = result["data"]["editVisit"]
    assert saved["__typename"] == "VisitRecordSaved"
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
                "id": gid(loaded),
                "before": form(loaded),
                "after": form({**loaded, "village": "玫瑰东村", "peopleReached": 4}),
            }
        },
        token=secretary,
    )
    conflict = result["data"]["editVisit"]
    assert conflict["__typename"] == "VisitRecordEditConflict"
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
        "id": gid(loaded),
        "before": form(loaded),
        "after": form({**loaded, "concerns": "路灯坏了\n已派电工"}),
    }

    result = (await api(EDIT_VISIT, {"input": edit}, token=secretary))["data"]["editVisit"]

    # Nothing the secretary wrote was overruled, so the form is not told it was.
    assert result["__typename"] == "VisitRecordSaved"
    [pulled] = (await pull(api, officer))["documents"]
    assert pulled["concerns"] == "路灯坏了\n已拍照上报\n已派电工"
    assert await count(sessionmaker, SyncConflict) == 0
    # A line both changed is overruled, and the form is told.
    edit = {
        "id": gid(loaded),
        "before": form(pulled),
        "after": form({**pulled, "concerns": "路灯已修好"}),
    }
    await push(api, officer, (pulled, {**pulled, "concerns": "路灯坏了\n已拍照上报\n电工未到"}))
    result = (await api(EDIT_VISIT, {"input": edit}, token=secretary))["data"]["editVisit"]
    assert (result["__typename"], result["fields"]) == ("VisitRecordEditConflict", ["concerns"])


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
                "id": gid(doc),
                "before": form(doc),
                "after": form({**doc, "peopleReached": -1, "village": ""}),
            }
        },
        token=admin,
    )
    invalid = result["data"]["editVisit"]
    assert invalid["__typename"] == "InvalidInput"
    assert {e["field"] for e in invalid["errors"]} == {"peopleReached", "village"}
    # A value outside the published enum does not get past the schema.
    unknown = {"id": gid(doc), "before": form(doc), "after": {**form(doc), "category": "KARAOKE"}}
    body = await api(EDIT_VISIT, {"input": unknown}, token=admin, expect_errors=True)
    assert body.get("data") is None and "KARAOKE" in body["errors"][0]["message"]
    assert await count(sessionmaker, SyncQuarantine) == 0
    [stored] = (await visits(api, admin))["nodes"]
    assert (stored["category"], stored["village"]) == ("HOUSEHOLD", "玫瑰村")


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
        {"input": {"id": gid(theirs), "before": form(theirs), "after": form(moved)}},
        token=secretary,
    )
    assert result["data"]["editVisit"]["errors"] == [{"field": "branchId", "code": "OUT_OF_SCOPE"}]
    result = await api(DELETE_VISIT, {"id": gid(other)}, token=secretary)
    assert result["data"]["deleteVisit"]["errors"] == [{"field": "id", "code": "NOT_FOUND"}]


async def test_an_officer_records_their_own_visit_on_the_web_under_the_push_rules(
    api: Api, world: World
) -> None:
    officer = await api.login("officer.meigui")
    mine = visit(world)
    created = (await api(CREATE_VISIT, new(mine), token=officer))["data"]["createVisit"]
    assert created["__typename"] == "VisitRecordSaved"
    assert created["record"]["id"] == gid(mine)
    # As on a phone: an officer records as themselves, within their own branch.
    colleague = to_global_id("Member", world.meigui_member.id)
    refused = await api(CREATE_VISIT, new(visit(world, officerId=colleague)), token=officer)
    [error] = refused["data"]["createVisit"]["errors"]
    assert error == {"field": "officerId", "code": "OUT_OF_SCOPE"}
    elsewhere = visit(world, branchId=to_global_id("Branch", world.yushan.id))
    refused = await api(CREATE_VISIT, new(elsewhere), token=officer)
    assert refused["data"]["createVisit"]["errors"][0]["field"] == "branchId"
    edited = await api(
        EDIT_VISIT,
        {
            "input": {
                "id": gid(mine),
                "before": form(mine),
                "after": form({**mine, "status": "resolved"}),
            }
        },
        token=officer,
    )
    assert edited["data"]["editVisit"]["record"]["status"] == "RESOLVED"


async def test_an_inspector_cannot_record_and_the_refusal_names_the_reason(
    api: Api, world: World
) -> None:
    token = await api.login("inspector")
    body = await api(CREATE_VISIT, new(visit(world)), token=token, expect_errors=True)
    [error] = body["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert "督导只能查阅" in error["message"]


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
    first = (await api(CREATE_VISIT, new(doc), token=admin))["data"]["createVisit"]
    assert first["__typename"] == "VisitRecordSaved"
    again = (await api(CREATE_VISIT, new(doc), token=admin))["data"]["createVisit"]
    assert again == first
    clash = {**doc, "village": "别的村"}
    result = (await api(CREATE_VISIT, new(clash), token=admin))["data"]["createVisit"]
    assert result["errors"] == [{"field": "id", "code": "DUPLICATE"}]
    await asyncio.wait_for(listener, 1)
    assert [n.collection for n in notices] == ["visit"]


async def test_patrol_and_service_action_participants_are_typed_members_and_volunteers(
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
            f"""mutation($input: {kind}RecordInput!, $d: String) {{
                  {mutation}(input: $input, documentId: $d) {{ __typename }} }}""",
            {"input": form(value), "d": value["id"]},
            token=admin,
        )
        assert body["data"][mutation]["__typename"] == f"{kind}RecordSaved"
    body = await api(
        """{ patrols { nodes { kindLabel participants { name kind kindLabel member { id } } } }
             serviceActions(type: [FORUM]) { nodes { typeLabel
               participants { name kind kindLabel role roleLabel phone } } } }""",
        token=admin,
    )
    [p] = body["data"]["patrols"]["nodes"]
    assert p == {
        "kindLabel": "夜间巡逻",
        "participants": [
            {"name": "张党员", "kind": "MEMBER", "kindLabel": "党员", "member": {"id": member}},
            {"name": "李民警", "kind": "MEMBER", "kindLabel": "党员", "member": {"id": officer}},
        ],
    }
    [s] = body["data"]["serviceActions"]["nodes"]
    assert s["typeLabel"] == "警民恳谈会开起来"
    assert s["participants"] == [
        {
            "name": "张党员",
            "kind": "MEMBER",
            "kindLabel": "党员",
            "role": None,
            "roleLabel": None,
            "phone": None,
        },
        {
            "name": "刘大爷",
            "kind": "VOLUNTEER",
            "kindLabel": "志愿者",
            "role": "OLD_PARTY_MEMBER",
            "roleLabel": "老党员",
            "phone": "13700001111",
        },
    ]
    inspector = await api.login("inspector")
    body = await api("{ serviceActions { nodes { participants { phone } } } }", token=inspector)
    assert body["data"]["serviceActions"]["nodes"][0]["participants"][1] == {"phone": "137****1111"}


def patrol(world: World, **overrides: Any) -> dict[str, Any]:
    """A patrol as a phone's RxDB document would carry it."""
    return {
        "id": str(uuid.uuid4()),
        "branchId": to_global_id("Branch", world.meigui.id),
        "officerId": to_global_id("Member", world.officer_member.id),
        "kind": "night",
        "area": "玫瑰镇",
        "startedAt": "2026-05-01T21:00:00+08:00",
        **overrides,
    }


def service_action(world: World, **overrides: Any) -> dict[str, Any]:
    """A service action as a phone's RxDB document would carry it."""
    return {
        "id": str(uuid.uuid4()),
        "branchId": to_global_id("Branch", world.meigui.id),
        "officerId": to_global_id("Member", world.officer_member.id),
        "type": "forum",
        "title": "警民恳谈会",
        "happenedAt": "2026-05-02T09:00:00+08:00",
        "peopleReached": 40,
        "difficultiesSolved": 2,
        "bannersReceived": 0,
        **overrides,
    }


async def create(api: Api, token: str, name: str, document: dict[str, Any]) -> str:
    """Creates a record through create<Name> and returns its global id."""
    body = await api(
        f"mutation($input: {name}RecordInput!, $d: String) {{"
        f" create{name}(input: $input, documentId: $d) {{"
        f" ... on {name}RecordSaved {{ record {{ id }} }} }} }}",
        {"input": form(document), "d": document["id"]},
        token=token,
    )
    record_id: str = body["data"][f"create{name}"]["record"]["id"]
    return record_id


async def test_record_filters_take_the_published_enums_and_refuse_unknown_values(
    api: Api, world: World
) -> None:
    admin = await api.login("admin")
    await push(api, admin, (None, visit(world, category="elderly_care")))
    await create(api, admin, "Patrol", patrol(world))
    await create(api, admin, "ServiceAction", service_action(world))
    body = await api(
        """{ visits(category: [ELDERLY_CARE], status: [OPEN]) { totalCount }
             other: visits(category: [HOUSEHOLD]) { totalCount }
             patrols(kind: [NIGHT]) { totalCount }
             serviceActions(type: [FORUM, LED_SCREEN]) { totalCount } }""",
        token=admin,
    )
    assert body["data"] == {
        "visits": {"totalCount": 1},
        "other": {"totalCount": 0},
        "patrols": {"totalCount": 1},
        "serviceActions": {"totalCount": 1},
    }
    for query, variables in (
        ("query($s: [VisitStatus!]) { visits(status: $s) { totalCount } }", {"s": ["bogus"]}),
        (
            "query($c: [VisitCategory!]) { visits(category: $c) { totalCount } }",
            {"c": ["elderly_care"]},
        ),
        ("{ patrols(kind: [DUSK]) { totalCount } }", None),
        ('{ serviceActions(type: ["forum"]) { totalCount } }', None),
    ):
        refused = await api(query, variables, token=admin, expect_errors=True)
        assert "data" not in refused or refused["data"] is None
        assert refused["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


REFETCH_RECORD = """query($id: ID!) {
  node(id: $id) {
    __typename id
    ... on FieldRecord { deleted branch { id name } officer { id name } }
    ... on VisitRecord { village }
    ... on PatrolRecord { area }
    ... on ServiceActionRecord { title }
  }
}"""


async def test_field_records_are_nodes_with_global_ids_and_object_references(
    api: Api, world: World
) -> None:
    admin = await api.login("admin")
    visit_id = await create(api, admin, "Visit", visit(world))
    patrol_id = await create(api, admin, "Patrol", patrol(world))
    action_id = await create(api, admin, "ServiceAction", service_action(world))
    listed = await api(
        """{ visits { nodes { id } } patrols { nodes { id } } serviceActions { nodes { id } } }""",
        token=admin,
    )
    assert [n["id"] for n in listed["data"]["visits"]["nodes"]] == [visit_id]
    assert [n["id"] for n in listed["data"]["patrols"]["nodes"]] == [patrol_id]
    assert [n["id"] for n in listed["data"]["serviceActions"]["nodes"]] == [action_id]
    branch = {"id": to_global_id("Branch", world.meigui.id), "name": "玫瑰派出所党支部"}
    officer = {"id": to_global_id("Member", world.officer_member.id), "name": "李民警"}
    for record_id, typename in (
        (visit_id, "VisitRecord"),
        (patrol_id, "PatrolRecord"),
        (action_id, "ServiceActionRecord"),
    ):
        node = (await api(REFETCH_RECORD, {"id": record_id}, token=admin))["data"]["node"]
        assert node["__typename"] == typename
        assert (node["id"], node["branch"], node["officer"]) == (record_id, branch, officer)
    # What the viewer's lists hide, node hides.
    elsewhere = visit(
        world,
        branchId=to_global_id("Branch", world.yushan.id),
        officerId=to_global_id("Member", world.yushan_member.id),
    )
    await push(api, admin, (None, elsewhere))
    officer_token = await api.login("officer.meigui")
    hidden = await api(REFETCH_RECORD, {"id": gid(elsewhere)}, token=officer_token)
    assert hidden["data"]["node"] is None
    seen = await api(REFETCH_RECORD, {"id": visit_id}, token=officer_token)
    assert seen["data"]["node"]["village"] == "玫瑰村"


async def test_a_record_id_of_another_type_is_refused_by_edits(api: Api, world: World) -> None:
    admin = await api.login("admin")
    doc = visit(world)
    await push(api, admin, (None, doc))
    for wrong in (doc["id"], document_global_id("Patrol", doc["id"])):
        result = await api(DELETE_VISIT, {"id": wrong}, token=admin)
        assert result["data"]["deleteVisit"]["errors"] == [{"field": "id", "code": "INVALID"}]


async def test_a_patrol_track_is_typed_points_in_the_bureaus_time(api: Api, world: World) -> None:
    admin = await api.login("admin")
    track = (
        '[{"t": "2026-05-01T13:00:00Z", "lat": 36.28, "lng": 116.45},'
        ' {"t": "2026-05-01T21:05:00+08:00", "lat": 36.29, "lng": 116.46}]'
    )
    # Pushed by a phone, whose text the wire keeps as sent.
    document = patrol(world, track=track, endedAt="2026-05-01T15:00:00Z")
    pushed = await api(
        "mutation($rows: [PatrolInputPushRow!]) { pushPatrol(patrolPushRow: $rows) { id } }",
        {"rows": [{"newDocumentState": document}]},
        token=admin,
    )
    assert pushed["data"]["pushPatrol"] == []
    body = await api(
        "{ patrols { nodes { startedAt endedAt track { latitude longitude at } } } }", token=admin
    )
    [node] = body["data"]["patrols"]["nodes"]
    assert node == {
        "startedAt": "2026-05-01T21:00:00+08:00",
        "endedAt": "2026-05-01T23:00:00+08:00",
        "track": [
            {"latitude": 36.28, "longitude": 116.45, "at": "2026-05-01T21:00:00+08:00"},
            {"latitude": 36.29, "longitude": 116.46, "at": "2026-05-01T21:05:00+08:00"},
        ],
    }
    # The sync wire keeps the JSON text as the phone sent it.
    pulled = await api("{ pullPatrol(limit: 10) { documents { track endedAt } } }", token=admin)
    [document] = pulled["data"]["pullPatrol"]["documents"]
    assert document["endedAt"] == "2026-05-01T15:00:00Z"
    assert '"t":"2026-05-01T13:00:00Z"' in document["track"]


async def test_record_times_come_back_in_the_bureaus_offset_and_the_wire_keeps_them_as_sent(
    api: Api, world: World
) -> None:
    officer = await api.login("officer.meigui")
    doc = visit(world, visitedAt="2026-05-01T10:00:00+00:00")
    await create(api, officer, "Visit", doc)
    [node] = (await api("{ visits { nodes { visitedAt } } }", token=officer))["data"]["visits"][
        "nodes"
    ]
    assert node == {"visitedAt": "2026-05-01T18:00:00+08:00"}
    [pulled] = (await pull(api, officer))["documents"]
    assert pulled["visitedAt"] == "2026-05-01T10:00:00+00:00"


CREATE_PATROL = """mutation($input: PatrolRecordInput!) { createPatrol(input: $input) {
  __typename
  ... on PatrolRecordSaved { record { id officer { name } track { latitude at }
                                      participants { name } } }
  ... on InvalidInput { errors { field code } } } }"""


async def test_a_web_form_submits_typed_fields_and_phones_pull_them_in_wire_form(
    api: Api, world: World, sessionmaker: Sessionmaker
) -> None:
    officer = await api.login("officer.meigui")
    colleague = to_global_id("Member", world.meigui_member.id)
    fields = {
        "branchId": to_global_id("Branch", world.meigui.id),
        "kind": "NIGHT",
        "area": "玫瑰镇",
        "startedAt": "2026-05-01T21:00:00+08:00",
        "participants": [{"memberId": colleague}],
        "track": [{"latitude": 36.28, "longitude": 116.45, "at": "2026-05-01T21:01:00+08:00"}],
    }
    body = await api(CREATE_PATROL, {"input": fields}, token=officer)
    saved = body["data"]["createPatrol"]
    assert saved["__typename"] == "PatrolRecordSaved"
    # No officerId: the signed-in officer; no documentId: one is made.
    assert saved["record"]["officer"] == {"name": "李民警"}
    assert saved["record"]["participants"] == [{"name": "张党员"}]
    assert saved["record"]["track"] == [{"latitude": 36.28, "at": "2026-05-01T21:01:00+08:00"}]
    body = await api(
        "{ pullPatrol(limit: 5) { documents { id participants track } } }", token=officer
    )
    [document] = body["data"]["pullPatrol"]["documents"]
    assert document_global_id("Patrol", document["id"]) == saved["record"]["id"]
    assert uuid.UUID(document["id"])
    assert json.loads(document["participants"]) == [colleague]
    assert json.loads(document["track"]) == [
        {"t": "2026-05-01T21:01:00+08:00", "lat": 36.28, "lng": 116.45}
    ]
    # A time without its offset, and a volunteer in a patrol's crew, are refused by field.
    refused = await api(
        CREATE_PATROL,
        {
            "input": {
                **fields,
                "startedAt": "2026-05-02T21:00:00",
                "participants": [{"name": "刘大爷", "role": "OLD_PARTY_MEMBER"}],
            }
        },
        token=officer,
    )
    errors = refused["data"]["createPatrol"]["errors"]
    assert {e["field"] for e in errors} == {"startedAt", "participants"}
    assert await count(sessionmaker, SyncQuarantine) == 0  # a web form is answered, not held
    body = await api("{ patrols { totalCount } }", token=officer)
    assert body["data"]["patrols"]["totalCount"] == 1
