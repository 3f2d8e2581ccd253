"""Supervision over GraphQL: reminders, spot checks and bulletins, per role; typed errors that
write nothing; lists whose statement count does not grow with the data."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from core.clock import FrozenClock
from core.db import Sessionmaker, writing
from core.settings import Settings
from models import (
    Branch,
    BranchKind,
    Bulletin,
    BulletinRead,
    LedgerFrequency,
    LedgerItem,
    Member,
    Reminder,
    ReminderKind,
    ReminderStatus,
    Role,
    SpotCheck,
    SpotCheckFinding,
)
from resolvers.reminder import generate_reminders
from schema.node import to_global_id
from tests.conftest import Api, Builders, World
from tests.schema.test_role_matrix import start_session
from tests.schema.test_statement_count import counting


@pytest.fixture
def app_settings(settings: Settings) -> Settings:
    """Statement counts are measured here, so the response cache is off."""
    return dataclasses.replace(settings, response_cache_entries=0)


def gid(row: Any) -> str:
    raw = uuid.UUID(row.id) if isinstance(row.id, str) else row.id
    return to_global_id(type(row).__name__, raw)


@dataclasses.dataclass
class Tokens:
    admin: str
    inspector: str
    secretary: str
    officer: str


@pytest.fixture
async def tokens(world: World, sessionmaker: Sessionmaker, clock: FrozenClock) -> Tokens:
    async def token(role: str) -> str:
        return (await start_session(sessionmaker, clock, getattr(world, role)))[1]

    return Tokens(
        await token("admin"),
        await token("inspector"),
        await token("secretary"),
        await token("officer"),
    )


_counter = 0


async def add_reminder(
    sessionmaker: Sessionmaker,
    clock: FrozenClock,
    branch: Branch,
    member: Member | None = None,
    kind: ReminderKind = ReminderKind.LEDGER_OVERDUE,
    due_on: date = date(2026, 12, 5),
    status: ReminderStatus = ReminderStatus.OPEN,
    item: LedgerItem | None = None,
) -> Reminder:
    global _counter
    _counter += 1
    row = Reminder(
        id=str(uuid.uuid4()),
        kind=kind,
        dedup_key=f"test:{_counter}:{uuid.uuid4()}",
        title=f"提醒{_counter}",
        branch_id=branch.id,
        officer_id=member.id if member else None,
        ledger_item_id=item.id if item else None,
        due_on=due_on,
        status=status,
        updated_at=1,
        deleted=False,
        created_at=clock(),
    )
    async with writing(sessionmaker) as db:
        db.add(row)
    return row


async def count(sessionmaker: Sessionmaker, model: Any) -> int:
    async with sessionmaker() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


def error_code(body: dict[str, Any]) -> str:
    return str(body["errors"][0]["extensions"]["code"])


# --- reminders ------------------------------------------------------------------------------------

MY_REMINDERS = """{ myReminders { totalCount nodes { title kind kindLabel member { name } } } }"""
REMINDERS = """query($kinds: [ReminderKind!], $statuses: [ReminderStatus!], $from: Date,
                     $until: Date, $subtree: ID) {
  reminders(kinds: $kinds, statuses: $statuses, dueFrom: $from, dueUntil: $until,
            subtreeOf: $subtree) {
    totalCount nodes { title branch { name } overdue }
  }
}"""
ACK = """mutation($id: ID!) { acknowledgeReminder(id: $id) {
  __typename
  ... on ReminderPayload { reminder { status statusLabel answeredOn } }
  ... on InvalidInput { errors { field code } }
} }"""
RESOLVE = """mutation($id: ID!, $note: String) { resolveReminder(id: $id, note: $note) {
  __typename
  ... on ReminderPayload { reminder { status resolution resolvedBySystem note } }
  ... on InvalidInput { errors { field code } }
} }"""


@dataclasses.dataclass
class Reminders:
    officer_own: Reminder
    meigui_branch: Reminder
    meigui_colleague: Reminder
    yushan_branch: Reminder


@pytest.fixture
async def some_reminders(sessionmaker: Sessionmaker, clock: FrozenClock, world: World) -> Reminders:
    return Reminders(
        await add_reminder(
            sessionmaker, clock, world.meigui, world.officer_member, ReminderKind.DIRECTIVE_UNSIGNED
        ),
        await add_reminder(sessionmaker, clock, world.meigui, due_on=date(2026, 11, 20)),
        await add_reminder(
            sessionmaker, clock, world.meigui, world.meigui_member, ReminderKind.PROBATION_ENDING
        ),
        await add_reminder(sessionmaker, clock, world.yushan),
    )


async def test_my_reminders_are_the_viewers_own_and_a_secretarys_branch(
    api: Api, tokens: Tokens, some_reminders: Reminders
) -> None:
    mine = {}
    for role in ("admin", "inspector", "secretary", "officer"):
        body = await api(MY_REMINDERS, token=getattr(tokens, role))
        mine[role] = body["data"]["myReminders"]["totalCount"]

    assert mine == {"admin": 0, "inspector": 0, "secretary": 3, "officer": 1}
    body = await api(MY_REMINDERS, token=tokens.officer)
    [node] = body["data"]["myReminders"]["nodes"]
    assert (node["kind"], node["kindLabel"], node["member"]["name"]) == (
        "DIRECTIVE_UNSIGNED",
        "指令未签收",
        "李民警",
    )


async def test_reminders_list_follows_the_read_scope_and_filters(
    api: Api, tokens: Tokens, some_reminders: Reminders, world: World
) -> None:
    seen = {}
    for role in ("admin", "inspector", "secretary", "officer"):
        body = await api(REMINDERS, token=getattr(tokens, role))
        seen[role] = body["data"]["reminders"]["totalCount"]
    # The officer: their own and their branch's, not their colleague's (access/audience.py).
    assert seen == {"admin": 4, "inspector": 4, "secretary": 3, "officer": 2}

    body = await api(
        REMINDERS,
        {"kinds": ["LEDGER_OVERDUE"], "until": "2026-11-30", "statuses": ["OPEN"]},
        token=tokens.admin,
    )
    [node] = body["data"]["reminders"]["nodes"]
    assert node == {
        "title": some_reminders.meigui_branch.title,
        "branch": {"name": "玫瑰派出所党支部"},
        "overdue": True,
    }
    body = await api(REMINDERS, {"subtree": gid(world.yushan)}, token=tokens.admin)
    assert body["data"]["reminders"]["totalCount"] == 1


async def test_reminders_due_range_backwards_is_a_typed_error(api: Api, tokens: Tokens) -> None:
    body = await api(
        REMINDERS,
        {"from": "2026-12-01", "until": "2026-11-01"},
        token=tokens.admin,
        expect_errors=True,
    )

    assert error_code(body) == "BAD_USER_INPUT"
    [problem] = body["errors"][0]["extensions"]["problems"]
    assert (problem["field"], problem["code"]) == ("dueUntil", "out_of_range")


async def test_addressee_acknowledges_then_resolves_a_reminder(
    api: Api, tokens: Tokens, some_reminders: Reminders
) -> None:
    rid = gid(some_reminders.officer_own)

    acked = (await api(ACK, {"id": rid}, token=tokens.officer))["data"]["acknowledgeReminder"]
    again = (await api(ACK, {"id": rid}, token=tokens.officer))["data"]["acknowledgeReminder"]
    resolved = (await api(RESOLVE, {"id": rid, "note": "已签收"}, token=tokens.officer))["data"][
        "resolveReminder"
    ]

    assert acked["reminder"] == {
        "status": "ACKNOWLEDGED",
        "statusLabel": "已知悉",
        "answeredOn": "2026-11-28",
    }
    assert again["reminder"]["status"] == "ACKNOWLEDGED"
    assert resolved["reminder"] == {
        "status": "RESOLVED",
        "resolution": "HANDLED",
        "resolvedBySystem": False,
        "note": "已签收",
    }
    body = await api(RESOLVE, {"id": rid}, token=tokens.officer)
    assert body["data"]["resolveReminder"]["errors"] == [
        {"field": "id", "code": "INVALID_TRANSITION"}
    ]


async def test_secretary_answers_the_reminders_of_their_branch(
    api: Api, tokens: Tokens, some_reminders: Reminders
) -> None:
    for reminder in (some_reminders.meigui_branch, some_reminders.meigui_colleague):
        body = await api(RESOLVE, {"id": gid(reminder)}, token=tokens.secretary)
        assert body["data"]["resolveReminder"]["__typename"] == "ReminderPayload"


@pytest.mark.parametrize(
    ("role", "target", "expected"),
    [
        ("officer", "meigui_branch", "NOT_RECIPIENT"),
        ("officer", "meigui_colleague", "NOT_FOUND"),  # outside the officer's audience
        ("officer", "yushan_branch", "NOT_FOUND"),
        ("secretary", "yushan_branch", "NOT_FOUND"),
        ("inspector", "meigui_branch", "FORBIDDEN"),
    ],
)
async def test_answering_someone_elses_reminder_is_refused_and_writes_nothing(
    api: Api,
    tokens: Tokens,
    some_reminders: Reminders,
    sessionmaker: Sessionmaker,
    role: str,
    target: str,
    expected: str,
) -> None:
    reminder: Reminder = getattr(some_reminders, target)

    body = await api(ACK, {"id": gid(reminder)}, token=getattr(tokens, role), expect_errors=True)

    if expected == "FORBIDDEN":
        assert error_code(body) == "FORBIDDEN"
    else:
        assert body["data"]["acknowledgeReminder"]["errors"] == [{"field": "id", "code": expected}]
    async with sessionmaker() as db:
        row = await db.get(Reminder, reminder.id)
        assert row is not None and row.status is ReminderStatus.OPEN and row.updated_at == 1


async def test_reminder_id_of_another_type_is_a_typed_error(
    api: Api, tokens: Tokens, world: World
) -> None:
    body = await api(ACK, {"id": gid(world.meigui)}, token=tokens.admin)

    assert body["data"]["acknowledgeReminder"]["errors"] == [{"field": "id", "code": "INVALID"}]


# --- spot checks ----------------------------------------------------------------------------------

CREATE_CHECK = """mutation($input: CreateSpotCheckInput!) { createSpotCheck(input: $input) {
  __typename
  ... on SpotCheckPayload { spotCheck { id period branch { name }
        findings { id text deadline status statusLabel } } }
  ... on InvalidInput { errors { field code } }
} }"""
RECTIFY = """mutation($id: ID!, $text: String!) { rectifyFinding(id: $id, rectification: $text) {
  __typename
  ... on FindingPayload { finding { status rectifiedOnTime } }
  ... on InvalidInput { errors { field code } }
} }"""
CLOSE = """mutation($id: ID!) { closeFinding(id: $id) {
  __typename
  ... on FindingPayload { finding { status closedAt } }
  ... on InvalidInput { errors { field code } }
} }"""


def check_input(world: World, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "branchId": gid(world.meigui),
        "checkedOn": "2026-11-27",
        "period": "2026-q4",
        "summary": "台账基本齐全,个别记录不规范",
        "findings": [
            {"text": "10月支委会记录缺签到", "deadline": "2026-12-10"},
            {"text": "党费收缴台账未附凭证", "deadline": "2026-12-15"},
        ],
    }
    values.update(overrides)
    return {"input": values}


async def test_inspector_records_a_check_the_branch_rectifies_and_the_inspector_closes(
    api: Api, tokens: Tokens, world: World, clock: FrozenClock, sessionmaker: Sessionmaker
) -> None:
    body = await api(CREATE_CHECK, check_input(world), token=tokens.inspector)
    check = body["data"]["createSpotCheck"]["spotCheck"]
    assert check["period"] == "2026-Q4" and check["branch"]["name"] == "玫瑰派出所党支部"
    first, second = check["findings"]
    assert (first["status"], first["statusLabel"]) == ("OPEN", "待整改")

    closing_early = await api(CLOSE, {"id": first["id"]}, token=tokens.inspector)
    assert closing_early["data"]["closeFinding"]["errors"] == [
        {"field": "id", "code": "INVALID_TRANSITION"}
    ]

    rectified = await api(RECTIFY, {"id": first["id"], "text": "已补签"}, token=tokens.secretary)
    assert rectified["data"]["rectifyFinding"]["finding"] == {
        "status": "RECTIFIED",
        "rectifiedOnTime": True,
    }
    twice = await api(RECTIFY, {"id": first["id"], "text": "再补"}, token=tokens.secretary)
    assert twice["data"]["rectifyFinding"]["errors"] == [
        {"field": "id", "code": "INVALID_TRANSITION"}
    ]

    clock.advance(days=30)  # past the second finding's deadline (tokens expire: new ones)
    secretary = (await start_session(sessionmaker, clock, world.secretary))[1]
    inspector = (await start_session(sessionmaker, clock, world.inspector))[1]
    late = await api(RECTIFY, {"id": second["id"], "text": "已补凭证"}, token=secretary)
    assert late["data"]["rectifyFinding"]["finding"]["rectifiedOnTime"] is False

    closed = await api(CLOSE, {"id": first["id"]}, token=inspector)
    assert closed["data"]["closeFinding"]["finding"]["status"] == "CLOSED"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"period": "2026-13"}, [{"field": "period", "code": "INVALID_PERIOD"}]),
        ({"checkedOn": "2026-11-29"}, [{"field": "checkedOn", "code": "IN_FUTURE"}]),
        ({"period": "2026-12"}, [{"field": "period", "code": "IN_FUTURE"}]),
        ({"summary": "  "}, [{"field": "summary", "code": "REQUIRED"}]),
        (
            {"findings": [{"text": "", "deadline": "2026-11-01"}]},
            [
                {"field": "findings.0.text", "code": "REQUIRED"},
                {"field": "findings.0.deadline", "code": "TOO_EARLY"},
            ],
        ),
    ],
    ids=["period", "future", "period-not-begun", "summary", "finding"],
)
async def test_bad_spot_check_is_refused_and_nothing_is_written(
    api: Api,
    tokens: Tokens,
    world: World,
    sessionmaker: Sessionmaker,
    overrides: dict[str, Any],
    expected: list[dict[str, str]],
) -> None:
    body = await api(CREATE_CHECK, check_input(world, **overrides), token=tokens.inspector)

    assert body["data"]["createSpotCheck"]["errors"] == expected
    assert await count(sessionmaker, SpotCheck) == 0
    assert await count(sessionmaker, SpotCheckFinding) == 0


@pytest.mark.parametrize("role", ["secretary", "officer"])
async def test_only_inspectors_and_admins_record_spot_checks(
    api: Api, tokens: Tokens, world: World, sessionmaker: Sessionmaker, role: str
) -> None:
    body = await api(
        CREATE_CHECK, check_input(world), token=getattr(tokens, role), expect_errors=True
    )

    assert error_code(body) == "FORBIDDEN"
    assert await count(sessionmaker, SpotCheck) == 0


async def test_rectifying_is_for_the_branchs_secretary_and_closing_for_inspectors(
    api: Api,
    tokens: Tokens,
    world: World,
    make: Builders,
    sessionmaker: Sessionmaker,
    clock: FrozenClock,
) -> None:
    body = await api(
        CREATE_CHECK, check_input(world, branchId=gid(world.yushan)), token=tokens.admin
    )
    finding = body["data"]["createSpotCheck"]["spotCheck"]["findings"][0]["id"]

    # 玫瑰's secretary does not even see 榆山's findings; officers and inspectors do not rectify.
    body = await api(RECTIFY, {"id": finding, "text": "x"}, token=tokens.secretary)
    assert body["data"]["rectifyFinding"]["errors"] == [{"field": "id", "code": "NOT_FOUND"}]
    for role in ("officer", "inspector"):
        body = await api(
            RECTIFY, {"id": finding, "text": "x"}, token=getattr(tokens, role), expect_errors=True
        )
        assert error_code(body) == "FORBIDDEN", role
    await api(RECTIFY, {"id": finding, "text": "已整改"}, token=tokens.admin)
    body = await api(CLOSE, {"id": finding}, token=tokens.secretary, expect_errors=True)
    assert error_code(body) == "FORBIDDEN"
    async with sessionmaker() as db:
        statuses = set(await db.scalars(select(SpotCheckFinding.status)))
    assert {s.value for s in statuses} == {"open", "rectified"}


SPOT_CHECKS = """query($open: Boolean) { spotChecks(openFindings: $open) {
  totalCount nodes { period branch { name } findings { text status branch { name } } }
} }"""


async def test_spot_checks_are_read_within_scope(api: Api, tokens: Tokens, world: World) -> None:
    await api(CREATE_CHECK, check_input(world), token=tokens.inspector)
    await api(CREATE_CHECK, check_input(world, branchId=gid(world.yushan)), token=tokens.inspector)

    seen = {}
    for role in ("admin", "inspector", "secretary", "officer"):
        body = await api(SPOT_CHECKS, token=getattr(tokens, role))
        seen[role] = body["data"]["spotChecks"]["totalCount"]

    assert seen == {"admin": 2, "inspector": 2, "secretary": 1, "officer": 1}
    body = await api(SPOT_CHECKS, {"open": False}, token=tokens.admin)
    assert body["data"]["spotChecks"]["totalCount"] == 0


# --- bulletins ------------------------------------------------------------------------------------

PUBLISH = """mutation($input: PublishBulletinInput!) { publishBulletin(input: $input) {
  __typename
  ... on BulletinPayload { bulletin { id title kind kindLabel branches { name } } }
  ... on InvalidInput { errors { field code } }
} }"""
BULLETINS = """query($unread: Boolean) { bulletins(unread: $unread) {
  totalCount nodes { title kindLabel readAt readCount branches { name } }
} }"""
MARK_READ = """mutation($id: ID!) { markBulletinRead(id: $id) {
  __typename ... on BulletinPayload { bulletin { readAt readCount } }
  ... on InvalidInput { errors { field code } }
} }"""


def bulletin_input(*branches: Branch, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "title": "关于表扬玫瑰派出所的通报",
        "content": "……",
        "kind": "COMMENDATION",
        "branchIds": [gid(b) for b in branches],
    }
    values.update(overrides)
    return {"input": values}


async def test_bulletins_reach_their_branches_and_keep_read_receipts(
    api: Api, tokens: Tokens, world: World, clock: FrozenClock
) -> None:
    body = await api(PUBLISH, bulletin_input(world.meigui), token=tokens.admin)
    bulletin = body["data"]["publishBulletin"]["bulletin"]
    assert (bulletin["kindLabel"], bulletin["branches"]) == ("表扬", [{"name": "玫瑰派出所党支部"}])
    clock.advance(minutes=1)  # newest first
    await api(
        PUBLISH,
        bulletin_input(world.yushan, kind="CRITICISM", title="关于榆山的通报"),
        token=tokens.admin,
    )

    seen = {}
    for role in ("admin", "inspector", "secretary", "officer"):
        body = await api(BULLETINS, token=getattr(tokens, role))
        seen[role] = [n["title"] for n in body["data"]["bulletins"]["nodes"]]
    assert seen["admin"] == seen["inspector"] == ["关于榆山的通报", "关于表扬玫瑰派出所的通报"]
    assert seen["secretary"] == seen["officer"] == ["关于表扬玫瑰派出所的通报"]

    read = await api(MARK_READ, {"id": bulletin["id"]}, token=tokens.officer)
    clock.advance(minutes=5)
    await api(MARK_READ, {"id": bulletin["id"]}, token=tokens.officer)  # the first reading stays
    await api(MARK_READ, {"id": bulletin["id"]}, token=tokens.secretary)
    assert read["data"]["markBulletinRead"]["bulletin"] == {
        "readAt": "2026-11-28T16:01:00+08:00",
        "readCount": 1,
    }
    body = await api(BULLETINS, {"unread": True}, token=tokens.officer)
    assert body["data"]["bulletins"]["totalCount"] == 0
    body = await api(BULLETINS, token=tokens.officer)
    node = body["data"]["bulletins"]["nodes"][0]
    assert (node["readAt"], node["readCount"]) == ("2026-11-28T16:01:00+08:00", 2)


async def test_an_unreadable_bulletin_cannot_be_marked_read(
    api: Api, tokens: Tokens, world: World, sessionmaker: Sessionmaker
) -> None:
    body = await api(PUBLISH, bulletin_input(world.yushan), token=tokens.admin)
    bulletin_id = body["data"]["publishBulletin"]["bulletin"]["id"]

    body = await api(MARK_READ, {"id": bulletin_id}, token=tokens.officer)

    assert body["data"]["markBulletinRead"]["errors"] == [{"field": "id", "code": "NOT_FOUND"}]
    assert await count(sessionmaker, BulletinRead) == 0


async def test_committee_secretaries_publish_within_their_subtree_branch_secretaries_not_at_all(
    api: Api,
    tokens: Tokens,
    world: World,
    make: Builders,
    sessionmaker: Sessionmaker,
    clock: FrozenClock,
) -> None:
    organ_secretary = await make.account(Role.SECRETARY, branch_id=world.organ.id)
    _, organ_token = await start_session(sessionmaker, clock, organ_secretary)

    body = await api(PUBLISH, bulletin_input(world.meigui, world.yushan), token=organ_token)
    assert body["data"]["publishBulletin"]["__typename"] == "BulletinPayload"
    body = await api(PUBLISH, bulletin_input(world.committee), token=organ_token)
    assert body["data"]["publishBulletin"]["errors"] == [
        {"field": "branchIds", "code": "OUT_OF_SCOPE"}
    ]
    for role in ("secretary", "officer", "inspector"):
        body = await api(
            PUBLISH, bulletin_input(world.meigui), token=getattr(tokens, role), expect_errors=True
        )
        assert error_code(body) == "FORBIDDEN", role
    assert await count(sessionmaker, Bulletin) == 1


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"branchIds": []}, [{"field": "branchIds", "code": "REQUIRED"}]),
        ({"title": ""}, [{"field": "title", "code": "REQUIRED"}]),
        (
            {"branchIds": [to_global_id("Branch", uuid.uuid4())]},
            [{"field": "branchIds", "code": "NOT_FOUND"}],
        ),
    ],
    ids=["no-branches", "no-title", "unknown-branch"],
)
async def test_bad_bulletin_is_refused_and_nothing_is_written(
    api: Api,
    tokens: Tokens,
    world: World,
    sessionmaker: Sessionmaker,
    overrides: dict[str, Any],
    expected: list[dict[str, str]],
) -> None:
    body = await api(PUBLISH, bulletin_input(world.meigui, **overrides), token=tokens.admin)

    assert body["data"]["publishBulletin"]["errors"] == expected
    assert await count(sessionmaker, Bulletin) == 0


# --- statement counts -----------------------------------------------------------------------------

REMINDER_LIST = """{ reminders(first: 100) { totalCount nodes {
  title kindLabel branch { name } member { name } subjectMember { name } ledgerItem { code }
} } }"""
CHECK_LIST = """{ spotChecks(first: 100) { totalCount nodes {
  period branch { name } findings { text branch { name } }
} } }"""
BULLETIN_LIST = """{ bulletins(first: 100) { totalCount nodes {
  title branches { name } readAt readCount
} } }"""


async def statements(api: Api, app: Any, query: str, token: str) -> int:
    with counting(app) as seen:
        await api(query, token=token)
    return len(seen)


async def test_supervision_lists_statement_count_does_not_grow_with_data(
    api: Api,
    app: Any,
    tokens: Tokens,
    world: World,
    make: Builders,
    sessionmaker: Sessionmaker,
    clock: FrozenClock,
) -> None:
    item = LedgerItem(
        id=uuid.uuid4(),
        code="L02",
        name="支部委员会会议",
        frequency=LedgerFrequency.MONTHLY,
        required=True,
        sort_order=2,
        active=True,
        created_at=clock(),
        updated_at=clock(),
    )
    async with writing(sessionmaker) as db:
        db.add(item)

    async def grow(n: int) -> None:
        for _ in range(n):
            branch = await make.branch(
                world.organ, BranchKind.BRANCH, name=f"扩展{uuid.uuid4().hex[:6]}"
            )
            member = await make.member(branch)
            await add_reminder(sessionmaker, clock, branch, member, item=item)
            await api(CREATE_CHECK, check_input(world, branchId=gid(branch)), token=tokens.admin)
            await api(PUBLISH, bulletin_input(branch, world.meigui), token=tokens.admin)

    await grow(1)
    small = [
        await statements(api, app, q, tokens.admin)
        for q in (REMINDER_LIST, CHECK_LIST, BULLETIN_LIST)
    ]
    await grow(8)
    large = [
        await statements(api, app, q, tokens.admin)
        for q in (REMINDER_LIST, CHECK_LIST, BULLETIN_LIST)
    ]

    assert small == large
    assert large[0] <= 8 and large[1] <= 6 and large[2] <= 6


# --- offline: the Reminder collection (pull-only) -------------------------------------------------

PULL = """query($checkpoint: ReminderInputCheckpoint) {
  pullReminder(checkpoint: $checkpoint, limit: 100) {
    documents { id kind kindLabel title branchId memberId dueOn status statusLabel
                acknowledgedAt updatedAt deleted }
    checkpoint { id updatedAt }
  }
}"""


async def test_phones_pull_their_own_and_their_branchs_reminders_and_see_them_answered(
    api: Api, tokens: Tokens, some_reminders: Reminders, world: World
) -> None:
    first = (await api(PULL, token=tokens.officer))["data"]["pullReminder"]
    documents = {d["id"]: d for d in first["documents"]}
    own = documents[some_reminders.officer_own.id]

    # Not the colleague's (meigui_colleague): see tests/access/test_audience.py.
    assert set(documents) == {some_reminders.officer_own.id, some_reminders.meigui_branch.id}
    assert own["kind"] == "directive_unsigned" and own["kindLabel"] == "指令未签收"
    assert (own["dueOn"], own["status"], own["deleted"]) == ("2026-12-05", "open", False)
    assert own["memberId"] == gid(world.officer_member)
    assert own["branchId"] == gid(world.meigui)
    checkpoint = first["checkpoint"]
    again = (await api(PULL, {"checkpoint": checkpoint}, token=tokens.officer))["data"]
    assert again["pullReminder"]["documents"] == []

    await api(ACK, {"id": gid(some_reminders.officer_own)}, token=tokens.officer)

    after = (await api(PULL, {"checkpoint": checkpoint}, token=tokens.officer))["data"]
    [changed] = after["pullReminder"]["documents"]
    assert (changed["id"], changed["status"]) == (some_reminders.officer_own.id, "acknowledged")
    assert changed["acknowledgedAt"] == "2026-11-28T08:00:00+00:00"
    assert changed["updatedAt"] > checkpoint["updatedAt"]


async def test_generated_reminders_reach_phones_after_their_checkpoint(
    api: Api, tokens: Tokens, sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    start = (await api(PULL, token=tokens.officer))["data"]["pullReminder"]
    async with writing(sessionmaker) as db:
        db.add(
            LedgerItem(
                id=uuid.uuid4(),
                code="L02",
                name="支部委员会会议",
                frequency=LedgerFrequency.MONTHLY,
                required=True,
                sort_order=2,
                active=True,
                created_at=clock(),
                updated_at=clock(),
            )
        )
    async with writing(sessionmaker) as db:
        await generate_reminders(db, clock())

    body = await api(PULL, {"checkpoint": start["checkpoint"]}, token=tokens.officer)

    documents = body["data"]["pullReminder"]["documents"]
    # 玫瑰's only, not 榆山's: November due soon, January-October overdue.
    assert sorted(d["kind"] for d in documents) == ["ledger_due"] + ["ledger_overdue"] * 10


def test_reminders_are_pull_only_for_phones() -> None:
    from schema import sdl

    text = sdl()
    assert "pullReminder(" in text and "streamReminder(" in text
    assert "pushReminder" not in text


# --- who carried out a check; findings remind the secretary (issue 12 item 12) ------------------

CHECK_BY = """mutation($input: CreateSpotCheckInput!) { createSpotCheck(input: $input) {
  ... on SpotCheckPayload { spotCheck { carriedOutBy findings { id } } }
} }"""


async def test_a_spot_check_records_who_carried_it_out(
    api: Api, tokens: Tokens, world: World
) -> None:
    named = await api(
        CHECK_BY, check_input(world, carriedOutBy="张督导、李督导"), token=tokens.inspector
    )
    by_default = await api(CHECK_BY, check_input(world), token=tokens.inspector)

    assert named["data"]["createSpotCheck"]["spotCheck"]["carriedOutBy"] == "张督导、李督导"
    assert by_default["data"]["createSpotCheck"]["spotCheck"]["carriedOutBy"] == "inspector"
    listed = await api("{ spotChecks { nodes { carriedOutBy } } }", token=tokens.secretary)
    assert sorted(n["carriedOutBy"] for n in listed["data"]["spotChecks"]["nodes"]) == [
        "inspector",
        "张督导、李督导",
    ]


async def test_a_finding_near_its_deadline_reminds_the_branch_secretary_until_rectified(
    api: Api, tokens: Tokens, world: World, clock: FrozenClock, sessionmaker: Sessionmaker
) -> None:
    # Checked 27 November: one finding due 3 December (within the 7 lead days of the 28th),
    # one due 31 December (not yet).
    body = await api(
        CHECK_BY,
        check_input(
            world,
            findings=[
                {"text": "10月支委会记录缺签到", "deadline": "2026-12-03"},
                {"text": "党费收缴台账未附凭证", "deadline": "2026-12-31"},
            ],
        ),
        token=tokens.inspector,
    )
    near = body["data"]["createSpotCheck"]["spotCheck"]["findings"][0]["id"]
    async with writing(sessionmaker) as db:
        await generate_reminders(db, clock())

    mine = await api(
        """{ myReminders { nodes { kind kindLabel title dueOn member { name }
                                   branch { name } spotCheckFindingId
                                   spotCheckFinding { id text } } } }""",
        token=tokens.secretary,
    )
    assert mine["data"]["myReminders"]["nodes"] == [
        {
            "kind": "FINDING_DEADLINE",
            "kindLabel": "抽查问题整改",
            "title": "抽查(2026-Q4)发现的问题“10月支委会记录缺签到”须于 2026-12-03 前整改",
            "dueOn": "2026-12-03",
            "member": None,
            "branch": {"name": "玫瑰派出所党支部"},
            "spotCheckFindingId": near,
            "spotCheckFinding": {"id": near, "text": "10月支委会记录缺签到"},
        }
    ]
    officer = await api("{ myReminders { totalCount } }", token=tokens.officer)
    assert officer["data"]["myReminders"]["totalCount"] == 0

    # Rectified: the next run resolves it as fulfilled, and raises nothing new.
    await api(RECTIFY, {"id": near, "text": "已补签到表"}, token=tokens.secretary)
    async with writing(sessionmaker) as db:
        result = await generate_reminders(db, clock())
    assert result.resolved == {ReminderKind.FINDING_DEADLINE: 1}
    assert result.total_created == 0
