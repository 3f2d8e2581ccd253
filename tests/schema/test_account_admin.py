"""Account administration over GraphQL: the list, disabling, password resets and the forced
change, role changes, sessions, the audit trail, and FORBIDDEN for everyone but admins."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.clock import FrozenClock
from core.settings import Settings
from schema.node import to_global_id
from tests.conftest import TEST_PASSWORD, Api, Builders, World
from tests.schema.test_account import error_of, me, refresh, sign_in, signed_in

LOCK = timedelta(minutes=Settings().login_lock_minutes)

ACCOUNTS = """
query($first: Int, $after: String, $roles: [Role!], $search: String, $disabled: Boolean) {
  accounts(first: $first, after: $after, roles: $roles, search: $search, disabled: $disabled) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      id username role roleLabel lastLoginAt disabled locked lockedUntil
      passwordChangeRequired openSessionCount member { name } branch { name }
    }
  }
}"""
AUDIT = """
query($first: Int, $after: String, $account: ID, $actions: [AccountAction!]) {
  accountAudit(first: $first, after: $after, accountId: $account, actions: $actions) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id at action actionLabel actor { username } account { username } detail }
  }
}"""
RESULT = """
    __typename
    ... on AccountPayload { account { username role disabled passwordChangeRequired locked } }
    ... on InvalidInput { errors { field code } }
"""
DISABLE = f"mutation($id: ID!) {{ disableAccount(accountId: $id) {{ {RESULT} }} }}"
ENABLE = f"mutation($id: ID!) {{ enableAccount(accountId: $id) {{ {RESULT} }} }}"
RESET = f"""mutation($id: ID!, $p: String!) {{
  resetPassword(input: {{accountId: $id, temporaryPassword: $p}}) {{ {RESULT} }}
}}"""
CHANGE_ROLE = f"""mutation($id: ID!, $role: Role!, $branch: ID) {{
  changeRole(input: {{accountId: $id, role: $role, branchId: $branch}}) {{ {RESULT} }}
}}"""
CHANGE_PASSWORD = """
mutation($u: String!, $c: String!, $n: String!) {
  changePassword(input: {username: $u, currentPassword: $c, newPassword: $n, deviceId: "web"}) {
    __typename
    ... on SignInSuccess { accessToken refreshToken account { passwordChangeRequired } }
    ... on AuthError { code field }
    ... on InvalidInput { errors { field code } }
  }
}"""
SESSIONS = "query($id: ID!) { accountSessions(accountId: $id) { id deviceId } }"
REVOKE = """mutation($id: ID!) {
  revokeSession(sessionId: $id) { __typename ... on SessionPayload { session { id } } }
}"""
TEMPORARY = "temporary-2026"


def bureau_time(moment: datetime) -> str:
    """How the web answers a time: in the bureau's time zone (MEIJING_TIMEZONE)."""
    return moment.astimezone(ZoneInfo(Settings().timezone)).isoformat()


def gid(account: Any) -> str:
    return to_global_id("Account", account.id)


async def admin_token(api: Api) -> str:
    return str((await signed_in(api, "admin"))["accessToken"])


async def test_admin_lists_accounts_with_member_last_sign_in_lock_and_open_sessions(
    api: Api, world: World, clock: FrozenClock
) -> None:
    await signed_in(api, "officer.meigui", device="phone")
    await signed_in(api, "officer.meigui", device="desk")
    for _ in range(Settings().login_max_failures):
        await sign_in(api, "inspector", "not-the-password")
    token = await admin_token(api)

    body = await api(ACCOUNTS, token=token)
    listed = {n["username"]: n for n in body["data"]["accounts"]["nodes"]}
    assert body["data"]["accounts"]["totalCount"] == 4
    assert list(listed) == ["admin", "inspector", "officer.meigui", "secretary.meigui"]
    assert listed["officer.meigui"] == {
        "id": gid(world.officer),
        "username": "officer.meigui",
        "role": "OFFICER",
        "roleLabel": "民警",
        "lastLoginAt": bureau_time(clock()),
        "disabled": False,
        "locked": False,
        "lockedUntil": None,
        "passwordChangeRequired": False,
        "openSessionCount": 2,
        "member": {"name": "李民警"},
        "branch": None,
    }
    assert listed["inspector"]["locked"] is True
    assert listed["inspector"]["lockedUntil"] == bureau_time(clock() + LOCK)
    assert listed["inspector"]["lastLoginAt"] is None
    assert listed["secretary.meigui"]["branch"] == {"name": "玫瑰派出所党支部"}
    assert listed["admin"]["openSessionCount"] == 1

    clock.advance(seconds=LOCK.total_seconds())
    body = await api(ACCOUNTS, {"search": "inspector"}, token=await admin_token(api))
    assert [n["locked"] for n in body["data"]["accounts"]["nodes"]] == [False]


