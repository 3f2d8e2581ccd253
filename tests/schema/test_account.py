"""Accounts over GraphQL: login, lockout, refresh, per-device revocation and `me`."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import jwt
import pytest
from sqlalchemy import func, select, update

from access.auth import ViewerCache
from access.viewer import Viewer
from core.clock import FrozenClock
from core.db import Sessionmaker, writing
from core.security import decode_access_token, verify_password
from core.settings import DEV_SECRET_KEY, Settings
from models import Account, DeviceSession, Role
from resolvers import account as account_ops
from resolvers.account import REFRESH_GRACE
from schema.node import to_global_id
from tests.conftest import TEST_PASSWORD, Api, World

ACCESS_LIFETIME = timedelta(minutes=Settings().access_token_minutes)
LOCK = timedelta(minutes=Settings().login_lock_minutes)

SIGN_IN_FIELDS = """
  __typename
  ... on SignInSuccess {
    accessToken accessTokenExpiresAt refreshToken
    account { id username role roleLabel lastLoginAt }
    session { id deviceId deviceName expiresAt }
  }
  ... on AuthError { code message field retryAfter }
"""
LOGIN = f"""
mutation($u: String!, $p: String!, $d: String, $n: String) {{
  login(username: $u, password: $p, deviceId: $d, deviceName: $n) {{ {SIGN_IN_FIELDS} }}
}}"""
REFRESH = f"""
mutation($t: String!) {{ refreshToken(refreshToken: $t) {{ {SIGN_IN_FIELDS} }} }}"""
ME = """
{ me {
    account { username role }
    member { name phone }
    branch { name }
    sessions { id deviceId }
} }"""
REVOKE = """
mutation($id: ID!) {
  revokeSession(sessionId: $id) {
    __typename
    ... on SessionPayload { session { id deviceId } }
    ... on InvalidInput { message errors { field code message } }
  }
}"""


async def sign_in(
    api: Api,
    username: str,
    password: str = TEST_PASSWORD,
    device: str | None = "phone",
    device_name: str | None = None,
) -> dict[str, Any]:
    body = await api(LOGIN, {"u": username, "p": password, "d": device, "n": device_name})
    result: dict[str, Any] = body["data"]["login"]
    return result


async def signed_in(api: Api, username: str, device: str = "phone") -> dict[str, Any]:
    result = await sign_in(api, username, device=device)
    assert result["__typename"] == "SignInSuccess", result
    return result


async def refresh(api: Api, token: str) -> dict[str, Any]:
    result: dict[str, Any] = (await api(REFRESH, {"t": token}))["data"]["refreshToken"]
    return result


async def me(api: Api, token: str | None) -> dict[str, Any]:
    return await api(ME, token=token, expect_errors=True)


def error_of(body: dict[str, Any]) -> tuple[str, str]:
    """(extensions.code, message) of the single error of a refused request."""
    assert body.get("data") is None, body
    [error] = body["errors"]
    assert error["extensions"]["requestId"]
    return error["extensions"]["code"], error["message"]


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_login_returns_a_jwt_that_authenticates_me(
    api: Api, world: World, clock: FrozenClock
) -> None:
    result = await sign_in(api, "officer.meigui", device="phone-li", device_name="华为 Mate 60")
    assert result["__typename"] == "SignInSuccess"
    assert result["account"] == {
        "id": to_global_id("Account", world.officer.id),
        "username": "officer.meigui",
        "role": "OFFICER",
        "roleLabel": "民警",
        "lastLoginAt": clock().astimezone(ZoneInfo("Asia/Shanghai")).isoformat(),
    }
    assert result["session"]["deviceId"] == "phone-li"
    assert result["session"]["deviceName"] == "华为 Mate 60"
    assert parse_time(result["accessTokenExpiresAt"]) == clock() + ACCESS_LIFETIME
    header = jwt.get_unverified_header(result["accessToken"])
    assert header["alg"] == "HS256"
    claims = decode_access_token(DEV_SECRET_KEY, result["accessToken"], clock())
    assert claims.account_id == world.officer.id

    body = await me(api, result["accessToken"])
    assert "errors" not in body, body
    assert body["data"]["me"] == {
        "account": {"username": "officer.meigui", "role": "OFFICER"},
        "member": {"name": "李民警", "phone": "13900000002"},
        "branch": {"name": "玫瑰派出所党支部"},
        "sessions": [{"id": result["session"]["id"], "deviceId": "phone-li"}],
    }


async def test_me_of_a_secretary_and_an_admin(api: Api, world: World) -> None:
    secretary = await signed_in(api, "secretary.meigui")
    body = await me(api, secretary["accessToken"])
    assert body["data"]["me"]["member"]["name"] == "王书记"
    assert body["data"]["me"]["branch"]["name"] == "玫瑰派出所党支部"
    admin = await signed_in(api, "admin")
    body = await me(api, admin["accessToken"])
    assert body["data"]["me"]["member"] is None
    assert body["data"]["me"]["branch"] is None


async def test_wrong_password_is_refused_with_invalid_credentials(
    api: Api, world: World, sessionmaker: Sessionmaker
) -> None:
    result = await sign_in(api, "officer.meigui", "not-the-password")
    assert result["__typename"] == "AuthError"
    assert result["code"] == "INVALID_CREDENTIALS"
    assert result["field"] == "password"
    assert "wrong username or password" in result["message"]
    assert result["retryAfter"] is None
    async with sessionmaker() as db:
        sessions = await db.scalar(select(func.count()).select_from(DeviceSession))
    assert sessions == 0


async def test_unknown_username_gets_the_same_error_as_a_wrong_password(
    api: Api, world: World
) -> None:
    unknown = await sign_in(api, "no.such.user", TEST_PASSWORD)
    wrong = await sign_in(api, "officer.meigui", "not-the-password")
    assert unknown == wrong


async def test_repeated_failures_lock_the_account(
    api: Api, world: World, clock: FrozenClock
) -> None:
    for _ in range(Settings().login_max_failures):
        failure = await sign_in(api, "officer.meigui", "not-the-password")
        assert failure["code"] == "INVALID_CREDENTIALS"
    locked_at = clock()
    clock.advance(minutes=1)
    for password in ("not-the-password", TEST_PASSWORD):
        locked = await sign_in(api, "officer.meigui", password)
        assert locked["__typename"] == "AuthError"
        assert locked["code"] == "ACCOUNT_LOCKED"
        assert parse_time(locked["retryAfter"]) == locked_at + LOCK
        assert "14 分钟" in locked["message"]
    # Other accounts are not affected.
    await signed_in(api, "secretary.meigui")

    clock.advance(minutes=13, seconds=59)
    assert (await sign_in(api, "officer.meigui"))["code"] == "ACCOUNT_LOCKED"
    clock.advance(seconds=2)
    await signed_in(api, "officer.meigui")


async def until(condition: Callable[[], bool]) -> None:
    """Waits (up to about 10 s) for requests running in this loop to reach `condition`."""
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.005)
    pytest.fail("the requests never got that far")


async def test_parallel_guesses_check_at_most_max_failures_passwords_before_the_lock(
    api: Api, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Wrong passwords at once, then the right one while they are all in flight.

    Every password check is held at argon2 until each request has got as far as it can on its
    own, so the requests overlap as much as they ever could: the worst interleaving. (A dozen
    guesses, not the forty of tests/e2e/test_login_lockout.py: before the fix each one held a
    pooled connection while held here, and the pool would have run out first.)
    """
    max_failures = Settings().login_max_failures
    real_verify = verify_password
    gate = asyncio.Event()
    held: list[str] = []
    checked: list[str] = []

    async def held_verify(password_hash: str | None, password: str) -> bool:
        held.append(password)
        await gate.wait()
        checked.append(password)
        return await real_verify(password_hash, password)

    monkeypatch.setattr(account_ops, "verify_password", held_verify)
    guesses = [asyncio.create_task(sign_in(api, "officer.meigui", f"guess-{n}")) for n in range(12)]
    await until(lambda: len(held) + sum(g.done() for g in guesses) == len(guesses))
    right = asyncio.create_task(sign_in(api, "officer.meigui"))
    await until(lambda: TEST_PASSWORD in held or right.done())
    gate.set()
    answers = [a["code"] for a in await asyncio.gather(*guesses)]

    assert len(checked) == max_failures, checked
    assert TEST_PASSWORD not in checked
    assert (await right)["code"] == "ACCOUNT_LOCKED"
    assert sorted(set(answers)) == ["ACCOUNT_LOCKED", "INVALID_CREDENTIALS"]
    assert answers.count("INVALID_CREDENTIALS") == max_failures


