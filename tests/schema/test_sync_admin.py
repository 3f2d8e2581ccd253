"""The conflict log, the quarantine and the fleet view, per role."""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest

from core.clock import FrozenClock
from core.global_id import document_global_id
from models import Role
from tests.conftest import Api, Builders, World
from tests.schema.test_sync import pull, push, visit

CONFLICTS = """
query($unresolved: Boolean! = false) {
  syncConflicts(unresolvedOnly: $unresolved) {
    totalCount
    nodes { id collection documentId field reason ancestor client server result username
            resolvedBy resolution branch { name } }
  }
}"""
RESOLVE = """
mutation($id: ID!, $choice: ConflictChoice, $value: String) {
  resolveSyncConflict(id: $id, choice: $choice, value: $value) {
    __typename
    ... on ConflictResolved {
      conflict { resolvedBy resolution settlement
                 nextConflict { id ancestor client server } }
      document
    }
    ... on InvalidInput { errors { field code } }
  }
}"""
QUARANTINE = """
query { syncQuarantine { totalCount nodes { id collection documentId reasons { field code } } } }
"""
MINE = "query { myQuarantinedRows { totalCount nodes { id documentId reasons { field code } } } }"
RELEASE = """
mutation($id: ID!, $doc: String) {
  releaseQuarantinedRow(id: $id, newDocumentState: $doc) {
    __typename
    ... on QuarantineReleased { row { resolution } document }
    ... on StillQuarantined { row { reasons { field code } } }
    ... on InvalidInput { errors { field code } }
  }
}"""
DISCARD = """
mutation($id: ID!) { discardQuarantinedRow(id: $id, note: "重复记录") {
  __typename ... on QuarantineDiscarded { row { resolution note } } } }"""
DEVICES = """
query($stale: Int) {
  syncDevices(staleForDays: $stale) {
    totalCount
    nodes { username memberName deviceName appVersion lastPullAt lastPushAt clockSkewMs
            pendingQuarantinedRows daysSinceLastSync }
  }
}"""


async def conflicted_visit(api: Api, world: World) -> dict[str, Any]:
    officer = await api.login("officer.meigui")
    secretary = await api.login("secretary.meigui")
    base = visit(world)
    await push(api, officer, (None, base))
    await push(api, secretary, (base, {**base, "village": "玫瑰东村"}))
    await push(api, officer, (base, {**base, "village": "玫瑰西村"}))
    return base


async def test_conflicts_are_listed_for_admins_and_the_records_secretary_only(
    api: Api, world: World
) -> None:
    doc = await conflicted_visit(api, world)
    for username in ("admin", "secretary.meigui"):
        token = await api.login(username)
        listed = (await api(CONFLICTS, token=token))["data"]["syncConflicts"]
        assert listed["totalCount"] == 1
        [c] = listed["nodes"]
        assert (c["documentId"], c["field"], c["client"], c["server"], c["result"]) == (
            doc["id"],
            "village",
            '"玫瑰西村"',
            '"玫瑰东村"',
            '"玫瑰东村"',
        )
        assert c["ancestor"] == '"玫瑰村"'
        assert c["username"] == "officer.meigui"
        assert c["branch"] == {"name": "玫瑰派出所党支部"}
    for username in ("officer.meigui", "inspector"):
        token = await api.login(username)
        body = await api(CONFLICTS, token=token, expect_errors=True)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_secretary_does_not_see_conflicts_outside_their_subtree(
    api: Api, world: World, make: Builders
) -> None:
    await conflicted_visit(api, world)
    await make.account(Role.SECRETARY, username="secretary.yushan", branch_id=world.yushan.id)
    token = await api.login("secretary.yushan")
    assert (await api(CONFLICTS, token=token))["data"]["syncConflicts"]["totalCount"] == 0