async def test_accounts_are_paginated_and_filtered(api: Api, world: World) -> None:
    token = await admin_token(api)
    first = (await api(ACCOUNTS, {"first": 3}, token=token))["data"]["accounts"]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = (await api(ACCOUNTS, {"after": first["pageInfo"]["endCursor"]}, token=token))["data"]
    names = [n["username"] for n in first["nodes"] + rest["accounts"]["nodes"]]
    assert names == ["admin", "inspector", "officer.meigui", "secretary.meigui"]

    officers = await api(ACCOUNTS, {"roles": ["OFFICER", "SECRETARY"]}, token=token)
    assert officers["data"]["accounts"]["totalCount"] == 2
    by_member = await api(ACCOUNTS, {"search": "王书"}, token=token)
    assert [n["username"] for n in by_member["data"]["accounts"]["nodes"]] == ["secretary.meigui"]
    assert (await api(ACCOUNTS, {"disabled": True}, token=token))["data"]["accounts"][
        "totalCount"
    ] == 0


@pytest.mark.parametrize("username", ["secretary.meigui", "inspector", "officer.meigui"])
async def test_account_administration_is_forbidden_to_non_admins(
    api: Api, world: World, username: str
) -> None:
    token = (await signed_in(api, username))["accessToken"]
    target = {"id": gid(world.admin)}
    for query, variables in [
        (ACCOUNTS, {}),
        (AUDIT, {}),
        (SESSIONS, target),
        (DISABLE, target),
        (ENABLE, target),
        (RESET, {**target, "p": TEMPORARY}),
        (CHANGE_ROLE, {**target, "role": "OFFICER"}),
    ]:
        body = await api(query, variables, token=token, expect_errors=True)
        assert error_of(body)[0] == "FORBIDDEN", query
    admin = (await api(ACCOUNTS, token=await admin_token(api)))["data"]["accounts"]["nodes"][0]
    assert (admin["username"], admin["disabled"], admin["role"]) == ("admin", False, "ADMIN")


async def test_a_disabled_account_cannot_sign_in_or_refresh_and_its_sessions_end_at_once(
    api: Api, world: World
) -> None:
    officer = await signed_in(api, "officer.meigui")
    # Used once, so this process caches its viewer: the disabling must not wait for the cache.
    assert "errors" not in await me(api, officer["accessToken"])
    token = await admin_token(api)

    body = await api(DISABLE, {"id": gid(world.officer)}, token=token)
    assert body["data"]["disableAccount"]["account"]["disabled"] is True

    assert error_of(await me(api, officer["accessToken"]))[0] == "SESSION_REVOKED"
    assert (await refresh(api, officer["refreshToken"]))["code"] == "SESSION_REVOKED"
    assert (await sign_in(api, "officer.meigui"))["code"] == "ACCOUNT_DISABLED"
    listed = await api(ACCOUNTS, {"disabled": True}, token=token)
    assert [
        (n["username"], n["openSessionCount"]) for n in listed["data"]["accounts"]["nodes"]
    ] == [("officer.meigui", 0)]

    body = await api(ENABLE, {"id": gid(world.officer)}, token=token)
    assert body["data"]["enableAccount"]["account"]["disabled"] is False
    # Enabling lets the user sign in again; the sessions that ended stay ended.
    assert (await refresh(api, officer["refreshToken"]))["code"] == "SESSION_REVOKED"
    assert (await sign_in(api, "officer.meigui"))["__typename"] == "SignInSuccess"


async def test_a_reset_password_must_be_changed_at_the_next_sign_in(api: Api, world: World) -> None:
    officer = await signed_in(api, "officer.meigui")
    token = await admin_token(api)
    body = await api(RESET, {"id": gid(world.officer), "p": TEMPORARY}, token=token)
    assert body["data"]["resetPassword"]["account"]["passwordChangeRequired"] is True
    assert error_of(await me(api, officer["accessToken"]))[0] == "SESSION_REVOKED"

    assert (await sign_in(api, "officer.meigui"))["code"] == "INVALID_CREDENTIALS"
    refused = await sign_in(api, "officer.meigui", TEMPORARY)
    assert (refused["__typename"], refused["code"], refused["field"]) == (
        "AuthError",
        "PASSWORD_CHANGE_REQUIRED",
        "password",
    )

    changed = await api(
        CHANGE_PASSWORD, {"u": "officer.meigui", "c": TEMPORARY, "n": "my-own-new-password"}
    )
    result = changed["data"]["changePassword"]
    assert result["__typename"] == "SignInSuccess"
    assert result["account"]["passwordChangeRequired"] is False
    assert "errors" not in await me(api, result["accessToken"])
    assert (await sign_in(api, "officer.meigui", TEMPORARY))["code"] == "INVALID_CREDENTIALS"
    assert (await sign_in(api, "officer.meigui", "my-own-new-password"))[
        "__typename"
    ] == "SignInSuccess"