async def test_a_right_password_gives_back_only_the_tries_reserved_before_it(
    api: Api, world: World, monkeypatch: pytest.MonkeyPatch, sessionmaker: Sessionmaker
) -> None:
    """Two guesses, the owner signing in, two more guesses, all in flight at once: the owner's
    success forgives the guesses before it, never those after it."""
    real_verify = verify_password
    gate = asyncio.Event()
    held: list[str] = []

    async def held_verify(password_hash: str | None, password: str) -> bool:
        held.append(password)
        await gate.wait()
        return await real_verify(password_hash, password)

    monkeypatch.setattr(account_ops, "verify_password", held_verify)
    in_flight = []
    for password in ("guess-1", "guess-2", TEST_PASSWORD, "guess-3", "guess-4"):
        in_flight.append(asyncio.create_task(sign_in(api, "officer.meigui", password)))
        await until(lambda: len(held) == len(in_flight))
    gate.set()
    answers = [a["__typename"] for a in await asyncio.gather(*in_flight)]

    assert answers == ["AuthError", "AuthError", "SignInSuccess", "AuthError", "AuthError"]
    async with sessionmaker() as db:
        account = await db.get(Account, world.officer.id)
    assert account is not None
    assert (account.failed_logins, account.locked_until) == (2, None)