async def test_resolving_a_conflict_writes_the_value_through_the_push_and_marks_it(
    api: Api, world: World
) -> None:
    doc = await conflicted_visit(api, world)
    secretary = await api.login("secretary.meigui")
    [c] = (await api(CONFLICTS, token=secretary))["data"]["syncConflicts"]["nodes"]
    officer = await api.login("officer.meigui")
    before = (await pull(api, officer))["checkpoint"]
    # Any value, as JSON text; an invalid one is refused and nothing is written.
    bad = await api(RESOLVE, {"id": c["id"], "value": '""'}, token=secretary)
    assert bad["data"]["resolveSyncConflict"]["errors"] == [
        {"field": "village", "code": "REQUIRED"}
    ]
    result = (await api(RESOLVE, {"id": c["id"], "choice": "CLIENT"}, token=secretary))["data"]
    resolved = result["resolveSyncConflict"]
    assert resolved["__typename"] == "ConflictResolved"
    assert resolved["conflict"] == {
        "resolvedBy": "secretary.meigui",
        "resolution": '"玫瑰西村"',
        "settlement": "APPLIED",
        "nextConflict": None,
    }
    # A new version phones pull after their checkpoint.
    [pulled] = (await pull(api, officer, before))["documents"]
    assert (pulled["id"], pulled["village"]) == (doc["id"], "玫瑰西村")
    left = await api(CONFLICTS, {"unresolved": True}, token=secretary)
    assert left["data"]["syncConflicts"]["totalCount"] == 0
    # A conflict is settled once.
    again = await api(RESOLVE, {"id": c["id"], "value": '"玫瑰南村"'}, token=secretary)
    assert again["data"]["resolveSyncConflict"]["errors"] == [
        {"field": "id", "code": "INVALID_TRANSITION"}
    ]


async def test_an_override_that_clashes_with_a_later_write_points_to_the_new_conflict(
    api: Api, world: World
) -> None:
    doc = await conflicted_visit(api, world)
    secretary = await api.login("secretary.meigui")
    [c] = (await api(CONFLICTS, token=secretary))["data"]["syncConflicts"]["nodes"]
    # The secretary's phone, which won the conflict, edits the village again: acknowledged.
    east = {**doc, "village": "玫瑰东村"}
    assert await push(api, secretary, (east, {**east, "village": "玫瑰东一村"})) == []
    result = (await api(RESOLVE, {"id": c["id"], "choice": "CLIENT"}, token=secretary))["data"]
    resolved = result["resolveSyncConflict"]
    assert json.loads(resolved["document"])["village"] == "玫瑰东一村"
    assert resolved["conflict"]["settlement"] == "CONFLICTED"
    clash = resolved["conflict"]["nextConflict"]
    assert (clash["ancestor"], clash["client"], clash["server"]) == (
        '"玫瑰东村"',
        '"玫瑰西村"',
        '"玫瑰东一村"',
    )
    left = (await api(CONFLICTS, {"unresolved": True}, token=secretary))["data"]
    assert [n["id"] for n in left["syncConflicts"]["nodes"]] == [clash["id"]]


async def test_quarantine_is_for_admins_and_each_account_sees_its_own(
    api: Api, world: World
) -> None:
    officer = await api.login("officer.meigui", device="phone-1")
    bad = visit(world, category="karaoke")
    await push(api, officer, (None, bad))
    mine = (await api(MINE, token=officer))["data"]["myQuarantinedRows"]
    assert mine["totalCount"] == 1
    assert mine["nodes"][0]["reasons"] == [{"field": "category", "code": "INVALID"}]
    secretary = await api.login("secretary.meigui")
    assert (await api(MINE, token=secretary))["data"]["myQuarantinedRows"]["totalCount"] == 0
    body = await api(QUARANTINE, token=secretary, expect_errors=True)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    admin = await api.login("admin")
    listed = (await api(QUARANTINE, token=admin))["data"]["syncQuarantine"]
    assert listed["nodes"][0]["documentId"] == bad["id"]


