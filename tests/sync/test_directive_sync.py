"""Directives on phones: pulled, never pushed; receipts and progress pushed offline by the same
rules as field records (one transaction, idempotent retries, quarantine, conflicts)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from core.clock import FrozenClock
from core.db import Sessionmaker, writing
from core.global_id import document_id_of, global_id
from models import (
    DirectiveProgress,
    DirectiveReceipt,
    DirectiveRecipient,
    RecipientStatus,
    Role,
    SyncConflict,
    SyncQuarantine,
)
from schema import sdl
from sync.client import pull_query, push_query
from sync.collection import DIRECTIVE, DIRECTIVE_PROGRESS, DIRECTIVE_RECEIPT
from sync.directive import mark_reported
from sync.pull import changes_at
from tests.conftest import Api, Builders, World
from tests.sync.test_push_isolation import new_recipient

DEADLINE = "2026-12-20T18:00:00+08:00"


async def count(sessionmaker: Sessionmaker, model: Any, *where: Any) -> int:
    async with sessionmaker() as db:
        return int(await db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def pull(api: Api, token: str, name: str, checkpoint: Any = None) -> dict[str, Any]:
    collection = {"Directive": DIRECTIVE, "DirectiveReceipt": DIRECTIVE_RECEIPT}.get(
        name, DIRECTIVE_PROGRESS
    )
    body = await api(pull_query(collection), {"checkpoint": checkpoint, "limit": 100}, token=token)
    result: dict[str, Any] = body["data"][f"pull{name}"]
    return result


async def push(api: Api, token: str, name: str, rows: list[dict[str, Any]]) -> list[Any]:
    collection = DIRECTIVE_RECEIPT if name == "DirectiveReceipt" else DIRECTIVE_PROGRESS
    variable = name[0].lower() + name[1:] + "PushRow"
    body = await api(push_query(collection), {variable: rows}, token=token)
    result: list[Any] = body["data"][f"push{name}"]
    return result


async def issue_to_meigui(api: Api, world: World) -> tuple[str, str]:
    """The admin issues a directive to 玫瑰; its branch recipient row's id and the secretary's
    token."""
    admin = await api.login("admin")
    body = await api(
        """mutation($b: ID!, $d: DateTime!) {
             issueDirective(input: {title: "反诈宣传进村入户", content: "每名党员走访十户",
                                    deadline: $d, targetBranchIds: [$b], priority: URGENT}) {
               ... on DirectiveIssued { directive { id } }
             } }""",
        {"b": global_id("Branch", world.meigui.id), "d": DEADLINE},
        token=admin,
    )
    assert body["data"]["issueDirective"]["directive"]["id"]
    secretary = await api.login("secretary.meigui")
    mine = await api("{ myDirectives { nodes { id } } }", token=secretary)
    (branch_row,) = mine["data"]["myDirectives"]["nodes"]
    return str(branch_row["id"]), secretary


@pytest.fixture
async def officer_row(api: Api, world: World) -> str:
    """A directive issued to 玫瑰 and dispatched to the officer; the officer's row, by the id of
    the Directive document phones sync."""
    branch_row, secretary = await issue_to_meigui(api, world)
    dispatched = await api(
        """mutation($r: ID!, $m: ID!) {
             dispatchDirective(input: {recipientId: $r, memberIds: [$m]}) {
               ... on DirectiveDispatched { recipients { id } }
             } }""",
        {"r": branch_row, "m": global_id("Member", world.officer_member.id)},
        token=secretary,
    )
    (row,) = dispatched["data"]["dispatchDirective"]["recipients"]
    return document(row["id"])


def document(recipient_id: str) -> str:
    """The Directive document a recipient row's global id names."""
    found = document_id_of(recipient_id, "DirectiveRecipient")
    assert found is not None, recipient_id
    return found