async def test_phone_offline_for_days_resumes_with_refresh_token(
    api: Api, world: World, clock: FrozenClock
) -> None:
    first = await signed_in(api, "officer.meigui", device="phone")
    assert "errors" not in await me(api, first["accessToken"])

    clock.advance(days=5)
    code, message = error_of(await me(api, first["accessToken"]))
    assert code == "TOKEN_EXPIRED"
    assert "refresh" in message

    renewed = await refresh(api, first["refreshToken"])
    assert renewed["__typename"] == "SignInSuccess", renewed
    assert renewed["refreshToken"] != first["refreshToken"]
    assert renewed["accessToken"] != first["accessToken"]
    assert renewed["session"]["id"] == first["session"]["id"]
    assert parse_time(renewed["session"]["expiresAt"]) == clock() + timedelta(
        days=Settings().refresh_token_days
    )
    body = await me(api, renewed["accessToken"])
    assert body["data"]["me"]["account"]["username"] == "officer.meigui"

    # Offline again; the chain continues from the newest token.
    clock.advance(days=12)
    again = await refresh(api, renewed["refreshToken"])
    assert again["__typename"] == "SignInSuccess"
    # The first token was rotated away long ago: refused.
    stale = await refresh(api, first["refreshToken"])
    assert (stale["__typename"], stale["code"]) == ("AuthError", "SESSION_REVOKED")


async def test_lost_refresh_response_can_be_retried(
    api: Api, world: World, clock: FrozenClock
) -> None:
    first = await signed_in(api, "officer.meigui")
    clock.advance(hours=20)
    lost = await refresh(api, first["refreshToken"])  # the answer never reached the phone
    assert lost["__typename"] == "SignInSuccess"
    clock.advance(seconds=REFRESH_GRACE.total_seconds() - 1)
    retried = await refresh(api, first["refreshToken"])
    assert retried["__typename"] == "SignInSuccess", retried
    assert retried["refreshToken"] == lost["refreshToken"]
    assert "errors" not in await me(api, retried["accessToken"])
    clock.advance(minutes=10)
    assert (await refresh(api, retried["refreshToken"]))["__typename"] == "SignInSuccess"