async def test_release_revalidates_and_applies_or_keeps_the_row(api: Api, world: World) -> None:
    officer = await api.login("officer.meigui", device="phone-1")
    bad = visit(world, category="karaoke")
    await push(api, officer, (None, bad))
    admin = await api.login("admin")
    [row] = (await api(QUARANTINE, token=admin))["data"]["syncQuarantine"]["nodes"]
    still = (await api(RELEASE, {"id": row["id"]}, token=admin))["data"]["releaseQuarantinedRow"]
    assert still["__typename"] == "StillQuarantined"
    fixed = orjson.dumps({**bad, "category": "household"}).decode()
    done = (await api(RELEASE, {"id": row["id"], "doc": fixed}, token=admin))["data"][
        "releaseQuarantinedRow"
    ]
    assert done["__typename"] == "QuarantineReleased"
    assert done["row"]["resolution"] == "applied"
    [pulled] = (await pull(api, officer))["documents"]
    assert (pulled["id"], pulled["category"]) == (bad["id"], "household")
    assert (await api(MINE, token=officer))["data"]["myQuarantinedRows"]["totalCount"] == 0
    again = (await api(RELEASE, {"id": row["id"]}, token=admin))["data"]["releaseQuarantinedRow"]
    assert again["errors"] == [{"field": "id", "code": "INVALID_TRANSITION"}]


async def test_discard_keeps_the_row_with_a_note(api: Api, world: World) -> None:
    officer = await api.login("officer.meigui", device="phone-1")
    await push(api, officer, (None, visit(world, peopleReached=-1)))
    admin = await api.login("admin")
    [row] = (await api(QUARANTINE, token=admin))["data"]["syncQuarantine"]["nodes"]
    result = (await api(DISCARD, {"id": row["id"]}, token=admin))["data"]["discardQuarantinedRow"]
    assert result["row"] == {"resolution": "discarded", "note": "重复记录"}
    assert (await api(QUARANTINE, token=admin))["data"]["syncQuarantine"]["totalCount"] == 0


async def test_fleet_view_shows_devices_and_who_has_not_synced(
    api: Api, world: World, clock: FrozenClock
) -> None:
    officer = await api.login("officer.meigui", device="phone-1")
    response = await api.client.post(
        "/graphql",
        json={
            "query": "query { pullVisit(limit: 10) { checkpoint { id } } }",
        },
        headers={
            "Authorization": f"Bearer {officer}",
            "X-Meijing-App-Version": "2.3.1",
            "X-Meijing-Client-Time": str(int(clock().timestamp() * 1000) + 1500),
        },
    )
    assert "errors" not in response.json()
    await push(api, officer, (None, visit(world, category="karaoke")))
    clock.advance(days=6)
    admin = await api.login("admin")
    secretary = await api.login("secretary.meigui")
    for token in (admin, secretary):
        [device] = (await api(DEVICES, {"stale": 5}, token=token))["data"]["syncDevices"]["nodes"]
        assert device["username"] == "officer.meigui"
        assert device["memberName"] == "李民警"
        assert device["appVersion"] == "2.3.1"
        assert device["clockSkewMs"] == 1500
        assert device["pendingQuarantinedRows"] == 1
        assert device["daysSinceLastSync"] == 6
    assert (await api(DEVICES, {"stale": 7}, token=admin))["data"]["syncDevices"]["totalCount"] == 0
    officer = await api.login("officer.meigui", device="phone-1")  # the old token expired
    body = await api(DEVICES, token=officer, expect_errors=True)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


COMPETING = """
query {
  visits(first: 20, includeDeleted: true) {
    nodes {
      id concerns
      competingVersions { conflictId conflict { id field } field text lines username memberName
                          writtenAt }
    }
  }
}"""


async def competing_on(api: Api, token: str, doc_id: str) -> list[dict[str, Any]] | None:
    """The competing versions of one visit as `token` sees it; None when it does not see it."""
    nodes = (await api(COMPETING, token=token))["data"]["visits"]["nodes"]
    for node in nodes:
        if node["id"] == document_global_id("Visit", doc_id):
            versions: list[dict[str, Any]] = node["competingVersions"]
            return versions
    return None


