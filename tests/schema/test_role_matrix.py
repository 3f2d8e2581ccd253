"""Who may do what: every role against every operation, and masking of personal data.

Refused operations must leave the database exactly as it was.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from access.viewer import mask_id_number, mask_phone
from core.clock import FrozenClock
from core.db import Sessionmaker, writing
from core.security import issue_access_token
from core.settings import DEV_SECRET_KEY
from models import Account, Base, Branch, DeviceSession, Member, PartyStatus, Role
from schema.node import to_global_id
from tests.conftest import Api, Builders, World, prepared

ROLES = ("admin", "secretary", "inspector", "officer", "anonymous")
OK, NULL, FORBIDDEN, UNAUTHENTICATED = "ok", "null", "FORBIDDEN", "UNAUTHENTICATED"
# The lifetime of the access tokens start_session issues.
TOKEN_LIFETIME = timedelta(minutes=15)


@dataclass
class Scene:
    """The small county of `world`, plus a member in 玫瑰's group, an applicant in 玫瑰, and a
    live session of another account (榆山's officer)."""

    world: World
    group_member: Member
    applicant: Member
    other_session: DeviceSession

    def gid(self, row: Branch | Member | DeviceSession) -> str:
        return to_global_id(type(row).__name__, row.id)


@pytest.fixture
async def scene(
    world: World,
    make: Builders,
    sessionmaker: Sessionmaker,
    clock: FrozenClock,
    backend: str,
    db_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Scene:
    """The world and the rows below, built once per process and backend (`prepared`)."""

    async def build() -> Scene:
        return await _scene(world, make, sessionmaker, clock)

    return await prepared("role-matrix", backend, db_url, build, tmp_path_factory.getbasetemp())


async def _scene(
    world: World, make: Builders, sessionmaker: Sessionmaker, clock: FrozenClock
) -> Scene:
    async with make.batch():
        group_member = await make.member(world.meigui_group, name="孙组员", phone="13900000005")
        applicant = await make.member(
            world.meigui,
            name="周申请",
            phone="13900000006",
            party_status=PartyStatus.APPLICANT,
            party_status_since=date(2024, 3, 1),
            joined_party_on=None,
        )
        other = await make.account(
            Role.OFFICER, username="officer.yushan", member_id=world.yushan_member.id
        )
    other_session, _ = await start_session(sessionmaker, clock, other)
    return Scene(world, group_member, applicant, other_session)


async def start_session(
    sessionmaker: Sessionmaker, clock: FrozenClock, account: Account
) -> tuple[DeviceSession, str]:
    """A live device session and its access token, without the cost of argon2 (login has its
    own tests); the token still goes through the real request authentication."""
    now = clock()
    session = DeviceSession(
        id=uuid.uuid4(),
        account_id=account.id,
        device_id="phone",
        device_name=None,
        refresh_hash="0" * 64,
        previous_refresh_hash=None,
        rotated_at=now,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(days=30),
        revoked_at=None,
    )
    async with writing(sessionmaker) as db:
        db.add(session)
    token, _ = issue_access_token(
        DEV_SECRET_KEY, account.id, session.id, account.role.value, now, TOKEN_LIFETIME
    )
    return session, token


async def token_of(
    role: str, scene: Scene, sessionmaker: Sessionmaker, clock: FrozenClock
) -> str | None:
    if role == "anonymous":
        return None
    account: Account = getattr(scene.world, role)
    return (await start_session(sessionmaker, clock, account))[1]


@dataclass(frozen=True)
class Operation:
    query: str
    variables: Callable[[Scene], dict[str, Any]]
    # The root field of the answer, and for mutations the __typename of success.
    field: str
    payload: str | None = None
    expected: dict[str, str] | None = None


def _mutation(field: str, input_type: str, payload: str, selection: str) -> str:
    return f"""mutation($input: {input_type}!) {{
      {field}(input: $input) {{
        __typename
        ... on {payload} {{ {selection} }}
        ... on InvalidInput {{ errors {{ field code message }} }}
      }}
    }}"""


WRITERS = {"admin": OK, "secretary": OK, "inspector": FORBIDDEN, "officer": FORBIDDEN}
ADMIN_ONLY = {"admin": OK, "secretary": FORBIDDEN, "inspector": FORBIDDEN, "officer": FORBIDDEN}
READERS = {"admin": OK, "secretary": OK, "inspector": OK, "officer": OK}

OPERATIONS: dict[str, Operation] = {
    "read me": Operation("{ me { account { username } } }", lambda s: {}, "me", None, READERS),
    "read branches": Operation(
        "{ branches(first: 50) { totalCount edges { node { name } } } }",
        lambda s: {},
        "branches",
        None,
        READERS,
    ),
    "read members": Operation(
        "{ members(first: 50) { totalCount edges { node { name } } } }",
        lambda s: {},
        "members",
        None,
        READERS,
    ),
    "read a member of own branch": Operation(
        "query($id: ID!) { member(id: $id) { name } }",
        lambda s: {"id": s.gid(s.world.meigui_member)},
        "member",
        None,
        READERS,
    ),
    "read a member of another branch": Operation(
        "query($id: ID!) { member(id: $id) { name } }",
        lambda s: {"id": s.gid(s.world.yushan_member)},
        "member",
        None,
        {"admin": OK, "secretary": NULL, "inspector": OK, "officer": NULL},
    ),
    "read a member of another branch as a node": Operation(
        "query($id: ID!) { node(id: $id) { ... on Member { name } } }",
        lambda s: {"id": s.gid(s.world.yushan_member)},
        "node",
        None,
        {"admin": OK, "secretary": NULL, "inspector": OK, "officer": NULL},
    ),
    "createBranch group under own branch": Operation(
        _mutation("createBranch", "CreateBranchInput", "BranchPayload", "branch { name }"),
        lambda s: {
            "input": {"parentId": s.gid(s.world.meigui), "kind": "GROUP", "name": "玫瑰第二党小组"}
        },
        "createBranch",
        "BranchPayload",
        WRITERS,
    ),
    "createBranch under another branch": Operation(
        _mutation("createBranch", "CreateBranchInput", "BranchPayload", "branch { name }"),
        lambda s: {
            "input": {"parentId": s.gid(s.world.yushan), "kind": "GROUP", "name": "榆山第一党小组"}
        },
        "createBranch",
        "BranchPayload",
        ADMIN_ONLY,
    ),
    "createMember in own branch": Operation(
        _mutation("createMember", "CreateMemberInput", "MemberPayload", "member { name }"),
        lambda s: {"input": {"branchId": s.gid(s.world.meigui), "name": "新党员"}},
        "createMember",
        "MemberPayload",
        WRITERS,
    ),
    "createMember in another branch": Operation(
        _mutation("createMember", "CreateMemberInput", "MemberPayload", "member { name }"),
        lambda s: {"input": {"branchId": s.gid(s.world.yushan), "name": "新党员"}},
        "createMember",
        "MemberPayload",
        ADMIN_ONLY,
    ),
    "updateMember in own branch": Operation(
        _mutation("updateMember", "UpdateMemberInput", "MemberPayload", "member { phone }"),
        lambda s: {"input": {"id": s.gid(s.world.meigui_member), "phone": "13700000003"}},
        "updateMember",
        "MemberPayload",
        WRITERS,
    ),
    "updateMember of own record": Operation(
        _mutation("updateMember", "UpdateMemberInput", "MemberPayload", "member { phone }"),
        lambda s: {"input": {"id": s.gid(s.world.officer_member), "phone": "13700000002"}},
        "updateMember",
        "MemberPayload",
        WRITERS,
    ),
    "updateMember in another branch": Operation(
        _mutation("updateMember", "UpdateMemberInput", "MemberPayload", "member { phone }"),
        lambda s: {"input": {"id": s.gid(s.world.yushan_member), "phone": "13700000004"}},
        "updateMember",
        "MemberPayload",
        ADMIN_ONLY,
    ),
    "transferMember within own subtree": Operation(
        _mutation("transferMember", "TransferMemberInput", "MemberPayload", "member { name }"),
        lambda s: {
            "input": {
                "memberId": s.gid(s.world.meigui_member),
                "toBranchId": s.gid(s.world.meigui_group),
            }
        },
        "transferMember",
        "MemberPayload",
        WRITERS,
    ),
    "transferMember out of own subtree": Operation(
        _mutation("transferMember", "TransferMemberInput", "MemberPayload", "member { name }"),
        lambda s: {
            "input": {
                "memberId": s.gid(s.world.meigui_member),
                "toBranchId": s.gid(s.world.yushan),
            }
        },
        "transferMember",
        "MemberPayload",
        ADMIN_ONLY,
    ),
    "advancePartyStatus": Operation(
        _mutation(
            "advancePartyStatus",
            "AdvancePartyStatusInput",
            "MemberPayload",
            "member { partyStatus }",
        ),
        lambda s: {"input": {"memberId": s.gid(s.applicant), "toStatus": "ACTIVIST"}},
        "advancePartyStatus",
        "MemberPayload",
        WRITERS,
    ),
    "addHonour": Operation(
        _mutation("addHonour", "AddHonourInput", "HonourPayload", "honour { title }"),
        lambda s: {
            "input": {
                "branchId": s.gid(s.world.meigui),
                "title": "全市标杆派出所",
                "level": "CITY",
                "awardedOn": "2026-01-15",
            }
        },
        "addHonour",
        "HonourPayload",
        ADMIN_ONLY,
    ),
    "createAccount": Operation(
        _mutation("createAccount", "CreateAccountInput", "AccountPayload", "account { username }"),
        lambda s: {
            "input": {
                "username": "inspector.two",
                "password": "a-long-password",
                "role": "INSPECTOR",
            }
        },
        "createAccount",
        "AccountPayload",
        ADMIN_ONLY,
    ),
    "revokeSession of someone else": Operation(
        """mutation($id: ID!) {
             revokeSession(sessionId: $id) {
               __typename
               ... on SessionPayload { session { deviceId } }
               ... on InvalidInput { errors { field code message } }
             }
           }""",
        lambda s: {"id": s.gid(s.other_session)},
        "revokeSession",
        "SessionPayload",
        ADMIN_ONLY,
    ),
}

ALL_MEMBERS = {"王书记", "李民警", "张党员", "赵党员", "孙组员", "周申请"}
# Secretary: the whole 玫瑰 subtree (its group too); officer: the home branch only.
VISIBLE_MEMBERS = {
    "admin": ALL_MEMBERS,
    "inspector": ALL_MEMBERS,
    "secretary": ALL_MEMBERS - {"赵党员"},
    "officer": ALL_MEMBERS - {"赵党员", "孙组员"},
}

CASES = [pytest.param(role, name, id=f"{role}-{name}") for name in OPERATIONS for role in ROLES]


async def snapshot(sessionmaker: Sessionmaker) -> dict[str, list[Any]]:
    """Every row of every table, in key order, read in one statement (`_snapshot_sql`)."""
    async with sessionmaker() as db:
        dialect = db.get_bind().dialect.name
        rows = (await db.execute(text(_snapshot_sql(dialect)))).all()
    return {name: json.loads(table_rows) for name, table_rows in rows}


@functools.cache
def _snapshot_sql(dialect: str) -> str:
    """One row per table: its name and its rows as a JSON array in primary-key order. One round
    trip instead of one per table, since the matrix takes two snapshots in every case."""
    parts = []
    for table in Base.metadata.sorted_tables:
        order = ", ".join(f'"{c.name}"' for c in table.primary_key.columns)
        if dialect == "postgresql":
            rows = (
                f"SELECT coalesce(json_agg(r ORDER BY {order})::text, '[]') FROM \"{table.name}\" r"
            )
        else:
            columns = ", ".join(f'"{c.name}"' for c in table.columns)
            rows = (
                f"SELECT json_group_array(json_array({columns})) "
                f'FROM (SELECT * FROM "{table.name}" ORDER BY {order})'
            )
        parts.append(f"SELECT '{table.name}', ({rows})")
    return " UNION ALL ".join(parts)


def expected_outcome(role: str, operation: Operation) -> str:
    if role == "anonymous":
        return UNAUTHENTICATED
    assert operation.expected is not None
    return operation.expected[role]


@pytest.mark.parametrize(("role", "name"), CASES)
async def test_role_operation_matrix(
    api: Api, scene: Scene, sessionmaker: Sessionmaker, clock: FrozenClock, role: str, name: str
) -> None:
    operation = OPERATIONS[name]
    expected = expected_outcome(role, operation)
    token = await token_of(role, scene, sessionmaker, clock)
    before = await snapshot(sessionmaker)

    body = await api(operation.query, operation.variables(scene), token=token, expect_errors=True)

    if expected in (FORBIDDEN, UNAUTHENTICATED):
        assert (body.get("data") or {}).get(operation.field) is None, body
        assert [e["extensions"]["code"] for e in body["errors"]] == [expected], body
        assert body["errors"][0]["message"]
        assert await snapshot(sessionmaker) == before, "a refused operation wrote something"
        return
    assert "errors" not in body, body
    answer = body["data"][operation.field]
    if expected == NULL:
        assert answer is None, body
    elif operation.payload is not None:
        assert answer["__typename"] == operation.payload, body
    else:
        assert answer is not None, body
    if operation.payload is None:
        assert await snapshot(sessionmaker) == before, "a read wrote something"
    else:
        assert await snapshot(sessionmaker) != before, "a successful write changed nothing"
    if name == "read branches":
        assert answer["totalCount"] == 6
    if name == "read members":
        names = {edge["node"]["name"] for edge in answer["edges"]}
        assert names == VISIBLE_MEMBERS[role]
        assert answer["totalCount"] == len(names)


async def test_a_snapshot_sees_a_change_in_any_column_and_nothing_else(
    world: World, sessionmaker: Sessionmaker
) -> None:
    """The matrix's "nothing was written" rests on `snapshot`: it must notice a change to one
    column of one row, and see the database as it was once the change is undone."""
    before = await snapshot(sessionmaker)
    assert set(before) == {t.name for t in Base.metadata.sorted_tables}
    assert before["member"] and before["branch"]

    async def set_phone(phone: str | None) -> None:
        async with writing(sessionmaker) as db:
            member = await db.get(Member, world.meigui_member.id)
            assert member is not None
            member.phone = phone

    await set_phone("13900000099")
    changed = await snapshot(sessionmaker)
    assert {t for t in before if before[t] != changed[t]} == {"member", "data_version"}
    await set_phone(world.meigui_member.phone)
    after = await snapshot(sessionmaker)
    assert after["member"] == before["member"]


def test_the_matrix_covers_every_role_and_operation() -> None:
    for operation in OPERATIONS.values():
        assert operation.expected is not None
        assert set(operation.expected) == set(ROLES) - {"anonymous"}


# Personal data


def id_number(birthday: str, sequence: str) -> str:
    """A valid 18-character resident ID number (GB 11643 check character)."""
    body = f"370124{birthday}{sequence}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(body, weights, strict=True))
    return body + "10X98765432"[total % 11]


MEMBER_FIELDS = "name phone idNumber birthday retiredOn"
Personal = tuple[str | None, ...]  # (phone, idNumber, birthday, retiredOn)


async def personal_data_seen(api: Api, scene: Scene, token: str) -> dict[str, set[Personal]]:
    """(phone, idNumber, birthday, retiredOn) of each member, from every field that returns
    members."""
    seen: dict[str, set[Personal]] = {}

    def add(member: dict[str, Any] | None) -> None:
        if member:
            personal = tuple(member[f] for f in ("phone", "idNumber", "birthday", "retiredOn"))
            seen.setdefault(member["name"], set()).add(personal)

    world = scene.world
    members = [
        world.secretary_member,
        world.officer_member,
        world.meigui_member,
        world.yushan_member,
        scene.group_member,
        scene.applicant,
    ]
    declarations = ", ".join(f"$id{i}: ID!" for i in range(len(members)))
    by_id = " ".join(
        f"m{i}: member(id: $id{i}) {{ {MEMBER_FIELDS} }} "
        f"n{i}: node(id: $id{i}) {{ ... on Member {{ {MEMBER_FIELDS} }} }}"
        for i in range(len(members))
    )
    body = await api(
        f"""query({declarations}) {{
              members(first: 50) {{ edges {{ node {{ {MEMBER_FIELDS} }} }} }}
              me {{ member {{ {MEMBER_FIELDS} }} }}
              branches(first: 50) {{ edges {{ node {{ members {{ {MEMBER_FIELDS} }} }} }} }}
              {by_id}
            }}""",
        {f"id{i}": scene.gid(m) for i, m in enumerate(members)},
        token=token,
    )
    data = body["data"]
    for edge in data["members"]["edges"]:
        add(edge["node"])
    add(data["me"]["member"])
    for edge in data["branches"]["edges"]:
        for member in edge["node"]["members"]:
            add(member)
    for i in range(len(members)):
        add(data[f"m{i}"])
        add(data[f"n{i}"])
    return seen


async def test_personal_data_is_masked_for_roles_that_need_not_see_it(
    api: Api, scene: Scene, sessionmaker: Sessionmaker, clock: FrozenClock
) -> None:
    world = scene.world
    numbers = {
        world.secretary_member.id: "370124198001010013",
        world.officer_member.id: id_number("19850315", "002"),
        world.meigui_member.id: id_number("19900620", "003"),
        world.yushan_member.id: id_number("19781111", "004"),
        scene.group_member.id: id_number("19950101", "005"),
        scene.applicant.id: id_number("20000229", "006"),
    }
    async with writing(sessionmaker) as db:
        for member_id, number in numbers.items():
            member = await db.get(Member, member_id)
            assert member is not None
            member.id_number = number
            member.birthday = date.fromisoformat(f"{number[6:10]}-{number[10:12]}-{number[12:14]}")
            if member_id == world.yushan_member.id:
                member.retired_on = date(2038, 11, 11)
    full: dict[str, Personal] = {}
    async with sessionmaker() as db:
        for row in (await db.scalars(select(Member))).all():
            assert row.phone is not None and row.id_number is not None and row.birthday
            retired = row.retired_on.isoformat() if row.retired_on else None
            full[row.name] = (row.phone, row.id_number, row.birthday.isoformat(), retired)
    masked: dict[str, Personal] = {
        name: (mask_phone(phone), mask_id_number(number), None, None)
        for name, (phone, number, _, _) in full.items()
    }
    assert masked["张党员"][0] == "139****0003"
    assert masked["王书记"][1] == "370124****0101****"
    assert full["赵党员"][3] == "2038-11-11"

    sees_all = {name: full[name] for name in VISIBLE_MEMBERS["admin"]}
    expected: dict[str, dict[str, Personal]] = {
        # The bureau committee manages everyone.
        "admin": sees_all,
        # A secretary manages the members of their subtree (the only ones they can see).
        "secretary": {name: full[name] for name in VISIBLE_MEMBERS["secretary"]},
        # An inspector reads everything, but personal data only masked.
        "inspector": {name: masked[name] for name in VISIBLE_MEMBERS["inspector"]},
        # An officer sees their own record in full, their colleagues' masked.
        "officer": {
            name: full[name] if name == "李民警" else masked[name]
            for name in VISIBLE_MEMBERS["officer"]
        },
    }
    for role in expected:
        token = await token_of(role, scene, sessionmaker, clock)
        assert token is not None
        seen = await personal_data_seen(api, scene, token)
        assert seen == {name: {value} for name, value in expected[role].items()}, role