async def test_reused_refresh_token_revokes_the_session(
    api: Api, world: World, clock: FrozenClock
) -> None:
    first = await signed_in(api, "officer.meigui", device="phone")
    other = await signed_in(api, "officer.meigui", device="web")
    renewed = await refresh(api, first["refreshToken"])
    assert renewed["__typename"] == "SignInSuccess"
    assert "errors" not in await me(api, renewed["accessToken"])  # now cached as live

    clock.advance(seconds=REFRESH_GRACE.total_seconds() + 1)
    reused = await refresh(api, first["refreshToken"])
    assert (reused["__typename"], reused["code"]) == ("AuthError", "SESSION_REVOKED")
    # Whoever holds the newest tokens (the phone, or a thief) is signed out at once.
    assert (await refresh(api, renewed["refreshToken"]))["code"] == "SESSION_REVOKED"
    code, message = error_of(await me(api, renewed["accessToken"]))
    assert code == "SESSION_REVOKED"
    assert "sign in again" in message
    # Other devices of the account keep working.
    assert "errors" not in await me(api, other["accessToken"])
    assert (await refresh(api, other["refreshToken"]))["__typename"] == "SignInSuccess"
    await signed_in(api, "officer.meigui", device="phone")


async def test_revoking_a_device_signs_out_only_that_device(
    api: Api, world: World, clock: FrozenClock
) -> None:
    phone = await signed_in(api, "officer.meigui", device="phone")
    web = await signed_in(api, "officer.meigui", device="web")
    assert "errors" not in await me(api, phone["accessToken"])  # now cached as live

    body = await api(REVOKE, {"id": phone["session"]["id"]}, token=web["accessToken"])
    assert body["data"]["revokeSession"] == {
        "__typename": "SessionPayload",
        "session": {"id": phone["session"]["id"], "deviceId": "phone"},
    }

    code, message = error_of(await me(api, phone["accessToken"]))
    assert (code, "session revoked" in message) == ("SESSION_REVOKED", True)
    assert (await refresh(api, phone["refreshToken"]))["code"] == "SESSION_REVOKED"

    remaining = await me(api, web["accessToken"])
    assert remaining["data"]["me"]["sessions"] == [{"id": web["session"]["id"], "deviceId": "web"}]
    clock.advance(minutes=1)
    assert (await refresh(api, web["refreshToken"]))["__typename"] == "SignInSuccess"


async def test_signing_in_again_on_a_device_replaces_its_session(api: Api, world: World) -> None:
    old = await signed_in(api, "officer.meigui", device="phone")
    assert "errors" not in await me(api, old["accessToken"])  # now cached as live
    new = await signed_in(api, "officer.meigui", device="phone")
    assert new["session"]["id"] != old["session"]["id"]
    assert error_of(await me(api, old["accessToken"]))[0] == "SESSION_REVOKED"
    assert (await refresh(api, old["refreshToken"]))["code"] == "SESSION_REVOKED"
    assert "errors" not in await me(api, new["accessToken"])


async def test_revoking_someone_elses_session_is_forbidden_for_non_admins(
    api: Api, world: World
) -> None:
    victim = await signed_in(api, "officer.meigui")
    secretary = await signed_in(api, "secretary.meigui")
    body = await api(
        REVOKE, {"id": victim["session"]["id"]}, token=secretary["accessToken"], expect_errors=True
    )
    assert error_of(body)[0] == "FORBIDDEN"
    assert "errors" not in await me(api, victim["accessToken"])
    admin = await signed_in(api, "admin")
    body = await api(REVOKE, {"id": victim["session"]["id"]}, token=admin["accessToken"])
    assert body["data"]["revokeSession"]["__typename"] == "SessionPayload"
    assert error_of(await me(api, victim["accessToken"]))[0] == "SESSION_REVOKED"


@pytest.mark.parametrize(
    ("session_id", "code"),
    [
        ("not-an-id", "INVALID"),
        # Fixed ids, not uuid4(): pytest-xdist needs every worker to collect the same test ids.
        (to_global_id("Member", uuid.UUID("3f0c9b1e-7d1a-4c55-9a2e-5b8f6d2c4e10")), "INVALID"),
        (
            to_global_id("DeviceSession", uuid.UUID("8a1d2e3f-4b5c-4d6e-8f70-1a2b3c4d5e6f")),
            "NOT_FOUND",
        ),
    ],
)
async def test_revoke_session_with_a_bad_id_is_invalid_input(
    api: Api, world: World, session_id: str, code: str
) -> None:
    admin = await signed_in(api, "admin")
    body = await api(REVOKE, {"id": session_id}, token=admin["accessToken"])
    result = body["data"]["revokeSession"]
    assert result["__typename"] == "InvalidInput"
    assert [(e["field"], e["code"]) for e in result["errors"]] == [("sessionId", code)]


