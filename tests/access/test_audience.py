"""The sync audience (access/audience.py): an officer gets the reminders and directives addressed to
them or to their branch, never a colleague's, on the phone (pull, removals, stream) and on the
web alike; secretaries, admins and inspectors keep their whole scope.

Every test sets up a colleague's reminder or recipient row in the officer's own branch and
asserts it stays out of reach.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select, update

from access import audience
from access.scope import Scope, scope_of
from access.viewer import Viewer
from core.clock import FrozenClock
from core.db import Sessionmaker, writing
from core.global_id import document_id_of, global_id
from core.settings import Settings
from models import Account, Member, Reminder, ReminderKind, ReminderStatus, Role
from resolvers.branch import update_branch
from schema.fast_pull import ROOT_FIELDS
from schema.node import to_global_id
from sync.client import pull_query
from sync.collection import (
    ALL_COLLECTIONS,
    DIRECTIVE,
    DIRECTIVE_PROGRESS,
    DIRECTIVE_RECEIPT,
    REMINDER,
    VISIT,
    Collection,
)
from sync.pull import Checkpoint, changes_at, pull
from sync.stream import visible
from tests.conftest import Api, Builders, World
from tests.schema.test_supervision import add_reminder
from tests.schema.test_sync import push as push_visit
from tests.schema.test_sync import visit
from tests.sync.test_directive_sync import issue_to_meigui

PULL_NAMES = {
    "Reminder": REMINDER,
    "Directive": DIRECTIVE,
    "DirectiveReceipt": DIRECTIVE_RECEIPT,
    "DirectiveProgress": DIRECTIVE_PROGRESS,
}
ALL_BY_NAME: dict[str, Collection] = {c.name: c for c in ALL_COLLECTIONS.values()}


@pytest.fixture
def app_settings(settings: Settings) -> Settings:
    """Re-linking an account or moving a member shows at the next request, not seconds later."""
    return dataclasses.replace(settings, session_cache_seconds=0)


# --- setting up a branch with a colleague -----------------------------------------------------


@dataclasses.dataclass
class Reminders:
    own: Reminder  # addressed to the officer
    branch: Reminder  # to 玫瑰 as a whole
    colleague: Reminder  # 张党员's 转正申请 reminder, in the officer's own branch
    yushan: Reminder  # another branch
    yushan_member: Reminder
    group: Reminder  # a branch inside 玫瑰's subtree


@pytest.fixture
async def reminders(sessionmaker: Sessionmaker, clock: FrozenClock, world: World) -> Reminders:
    async def add(branch: Any, member: Member | None = None, **kw: Any) -> Reminder:
        return await add_reminder(sessionmaker, clock, branch, member, **kw)

    return Reminders(
        own=await add(world.meigui, world.officer_member, kind=ReminderKind.DIRECTIVE_UNSIGNED),
        branch=await add(world.meigui, due_on=date(2026, 11, 20)),
        colleague=await add(world.meigui, world.meigui_member, kind=ReminderKind.PROBATION_ENDING),
        yushan=await add(world.yushan),
        yushan_member=await add(
            world.yushan, world.yushan_member, kind=ReminderKind.PROBATION_ENDING
        ),
        group=await add(world.meigui_group),
    )


@dataclasses.dataclass
class Rows:
    """One directive to 玫瑰, dispatched on to the officer and to their colleague 张党员: the ids
    of the documents phones sync (the web names them by global ids; see `document`)."""

    branch: str
    officer: str
    colleague: str
    branch_progress: str
    colleague_progress: str


@pytest.fixture
async def colleague(make: Builders, world: World) -> Account:
    return await make.account(
        Role.OFFICER, username="colleague.meigui", member_id=world.meigui_member.id
    )


@pytest.fixture
async def rows(api: Api, world: World, colleague: Account) -> Rows:
    branch_row, secretary = await issue_to_meigui(api, world)
    # Signed before dispatching (which would sign it without a receipt document).
    await sign(api, secretary, branch_row)
    dispatched = await api(
        """mutation($r: ID!, $m: [ID!]) {
             dispatchDirective(input: {recipientId: $r, memberIds: $m}) {
               ... on DirectiveDispatched { recipients { id member { id } } }
             } }""",
        {
            "r": branch_row,
            "m": [
                global_id("Member", world.officer_member.id),
                global_id("Member", world.meigui_member.id),
            ],
        },
        token=secretary,
    )
    by_member = {
        r["member"]["id"]: r["id"] for r in dispatched["data"]["dispatchDirective"]["recipients"]
    }
    officer_row = by_member[global_id("Member", world.officer_member.id)]
    colleague_row = by_member[global_id("Member", world.meigui_member.id)]
    # The secretary reports on the branch's row; the colleague signs and reports on their own.
    colleague_token = await api.login("colleague.meigui")
    await sign(api, colleague_token, colleague_row)
    branch_progress = await report(api, secretary, branch_row, "支部已部署")
    colleague_progress = await report(api, colleague_token, colleague_row, "已走访三户")
    return Rows(
        document(branch_row),
        document(officer_row),
        document(colleague_row),
        document(branch_progress),
        document(colleague_progress),
    )


def document(web_id: str) -> str:
    """The synced document a web global id names (a recipient row or a progress report)."""
    found = document_id_of(web_id, "DirectiveRecipient") or document_id_of(
        web_id, "DirectiveProgress"
    )
    assert found is not None, web_id
    return found


async def sign(api: Api, token: str, recipient_id: str) -> None:
    body = await api(
        """mutation($r: ID!) { signDirective(recipientId: $r) { __typename } }""",
        {"r": recipient_id},
        token=token,
    )
    assert body["data"]["signDirective"]["__typename"] == "DirectiveRecipientSaved", body


async def report(api: Api, token: str, recipient_id: str, text: str) -> str:
    body = await api(
        """mutation($r: ID!, $t: String!) {
             reportDirectiveProgress(input: {recipientId: $r, text: $t, percent: 30}) {
               __typename ... on DirectiveProgressReported { progress { id } }
             } }""",
        {"r": recipient_id, "t": text},
        token=token,
    )
    result = body["data"]["reportDirectiveProgress"]
    assert result["__typename"] == "DirectiveProgressReported", result
    return str(result["progress"]["id"])


async def pulled(api: Api, token: str, name: str, checkpoint: Any = None) -> list[dict[str, Any]]:
    """Every document of a collection the viewer pulls, page by page (two per page)."""
    documents: list[dict[str, Any]] = []
    while True:
        body = await api(
            pull_query(PULL_NAMES[name]), {"checkpoint": checkpoint, "limit": 2}, token=token
        )
        page = body["data"][f"pull{name}"]
        documents += page["documents"]
        if len(page["documents"]) < 2:
            return documents
        checkpoint = page["checkpoint"]


def ids(documents: list[dict[str, Any]]) -> set[str]:
    return {d["id"] for d in documents}


def officer_scope(world: World) -> Scope:
    return scope_of(
        Viewer(
            world.officer.id,
            "officer.meigui",
            Role.OFFICER,
            None,
            world.officer_member.id,
            world.meigui.id,
            world.meigui.path,
        )
    )


# --- the phone: pull ------------------------------------------------------------------------


async def test_an_officer_pulls_only_reminders_addressed_to_them_or_their_branch(
    api: Api, world: World, reminders: Reminders
) -> None:
    token = await api.login("officer.meigui")

    documents = await pulled(api, token, "Reminder")

    assert ids(documents) == {reminders.own.id, reminders.branch.id}
    assert reminders.colleague.id not in ids(documents)
    by_id = {d["id"]: d for d in documents}
    assert by_id[reminders.own.id]["memberId"] == global_id("Member", world.officer_member.id)
    assert by_id[reminders.branch.id]["memberId"] is None


async def test_a_colleague_pulls_their_own_reminder_and_not_the_officers(
    api: Api, reminders: Reminders, colleague: Account
) -> None:
    token = await api.login("colleague.meigui")

    assert ids(await pulled(api, token, "Reminder")) == {
        reminders.colleague.id,
        reminders.branch.id,
    }


async def test_an_officer_pulls_only_their_own_member_level_directive_rows(
    api: Api, world: World, rows: Rows
) -> None:
    token = await api.login("officer.meigui")

    documents = await pulled(api, token, "Directive")

    assert ids(documents) == {rows.branch, rows.officer}
    assert {d["level"] for d in documents} == {"branch", "member"}
    assert rows.colleague not in ids(documents)


async def test_receipts_and_progress_follow_the_recipient_row(
    api: Api, world: World, rows: Rows
) -> None:
    officer = await api.login("officer.meigui")
    colleague = await api.login("colleague.meigui")

    # The branch's receipt and report (the secretary's) reach every officer of the branch; the
    # colleague's reach the colleague, not the officer.
    assert ids(await pulled(api, officer, "DirectiveReceipt")) == {rows.branch}
    assert ids(await pulled(api, officer, "DirectiveProgress")) == {rows.branch_progress}
    assert ids(await pulled(api, colleague, "DirectiveReceipt")) == {rows.branch, rows.colleague}
    assert ids(await pulled(api, colleague, "DirectiveProgress")) == {
        rows.branch_progress,
        rows.colleague_progress,
    }


async def test_a_secretary_still_pulls_the_whole_subtree(
    api: Api, reminders: Reminders, rows: Rows
) -> None:
    token = await api.login("secretary.meigui")

    assert ids(await pulled(api, token, "Reminder")) == {
        reminders.own.id,
        reminders.branch.id,
        reminders.colleague.id,
        reminders.group.id,
    }
    assert ids(await pulled(api, token, "Directive")) == {rows.branch, rows.officer, rows.colleague}
    assert ids(await pulled(api, token, "DirectiveReceipt")) == {rows.branch, rows.colleague}
    assert ids(await pulled(api, token, "DirectiveProgress")) == {
        rows.branch_progress,
        rows.colleague_progress,
    }


@pytest.mark.parametrize("username", ["admin", "inspector"])
async def test_admins_and_inspectors_still_pull_everything(
    api: Api, reminders: Reminders, rows: Rows, username: str
) -> None:
    token = await api.login(username)

    assert ids(await pulled(api, token, "Reminder")) == {
        getattr(reminders, f.name).id for f in dataclasses.fields(reminders)
    }
    assert {rows.branch, rows.officer, rows.colleague} <= ids(await pulled(api, token, "Directive"))


async def test_field_records_stay_the_whole_branchs_for_officers(
    api: Api, world: World, colleague: Account
) -> None:
    colleagues_visit = visit(world, officerId=global_id("Member", world.meigui_member.id))
    await push_visit(api, await api.login("colleague.meigui"), (None, colleagues_visit))

    documents = await pulled_visits(api, await api.login("officer.meigui"))

    assert colleagues_visit["id"] in ids(documents)


async def pulled_visits(api: Api, token: str) -> list[dict[str, Any]]:
    body = await api(pull_query(VISIT), {"checkpoint": None, "limit": 100}, token=token)
    documents: list[dict[str, Any]] = body["data"]["pullVisit"]["documents"]
    return documents


FRAGMENT_PULL = """query($checkpoint: %(name)sInputCheckpoint, $limit: Int!) {
  pull%(name)s(checkpoint: $checkpoint, limit: $limit) {
    documents { ...doc }
    checkpoint { id updatedAt }
  }
}
fragment doc on %(name)s { id updatedAt deleted }"""


@pytest.mark.parametrize("name", [*PULL_NAMES, "Visit"])
async def test_the_fast_path_and_normal_execution_pull_the_same_audience(
    api: Api, world: World, reminders: Reminders, rows: Rows, name: str
) -> None:
    # A fragment always takes normal execution; RxDB's plain query takes the fast path where
    # there is one (schema/fast_pull.py). Both must give an officer the same documents.
    token = await api.login("officer.meigui")
    theirs = visit(world, officerId=global_id("Member", world.meigui_member.id))
    await push_visit(api, await api.login("colleague.meigui"), (None, theirs))
    plain = await api(
        pull_query(ALL_BY_NAME[name]), {"checkpoint": None, "limit": 100}, token=token
    )
    fragment = await api(FRAGMENT_PULL % {"name": name}, {"limit": 100}, token=token)

    expected = ids(plain["data"][f"pull{name}"]["documents"])
    assert expected == ids(fragment["data"][f"pull{name}"]["documents"])
    assert expected
    assert not {reminders.colleague.id, rows.colleague, rows.colleague_progress} & expected


def test_collections_with_personal_documents_reach_the_fast_path_only_through_the_pull() -> None:
    # The fast path answers through schema.sync.pull_bulk, i.e. sync.pull.pull and its audience
    # clause; this pins which collections it serves, so adding one is a conscious change.
    assert set(ROOT_FIELDS) == {"pullVisit", "pullPatrol", "pullServiceAction"}
    assert {"reminder", "directive", "directive_receipt", "directive_progress"} == audience.PERSONAL


# --- the phone: removals and checkpoints ------------------------------------------------------


async def test_a_branch_move_never_sends_an_officer_a_colleagues_document_as_a_removal(
    sessionmaker: Sessionmaker, world: World, clock: FrozenClock, reminders: Reminders, rows: Rows
) -> None:
    scope = officer_scope(world)
    checkpoints: dict[str, Checkpoint | None] = {}
    for collection in PULL_NAMES.values():
        async with sessionmaker() as db:
            checkpoints[collection.key] = (await pull(db, scope, collection, None, 100)).checkpoint

    # Moving 玫瑰 re-stamps every document under it and records an exit (with the document's
    # content) for viewers of the old position.
    admin = Viewer(world.admin.id, "admin", Role.ADMIN, None, None, None, None)
    async with writing(sessionmaker) as db:
        await update_branch(db, admin, clock, world.meigui.id, {"parent_id": world.committee.id})

    seen: dict[str, list[tuple[str, bool]]] = {}
    for collection in PULL_NAMES.values():
        async with sessionmaker() as db:
            page = await pull(db, scope, collection, checkpoints[collection.key], 100)
        seen[collection.key] = sorted((d["id"], d["deleted"]) for d in page.documents)
    assert seen == {
        "reminder": sorted([(reminders.own.id, False), (reminders.branch.id, False)]),
        "directive": sorted([(rows.branch, False), (rows.officer, False)]),
        "directive_receipt": [(rows.branch, False)],
        "directive_progress": [(rows.branch_progress, False)],
    }


async def test_a_relinked_account_resyncs_its_reminders_and_directives_but_not_field_records(
    api: Api, world: World, sessionmaker: Sessionmaker, reminders: Reminders
) -> None:
    token = await api.login("officer.meigui")
    checkpoints = {}
    for name in ("Reminder", "Directive", "Visit"):
        collection = ALL_BY_NAME[name]
        body = await api(pull_query(collection), {"checkpoint": None, "limit": 100}, token=token)
        checkpoints[name] = body["data"][f"pull{name}"]["checkpoint"] or {"id": "x", "updatedAt": 1}
        await api(
            pull_query(collection), {"checkpoint": checkpoints[name], "limit": 1}, token=token
        )

    # The account now stands for the colleague: what it pulled as the officer is not its own.
    async with writing(sessionmaker) as db:
        await db.execute(
            update(Account)
            .where(Account.id == world.officer.id)
            .values(member_id=world.meigui_member.id)
        )

    for name, expected in (("Reminder", True), ("Directive", True), ("Visit", False)):
        body = await api(
            pull_query(ALL_BY_NAME[name]),
            {"checkpoint": checkpoints[name], "limit": 1},
            token=token,
            expect_errors=expected,
        )
        codes = [e["extensions"]["code"] for e in body.get("errors", [])]
        assert codes == (["RESYNC_REQUIRED"] if expected else []), name
    fresh = await pulled(api, token, "Reminder")
    assert ids(fresh) == {reminders.colleague.id, reminders.branch.id}


async def test_an_officer_moved_to_another_branch_still_resyncs_reminders(
    api: Api, world: World, sessionmaker: Sessionmaker, reminders: Reminders
) -> None:
    token = await api.login("officer.meigui")
    body = await api(pull_query(REMINDER), {"checkpoint": None, "limit": 100}, token=token)
    checkpoint = body["data"]["pullReminder"]["checkpoint"]
    await api(pull_query(REMINDER), {"checkpoint": checkpoint, "limit": 1}, token=token)
    async with writing(sessionmaker) as db:
        await db.execute(
            update(Member)
            .where(Member.id == world.officer_member.id)
            .values(branch_id=world.yushan.id)
        )

    refused = await api(
        pull_query(REMINDER),
        {"checkpoint": checkpoint, "limit": 1},
        token=token,
        expect_errors=True,
    )

    assert refused["errors"][0]["extensions"]["code"] == "RESYNC_REQUIRED"
    assert refused["errors"][0]["extensions"]["reason"] == "scope"


# --- the phone: stream ------------------------------------------------------------------------


async def test_the_stream_hands_an_officer_only_their_audiences_documents(
    api: Api, world: World, sessionmaker: Sessionmaker, rows: Rows
) -> None:
    # What the stream reads for each write (sync/pull.changes_at), for the colleague's row,
    # receipt and report, and for the branch's.
    theirs = {rows.colleague, rows.colleague_progress}
    branchs = {rows.branch, rows.branch_progress}
    async with sessionmaker() as db:
        written = {
            c.key: await changes_at_any(db, c)
            for c in (DIRECTIVE, DIRECTIVE_RECEIPT, DIRECTIVE_PROGRESS)
        }
    officer = officer_scope(world)
    colleague = dataclasses.replace(officer, member_id=world.meigui_member.id)
    secretary = Scope("subtree", world.meigui.id, world.meigui.path, writable=True)

    for key, changes in written.items():
        colleagues = [c for c in changes if c.document["id"] in theirs]
        branch = [c for c in changes if c.document["id"] in branchs]
        assert colleagues and branch, key
        assert visible(colleagues, officer) == [], key
        assert ids(visible(branch, officer)) == ids([c.document for c in branch]), key
        for scope in (colleague, secretary):
            assert ids(visible(colleagues, scope)) == ids([c.document for c in colleagues]), key


async def changes_at_any(db: Any, collection: Collection) -> list[Any]:
    stamps = (await db.execute(select(collection.model.updated_at).distinct())).scalars()
    found = []
    for stamp in stamps:
        found += await changes_at(db, collection, stamp)
    return found


async def test_the_stream_hands_an_officer_their_own_and_their_branchs_reminders(
    api: Api, world: World, sessionmaker: Sessionmaker, reminders: Reminders
) -> None:
    secretary = await api.login("secretary.meigui")
    for reminder in (reminders.own, reminders.branch, reminders.colleague):
        await api(ACK, {"id": reminder_gid(reminder)}, token=secretary)

    async with sessionmaker() as db:
        changes = await changes_at_any(db, REMINDER)

    shown = ids(visible(changes, officer_scope(world)))
    assert shown == {reminders.own.id, reminders.branch.id}


# --- the web --------------------------------------------------------------------------------

REMINDERS = """{ reminders(first: 50) { totalCount nodes { id title } } }"""
ACK = """mutation($id: ID!) { acknowledgeReminder(id: $id) {
  __typename
  ... on ReminderPayload { reminder { status } }
  ... on InvalidInput { errors { field code } }
} }"""
RESOLVE = """mutation($id: ID!) { resolveReminder(id: $id) {
  __typename
  ... on ReminderPayload { reminder { status } }
  ... on InvalidInput { errors { field code } }
} }"""


def reminder_gid(reminder: Reminder) -> str:
    return to_global_id("Reminder", uuid.UUID(reminder.id))


async def test_the_web_reminder_list_shows_an_officer_the_same_reminders_as_sync(
    api: Api, world: World, reminders: Reminders
) -> None:
    token = await api.login("officer.meigui")
    synced = {d["title"] for d in await pulled(api, token, "Reminder")}

    body = await api(REMINDERS, token=token)
    listed = body["data"]["reminders"]

    assert {n["title"] for n in listed["nodes"]} == synced
    assert listed["totalCount"] == len(synced) == 2
    node = await api(
        "query($id: ID!) { node(id: $id) { id } }",
        {"id": reminder_gid(reminders.colleague)},
        token=token,
    )
    assert node["data"]["node"] is None
    own = await api(
        "query($id: ID!) { node(id: $id) { id } }", {"id": reminder_gid(reminders.own)}, token=token
    )
    assert own["data"]["node"] == {"id": reminder_gid(reminders.own)}


@pytest.mark.parametrize("mutation", [ACK, RESOLVE])
async def test_an_officer_acknowledging_a_colleagues_reminder_gets_not_found(
    api: Api, sessionmaker: Sessionmaker, reminders: Reminders, mutation: str
) -> None:
    token = await api.login("officer.meigui")

    body = await api(mutation, {"id": reminder_gid(reminders.colleague)}, token=token)

    [result] = body["data"].values()
    assert result == {
        "__typename": "InvalidInput",
        "errors": [{"field": "id", "code": "NOT_FOUND"}],
    }
    async with sessionmaker() as db:
        row = await db.get(Reminder, reminders.colleague.id)
    assert row is not None and row.status is ReminderStatus.OPEN and row.updated_at == 1


async def test_the_web_shows_an_officer_only_their_audiences_recipient_rows(
    api: Api, world: World, rows: Rows
) -> None:
    query = """{ directives(first: 10) { edges { node {
                   recipients { id level progress { id } } } } } }"""
    seen: dict[str, set[str]] = {}
    for username in ("officer.meigui", "colleague.meigui", "secretary.meigui"):
        body = await api(query, token=await api.login(username))
        [edge] = body["data"]["directives"]["edges"]
        recipients = edge["node"]["recipients"]
        seen[username] = {document(r["id"]) for r in recipients} | {
            document(p["id"]) for r in recipients for p in r["progress"]
        }

    assert seen["officer.meigui"] == {rows.branch, rows.officer, rows.branch_progress}
    assert seen["colleague.meigui"] == {
        rows.branch,
        rows.colleague,
        rows.branch_progress,
        rows.colleague_progress,
    }
    assert seen["secretary.meigui"] == seen["colleague.meigui"] | {rows.officer}