async def test_a_line_both_changed_shows_the_phones_version_on_the_record_until_settled(
    api: Api, world: World, make: Builders, clock: FrozenClock
) -> None:
    officer = await api.login("officer.meigui")
    secretary = await api.login("secretary.meigui")
    base = visit(world, concerns="路灯坏了\n待处理")
    await push(api, officer, (None, base))
    await push(api, secretary, (base, {**base, "concerns": "路灯坏了\n已派电工"}))

    phone = {**base, "concerns": "路灯坏了\n已自行修复"}
    [returned] = await push(api, officer, (base, phone))

    assert returned["concerns"] == "路灯坏了\n已派电工"  # the server's line stays
    [conflict] = (await api(CONFLICTS, token=secretary))["data"]["syncConflicts"]["nodes"]
    assert (conflict["field"], conflict["reason"]) == ("concerns", "text_lines")
    expected = {
        "conflictId": conflict["id"],
        "conflict": {"id": conflict["id"], "field": "concerns"},
        "field": "concerns",
        "text": "路灯坏了\n已自行修复",
        "lines": ["已自行修复"],
        "username": "officer.meigui",
        "memberName": "李民警",
        "writtenAt": clock().astimezone(ZoneInfo("Asia/Shanghai")).isoformat(),
    }
    # Everyone who reads the record sees it: the secretary, the officer, the inspector; the
    # conflict itself only those who may settle it (the log refuses officers and inspectors).
    assert await competing_on(api, secretary, base["id"]) == [expected]
    for token in (officer, await api.login("inspector")):
        assert await competing_on(api, token, base["id"]) == [{**expected, "conflict": None}]
    await make.account(Role.SECRETARY, username="secretary.yushan", branch_id=world.yushan.id)
    assert await competing_on(api, await api.login("secretary.yushan"), base["id"]) is None

    clock.advance(seconds=60)
    settled = await api(RESOLVE, {"id": conflict["id"], "choice": "CLIENT"}, token=secretary)
    assert settled["data"]["resolveSyncConflict"]["__typename"] == "ConflictResolved"

    assert await competing_on(api, secretary, base["id"]) == []
    [pulled] = (await pull(api, officer))["documents"]
    assert pulled["concerns"] == "路灯坏了\n已自行修复"


async def test_a_text_conflict_merged_in_full_is_not_shown_as_competing(
    api: Api, world: World
) -> None:
    officer = await api.login("officer.meigui")
    secretary = await api.login("secretary.meigui")
    base = visit(world, concerns="路灯坏了")
    await push(api, officer, (None, base))
    await push(api, secretary, (base, {**base, "deleted": True}))
    # The officer appends a note to a visit the secretary deleted meanwhile: the delete wins,
    # the note is merged into the tombstone and logged, and nothing of it is missing.
    await push(api, officer, (base, {**base, "concerns": "路灯坏了\n已回访"}))

    logged = (await api(CONFLICTS, token=secretary))["data"]["syncConflicts"]["nodes"]
    assert sorted(c["reason"] for c in logged) == ["delete_vs_edit", "edit_of_deleted"]
    assert await competing_on(api, secretary, base["id"]) == []


async def test_discard_note_over_the_maximum_is_refused_not_cut(api: Api, world: World) -> None:
    officer = await api.login("officer.meigui", device="phone-1")
    await push(api, officer, (None, visit(world, peopleReached=-1)))
    admin = await api.login("admin")
    [row] = (await api(QUARANTINE, token=admin))["data"]["syncQuarantine"]["nodes"]
    discard = """
    mutation($id: ID!, $note: String) { discardQuarantinedRow(id: $id, note: $note) {
      __typename ... on InvalidInput { errors { field code } } } }"""

    result = (await api(discard, {"id": row["id"], "note": "长" * 2001}, token=admin))["data"]

    assert result["discardQuarantinedRow"]["errors"] == [{"field": "note", "code": "TOO_LONG"}]
    assert (await api(QUARANTINE, token=admin))["data"]["syncQuarantine"]["totalCount"] == 1