def receipt(world: World, recipient_id: str, **overrides: Any) -> dict[str, Any]:
    doc = {
        "id": recipient_id,
        "branchId": global_id("Branch", world.meigui.id),
        "officerId": global_id("Member", world.officer_member.id),
        "signedAt": "2026-11-28T16:30:00+08:00",
        "deleted": False,
    }
    doc.update(overrides)
    return doc


def report(world: World, recipient_id: str, **overrides: Any) -> dict[str, Any]:
    doc = {
        "id": "6f1c2b1e-0000-4000-8000-000000000001",
        "recipientId": recipient_id,
        "branchId": global_id("Branch", world.meigui.id),
        "officerId": global_id("Member", world.officer_member.id),
        "text": "已走访六户",
        "percent": 60,
        "stage": None,
        "reportedAt": "2026-11-28T16:40:00+08:00",
        "deleted": False,
    }
    doc.update(overrides)
    return doc


async def test_directives_are_pull_only_for_phones(
    api: Api, world: World, officer_row: str
) -> None:
    served = sdl()
    assert "pullDirective(" in served and "streamDirective(" in served
    assert "pushDirective(" not in served and "input DirectiveInput " not in served
    token = await api.login("officer.meigui")
    body = await api(
        "mutation { pushDirective(directivePushRow: []) { id } }", token=token, expect_errors=True
    )
    assert "pushDirective" in body["errors"][0]["message"]

    page = await pull(api, token, "Directive")
    by_id = {d["id"]: d for d in page["documents"]}
    mine = by_id[officer_row]
    assert mine["title"] == "反诈宣传进村入户" and mine["priority"] == "urgent"
    assert mine["level"] == "member" and mine["status"] == "pending"
    assert mine["memberId"] == global_id("Member", world.officer_member.id)
    assert mine["deadline"] == "2026-12-20T10:00:00+00:00"
    # The branch's own row reaches the branch's officers too (it names no member).
    assert {d["level"] for d in page["documents"]} == {"branch", "member"}
    again = await pull(api, token, "Directive", page["checkpoint"])
    assert again["documents"] == []


async def test_a_receipt_pushed_offline_signs_the_directive(
    api: Api, world: World, officer_row: str, sessionmaker: Sessionmaker
) -> None:
    token = await api.login("officer.meigui", device="phone-1")
    first = await pull(api, token, "Directive")
    assert (
        await push(
            api, token, "DirectiveReceipt", [{"newDocumentState": receipt(world, officer_row)}]
        )
        == []
    )

    async with sessionmaker() as db:
        row = await db.get(DirectiveRecipient, officer_row)
    assert row is not None and row.status is RecipientStatus.SIGNED
    assert row.signed_at is not None and row.signed_at.isoformat() == "2026-11-28T08:00:00+00:00"
    # Signed "at 16:30" on a phone whose clock runs ahead: kept at the server's now, not later.

    # The signature reaches the phone as a changed Directive document and as a receipt.
    changed = await pull(api, token, "Directive", first["checkpoint"])
    assert [d["id"] for d in changed["documents"]] == [officer_row]
    assert changed["documents"][0]["status"] == "signed"
    receipts = await pull(api, token, "DirectiveReceipt")
    assert [d["id"] for d in receipts["documents"]] == [officer_row]


async def test_a_retried_receipt_push_changes_nothing(
    api: Api, world: World, officer_row: str, sessionmaker: Sessionmaker
) -> None:
    token = await api.login("officer.meigui", device="phone-1")
    rows = [{"newDocumentState": receipt(world, officer_row)}]
    assert await push(api, token, "DirectiveReceipt", rows) == []
    after_first = await pull(api, token, "Directive")
    assert await push(api, token, "DirectiveReceipt", rows) == []
    assert await pull(api, token, "Directive", after_first["checkpoint"]) == {
        "documents": [],
        "checkpoint": after_first["checkpoint"],
    }
    assert await count(sessionmaker, DirectiveReceipt) == 1
    assert await count(sessionmaker, SyncConflict) == 0


