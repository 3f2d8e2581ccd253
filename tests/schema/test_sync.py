"""The sync contract over HTTP: push and pull as RxDB's GraphQL replication sends them."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import func, select

from core.db import Sessionmaker
from core.global_id import document_id_of
from models import SyncConflict, SyncQuarantine, Visit
from schema.node import to_global_id
from tests.conftest import Api, World

VISIT_FIELDS = (
    "id branchId officerId village household category concerns resolution status "
    "peopleReached visitedAt updatedAt deleted"
)
PUSH_VISIT = f"""
mutation($rows: [VisitInputPushRow!]) {{
  pushVisit(visitPushRow: $rows) {{ {VISIT_FIELDS} }}
}}"""
PULL_VISIT = f"""
query($checkpoint: VisitInputCheckpoint, $limit: Int!) {{
  pullVisit(checkpoint: $checkpoint, limit: $limit) {{
    documents {{ {VISIT_FIELDS} }}
    checkpoint {{ id updatedAt }}
  }}
}}"""


def visit(world: World, **overrides: Any) -> dict[str, Any]:
    """A visit as a phone's RxDB document would carry it."""
    doc: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "branchId": to_global_id("Branch", world.meigui.id),
        "officerId": to_global_id("Member", world.officer_member.id),
        "village": "玫瑰村",
        "household": "张家",
        "category": "household",
        "concerns": None,
        "resolution": None,
        "status": "open",
        "peopleReached": 3,
        "visitedAt": "2026-05-01T10:00:00+08:00",
        "deleted": False,
    }
    doc.update(overrides)
    return doc


async def push(
    api: Api, token: str, *rows: tuple[dict[str, Any] | None, dict[str, Any]]
) -> list[dict[str, Any]]:
    body = await api(
        PUSH_VISIT,
        {"rows": [{"assumedMasterState": a, "newDocumentState": n} for a, n in rows]},
        token=token,
    )
    result: list[dict[str, Any]] = body["data"]["pushVisit"]
    return result


async def pull(
    api: Api, token: str, checkpoint: dict[str, Any] | None = None, limit: int = 100
) -> dict[str, Any]:
    body = await api(PULL_VISIT, {"checkpoint": checkpoint, "limit": limit}, token=token)
    result: dict[str, Any] = body["data"]["pullVisit"]
    return result


async def count(sessionmaker: Sessionmaker, model: Any) -> int:
    async with sessionmaker() as db:
        return int((await db.execute(select(func.count()).select_from(model))).scalar_one())


async def test_push_of_new_document_returns_empty_and_pull_delivers_it(
    api: Api, world: World
) -> None:
    token = await api.login("officer.meigui")
    doc = visit(world)
    assert await push(api, token, (None, doc)) == []
    page = await pull(api, token)
    [pulled] = page["documents"]
    assert {k: pulled[k] for k in doc} == doc
    assert page["checkpoint"] == {"id": doc["id"], "updatedAt": pulled["updatedAt"]}


async def test_edit_after_push_with_stale_updated_at_is_not_a_conflict(
    api: Api, world: World, sessionmaker: Sessionmaker
) -> None:
    token = await api.login("officer.meigui")
    doc = visit(world)
    await push(api, token, (None, doc))
    # RxDB keeps what it sent as the assumed master state, with no (or a stale) updatedAt.
    edited = {**doc, "status": "resolved", "resolution": "已调解"}
    assert await push(api, token, ({**doc, "updatedAt": 1.0}, edited)) == []
    [pulled] = (await pull(api, token))["documents"]
    assert pulled["status"] == "resolved"
    assert await count(sessionmaker, SyncConflict) == 0


async def test_real_conflict_keeps_server_value_returns_row_and_logs_it_once(
    api: Api, world: World, sessionmaker: Sessionmaker
) -> None:
    officer = await api.login("officer.meigui")
    secretary = await api.login("secretary.meigui")
    base = visit(world)
    await push(api, officer, (None, base))
    await push(api, secretary, (base, {**base, "village": "玫瑰东村"}))
    stale_edit = {**base, "village": "玫瑰西村", "peopleReached": 5}
    [returned] = await push(api, officer, (base, stale_edit))
    # The village both changed: the server's stays; peopleReached only the officer changed.
    assert returned["village"] == "玫瑰东村"
    assert returned["peopleReached"] == 5
    # The response was lost: the retry changes nothing and logs nothing new.
    [again] = await push(api, officer, (base, stale_edit))
    assert again == returned
    async with sessionmaker() as db:
        conflicts = (await db.execute(select(SyncConflict))).scalars().all()
    assert [(c.field, c.client, c.server, c.result) for c in conflicts] == [
        ("village", "玫瑰西村", "玫瑰东村", "玫瑰东村")
    ]