async def test_change_password_refuses_a_wrong_current_or_a_bad_new_password(
    api: Api, world: World
) -> None:
    wrong = await api(CHANGE_PASSWORD, {"u": "officer.meigui", "c": "nope-nope", "n": "new-pass-1"})
    assert wrong["data"]["changePassword"] == {
        "__typename": "AuthError",
        "code": "INVALID_CREDENTIALS",
        "field": "password",
    }
    for new, code in [("short", "INVALID"), (TEST_PASSWORD, "INVALID"), ("x" * 129, "TOO_LONG")]:
        body = await api(CHANGE_PASSWORD, {"u": "officer.meigui", "c": TEST_PASSWORD, "n": new})
        assert body["data"]["changePassword"] == {
            "__typename": "InvalidInput",
            "errors": [{"field": "newPassword", "code": code}],
        }
    assert (await sign_in(api, "officer.meigui"))["__typename"] == "SignInSuccess"


async def test_a_password_reset_unlocks_a_locked_account(api: Api, world: World) -> None:
    for _ in range(Settings().login_max_failures):
        await sign_in(api, "officer.meigui", "not-the-password")
    assert (await sign_in(api, "officer.meigui"))["code"] == "ACCOUNT_LOCKED"
    token = await admin_token(api)
    body = await api(RESET, {"id": gid(world.officer), "p": TEMPORARY}, token=token)
    assert body["data"]["resetPassword"]["account"]["locked"] is False
    assert (await sign_in(api, "officer.meigui", TEMPORARY))["code"] == "PASSWORD_CHANGE_REQUIRED"


async def test_a_role_change_takes_effect_at_the_next_request(api: Api, world: World) -> None:
    inspector = await signed_in(api, "inspector")
    assert (await me(api, inspector["accessToken"]))["data"]["me"]["account"]["role"] == (
        "INSPECTOR"
    )
    token = await admin_token(api)
    body = await api(
        CHANGE_ROLE,
        {
            "id": gid(world.inspector),
            "role": "SECRETARY",
            "branch": to_global_id("Branch", world.yushan.id),
        },
        token=token,
    )
    assert body["data"]["changeRole"]["account"]["role"] == "SECRETARY"
    seen = (await me(api, inspector["accessToken"]))["data"]["me"]
    assert seen["account"]["role"] == "SECRETARY"
    assert seen["branch"] == {"name": "榆山第二派出所党支部"}


async def test_a_role_change_keeps_the_rules_of_account_creation(api: Api, world: World) -> None:
    token = await admin_token(api)
    body = await api(CHANGE_ROLE, {"id": gid(world.inspector), "role": "OFFICER"}, token=token)
    assert body["data"]["changeRole"] == {
        "__typename": "InvalidInput",
        "errors": [{"field": "role", "code": "REQUIRED"}],
    }
    body = await api(CHANGE_ROLE, {"id": gid(world.inspector), "role": "SECRETARY"}, token=token)
    assert body["data"]["changeRole"]["errors"] == [{"field": "branchId", "code": "REQUIRED"}]


async def test_an_admin_cannot_disable_or_demote_their_own_account(api: Api, world: World) -> None:
    token = await admin_token(api)
    for query, variables in [
        (DISABLE, {"id": gid(world.admin)}),
        (CHANGE_ROLE, {"id": gid(world.admin), "role": "INSPECTOR"}),
    ]:
        body = await api(query, variables, token=token)
        [result] = body["data"].values()
        assert result == {
            "__typename": "InvalidInput",
            "errors": [{"field": "accountId", "code": "INVALID"}],
        }
    assert "errors" not in await me(api, token)


async def test_an_unknown_account_is_not_found(api: Api, world: World, make: Builders) -> None:
    token = await admin_token(api)
    body = await api(DISABLE, {"id": to_global_id("Account", world.yushan.id)}, token=token)
    assert body["data"]["disableAccount"]["errors"] == [{"field": "accountId", "code": "NOT_FOUND"}]
    body = await api(DISABLE, {"id": to_global_id("Member", world.yushan.id)}, token=token)
    assert body["data"]["disableAccount"]["errors"] == [{"field": "accountId", "code": "INVALID"}]


async def test_admin_sees_and_revokes_an_accounts_sessions(api: Api, world: World) -> None:
    phone = await signed_in(api, "officer.meigui", device="phone")
    await signed_in(api, "officer.meigui", device="desk")
    token = await admin_token(api)
    sessions = (await api(SESSIONS, {"id": gid(world.officer)}, token=token))["data"][
        "accountSessions"
    ]
    assert sorted(s["deviceId"] for s in sessions) == ["desk", "phone"]
    await api(REVOKE, {"id": phone["session"]["id"]}, token=token)
    sessions = (await api(SESSIONS, {"id": gid(world.officer)}, token=token))["data"][
        "accountSessions"
    ]
    assert [s["deviceId"] for s in sessions] == ["desk"]
    assert error_of(await me(api, phone["accessToken"]))[0] == "SESSION_REVOKED"