async def test_a_second_device_signing_merges_into_the_first_signature(
    api: Api, world: World, officer_row: str, sessionmaker: Sessionmaker
) -> None:
    phone = await api.login("officer.meigui", device="phone-1")
    tablet = await api.login("officer.meigui", device="tablet")
    assert (
        await push(
            api, phone, "DirectiveReceipt", [{"newDocumentState": receipt(world, officer_row)}]
        )
        == []
    )
    later = receipt(world, officer_row, signedAt="2026-11-28T16:45:00+08:00")
    for _ in range(2):  # a retry logs nothing new
        (returned,) = await push(api, tablet, "DirectiveReceipt", [{"newDocumentState": later}])
        assert returned["signedAt"] == "2026-11-28T16:30:00+08:00"
    assert await count(sessionmaker, DirectiveReceipt) == 1
    assert await count(sessionmaker, SyncConflict) == 1


async def test_a_receipt_for_a_directive_never_received_is_quarantined_not_dropped(
    api: Api, world: World, officer_row: str, sessionmaker: Sessionmaker
) -> None:
    token = await api.login("officer.meigui", device="phone-1")
    async with sessionmaker() as db:
        branch_row = await db.scalar(
            select(DirectiveRecipient.id).where(
                DirectiveRecipient.officer_id.is_(None),
                DirectiveRecipient.branch_id == world.meigui.id,
            )
        )
    assert branch_row is not None
    rows = [
        {"newDocumentState": receipt(world, branch_row)},
        {"newDocumentState": receipt(world, "no-such-directive")},
        {"newDocumentState": receipt(world, officer_row)},
    ]
    for _ in range(2):  # retried: kept once
        assert await push(api, token, "DirectiveReceipt", rows) == []
    async with sessionmaker() as db:
        kept = list(await db.scalars(select(SyncQuarantine).order_by(SyncQuarantine.document_id)))
    assert sorted(str(q.document_id) for q in kept) == sorted([branch_row, "no-such-directive"])
    assert all(
        q.reasons == [{"field": "id", "message": q.reasons[0]["message"], "code": "not_recipient"}]
        for q in kept
    )
    assert kept[0].row["newDocumentState"]["signedAt"] == "2026-11-28T16:30:00+08:00"
    # The valid row of the batch was applied; the refused ones wrote nothing.
    assert await count(sessionmaker, DirectiveReceipt) == 1
    async with sessionmaker() as db:
        row = await db.get(DirectiveRecipient, branch_row)
    # The branch's row stays signed by its secretary (through dispatching), not by the officer.
    assert row is not None and row.signed_by == world.secretary.id


async def test_a_receipt_for_a_colleagues_directive_answers_nothing_of_it(
    api: Api, world: World, make: Builders, sessionmaker: Sessionmaker
) -> None:
    # A directive dispatched to a colleague of the same branch, and signed by them: another
    # officer pushing a receipt with its id gets neither the signature nor the signer back.
    branch_row, secretary = await issue_to_meigui(api, world)
    dispatched = await api(
        """mutation($r: ID!, $m: ID!) {
             dispatchDirective(input: {recipientId: $r, memberIds: [$m]}) {
               ... on DirectiveDispatched { recipients { id } }
             } }""",
        {"r": branch_row, "m": global_id("Member", world.meigui_member.id)},
        token=secretary,
    )
    (colleague_row,) = dispatched["data"]["dispatchDirective"]["recipients"]
    colleague_document = document(colleague_row["id"])
    await make.account(Role.OFFICER, username="zhang.meigui", member_id=world.meigui_member.id)
    colleague = await api.login("zhang.meigui")
    signed = receipt(
        world, colleague_document, officerId=global_id("Member", world.meigui_member.id)
    )
    assert await push(api, colleague, "DirectiveReceipt", [{"newDocumentState": signed}]) == []

    token = await api.login("officer.meigui")
    mine = receipt(world, colleague_document, signedAt="2026-11-28T17:00:00+08:00")
    assert await push(api, token, "DirectiveReceipt", [{"newDocumentState": mine}]) == []
    async with sessionmaker() as db:
        [kept] = await db.scalars(select(SyncQuarantine))
    assert [r["code"] for r in kept.reasons] == ["not_recipient"]