async def test_expired_access_token_is_token_expired(
    api: Api, world: World, clock: FrozenClock
) -> None:
    result = await signed_in(api, "inspector")
    clock.advance(seconds=ACCESS_LIFETIME.total_seconds() - 1)
    assert "errors" not in await me(api, result["accessToken"])
    clock.advance(seconds=1)
    code, message = error_of(await me(api, result["accessToken"]))
    assert code == "TOKEN_EXPIRED"
    assert message == "令牌已过期,请用 refreshToken 换取新令牌 (access token expired; refresh it)"


async def test_token_of_a_revoked_session_is_session_revoked(
    api: Api, world: World, clock: FrozenClock, sessionmaker: Sessionmaker
) -> None:
    result = await signed_in(api, "inspector")
    async with writing(sessionmaker) as db:
        await db.execute(update(DeviceSession).values(revoked_at=clock()))

    code, message = error_of(await me(api, result["accessToken"]))

    # Not TOKEN_EXPIRED: refreshing cannot help, the app must sign in again.
    assert code == "SESSION_REVOKED"
    assert "sign in again" in message
    assert (await refresh(api, result["refreshToken"]))["code"] == "SESSION_REVOKED"


async def test_anonymous_requests_are_asked_to_sign_in(api: Api, world: World) -> None:
    code, message = error_of(await me(api, None))
    assert code == "UNAUTHENTICATED"
    assert message == "请先登录 (authentication required)"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Token abc", "use 'Authorization: Bearer <token>'"),
        ("Bearer", "use 'Authorization: Bearer <token>'"),
        ("Bearer    ", "use 'Authorization: Bearer <token>'"),
        ("Basic YWRtaW46cGFzcw==", "use 'Authorization: Bearer <token>'"),
        ("Bearer not.a.jwt", "invalid access token"),
        ("Bearer {forged}", "invalid access token"),
        ("Bearer {valid}x", "invalid access token"),
    ],
)
async def test_malformed_authorization_header_is_token_invalid(
    api: Api, world: World, clock: FrozenClock, header: str, expected: str
) -> None:
    valid = (await signed_in(api, "admin"))["accessToken"]
    forged = jwt.encode(
        {
            "iss": "meijing",
            "sub": str(world.admin.id),
            "sid": str(uuid.uuid4()),
            "exp": int((clock() + timedelta(hours=1)).timestamp()),
        },
        "an-attackers-guess-at-the-secret-key-0123456789",
        algorithm="HS256",
    )
    response = await api.client.post(
        "/graphql",
        json={"query": "{ me { account { username } } }"},
        headers={"Authorization": header.format(valid=valid, forged=forged)},
    )
    code, message = error_of(response.json())
    assert code == "TOKEN_INVALID"
    assert expected in message
    # A refused header never gets in the way of signing in.
    login = await api.client.post(
        "/graphql",
        json={"query": LOGIN, "variables": {"u": "admin", "p": TEST_PASSWORD}},
        headers={"Authorization": header.format(valid=valid, forged=forged)},
    )
    assert login.json()["data"]["login"]["__typename"] == "SignInSuccess"


async def test_bearer_scheme_is_case_insensitive(api: Api, world: World) -> None:
    token = (await signed_in(api, "admin"))["accessToken"]
    response = await api.client.post(
        "/graphql",
        json={"query": "{ me { account { username } } }"},
        headers={"Authorization": f"bearer  {token} "},
    )
    assert response.json()["data"]["me"]["account"]["username"] == "admin"


