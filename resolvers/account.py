"""Accounts: sign-in, password change, refresh, per-device sessions and the viewer behind a token."""

from __future__ import annotations

import dataclasses
import math
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, case, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from access.errors import Collector, ErrorCode, Forbidden, InputError
from access.viewer import Viewer
from core.clock import Clock
from core.db import Sessionmaker, writing
from core.ids import new_id
from core.security import (
    digest,
    hash_password,
    issue_access_token,
    needs_rehash,
    new_refresh_secret,
    next_refresh_secret,
    verify_password,
)
from models import Account, AccountAction, Branch, DeviceSession, Member, Role
from models.base import UTCDateTime
from resolvers.account_audit import record_action

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
MIN_PASSWORD_LENGTH = 8
# Room for any passphrase or password-manager output.
MAX_PASSWORD_LENGTH = 128
# Fits the `device_session` columns.
MAX_DEVICE_LENGTH = 100
# A phone whose refresh response was lost may present the token it just replaced.
REFRESH_GRACE = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class AuthPolicy:
    secret_key: str
    access_lifetime: timedelta
    refresh_lifetime: timedelta
    max_failures: int
    lock_duration: timedelta


@dataclass(frozen=True, slots=True)
class SignedIn:
    account: Account
    session: DeviceSession
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    # Sessions this sign-in ended (the same device signing in again): caches must forget them.
    replaced_session_ids: tuple[uuid.UUID, ...] = ()


@dataclass(frozen=True, slots=True)
class AuthFailure:
    """An expected refusal that still changes state (a failure count, a revoked session)."""

    code: ErrorCode
    message: str
    field: str | None = None
    retry_after: datetime | None = None
    # Set when the refusal ended a session (a reused refresh token): caches must forget it.
    revoked_session_id: uuid.UUID | None = None