@pytest.mark.parametrize("days", [-1, -(2**31), 2**31 - 1, 36_501])
async def test_stale_for_days_outside_its_range_is_bad_user_input(
    api: Api, world: World, days: int
) -> None:
    admin = await api.login("admin")

    body = await api(DEVICES, {"stale": days}, token=admin, expect_errors=True)

    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", body
    assert [(p["field"], p["code"]) for p in error["extensions"]["problems"]] == [
        ("staleForDays", "out_of_range")
    ]


@pytest.mark.parametrize("days", [0, 36_500])
async def test_stale_for_days_at_the_ends_of_its_range_is_served(
    api: Api, world: World, days: int
) -> None:
    admin = await api.login("admin")

    body = await api(DEVICES, {"stale": days}, token=admin)

    assert body["data"]["syncDevices"]["totalCount"] >= 0


async def test_the_logs_filter_by_the_published_collection_enum_and_label_it(
    api: Api, world: World
) -> None:
    officer = await api.login("officer.meigui")
    secretary = await api.login("secretary.meigui")
    base = visit(world)
    await push(api, officer, (None, base))
    await push(api, secretary, (base, {**base, "deleted": True}))
    await push(api, officer, (base, {**base, "village": "玫瑰东村"}))
    body = await api(
        """{ visits: syncConflicts(collection: VISIT) { totalCount nodes { collection
                                                                  collectionLabel } }
             patrols: syncConflicts(collection: PATROL) { totalCount }
             mine: myQuarantinedRows(collection: SERVICE_ACTION) { totalCount } }""",
        token=secretary,
    )
    conflicts = body["data"]["visits"]
    assert conflicts["totalCount"] >= 1
    assert {(n["collection"], n["collectionLabel"]) for n in conflicts["nodes"]} == {
        ("VISIT", "走访")
    }
    assert body["data"]["patrols"]["totalCount"] == 0
    assert body["data"]["mine"]["totalCount"] == 0
    refused = await api(
        '{ syncConflicts(collection: "visit") { totalCount } }', token=secretary, expect_errors=True
    )
    assert refused["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


# --- the logs name the web record as an object (issue 12 item 5) --------------------------------

RECORDS = """
query {
  syncConflicts { nodes { documentId record { __typename id ... on VisitRecord { village } } } }
  syncQuarantine { nodes { documentId record { __typename id } account { username }
                           deviceSession { deviceId } } }
}"""


async def test_a_logged_document_is_its_web_record_as_an_object(api: Api, world: World) -> None:
    doc = await conflicted_visit(api, world)
    officer = await api.login("officer.meigui", device="phone-1")
    never_stored = visit(world, category="karaoke")
    await push(api, officer, (None, never_stored))
    admin = await api.login("admin")
    body = (await api(RECORDS, token=admin))["data"]
    [conflict] = body["syncConflicts"]["nodes"]
    assert conflict["record"] == {
        "__typename": "VisitRecord",
        "id": document_global_id("Visit", doc["id"]),
        "village": "玫瑰东村",
    }
    refetched = await api(
        "query($id: ID!) { node(id: $id) { id } }", {"id": conflict["record"]["id"]}, token=admin
    )
    assert refetched["data"]["node"] == {"id": conflict["record"]["id"]}
    # A row that was never applied has no record on the web, but still its document id.
    [held] = body["syncQuarantine"]["nodes"]
    assert (held["documentId"], held["record"]) == (never_stored["id"], None)
    # ... and who pushed it from which device, as objects.
    assert held["account"] == {"username": "officer.meigui"}
    assert held["deviceSession"] == {"deviceId": "phone-1"}
    # The secretary sees the same conflict and its record; a record outside a viewer's lists
    # would be null, as node(id:) answers it.
    secretary = await api.login("secretary.meigui")
    mine = await api("{ syncConflicts { nodes { record { id } } } }", token=secretary)
    assert mine["data"]["syncConflicts"]["nodes"] == [{"record": {"id": conflict["record"]["id"]}}]