async def test_disabled_account_cannot_sign_in_or_keep_its_sessions(
    api: Api, world: World, make: Any, sessionmaker: Sessionmaker
) -> None:
    await make.account(Role.OFFICER, username="retired.zhang", disabled=True)
    wrong = await sign_in(api, "retired.zhang", "not-the-password")
    assert wrong["code"] == "INVALID_CREDENTIALS", "no hint that the account exists"
    refused = await sign_in(api, "retired.zhang")
    assert (refused["__typename"], refused["code"]) == ("AuthError", "ACCOUNT_DISABLED")
    assert "disabled" in refused["message"]

    # Disabling an account that is signed in ends its sessions (the token is not used yet, so
    # no cached viewer stands in the way; see test_viewer_cache_* for the cache window).
    live = await signed_in(api, "officer.meigui")
    async with writing(sessionmaker) as db:
        await db.execute(
            update(Account).where(Account.id == world.officer.id).values(disabled=True)
        )
    assert error_of(await me(api, live["accessToken"]))[0] == "SESSION_REVOKED"
    assert (await refresh(api, live["refreshToken"]))["code"] == "ACCOUNT_DISABLED"


async def test_admin_creates_an_account_that_can_sign_in(api: Api, world: World) -> None:
    admin = await signed_in(api, "admin")
    body = await api(
        """mutation($input: CreateAccountInput!) {
             createAccount(input: $input) {
               __typename
               ... on AccountPayload { account { username role } }
               ... on InvalidInput { errors { field code } }
             }
           }""",
        {
            "input": {
                "username": "Officer.Yushan",
                "password": "a-long-password",
                "role": "OFFICER",
                "memberId": to_global_id("Member", world.yushan_member.id),
            }
        },
        token=admin["accessToken"],
    )
    assert body["data"]["createAccount"] == {
        "__typename": "AccountPayload",
        "account": {"username": "officer.yushan", "role": "OFFICER"},
    }
    officer = await sign_in(api, "officer.yushan", "a-long-password")
    assert officer["__typename"] == "SignInSuccess"
    body = await me(api, officer["accessToken"])
    assert body["data"]["me"]["member"] == {"name": "赵党员", "phone": "13900000004"}
    assert body["data"]["me"]["branch"] == {"name": "榆山第二派出所党支部"}


async def test_create_account_bad_input_is_typed_and_writes_nothing(
    api: Api, world: World, sessionmaker: Sessionmaker
) -> None:
    admin = await signed_in(api, "admin")
    body = await api(
        """mutation($input: CreateAccountInput!) {
             createAccount(input: $input) {
               __typename
               ... on InvalidInput { message errors { field code message } }
             }
           }""",
        {
            "input": {
                "username": "admin",
                "password": "short",
                "role": "SECRETARY",
                "branchId": to_global_id("Branch", uuid.uuid4()),
            }
        },
        token=admin["accessToken"],
    )
    result = body["data"]["createAccount"]
    assert result["__typename"] == "InvalidInput"
    assert "nothing saved" in result["message"]
    assert {(e["field"], e["code"]) for e in result["errors"]} == {
        ("username", "DUPLICATE"),
        ("password", "INVALID"),
        ("branchId", "NOT_FOUND"),
    }
    async with sessionmaker() as db:
        assert await db.scalar(select(func.count()).select_from(Account)) == 4


# The viewer cache behind request authentication


def _viewer() -> Viewer:
    return Viewer(uuid.uuid4(), "someone", Role.OFFICER, uuid.uuid4(), None, None, None)


def test_viewer_cache_keeps_an_entry_for_its_ttl_only() -> None:
    now = [100.0]
    cache = ViewerCache(ttl=5, timer=lambda: now[0])
    session_id, viewer = uuid.uuid4(), _viewer()
    cache.put(session_id, viewer)
    entry = cache.get(session_id)
    assert entry is not None and entry.viewer is viewer
    now[0] += 4.9
    assert cache.get(session_id) is not None
    now[0] += 0.1
    assert cache.get(session_id) is None


def test_viewer_cache_forgets_on_demand_and_stays_bounded() -> None:
    cache = ViewerCache(ttl=5, max_entries=2, timer=lambda: 0.0)
    ids = [uuid.uuid4() for _ in range(3)]
    for session_id in ids:
        cache.put(session_id, _viewer())
    assert cache.get(ids[0]) is None and cache.get(ids[2]) is not None
    cache.forget(ids[2])
    assert cache.get(ids[2]) is None
    disabled = ViewerCache(ttl=0, timer=lambda: 0.0)
    disabled.put(ids[0], _viewer())
    assert disabled.get(ids[0]) is None