async def test_progress_pushed_offline_is_recorded_and_synced_back(
    api: Api, world: World, officer_row: str, sessionmaker: Sessionmaker
) -> None:
    token = await api.login("officer.meigui", device="phone-1")
    assert (
        await push(
            api, token, "DirectiveProgress", [{"newDocumentState": report(world, officer_row)}]
        )
        == []
    )
    async with sessionmaker() as db:
        row = await db.get(DirectiveRecipient, officer_row)
    assert row is not None and row.status is RecipientStatus.IN_PROGRESS
    assert row.signed_at is not None and row.last_reported_at is not None
    pulled = await pull(api, token, "DirectiveProgress")
    assert [(d["recipientId"], d["percent"]) for d in pulled["documents"]] == [(officer_row, 60)]

    bad = report(world, officer_row, id="6f1c2b1e-0000-4000-8000-000000000002", percent=150)
    withdrawn = {**report(world, officer_row), "deleted": True}
    assert await push(api, token, "DirectiveProgress", [{"newDocumentState": bad}]) == []
    returned = await push(
        api,
        token,
        "DirectiveProgress",
        [{"assumedMasterState": report(world, officer_row), "newDocumentState": withdrawn}],
    )
    assert [d["deleted"] for d in returned] == [False]  # adopt the server's: not withdrawn
    async with sessionmaker() as db:
        reasons = [q.reasons for q in await db.scalars(select(SyncQuarantine))]
    codes = sorted(r["field"] + ":" + r["code"] for rs in reasons for r in rs)
    assert codes == ["deleted:invalid", "percent:invalid"]
    assert await count(sessionmaker, DirectiveProgress) == 1


async def test_reports_on_several_directives_are_marked_in_one_statement(
    world: World, sessionmaker: Sessionmaker, clock: FrozenClock
) -> None:
    # A phone that reported on two directives offline pushes both reports in one batch.
    first = await new_recipient(sessionmaker, world, clock)
    second = await new_recipient(sessionmaker, world, clock)
    async with writing(sessionmaker) as db:
        await mark_reported(db, {first: clock(), second: clock()}, world.secretary.id, 42)
    async with sessionmaker() as db:
        rows = [await db.get(DirectiveRecipient, rid) for rid in (first, second)]
    assert [(r.status, r.updated_at) for r in rows if r is not None] == [
        (RecipientStatus.IN_PROGRESS, 42),
        (RecipientStatus.IN_PROGRESS, 42),
    ]


async def test_the_stream_hands_out_the_directive_documents_a_stamp_wrote(
    api: Api, world: World, officer_row: str, sessionmaker: Sessionmaker
) -> None:
    token = await api.login("officer.meigui", device="phone-1")
    assert (
        await push(
            api, token, "DirectiveReceipt", [{"newDocumentState": receipt(world, officer_row)}]
        )
        == []
    )
    async with sessionmaker() as db:
        stamp = await db.scalar(
            select(DirectiveRecipient.updated_at).where(DirectiveRecipient.id == officer_row)
        )
        assert stamp is not None
        directive_changes = await changes_at(db, DIRECTIVE, stamp)
        receipt_changes = await changes_at(db, DIRECTIVE_RECEIPT, stamp)
    # The same stamp wrote the receipt and the Directive document it changed.
    assert [(c.document["id"], c.document["status"]) for c in directive_changes] == [
        (officer_row, "signed")
    ]
    assert directive_changes[0].path == world.meigui.path
    assert [c.document["id"] for c in receipt_changes] == [officer_row]
