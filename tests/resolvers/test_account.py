"""Accounts at the domain level: sign-in and lockout, refresh rotation, sessions, tokens."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import jwt
import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from access.errors import ErrorCode, Forbidden, InputError
from access.viewer import Viewer, load_viewer
from core.clock import FrozenClock
from core.db import Sessionmaker, writing
from core.security import (
    TokenError,
    TokenExpired,
    decode_access_token,
    issue_access_token,
    needs_rehash,
    verify_password,
)
from core.settings import DEV_SECRET_KEY
from models import Account, DeviceSession, Role
from resolvers import account as ops
from resolvers.account import REFRESH_GRACE, AuthFailure, AuthPolicy, SignedIn
from tests.conftest import TEST_PASSWORD, Builders, World

POLICY = AuthPolicy(
    secret_key=DEV_SECRET_KEY,
    access_lifetime=timedelta(minutes=15),
    refresh_lifetime=timedelta(days=30),
    max_failures=5,
    lock_duration=timedelta(minutes=15),
)


async def login(
    sessionmaker: Sessionmaker,
    clock: FrozenClock,
    username: str,
    password: str = TEST_PASSWORD,
    device_id: str | None = "phone",
    device_name: str | None = None,
) -> SignedIn | AuthFailure:
    return await ops.login(sessionmaker, clock, POLICY, username, password, device_id, device_name)


async def signed_in(
    sessionmaker: Sessionmaker, clock: FrozenClock, username: str, device_id: str = "phone"
) -> SignedIn:
    result = await login(sessionmaker, clock, username, device_id=device_id)
    assert isinstance(result, SignedIn), result
    return result


async def refresh(
    sessionmaker: Sessionmaker, clock: FrozenClock, token: str
) -> SignedIn | AuthFailure:
    async with writing(sessionmaker) as db:
        return await ops.refresh(db, clock, POLICY, token)


async def get_account(sessionmaker: Sessionmaker, account_id: uuid.UUID) -> Account:
    async with sessionmaker() as db:
        account = await db.get(Account, account_id)
    assert account is not None
    return account


async def get_session(sessionmaker: Sessionmaker, session_id: uuid.UUID) -> DeviceSession:
    async with sessionmaker() as db:
        session = await db.get(DeviceSession, session_id)
    assert session is not None
    return session


async def viewer_of(sessionmaker: Sessionmaker, clock: FrozenClock, result: SignedIn) -> Viewer:
    async with sessionmaker() as db:
        viewer = await load_viewer(db, result.session.id, result.account.id, clock())
    assert viewer is not None
    return viewer


async def account_count(sessionmaker: Sessionmaker) -> int:
    async with sessionmaker() as db:
        return int(await db.scalar(select(func.count()).select_from(Account)) or 0)


def codes(error: InputError) -> dict[str | None, ErrorCode]:
    return {p.field: p.code for p in error.problems}


# Sign-in


async def test_login_returns_tokens_for_the_right_password(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    result = await signed_in(sessionmaker, clock, "  Officer.Meigui ")
    assert result.account.id == world.officer.id
    claims = decode_access_token(DEV_SECRET_KEY, result.access_token, clock())
    assert (claims.account_id, claims.session_id) == (world.officer.id, result.session.id)
    assert claims.role == "officer"
    assert result.access_expires_at == clock() + POLICY.access_lifetime
    session_part, _, secret = result.refresh_token.partition(".")
    assert session_part == str(result.session.id) and len(secret) >= 40
    stored = await get_session(sessionmaker, result.session.id)
    assert stored.refresh_hash != secret, "only a digest of the refresh secret is stored"
    assert (await get_account(sessionmaker, world.officer.id)).last_login_at == clock()


async def test_wrong_password_is_invalid_credentials(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    result = await login(sessionmaker, clock, "officer.meigui", "wrong-password")
    assert isinstance(result, AuthFailure)
    assert (result.code, result.field) == (ErrorCode.INVALID_CREDENTIALS, "password")
    assert (await get_account(sessionmaker, world.officer.id)).failed_logins == 1


async def test_unknown_username_gets_the_same_answer_as_a_wrong_password(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    unknown = await login(sessionmaker, clock, "nobody.here", TEST_PASSWORD)
    wrong = await login(sessionmaker, clock, "officer.meigui", "wrong-password")
    assert unknown == wrong


async def test_repeated_failures_lock_the_account(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    for _ in range(POLICY.max_failures):
        failure = await login(sessionmaker, clock, "officer.meigui", "wrong-password")
        assert isinstance(failure, AuthFailure)
        assert failure.code is ErrorCode.INVALID_CREDENTIALS
    locked = await login(sessionmaker, clock, "officer.meigui", TEST_PASSWORD)
    assert isinstance(locked, AuthFailure)
    assert locked.code is ErrorCode.ACCOUNT_LOCKED
    assert locked.retry_after == clock() + POLICY.lock_duration
    assert "15 分钟" in locked.message

    clock.advance(minutes=15, seconds=1)
    assert isinstance(await login(sessionmaker, clock, "officer.meigui"), SignedIn)


async def test_concurrent_wrong_passwords_all_count_towards_the_lock(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    """Guessing in parallel must not slip past the counter (each failure is one atomic +1)."""
    attempts = [
        login(sessionmaker, clock, "officer.meigui", f"guess-{n}")
        for n in range(POLICY.max_failures)
    ]
    results = await asyncio.gather(*attempts)
    assert all(isinstance(r, AuthFailure) for r in results)
    locked = await login(sessionmaker, clock, "officer.meigui", TEST_PASSWORD)
    assert isinstance(locked, AuthFailure) and locked.code is ErrorCode.ACCOUNT_LOCKED


async def test_a_successful_login_resets_the_failure_count(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    for _ in range(POLICY.max_failures - 1):
        await login(sessionmaker, clock, "officer.meigui", "wrong-password")
    await signed_in(sessionmaker, clock, "officer.meigui")
    assert (await get_account(sessionmaker, world.officer.id)).failed_logins == 0
    await login(sessionmaker, clock, "officer.meigui", "wrong-password")
    assert isinstance(await login(sessionmaker, clock, "officer.meigui"), SignedIn)


async def test_disabled_account_is_refused_only_after_the_right_password(
    sessionmaker: Sessionmaker, clock: FrozenClock, make: Builders, world: World
) -> None:
    await make.account(Role.OFFICER, username="retired.li", disabled=True)
    wrong = await login(sessionmaker, clock, "retired.li", "wrong-password")
    assert isinstance(wrong, AuthFailure) and wrong.code is ErrorCode.INVALID_CREDENTIALS
    right = await login(sessionmaker, clock, "retired.li")
    assert isinstance(right, AuthFailure) and right.code is ErrorCode.ACCOUNT_DISABLED


async def test_an_outdated_password_hash_is_upgraded_on_login(
    sessionmaker: Sessionmaker, clock: FrozenClock, make: Builders
) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(TEST_PASSWORD)
    account = await make.account(Role.INSPECTOR, username="old.hash", password_hash=weak)
    await signed_in(sessionmaker, clock, "old.hash")
    upgraded = (await get_account(sessionmaker, account.id)).password_hash
    assert upgraded != weak
    assert await verify_password(upgraded, TEST_PASSWORD)
    assert not needs_rehash(upgraded)  # at the cost of the hasher in use


async def test_signing_in_again_on_a_device_replaces_its_session(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    first = await signed_in(sessionmaker, clock, "officer.meigui", device_id="phone")
    other = await signed_in(sessionmaker, clock, "officer.meigui", device_id="web")
    second = await signed_in(sessionmaker, clock, "officer.meigui", device_id="phone")
    assert second.replaced_session_ids == (first.session.id,)
    assert (await get_session(sessionmaker, first.session.id)).revoked_at == clock()
    assert (await get_session(sessionmaker, other.session.id)).revoked_at is None
    refused = await refresh(sessionmaker, clock, first.refresh_token)
    assert isinstance(refused, AuthFailure) and refused.code is ErrorCode.SESSION_REVOKED


async def test_device_names_and_ids_are_trimmed_to_fit(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    result = await login(
        sessionmaker, clock, "officer.meigui", device_id=" " + "p" * 300, device_name="华为" * 100
    )
    assert isinstance(result, SignedIn)
    stored = await get_session(sessionmaker, result.session.id)
    assert stored.device_id == "p" * 100
    assert stored.device_name == "华为" * 50
    blank = await login(sessionmaker, clock, "officer.meigui", device_id="  ", device_name="  ")
    assert isinstance(blank, SignedIn)
    assert (blank.session.device_id, blank.session.device_name) == ("web", None)


# Refresh


async def test_refresh_rotates_the_token_and_slides_the_expiry(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    first = await signed_in(sessionmaker, clock, "officer.meigui")
    clock.advance(days=29)
    renewed = await refresh(sessionmaker, clock, first.refresh_token)
    assert isinstance(renewed, SignedIn)
    assert renewed.session.id == first.session.id
    assert renewed.refresh_token != first.refresh_token
    assert renewed.session.expires_at == clock() + POLICY.refresh_lifetime
    stored = await get_session(sessionmaker, first.session.id)
    assert (stored.rotated_at, stored.last_seen_at) == (clock(), clock())


async def test_refresh_token_of_an_expired_session_is_session_expired(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    first = await signed_in(sessionmaker, clock, "officer.meigui")
    clock.advance(days=30)
    refused = await refresh(sessionmaker, clock, first.refresh_token)
    assert isinstance(refused, AuthFailure)
    assert (refused.code, refused.field) == (ErrorCode.SESSION_EXPIRED, "refreshToken")
    assert "session expired" in refused.message


@pytest.mark.parametrize("ending", ["expired", "revoked", "disabled"])
async def test_how_a_session_ended_is_told_only_to_the_holder_of_its_token(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, ending: str
) -> None:
    first = await signed_in(sessionmaker, clock, "officer.meigui")
    async with writing(sessionmaker) as db:
        session = await db.get(DeviceSession, first.session.id)
        account = await db.get(Account, world.officer.id)
        assert session is not None and account is not None
        if ending == "expired":
            clock.advance(days=30)
        elif ending == "revoked":
            session.revoked_at = clock()
        else:
            account.disabled = True

    holder = await refresh(sessionmaker, clock, first.refresh_token)
    stranger = await refresh(sessionmaker, clock, f"{first.session.id}.a-guessed-secret")

    expected = {
        "expired": ErrorCode.SESSION_EXPIRED,
        "revoked": ErrorCode.SESSION_REVOKED,
        "disabled": ErrorCode.ACCOUNT_DISABLED,
    }[ending]
    assert isinstance(holder, AuthFailure) and holder.code is expected
    assert isinstance(stranger, AuthFailure) and stranger.code is ErrorCode.INVALID_TOKEN


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        ".",
        "not-a-uuid.secret",
        "3f0c9b1e-7d1a-4c55-9a2e-5b8f6d2c4e10.secret",
        "{session}.",
        "{session}",
    ],
)
async def test_malformed_refresh_tokens_are_refused_without_ending_the_session(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, token: str
) -> None:
    first = await signed_in(sessionmaker, clock, "officer.meigui")
    refused = await refresh(sessionmaker, clock, token.format(session=first.session.id))
    assert isinstance(refused, AuthFailure)
    assert (refused.code, refused.field) == (ErrorCode.INVALID_TOKEN, "refreshToken")
    assert refused.revoked_session_id is None
    assert isinstance(await refresh(sessionmaker, clock, first.refresh_token), SignedIn)


async def test_lost_refresh_response_can_be_retried(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    first = await signed_in(sessionmaker, clock, "officer.meigui")
    lost = await refresh(sessionmaker, clock, first.refresh_token)
    assert isinstance(lost, SignedIn)
    clock.advance(seconds=REFRESH_GRACE.total_seconds())
    retried = await refresh(sessionmaker, clock, first.refresh_token)
    assert isinstance(retried, SignedIn)
    # The same answer again: no second token exists that the phone might fail to keep.
    assert retried.refresh_token == lost.refresh_token
    stored = await get_session(sessionmaker, first.session.id)
    assert stored.rotated_at == clock() - REFRESH_GRACE, "a retry does not extend the window"
    assert isinstance(await refresh(sessionmaker, clock, retried.refresh_token), SignedIn)


async def test_only_the_token_just_replaced_may_be_retried(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    first = await signed_in(sessionmaker, clock, "officer.meigui")
    second = await refresh(sessionmaker, clock, first.refresh_token)
    assert isinstance(second, SignedIn)
    third = await refresh(sessionmaker, clock, second.refresh_token)
    assert isinstance(third, SignedIn)
    again = await refresh(sessionmaker, clock, second.refresh_token)
    assert isinstance(again, SignedIn) and again.refresh_token == third.refresh_token
    stale = await refresh(sessionmaker, clock, first.refresh_token)
    assert isinstance(stale, AuthFailure) and stale.revoked_session_id == first.session.id


async def test_reused_refresh_token_revokes_the_session(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    first = await signed_in(sessionmaker, clock, "officer.meigui")
    renewed = await refresh(sessionmaker, clock, first.refresh_token)
    assert isinstance(renewed, SignedIn)
    clock.advance(seconds=REFRESH_GRACE.total_seconds() + 1)
    reused = await refresh(sessionmaker, clock, first.refresh_token)
    assert isinstance(reused, AuthFailure) and reused.code is ErrorCode.SESSION_REVOKED
    assert reused.revoked_session_id == first.session.id
    assert (await get_session(sessionmaker, first.session.id)).revoked_at == clock()
    # The rightful holder of the newest token is signed out too: the thief may hold it.
    after = await refresh(sessionmaker, clock, renewed.refresh_token)
    assert isinstance(after, AuthFailure) and after.code is ErrorCode.SESSION_REVOKED
    async with sessionmaker() as db:
        assert await load_viewer(db, first.session.id, world.officer.id, clock()) is None


async def test_concurrent_refreshes_keep_the_session(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    """A phone that fires several refreshes at once gets one answer, whichever it keeps."""
    first = await signed_in(sessionmaker, clock, "officer.meigui")
    results = await asyncio.gather(
        *(refresh(sessionmaker, clock, first.refresh_token) for _ in range(3))
    )
    tokens = {r.refresh_token for r in results if isinstance(r, SignedIn)}
    assert len(tokens) == 1 and len(results) == 3, results
    assert isinstance(await refresh(sessionmaker, clock, tokens.pop()), SignedIn)
    assert (await get_session(sessionmaker, first.session.id)).revoked_at is None


async def test_refresh_is_refused_for_a_disabled_account(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    first = await signed_in(sessionmaker, clock, "officer.meigui")
    async with writing(sessionmaker) as db:
        account = await db.get(Account, world.officer.id)
        assert account is not None
        account.disabled = True
    refused = await refresh(sessionmaker, clock, first.refresh_token)
    assert isinstance(refused, AuthFailure) and refused.code is ErrorCode.ACCOUNT_DISABLED


# The viewer behind a session


async def test_viewer_scope_follows_the_role(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    secretary = await viewer_of(
        sessionmaker, clock, await signed_in(sessionmaker, clock, "secretary.meigui")
    )
    assert (secretary.role, secretary.branch_id) == (Role.SECRETARY, world.meigui.id)
    assert secretary.branch_path == world.meigui.path
    officer = await viewer_of(
        sessionmaker, clock, await signed_in(sessionmaker, clock, "officer.meigui")
    )
    assert (officer.member_id, officer.branch_id) == (world.officer_member.id, world.meigui.id)
    assert officer.covers_path(world.meigui.path) is False
    assert secretary.covers_path(world.meigui_group.path) is True
    assert secretary.covers_path(world.yushan.path) is False


async def test_load_viewer_refuses_revoked_expired_and_mismatched_sessions(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    result = await signed_in(sessionmaker, clock, "officer.meigui")
    async with sessionmaker() as db:
        assert await load_viewer(db, result.session.id, world.admin.id, clock()) is None
        later = clock() + POLICY.refresh_lifetime
        assert await load_viewer(db, result.session.id, world.officer.id, later) is None
    viewer = await viewer_of(sessionmaker, clock, result)
    async with writing(sessionmaker) as db:
        await ops.revoke_session(db, viewer, clock, result.session.id)
    async with sessionmaker() as db:
        assert await load_viewer(db, result.session.id, world.officer.id, clock()) is None


# Sessions


async def test_list_sessions_shows_live_devices_of_one_account(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    phone = await signed_in(sessionmaker, clock, "officer.meigui", device_id="phone")
    clock.advance(minutes=1)
    web = await signed_in(sessionmaker, clock, "officer.meigui", device_id="web")
    admin_session = await signed_in(sessionmaker, clock, "admin")
    officer = await viewer_of(sessionmaker, clock, web)
    admin = await viewer_of(sessionmaker, clock, admin_session)
    async with writing(sessionmaker) as db:
        await ops.revoke_session(db, officer, clock, phone.session.id)
        mine = await ops.list_sessions(db, officer, None, now=clock())
        assert [s.id for s in mine] == [web.session.id]
        seen_by_admin = await ops.list_sessions(db, admin, world.officer.id, now=clock())
        assert [s.id for s in seen_by_admin] == [web.session.id]
        with pytest.raises(Forbidden):
            await ops.list_sessions(db, officer, world.admin.id, now=clock())
        later = clock() + POLICY.refresh_lifetime
        assert await ops.list_sessions(db, officer, None, now=later) == []


async def test_revoke_session_of_someone_else_needs_an_admin(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    target = await signed_in(sessionmaker, clock, "officer.meigui")
    secretary = await viewer_of(
        sessionmaker, clock, await signed_in(sessionmaker, clock, "secretary.meigui")
    )
    admin = await viewer_of(sessionmaker, clock, await signed_in(sessionmaker, clock, "admin"))
    async with writing(sessionmaker) as db:
        with pytest.raises(Forbidden):
            await ops.revoke_session(db, secretary, clock, target.session.id)
        with pytest.raises(InputError) as missing:
            await ops.revoke_session(db, admin, clock, uuid.uuid4())
        assert codes(missing.value) == {"sessionId": ErrorCode.NOT_FOUND}
    assert (await get_session(sessionmaker, target.session.id)).revoked_at is None
    async with writing(sessionmaker) as db:
        revoked = await ops.revoke_session(db, admin, clock, target.session.id)
    assert revoked.revoked_at == clock()
    clock.advance(minutes=5)
    async with writing(sessionmaker) as db:
        again = await ops.revoke_session(db, admin, clock, target.session.id)
    assert again.revoked_at == clock() - timedelta(minutes=5), "revoking twice keeps the first time"


# Accounts


async def test_create_account_stores_an_argon2_hash(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    async with writing(sessionmaker) as db:
        account = await ops.create_account(
            db, clock, " Officer.Yushan ", "a-long-password", Role.OFFICER, world.yushan_member.id
        )
    assert account.username == "officer.yushan"
    assert account.password_hash.startswith("$argon2id$")
    assert await verify_password(account.password_hash, "a-long-password")
    assert isinstance(
        await login(sessionmaker, clock, "officer.yushan", "a-long-password"), SignedIn
    )


@pytest.mark.parametrize(
    ("username", "password", "role", "with_member", "with_branch", "expected"),
    [
        ("x", "a-long-password", Role.ADMIN, False, False, {"username": ErrorCode.INVALID}),
        ("Has Space", "a-long-password", Role.ADMIN, False, False, {"username": ErrorCode.INVALID}),
        ("admin", "a-long-password", Role.ADMIN, False, False, {"username": ErrorCode.DUPLICATE}),
        ("new.user", "short", Role.INSPECTOR, False, False, {"password": ErrorCode.INVALID}),
        ("new.user", "p" * 300, Role.INSPECTOR, False, False, {"password": ErrorCode.TOO_LONG}),
        (
            "new.user",
            "a-long-password",
            Role.OFFICER,
            False,
            True,
            {"memberId": ErrorCode.REQUIRED},
        ),
        (
            "new.user",
            "a-long-password",
            Role.SECRETARY,
            False,
            False,
            {"branchId": ErrorCode.REQUIRED},
        ),
    ],
)
async def test_create_account_rejects_bad_input_and_writes_nothing(
    sessionmaker: Sessionmaker,
    clock: FrozenClock,
    world: World,
    username: str,
    password: str,
    role: Role,
    with_member: bool,
    with_branch: bool,
    expected: dict[str | None, ErrorCode],
) -> None:
    before = await account_count(sessionmaker)
    with pytest.raises(InputError) as refused:
        async with writing(sessionmaker) as db:
            await ops.create_account(
                db,
                clock,
                username,
                password,
                role,
                member_id=world.yushan_member.id if with_member else None,
                branch_id=world.yushan.id if with_branch else None,
            )
    assert codes(refused.value) == expected
    assert await account_count(sessionmaker) == before


async def test_create_account_reports_every_problem_at_once(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    with pytest.raises(InputError) as refused:
        async with writing(sessionmaker) as db:
            await ops.create_account(
                db, clock, "admin", "short", Role.SECRETARY, uuid.uuid4(), uuid.uuid4()
            )
    assert codes(refused.value) == {
        "username": ErrorCode.DUPLICATE,
        "password": ErrorCode.INVALID,
        "memberId": ErrorCode.NOT_FOUND,
        "branchId": ErrorCode.NOT_FOUND,
    }


# Access tokens


def test_access_token_expiry_follows_the_clock(clock: FrozenClock) -> None:
    account_id, session_id = uuid.uuid4(), uuid.uuid4()
    token, expires = issue_access_token(
        DEV_SECRET_KEY, account_id, session_id, "admin", clock(), timedelta(minutes=15)
    )
    claims = decode_access_token(DEV_SECRET_KEY, token, clock() + timedelta(minutes=14))
    assert (claims.account_id, claims.session_id, claims.expires_at) == (
        account_id,
        session_id,
        expires,
    )
    with pytest.raises(TokenExpired):
        decode_access_token(DEV_SECRET_KEY, token, expires)


@pytest.mark.parametrize(
    "forge",
    ["other key", "none alg", "no sid", "bad sub", "other issuer", "bad exp", "garbage"],
)
def test_forged_or_malformed_access_tokens_are_refused(clock: FrozenClock, forge: str) -> None:
    now = int(clock().timestamp())
    claims: dict[str, object] = {
        "iss": "meijing",
        "sub": str(uuid.uuid4()),
        "sid": str(uuid.uuid4()),
        "exp": now + 600,
    }
    key = DEV_SECRET_KEY
    algorithm = "HS256"
    if forge == "other key":
        key = "another-secret-key-of-sufficient-length-0123456789"
    elif forge == "none alg":
        algorithm = "none"
    elif forge == "no sid":
        del claims["sid"]
    elif forge == "bad sub":
        claims["sub"] = "not-a-uuid"
    elif forge == "other issuer":
        claims["iss"] = "someone-else"
    elif forge == "bad exp":
        claims["exp"] = "tomorrow"
    token = (
        "not.a.jwt"
        if forge == "garbage"
        else jwt.encode(claims, None if algorithm == "none" else key, algorithm=algorithm)
    )
    with pytest.raises(TokenError) as refused:
        decode_access_token(DEV_SECRET_KEY, token, clock())
    assert not isinstance(refused.value, TokenExpired)


# Password change


async def change_password(
    sessionmaker: Sessionmaker,
    clock: FrozenClock,
    username: str,
    current: str,
    new: str,
    device_id: str | None = "web",
) -> SignedIn | AuthFailure:
    return await ops.change_password(
        sessionmaker, clock, POLICY, username, current, new, device_id, None
    )


async def test_a_password_change_ends_every_session_of_the_old_password(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    phone = await signed_in(sessionmaker, clock, "officer.meigui", device_id="phone")
    desk = await signed_in(sessionmaker, clock, "officer.meigui", device_id="desk")
    result = await change_password(
        sessionmaker, clock, "officer.meigui", TEST_PASSWORD, "a-new-password"
    )
    assert isinstance(result, SignedIn)
    assert set(result.replaced_session_ids) == {phone.session.id, desk.session.id}
    for ended in (phone, desk):
        assert (await get_session(sessionmaker, ended.session.id)).revoked_at == clock()
    assert (await get_session(sessionmaker, result.session.id)).revoked_at is None
    assert isinstance(
        await login(sessionmaker, clock, "officer.meigui", "a-new-password"), SignedIn
    )


async def test_a_password_change_is_a_try_against_the_lock(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    for _ in range(POLICY.max_failures):
        wrong = await change_password(
            sessionmaker, clock, "officer.meigui", "not-the-password", "a-new-password"
        )
        assert isinstance(wrong, AuthFailure) and wrong.code is ErrorCode.INVALID_CREDENTIALS
    locked = await change_password(
        sessionmaker, clock, "officer.meigui", TEST_PASSWORD, "a-new-password"
    )
    assert isinstance(locked, AuthFailure) and locked.code is ErrorCode.ACCOUNT_LOCKED
    account = await get_account(sessionmaker, world.officer.id)
    assert await verify_password(account.password_hash, TEST_PASSWORD)


async def test_a_bad_new_password_takes_no_try(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    with pytest.raises(InputError) as refused:
        await change_password(sessionmaker, clock, "officer.meigui", "whatever", "short")
    assert codes(refused.value) == {"newPassword": ErrorCode.INVALID}
    assert (await get_account(sessionmaker, world.officer.id)).failed_logins == 0


async def test_a_disabled_account_cannot_change_its_password(
    sessionmaker: Sessionmaker, clock: FrozenClock, make: Builders
) -> None:
    await make.account(Role.INSPECTOR, username="gone.wang", disabled=True)
    result = await change_password(sessionmaker, clock, "gone.wang", TEST_PASSWORD, "new-pass-12")
    assert isinstance(result, AuthFailure) and result.code is ErrorCode.ACCOUNT_DISABLED