async def test_invalid_row_is_quarantined_and_the_rest_of_the_batch_applied(
    api: Api, world: World, sessionmaker: Sessionmaker
) -> None:
    token = await api.login("officer.meigui")
    good = visit(world)
    bad = visit(world, category="karaoke")
    assert await push(api, token, (None, good), (None, bad)) == []
    ids = [d["id"] for d in (await pull(api, token))["documents"]]
    assert ids == [good["id"]]
    async with sessionmaker() as db:
        [kept] = (await db.execute(select(SyncQuarantine))).scalars().all()
    assert kept.row["newDocumentState"]["id"] == bad["id"]
    assert [r["field"] for r in kept.reasons] == ["category"]
    # A retry does not quarantine it twice.
    await push(api, token, (None, bad))
    assert await count(sessionmaker, SyncQuarantine) == 1


async def test_limit_above_maximum_is_refused_not_capped(api: Api, world: World) -> None:
    token = await api.login("officer.meigui")
    body = await api(
        PULL_VISIT, {"checkpoint": None, "limit": 100_000}, token=token, expect_errors=True
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_pages_are_full_while_more_documents_exist(api: Api, world: World) -> None:
    token = await api.login("officer.meigui")
    docs = [visit(world) for _ in range(7)]
    await push(api, token, *[(None, d) for d in docs[:4]])
    await push(api, token, *[(None, d) for d in docs[4:]])
    seen: list[str] = []
    checkpoint = None
    sizes = []
    while True:
        page = await pull(api, token, checkpoint, limit=3)
        sizes.append(len(page["documents"]))
        seen += [d["id"] for d in page["documents"]]
        checkpoint = page["checkpoint"]
        if len(page["documents"]) < 3:
            break
    assert sizes == [3, 3, 1]
    assert sorted(seen) == sorted(d["id"] for d in docs)


async def test_push_accepts_every_field_of_the_document_including_updated_at_and_deleted(
    api: Api, world: World
) -> None:
    token = await api.login("officer.meigui")
    doc = visit(world)
    await push(api, token, (None, doc))
    [pulled] = (await pull(api, token))["documents"]
    # RxDB pushes back what it pulled, updatedAt included; it is accepted and ignored.
    assert await push(api, token, (pulled, {**pulled, "peopleReached": 9})) == []
    [again] = (await pull(api, token))["documents"]
    assert again["peopleReached"] == 9
    assert again["updatedAt"] > pulled["updatedAt"]


async def test_retried_push_of_a_new_document_changes_nothing(
    api: Api, world: World, sessionmaker: Sessionmaker
) -> None:
    token = await api.login("officer.meigui")
    doc = visit(world)
    await push(api, token, (None, doc))
    [first] = (await pull(api, token))["documents"]
    assert await push(api, token, (None, doc)) == []  # the first response was lost
    [second] = (await pull(api, token))["documents"]
    assert second == first  # no new version, no duplicate
    assert await count(sessionmaker, SyncConflict) == 0


async def test_checkpoint_is_an_object_whenever_documents_are_returned(
    api: Api, world: World
) -> None:
    token = await api.login("officer.meigui")
    empty = await pull(api, token)
    assert empty == {"documents": [], "checkpoint": None}
    await push(api, token, (None, visit(world)))
    page = await pull(api, token)
    assert isinstance(page["checkpoint"], dict) and page["checkpoint"]["id"]
    # Past the end, the checkpoint given is handed back, so the client keeps its place.
    after = await pull(api, token, page["checkpoint"])
    assert after == {"documents": [], "checkpoint": page["checkpoint"]}


async def test_unauthenticated_pull_and_push_are_json_graphql_errors(api: Api) -> None:
    for query in (PULL_VISIT, PUSH_VISIT):
        response = await api.client.post(
            "/graphql",
            json={"query": query, "variables": {"limit": 10, "rows": []}},
            headers={"Authorization": "Bearer not-a-token"},
        )
        body = response.json()
        assert body["errors"][0]["extensions"]["code"] == "TOKEN_INVALID"


async def test_pages_stay_full_after_scope_filtering(api: Api, world: World) -> None:
    admin = await api.login("admin")
    officer = await api.login("officer.meigui")
    yushan = to_global_id("Branch", world.yushan.id)
    mine = []
    # Interleave other branches' records, which the officer must not see nor be cut short by.
    for i in range(6):
        doc = visit(world)
        mine.append(doc["id"])
        await push(api, admin, (None, doc), (None, visit(world, branchId=yushan, village=f"榆{i}")))
    sizes, seen, checkpoint = [], [], None
    while True:
        page = await pull(api, officer, checkpoint, limit=4)
        sizes.append(len(page["documents"]))
        seen += [d["id"] for d in page["documents"]]
        checkpoint = page["checkpoint"]
        if len(page["documents"]) < 4:
            break
    assert sizes == [4, 2]
    assert sorted(seen) == sorted(mine)


async def test_replicas_sharing_one_sign_in_keep_each_others_writes(
    api: Api, world: World, sessionmaker: Sessionmaker
) -> None:
    # Two RxDB databases on one access token: two browser tabs, or a reinstalled app that kept
    # its token. The server cannot tell them apart, so it must judge by what each one sends.
    token = await api.login("officer.meigui")
    base = visit(world, concerns="路灯坏了")
    await push(api, token, (None, base))
    tab_a = {**base, "peopleReached": 9, "resolution": "已联系供电所"}
    assert await push(api, token, (base, tab_a)) == []
    # Tab B never saw A's write; its edit is of another field, against the older state.
    tab_b = {**base, "concerns": "路灯坏了,夜间无照明"}
    [returned] = await push(api, token, (base, tab_b))
    expected = {**tab_a, "concerns": "路灯坏了,夜间无照明"}
    assert {k: returned[k] for k in expected} == expected
    [pulled] = (await pull(api, token))["documents"]
    assert {k: pulled[k] for k in expected} == expected
    assert await count(sessionmaker, SyncConflict) == 0


async def test_edit_after_a_lost_reply_is_judged_by_content_and_kept_in_the_log(
    api: Api, world: World, sessionmaker: Sessionmaker
) -> None:
    token = await api.login("officer.meigui")
    doc = visit(world)
    await push(api, token, (None, doc))  # stored, but suppose the reply never arrived
    # RxDB still has no assumed state, and the officer edits before the retry. From what it
    # sends, this is a second replica creating the same id: the stored version stays, and the
    # edit is kept in the conflict log (who wrote the stored version proves nothing).
    edited = {**doc, "village": "玫瑰北村", "peopleReached": 7}
    [returned] = await push(api, token, (None, edited))
    assert (returned["village"], returned["peopleReached"]) == ("玫瑰村", 3)
    async with sessionmaker() as db:
        logged = {(c.field, c.client) for c in (await db.execute(select(SyncConflict))).scalars()}
    assert logged == {("village", "玫瑰北村"), ("peopleReached", 7)}


async def test_another_device_without_the_ancestor_still_merges_and_logs(
    api: Api, world: World, sessionmaker: Sessionmaker
) -> None:
    phone = await api.login("officer.meigui", device="phone-1")
    tablet = await api.login("officer.meigui", device="tablet-2")
    doc = visit(world)
    await push(api, phone, (None, doc))
    [returned] = await push(api, tablet, (None, {**doc, "village": "玫瑰北村"}))
    assert returned["village"] == "玫瑰村"
    assert await count(sessionmaker, SyncConflict) == 1


async def test_notes_two_phones_appended_to_the_same_visit_are_both_in_the_record(
    api: Api, world: World, sessionmaker: Sessionmaker
) -> None:
    officer = await api.login("officer.meigui", device="officer-phone")
    secretary = await api.login("secretary.meigui", device="secretary-phone")
    base = visit(world, concerns="5月1日 路灯坏了")
    await push(api, officer, (None, base))
    # Both phones append a note to the copy they last pulled.
    by_secretary = {**base, "concerns": "5月1日 路灯坏了\n5月2日 已联系电工"}
    by_officer = {**base, "concerns": "5月1日 路灯坏了\n5月3日 群众反映仍未修"}
    assert await push(api, secretary, (base, by_secretary)) == []

    [returned] = await push(api, officer, (base, by_officer))

    both = "5月1日 路灯坏了\n5月2日 已联系电工\n5月3日 群众反映仍未修"
    assert returned["concerns"] == both  # the officer's phone adopts the merge
    [pulled] = (await pull(api, secretary))["documents"]
    assert pulled["concerns"] == both
    assert await count(sessionmaker, SyncConflict) == 0
    # The reply was lost and the phone retries: nothing changes, nothing is logged.
    assert await push(api, officer, (base, by_officer)) == [returned]
    assert (await pull(api, secretary))["documents"] == [pulled]
    assert await count(sessionmaker, SyncConflict) == 0


MY_QUARANTINE = """
query { myQuarantinedRows { nodes { documentId row reasons { field code message } } } }
"""


async def test_a_nul_in_one_row_quarantines_that_row_and_the_batch_is_written(
    api: Api, world: World
) -> None:
    token = await api.login("officer.meigui")
    first, last = visit(world), visit(world)
    poisoned = visit(world, concerns="路灯\u0000坏了")
    assert await push(api, token, (None, first), (None, poisoned), (None, last)) == []
    ids = {d["id"] for d in (await pull(api, token))["documents"]}
    assert ids == {first["id"], last["id"]}
    [kept] = (await api(MY_QUARANTINE, token=token))["data"]["myQuarantinedRows"]["nodes"]
    assert [(r["field"], r["code"]) for r in kept["reasons"]] == [("concerns", "INVALID_CHARACTER")]
    assert "U+0000" in kept["reasons"][0]["message"]


async def test_a_row_the_database_cannot_store_is_kept_verbatim_and_readable(
    api: Api, world: World
) -> None:
    # A NUL in the id, a lone surrogate in a text and a NUL in the assumed state: none of them
    # may stop the quarantine from keeping the row as received, nor the list from showing it.
    token = await api.login("officer.meigui")
    doc = visit(world, id="a\u0000b", village="玫瑰\ud800村")
    assumed = visit(world, id="a\u0000b", concerns="\u0000")
    # JSON allows a lone surrogate as an escape (a JavaScript string may hold one); httpx's own
    # encoder would refuse it, so the body is sent as ASCII JSON text.
    body = {"query": PUSH_VISIT, "variables": {"rows": [
        {"assumedMasterState": assumed, "newDocumentState": doc}
    ]}}  # fmt: skip
    response = await api.client.post(
        "/graphql",
        content=json.dumps(body),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.json() == {"data": {"pushVisit": []}}
    [kept] = (await api(MY_QUARANTINE, token=token))["data"]["myQuarantinedRows"]["nodes"]
    assert json.loads(kept["row"]) == {"assumedMasterState": assumed, "newDocumentState": doc}
    assert kept["documentId"] == "a\\u0000b"
    codes = {(r["field"], r["code"]) for r in kept["reasons"]}
    assert codes >= {
        ("id", "INVALID_CHARACTER"),
        ("village", "INVALID_CHARACTER"),
        ("assumedMasterState.concerns", "INVALID_CHARACTER"),
    }


ISSUE_TO_YUSHAN = """
mutation($b: ID!) {
  issueDirective(input: {title: "夏季治安巡防", content: "每周反馈进展", priority: URGENT,
                         deadline: "2026-12-20T18:00:00+08:00", targetBranchIds: [$b]}) {
    ... on DirectiveIssued { directive { recipients { id levelLabel branch { name } } } }
  }
}"""
PUSH_RECEIPT = """
mutation($rows: [DirectiveReceiptInputPushRow!]) {
  pushDirectiveReceipt(directiveReceiptPushRow: $rows) { id branchId officerId signedAt }
}"""


async def test_push_answers_never_carry_documents_outside_the_pushers_scope(
    api: Api, world: World
) -> None:
    admin = await api.login("admin")
    officer = await api.login("officer.meigui")
    yushan = to_global_id("Branch", world.yushan.id)
    theirs = visit(
        world,
        branchId=yushan,
        officerId=to_global_id("Member", world.yushan_member.id),
        village="榆山村",
        concerns="邻里纠纷,涉及个人隐私",
    )
    await push(api, admin, (None, theirs))
    # An edit of another branch's visit, and a push of exactly its content (which must not
    # confirm a guess either): neither is written, and neither answer shows the visit.
    assert await push(api, officer, (theirs, {**theirs, "status": "resolved"})) == []
    assert await push(api, officer, (None, theirs)) == []
    # Another branch's directive receipt, signed there.
    issued = await api(ISSUE_TO_YUSHAN, {"b": yushan}, token=admin)
    recipients = issued["data"]["issueDirective"]["directive"]["recipients"]
    [row] = [r["id"] for r in recipients if r["branch"]["name"] == "榆山第二派出所党支部"]
    signed = {
        "id": document_id_of(row, "DirectiveRecipient"),
        "branchId": yushan,
        "signedAt": "2026-11-28T09:00:00+08:00",
    }
    assert (await api(PUSH_RECEIPT, {"rows": [{"newDocumentState": signed}]}, token=admin))["data"][
        "pushDirectiveReceipt"
    ] == []
    mine = {**signed, "officerId": to_global_id("Member", world.officer_member.id)}
    answer = await api(PUSH_RECEIPT, {"rows": [{"newDocumentState": mine}]}, token=officer)
    assert answer["data"]["pushDirectiveReceipt"] == []
    # The phone learns why from its quarantine list.
    kept = (await api(MY_QUARANTINE, token=officer))["data"]["myQuarantinedRows"]["nodes"]
    codes = sorted(r["code"] for k in kept for r in k["reasons"])
    assert codes == ["NOT_RECIPIENT", "OUT_OF_SCOPE", "OUT_OF_SCOPE"]


async def test_officers_record_as_themselves_and_with_their_own_branch(
    api: Api, world: World, sessionmaker: Sessionmaker
) -> None:
    officer = await api.login("officer.meigui")
    me = to_global_id("Member", world.officer_member.id)
    colleague = to_global_id("Member", world.meigui_member.id)
    stranger = to_global_id("Member", world.yushan_member.id)
    mine = visit(world, officerId=me)
    assert await push(api, officer, (None, mine)) == []
    assert await push(api, officer, (None, visit(world, officerId=colleague))) == []
    assert await push(api, officer, (None, visit(world, officerId=stranger))) == []
    # A colleague's visit keeps its officer when another officer adds a note to it.
    secretary = await api.login("secretary.meigui")
    theirs = visit(world, officerId=colleague)
    assert await push(api, secretary, (None, theirs)) == []
    assert await push(api, officer, (theirs, {**theirs, "concerns": "补充:已回访"})) == []
    # A patrol crew: members of the officer's own branch only.
    branch = to_global_id("Branch", world.meigui.id)
    patrol = {
        "id": str(uuid.uuid4()),
        "branchId": branch,
        "officerId": me,
        "kind": "night",
        "area": "玫瑰镇",
        "startedAt": "2026-05-01T21:00:00+08:00",
        "participants": json.dumps([me, colleague]),
        "deleted": False,
    }
    crossed = {**patrol, "id": str(uuid.uuid4()), "participants": json.dumps([me, stranger])}
    query = "mutation($r: [PatrolInputPushRow!]) { pushPatrol(patrolPushRow: $r) { id } }"
    rows = [{"newDocumentState": patrol}, {"newDocumentState": crossed}]
    assert (await api(query, {"r": rows}, token=officer))["data"]["pushPatrol"] == []

    ids = {d["id"] for d in (await pull(api, officer))["documents"]}
    assert ids == {mine["id"], theirs["id"]}
    kept = (await api(MY_QUARANTINE, token=officer))["data"]["myQuarantinedRows"]["nodes"]
    reasons = sorted((r["field"], r["code"]) for k in kept for r in k["reasons"])
    assert reasons == [
        ("officerId", "OUT_OF_SCOPE"),
        ("officerId", "OUT_OF_SCOPE"),
        ("participants", "OUT_OF_SCOPE"),
    ]
    async with sessionmaker() as db:
        noted = await db.get(Visit, theirs["id"])
    assert noted is not None and noted.officer_id == world.meigui_member.id
    assert noted.concerns == "补充:已回访"
