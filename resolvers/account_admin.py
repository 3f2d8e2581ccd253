"""Account administration (admins only): the list of accounts, disabling and enabling one,
resetting a password, changing a role, creating one. Each change is recorded in the audit
trail (resolvers/account_audit.py) in its own transaction.

An admin cannot disable their own account or change their own role: the county must never be
left without an admin by a slip of the mouse. Changes that end a user's access (disabling, a
password reset) revoke every live session of the account; the caller then forgets the
account's cached viewers (`ViewerCache.forget_account`), as it does after a role change.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from access.errors import Collector, ErrorCode, InputError
from access.viewer import Viewer
from core.clock import Clock
from core.security import hash_password
from models import Account, AccountAction, Branch, DeviceSession, Member, Role
from resolvers import account as account_ops
from resolvers.account import check_password_rules, end_sessions
from resolvers.account_audit import record_action
from resolvers.pagination import Page, PageRequest, cursor_values, encode_cursor

# A search shorter than this would match nearly everything; longer than a username is useless.
MAX_SEARCH = 64


@dataclass(frozen=True, slots=True)
class AccountFilter:
    """Every filter given narrows the list."""

    roles: tuple[Role, ...] = ()
    # Part of the username or of the member's name.
    search: str | None = None
    disabled: bool | None = None


@dataclass(frozen=True, slots=True)
class AccountRecord:
    """An account with how many of its sessions are live (neither revoked nor expired)."""

    row: Account
    open_sessions: int


def open_sessions_of(account_id: Any, now: datetime) -> ColumnElement[int]:
    """The number of live sessions of an account, as a correlated SQL expression."""
    return (
        select(func.count())
        .where(
            DeviceSession.account_id == account_id,
            DeviceSession.revoked_at.is_(None),
            DeviceSession.expires_at > now,
        )
        .scalar_subquery()
    )


def _filtered(query: Select[Any], viewer: Viewer, flt: AccountFilter) -> Select[Any]:
    viewer.require_admin()
    if flt.roles:
        query = query.where(Account.role.in_(list(flt.roles)))
    if flt.disabled is not None:
        query = query.where(Account.disabled == flt.disabled)
    search = (flt.search or "").strip()
    if search:
        if len(search) > MAX_SEARCH:
            raise InputError.one(
                "search",
                f"最多 {MAX_SEARCH} 个字符 (at most {MAX_SEARCH} characters)",
                ErrorCode.TOO_LONG,
            )
        named = select(Member.id).where(Member.name.contains(search, autoescape=True))
        query = query.where(
            or_(
                Account.username.contains(search.lower(), autoescape=True),
                Account.member_id.in_(named),
            )
        )
    return query


async def list_accounts(
    db: AsyncSession, viewer: Viewer, flt: AccountFilter, page: PageRequest, now: datetime
) -> Page[AccountRecord]:
    """Accounts by username, each with its count of live sessions (admins only)."""
    listed = cast("Select[Any]", select(Account, open_sessions_of(Account.id, now)))
    query = _filtered(listed, viewer, flt)
    if page.after is not None:
        username, last_id = cursor_values(page.after, str, uuid.UUID)
        key: ColumnElement[Any] = tuple_(Account.username, Account.id)
        query = query.where(key > tuple_(username, last_id))
    query = query.order_by(Account.username, Account.id).limit(page.first + 1)
    rows = [AccountRecord(row, int(count)) for row, count in await db.execute(query)]
    items = rows[: page.first]
    return Page(
        items=items,
        cursors=[encode_cursor([r.row.username, str(r.row.id)]) for r in items],
        has_next_page=len(rows) > page.first,
        has_previous_page=page.after is not None,
    )


async def count_accounts(db: AsyncSession, viewer: Viewer, flt: AccountFilter) -> int:
    """How many accounts match the filter (admins only)."""
    query = _filtered(select(func.count()).select_from(Account), viewer, flt)
    return int((await db.execute(query)).scalar_one())


async def count_open_sessions(db: AsyncSession, account_id: uuid.UUID, now: datetime) -> int:
    """How many live sessions one account has."""
    return int(await db.scalar(select(open_sessions_of(account_id, now))) or 0)


async def _managed(db: AsyncSession, viewer: Viewer, account_id: uuid.UUID) -> Account:
    viewer.require_admin()
    account = await db.get(Account, account_id, with_for_update=True)
    if account is None:
        raise InputError.one("accountId", "账号不存在 (account not found)", ErrorCode.NOT_FOUND)
    return account


def _not_own(viewer: Viewer, account: Account, what: str) -> None:
    if account.id == viewer.account_id:
        raise InputError.one(
            "accountId",
            f"不能{what}自己的账号 (not on your own account)",
            ErrorCode.INVALID,
        )


async def set_account_disabled(
    db: AsyncSession, viewer: Viewer, now: datetime, account_id: uuid.UUID, disabled: bool
) -> Account:
    """Disables an account (it can no longer sign in or refresh, and its sessions end) or
    enables it again (its ended sessions stay ended). Asking for the state it is in changes
    nothing and records nothing."""
    account = await _managed(db, viewer, account_id)
    _not_own(viewer, account, "停用")
    if account.disabled == disabled:
        return account
    account.disabled = disabled
    if disabled:
        ended = await end_sessions(db, account.id, now)
        detail = f"结束 {len(ended)} 个会话 ({len(ended)} sessions ended)"
        record_action(db, viewer.account_id, AccountAction.DISABLED, account.id, now, detail)
    else:
        record_action(db, viewer.account_id, AccountAction.ENABLED, account.id, now)
    await db.flush()
    return account


async def reset_password(
    db: AsyncSession,
    viewer: Viewer,
    now: datetime,
    account_id: uuid.UUID,
    temporary_password: str,
) -> Account:
    """Sets a temporary password the user must change at their next sign-in (sign-in answers
    PASSWORD_CHANGE_REQUIRED until they do, through `change_password`). The account is
    unlocked and every session of it ends."""
    viewer.require_admin()
    errors = Collector()
    check_password_rules(errors, "temporaryPassword", temporary_password)
    errors.raise_if_any()
    # argon2 before the row lock: the transaction holds nothing while it works.
    password_hash = await hash_password(temporary_password)
    account = await _managed(db, viewer, account_id)
    account.password_hash = password_hash
    account.must_change_password = True
    account.failed_logins = 0
    account.locked_until = None
    ended = await end_sessions(db, account.id, now)
    detail = f"结束 {len(ended)} 个会话 ({len(ended)} sessions ended)"
    record_action(db, viewer.account_id, AccountAction.PASSWORD_RESET, account.id, now, detail)
    await db.flush()
    return account


async def change_role(
    db: AsyncSession,
    viewer: Viewer,
    now: datetime,
    account_id: uuid.UUID,
    role: Role,
    branch_id: uuid.UUID | None = None,
) -> Account:
    """Gives an account another role (and, given `branch_id`, another scope branch), under the
    rules `create_account` applies: an officer needs a member, a secretary a branch or a
    member. Takes effect at the account's next request; its sessions stay signed in."""
    account = await _managed(db, viewer, account_id)
    _not_own(viewer, account, "变更")
    errors = Collector()
    branch = await db.get(Branch, branch_id) if branch_id is not None else None
    if branch_id is not None and branch is None:
        errors.add("branchId", "组织不存在 (branch not found)", ErrorCode.NOT_FOUND)
    scope = branch_id if branch_id is not None else account.branch_id
    if role is Role.OFFICER and account.member_id is None:
        errors.add(
            "role", "民警账号须关联党员 (an officer account needs a member)", ErrorCode.REQUIRED
        )
    if role is Role.SECRETARY and account.member_id is None and scope is None:
        errors.add(
            "branchId",
            "书记账号须指定支部 (a secretary account needs a branch)",
            ErrorCode.REQUIRED,
        )
    errors.raise_if_any()
    if account.role is role and scope == account.branch_id:
        return account
    detail = f"{account.role.label} → {role.label}"
    if branch is not None and scope != account.branch_id:
        detail += f" ({branch.name})"
    account.role = role
    account.branch_id = scope
    record_action(db, viewer.account_id, AccountAction.ROLE_CHANGED, account.id, now, detail)
    await db.flush()
    return account


async def add_account(
    db: AsyncSession,
    viewer: Viewer,
    clock: Clock,
    username: str,
    password: str,
    role: Role,
    member_id: uuid.UUID | None = None,
    branch_id: uuid.UUID | None = None,
) -> Account:
    """`create_account` by an admin, recorded in the audit trail."""
    viewer.require_admin()
    account = await account_ops.create_account(
        db, clock, username, password, role, member_id=member_id, branch_id=branch_id
    )
    record_action(db, viewer.account_id, AccountAction.CREATED, account.id, account.created_at)
    await db.flush()
    return account