async def _start_session(
    db: AsyncSession,
    policy: AuthPolicy,
    now: datetime,
    account: Account,
    device_id: str,
    device_name: str | None,
) -> SignedIn:
    # One live session per device: signing in again on a phone replaces its old session.
    replaced = await db.scalars(
        update(DeviceSession)
        .where(
            DeviceSession.account_id == account.id,
            DeviceSession.device_id == device_id,
            DeviceSession.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .returning(DeviceSession.id)
        .execution_options(synchronize_session=False)
    )
    replaced_ids = tuple(replaced.all())
    secret = new_refresh_secret()
    session = DeviceSession(
        id=new_id(),
        account_id=account.id,
        device_id=device_id,
        device_name=device_name,
        refresh_hash=digest(secret),
        previous_refresh_hash=None,
        rotated_at=now,
        created_at=now,
        last_seen_at=now,
        expires_at=now + policy.refresh_lifetime,
        revoked_at=None,
    )
    db.add(session)
    return _tokens(policy, now, account, session, secret, replaced_ids)


def _tokens(
    policy: AuthPolicy,
    now: datetime,
    account: Account,
    session: DeviceSession,
    secret: str,
    replaced_ids: tuple[uuid.UUID, ...] = (),
) -> SignedIn:
    token, expires = issue_access_token(
        policy.secret_key, account.id, session.id, account.role.value, now, policy.access_lifetime
    )
    return SignedIn(account, session, token, expires, f"{session.id}.{secret}", replaced_ids)


def _locked(locked_until: datetime, now: datetime) -> AuthFailure:
    minutes = max(1, math.ceil((locked_until - now).total_seconds() / 60))
    return AuthFailure(
        ErrorCode.ACCOUNT_LOCKED,
        f"密码错误次数过多,请 {minutes} 分钟后再试 (too many failures; try again in {minutes} min)",
        retry_after=locked_until,
    )


@dataclass(frozen=True, slots=True)
class _Try:
    """One of an account's `max_failures` tries, reserved before its password is checked."""

    account_id: uuid.UUID
    password_hash: str
    # The account's count of reserved tries, this one included.
    number: int


async def _reserve_try(
    db: AsyncSession, policy: AuthPolicy, now: datetime, username: str
) -> _Try | AuthFailure | None:
    """Takes one try of the account, or says it is locked; None for an unknown username.

    One conditional UPDATE, so guesses sent in parallel cannot all read the same count: the
    database applies them one after another, each to the row the last one left. The try that
    uses up the last allowed one locks the account at once, before its password is checked.
    Every SET expression sees the row as it was, so both columns test the same count.
    """
    # A lock the WHERE clause lets through has run out: a new round of tries starts.
    lock_over = Account.locked_until.is_not(None)
    tries = case((lock_over, 1), else_=Account.failed_logins + 1)
    lock_until = literal(now + policy.lock_duration, UTCDateTime())
    reserved = (
        await db.execute(
            update(Account)
            .where(
                Account.username == username,
                Account.locked_until.is_(None) | (Account.locked_until <= now),
            )
            .values(
                failed_logins=tries,
                locked_until=case((tries >= policy.max_failures, lock_until), else_=None),
            )
            .returning(Account.id, Account.password_hash, Account.failed_logins)
            .execution_options(synchronize_session=False)
        )
    ).first()
    if reserved is not None:
        return _Try(*reserved)
    locked = (
        await db.execute(select(Account.locked_until).where(Account.username == username))
    ).first()
    if locked is None:
        return None
    # A right password may have lifted the lock since the UPDATE: then wait a minute.
    return _locked(locked.locked_until or now, now)


def _clean_device(value: str | None) -> str | None:
    return (value or "").strip()[:MAX_DEVICE_LENGTH].strip() or None


async def _check_password(
    sessionmaker: Sessionmaker, policy: AuthPolicy, now: datetime, name: str, password: str
) -> _Try | AuthFailure:
    """Reserves a try (see `login`) and checks the password; the try if it was right."""
    async with writing(sessionmaker) as db:
        reserved = await _reserve_try(db, policy, now, name)
    if isinstance(reserved, AuthFailure):
        return reserved
    ok = await verify_password(reserved.password_hash if reserved else None, password)
    if reserved is None or not ok:
        return AuthFailure(
            ErrorCode.INVALID_CREDENTIALS,
            "用户名或密码错误 (wrong username or password)",
            "password",
        )
    return reserved


async def _give_back_tries(db: AsyncSession, reserved: _Try) -> Account:
    """After a right password: gives back its try and every one reserved before it, lifts the
    lock, and returns the account as it now stands."""
    await db.execute(
        update(Account)
        .where(Account.id == reserved.account_id)
        .values(
            failed_logins=case(
                (
                    Account.failed_logins > reserved.number,
                    Account.failed_logins - reserved.number,
                ),
                else_=0,
            ),
            locked_until=None,
        )
        .execution_options(synchronize_session=False)
    )
    account = await db.get(Account, reserved.account_id, populate_existing=True)
    assert account is not None, "accounts are never deleted"
    return account


def _disabled() -> AuthFailure:
    return AuthFailure(ErrorCode.ACCOUNT_DISABLED, "账号已停用 (account disabled)")


async def login(
    sessionmaker: Sessionmaker,
    clock: Clock,
    policy: AuthPolicy,
    username: str,
    password: str,
    device_id: str | None,
    device_name: str | None,
) -> SignedIn | AuthFailure:
    """Checks the password; after `max_failures` wrong ones the account locks for a while.

    Each guess reserves one of the account's tries and commits that before argon2 runs, so
    however many guesses arrive at once, at most `max_failures` are ever checked before the
    lock, and a right password that comes after the lock is refused like any other. argon2
    runs outside any transaction: no row lock is held while it works. A right password gives
    back its own try and every one reserved before it; tries reserved after it stay counted.

    An unknown username and a wrong password get the same answer, after the same argon2 work.
    A disabled account says so only to someone who knows its password, and so does an account
    whose password an admin reset (PASSWORD_CHANGE_REQUIRED: sign in with `change_password`).
    """
    now = clock()
    name = username.strip().lower()
    reserved = await _check_password(sessionmaker, policy, now, name, password)
    if isinstance(reserved, AuthFailure):
        return reserved
    # Hashed before the transaction, whose UPDATE holds the account's row until it commits.
    rehashed = await hash_password(password) if needs_rehash(reserved.password_hash) else None
    async with writing(sessionmaker) as db:
        account = await _give_back_tries(db, reserved)
        if account.disabled:
            return _disabled()
        if account.must_change_password:
            return AuthFailure(
                ErrorCode.PASSWORD_CHANGE_REQUIRED,
                "密码已被管理员重置,请先修改密码 (password was reset; change it to sign in)",
                "password",
            )
        account.last_login_at = now
        if rehashed is not None:
            account.password_hash = rehashed
        device = _clean_device(device_id) or "web"
        return await _start_session(db, policy, now, account, device, _clean_device(device_name))


async def change_password(
    sessionmaker: Sessionmaker,
    clock: Clock,
    policy: AuthPolicy,
    username: str,
    current_password: str,
    new_password: str,
    device_id: str | None,
    device_name: str | None,
) -> SignedIn | AuthFailure:
    """Replaces a password and signs in with the new one; the way in after an admin's reset.

    Needs no token: the current password proves who is asking, checked like a sign-in (it
    takes one of the account's tries, and a locked account stays locked). Every session signed
    in with the old password ends. A new password that breaks the rules is an InputError,
    raised before any try is taken.
    """
    errors = Collector()
    check_password_rules(errors, "newPassword", new_password)
    if new_password == current_password:
        errors.add(
            "newPassword",
            "新密码不能与当前密码相同 (the new password must differ from the current one)",
            ErrorCode.INVALID,
        )
    errors.raise_if_any()
    now = clock()
    name = username.strip().lower()
    reserved = await _check_password(sessionmaker, policy, now, name, current_password)
    if isinstance(reserved, AuthFailure):
        return reserved
    new_hash = await hash_password(new_password)
    async with writing(sessionmaker) as db:
        account = await _give_back_tries(db, reserved)
        if account.disabled:
            return _disabled()
        account.password_hash = new_hash
        account.must_change_password = False
        account.last_login_at = now
        ended = await end_sessions(db, account.id, now)
        record_action(db, account.id, AccountAction.PASSWORD_CHANGED, account.id, now)
        device = _clean_device(device_id) or "web"
        signed = await _start_session(db, policy, now, account, device, _clean_device(device_name))
        return dataclasses.replace(signed, replaced_session_ids=ended)


async def end_sessions(
    db: AsyncSession, account_id: uuid.UUID, now: datetime
) -> tuple[uuid.UUID, ...]:
    """Revokes every live session of an account; returns their ids (caches must forget them)."""
    ended = await db.scalars(
        update(DeviceSession)
        .where(DeviceSession.account_id == account_id, DeviceSession.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(DeviceSession.id)
        .execution_options(synchronize_session=False)
    )
    return tuple(ended.all())


async def refresh(
    db: AsyncSession, clock: Clock, policy: AuthPolicy, refresh_token: str
) -> SignedIn | AuthFailure:
    """Trades a refresh token for new tokens, rotating it. A replayed old token ends the session.

    Each refresh secret is derived from the one it replaces, so presenting the replaced token
    again within `REFRESH_GRACE` (a phone whose answer was lost, or that sent two refreshes at
    once) gets the very same new refresh token back. Any other stale token means a copy is in
    someone else's hands: the session is revoked and the device must sign in again.

    A session that has ended is named as such (SESSION_EXPIRED, SESSION_REVOKED,
    ACCOUNT_DISABLED) only to the holder of its current or just-replaced token; anyone else
    gets INVALID_TOKEN and learns nothing about it.
    """
    now = clock()
    invalid = AuthFailure(
        ErrorCode.INVALID_TOKEN, "登录已失效,请重新登录 (sign in again)", "refreshToken"
    )
    session_part, _, secret = refresh_token.partition(".")
    try:
        session_id = uuid.UUID(session_part)
    except ValueError:
        return invalid
    if not secret:
        return invalid
    presented = digest(secret)
    successor = next_refresh_secret(policy.secret_key, session_id, secret)
    query = (
        select(DeviceSession, Account)
        .join(Account, Account.id == DeviceSession.account_id)
        .where(DeviceSession.id == session_id)
        .execution_options(populate_existing=True)
    )
    # Rotation is a compare-and-swap on the current hash: when refreshes race, the losers
    # re-read the winner's rotation and are answered as retries within the grace window.
    for _ in range(3):
        row = (await db.execute(query)).first()
        if row is None:
            return invalid
        session, account = row
        ended = _session_ended(session, account, now)
        if ended is not None:
            holder = presented in (session.refresh_hash, session.previous_refresh_hash)
            return ended if holder else invalid
        current = session.refresh_hash
        if presented == session.previous_refresh_hash and now - session.rotated_at <= REFRESH_GRACE:
            if digest(successor) != current:
                # Rotated under another secret key: cannot answer alike, but no sign of theft.
                return invalid
            session.last_seen_at = now
            return _tokens(policy, now, account, session, successor)
        if presented != current:
            # A token that was already rotated away is being reused: assume it was stolen.
            session.revoked_at = now
            return dataclasses.replace(_revoked(), revoked_session_id=session.id)
        values = {
            "previous_refresh_hash": current,
            "refresh_hash": digest(successor),
            "rotated_at": now,
            "last_seen_at": now,
            "expires_at": now + policy.refresh_lifetime,
        }
        rotated = await db.scalar(
            update(DeviceSession)
            .where(
                DeviceSession.id == session.id,
                DeviceSession.refresh_hash == current,
                DeviceSession.revoked_at.is_(None),
            )
            .values(values)
            .returning(DeviceSession.id)
            .execution_options(synchronize_session=False)
        )
        if rotated is not None:
            for key, value in values.items():
                set_committed_value(session, key, value)
            return _tokens(policy, now, account, session, successor)
    return invalid


def _revoked() -> AuthFailure:
    return AuthFailure(
        ErrorCode.SESSION_REVOKED,
        "该设备已退出登录,请重新登录 (session revoked; sign in again)",
        "refreshToken",
    )


def _session_ended(session: DeviceSession, account: Account, now: datetime) -> AuthFailure | None:
    """Why a session can no longer be refreshed, or None while it can."""
    if session.revoked_at is not None:
        return _revoked()
    if account.disabled:
        return AuthFailure(
            ErrorCode.ACCOUNT_DISABLED, "账号已停用 (account disabled)", "refreshToken"
        )
    if session.expires_at <= now:
        return AuthFailure(
            ErrorCode.SESSION_EXPIRED,
            "登录已过期,请重新登录 (session expired; sign in again)",
            "refreshToken",
        )
    return None


def check_password_rules(errors: Collector, field: str, password: str) -> None:
    """Records on `field` a password too short or too long for the rules."""
    if len(password) < MIN_PASSWORD_LENGTH:
        errors.add(
            field,
            f"密码至少 {MIN_PASSWORD_LENGTH} 位 (at least {MIN_PASSWORD_LENGTH} characters)",
            ErrorCode.INVALID,
        )
    elif len(password) > MAX_PASSWORD_LENGTH:
        errors.add(
            field,
            f"密码最多 {MAX_PASSWORD_LENGTH} 位 (at most {MAX_PASSWORD_LENGTH} characters)",
            ErrorCode.TOO_LONG,
        )


async def create_account(
    db: AsyncSession,
    clock: Clock,
    username: str,
    password: str,
    role: Role,
    member_id: uuid.UUID | None = None,
    branch_id: uuid.UUID | None = None,
) -> Account:
    """Adds an account. Secretaries need a branch (or a member), officers a member."""
    errors = Collector()
    name = username.strip().lower()
    if not USERNAME_RE.match(name):
        errors.add(
            "username",
            "用户名须为 3-64 位小写字母、数字或 ._- (3 to 64 of a-z 0-9 . _ -)",
            ErrorCode.INVALID,
        )
    elif await db.scalar(select(Account.id).where(Account.username == name)) is not None:
        errors.add("username", "用户名已存在 (username taken)", ErrorCode.DUPLICATE)
    check_password_rules(errors, "password", password)
    if member_id is not None and await db.get(Member, member_id) is None:
        errors.add("memberId", "党员不存在 (member not found)", ErrorCode.NOT_FOUND)
    if branch_id is not None and await db.get(Branch, branch_id) is None:
        errors.add("branchId", "组织不存在 (branch not found)", ErrorCode.NOT_FOUND)
    if role is Role.OFFICER and member_id is None:
        errors.add(
            "memberId", "民警账号须关联党员 (an officer account needs a member)", ErrorCode.REQUIRED
        )
    if role is Role.SECRETARY and member_id is None and branch_id is None:
        errors.add(
            "branchId",
            "书记账号须指定支部 (a secretary account needs a branch)",
            ErrorCode.REQUIRED,
        )
    errors.raise_if_any()
    account = Account(
        id=new_id(),
        username=name,
        password_hash=await hash_password(password),
        role=role,
        member_id=member_id,
        branch_id=branch_id,
        disabled=False,
        failed_logins=0,
        created_at=clock(),
    )
    db.add(account)
    await db.flush()
    return account


async def list_sessions(
    db: AsyncSession,
    viewer: Viewer,
    account_id: uuid.UUID | None,
    now: datetime | None = None,
) -> Sequence[DeviceSession]:
    """Live sessions of an account: one's own, or anyone's for an admin.

    Given `now`, sessions whose refresh token has expired are left out too.
    """
    target = account_id or viewer.account_id
    if target != viewer.account_id:
        viewer.require_admin()
    query = _live_sessions(target, now).order_by(
        DeviceSession.last_seen_at.desc(), DeviceSession.id
    )
    return (await db.scalars(query)).all()


def _live_sessions(account_id: uuid.UUID | None, now: datetime | None) -> Select[DeviceSession]:
    """Live sessions: of one account, or of every account when `account_id` is None."""
    query = select(DeviceSession).where(DeviceSession.revoked_at.is_(None))
    if account_id is not None:
        query = query.where(DeviceSession.account_id == account_id)
    return query if now is None else query.where(DeviceSession.expires_at > now)


async def get_visible_session(
    db: AsyncSession, viewer: Viewer, session_id: uuid.UUID, now: datetime
) -> DeviceSession | None:
    """One of the viewer's own live sessions (what `me.sessions` lists), or for an admin any
    live session (what `accountSessions` lists); else None."""
    owner = None if viewer.is_admin else viewer.account_id
    query = _live_sessions(owner, now).where(DeviceSession.id == session_id)
    return (await db.scalars(query)).one_or_none()


async def get_own_account(
    db: AsyncSession, viewer: Viewer, account_id: uuid.UUID
) -> Account | None:
    """The viewer's own account (what `me.account` shows), or any for an admin; else None."""
    if account_id != viewer.account_id and not viewer.is_admin:
        return None
    return await db.get(Account, account_id)


async def revoke_session(
    db: AsyncSession, viewer: Viewer, clock: Clock, session_id: uuid.UUID
) -> DeviceSession:
    """Signs one device out: its refresh token stops working and its access token is refused."""
    session = await db.get(DeviceSession, session_id)
    if session is None:
        raise InputError.one("sessionId", "会话不存在 (session not found)", ErrorCode.NOT_FOUND)
    if session.account_id != viewer.account_id and not viewer.is_admin:
        raise Forbidden()
    if session.revoked_at is None:
        session.revoked_at = clock()
        detail = session.device_name or session.device_id
        record_action(
            db,
            viewer.account_id,
            AccountAction.SESSION_REVOKED,
            session.account_id,
            session.revoked_at,
            detail,
        )
    await db.flush()
    return session