async def test_every_account_action_is_recorded_in_the_audit_trail(
    api: Api, world: World, clock: FrozenClock
) -> None:
    officer = await signed_in(api, "officer.meigui", device="phone")
    token = await admin_token(api)
    officer_id = gid(world.officer)
    created = await api(
        """mutation { createAccount(input: {username: "auditor.new", password: "long-enough-1",
             role: INSPECTOR}) { __typename } }""",
        token=token,
    )
    assert created["data"]["createAccount"]["__typename"] == "AccountPayload"
    clock.advance(seconds=60)
    await api(REVOKE, {"id": officer["session"]["id"]}, token=token)
    clock.advance(seconds=60)
    await api(DISABLE, {"id": officer_id}, token=token)
    clock.advance(seconds=60)
    await api(ENABLE, {"id": officer_id}, token=token)
    clock.advance(seconds=60)
    await api(RESET, {"id": officer_id, "p": TEMPORARY}, token=token)
    clock.advance(seconds=60)
    token = await admin_token(api)
    await api(CHANGE_ROLE, {"id": gid(world.inspector), "role": "ADMIN"}, token=token)
    clock.advance(seconds=60)
    await api(CHANGE_PASSWORD, {"u": "officer.meigui", "c": TEMPORARY, "n": "brand-new-pass"})

    body = await api(AUDIT, {"first": 4}, token=token)
    trail = body["data"]["accountAudit"]
    assert trail["totalCount"] == 7
    assert trail["pageInfo"]["hasNextPage"] is True
    rest = await api(AUDIT, {"after": trail["pageInfo"]["endCursor"]}, token=token)
    entries = trail["nodes"] + rest["data"]["accountAudit"]["nodes"]
    assert [(e["action"], e["actor"]["username"], e["account"]["username"]) for e in entries] == [
        ("PASSWORD_CHANGED", "officer.meigui", "officer.meigui"),
        ("ROLE_CHANGED", "admin", "inspector"),
        ("PASSWORD_RESET", "admin", "officer.meigui"),
        ("ENABLED", "admin", "officer.meigui"),
        ("DISABLED", "admin", "officer.meigui"),
        ("SESSION_REVOKED", "admin", "officer.meigui"),
        ("CREATED", "admin", "auditor.new"),
    ]
    by_action = {e["action"]: e for e in entries}
    assert by_action["ROLE_CHANGED"]["detail"] == "督导 → 县局党委"
    assert by_action["ROLE_CHANGED"]["actionLabel"] == "变更角色"
    assert by_action["SESSION_REVOKED"]["detail"] == "phone"
    assert by_action["PASSWORD_CHANGED"]["at"] == bureau_time(clock())
    assert entries[-1]["at"] == bureau_time(clock() - timedelta(minutes=6))

    node = await api(
        "query($id: ID!) { node(id: $id) { ... on AccountAuditEntry { action } } }",
        {"id": entries[0]["id"]},
        token=token,
    )
    assert node["data"]["node"] == {"action": "PASSWORD_CHANGED"}

    mine = await api(
        AUDIT, {"account": officer_id, "actions": ["DISABLED", "ENABLED"]}, token=token
    )
    assert [e["action"] for e in mine["data"]["accountAudit"]["nodes"]] == ["ENABLED", "DISABLED"]


async def test_asking_for_the_state_an_account_is_in_records_nothing(
    api: Api, world: World
) -> None:
    token = await admin_token(api)
    await api(ENABLE, {"id": gid(world.officer)}, token=token)
    await api(CHANGE_ROLE, {"id": gid(world.officer), "role": "OFFICER"}, token=token)
    assert (await api(AUDIT, token=token))["data"]["accountAudit"]["totalCount"] == 0


async def test_admins_refetch_any_account_by_id_and_others_only_their_own(
    api: Api, world: World
) -> None:
    query = "query($id: ID!) { node(id: $id) { ... on Account { username } } }"
    token = await admin_token(api)
    body = await api(query, {"id": gid(world.officer)}, token=token)
    assert body["data"]["node"] == {"username": "officer.meigui"}
    officer = (await signed_in(api, "officer.meigui"))["accessToken"]
    assert (await api(query, {"id": gid(world.admin)}, token=officer))["data"]["node"] is None
    assert (await api(query, {"id": gid(world.officer)}, token=officer))["data"]["node"] == {
        "username": "officer.meigui"
    }
