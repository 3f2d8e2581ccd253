"""GraphQL surface of account administration (admins only; others get FORBIDDEN): the list of
accounts, an account's sessions, disabling, enabling, password resets, role changes, and the
audit trail that records each of them."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from access.errors import from_global_id, optional_global_id
from access.viewer import Viewer
from models import Account as AccountRow
from models import AccountAction, Role
from resolvers import account as account_ops
from resolvers import account_admin as ops
from resolvers import account_audit as audit_ops
from resolvers.account_admin import AccountFilter
from resolvers.account_audit import AuditFilter, AuditRecord
from schema.account import Account, AccountPayload, AccountResult, DeviceSession
from schema.connection import Connection, connection_from_page, page_of
from schema.context import Info
from schema.errors import read, write
from schema.node import Node, register_node, to_global_id

AccountActionEnum = strawberry.enum(
    AccountAction,
    name="AccountAction",
    description=(
        "created 创建账号 · disabled 停用账号 · enabled 启用账号 · password_reset 重置密码 · "
        "password_changed 修改密码 · role_changed 变更角色 · session_revoked 注销会话"
    ),
)


@strawberry.type(description="One entry of the account audit trail: who did what to whom, when.")
class AccountAuditEntry(Node):
    at: datetime
    action: AccountAction
    action_label: str
    actor: Account = strawberry.field(description="Who acted.")
    account: Account = strawberry.field(description="The account acted on.")
    detail: str | None = strawberry.field(
        description="What changed: 民警 → 支部书记, the device signed out, sessions ended."
    )

    @classmethod
    def from_record(cls, record: AuditRecord) -> AccountAuditEntry:
        row = record.row
        return cls(
            id=to_global_id("AccountAuditEntry", row.id),
            at=row.at,
            action=row.action,
            action_label=row.action.label,
            actor=Account.from_model(record.actor),
            account=Account.from_model(record.account),
            detail=row.detail,
        )


@strawberry.input
class ResetPasswordInput:
    account_id: strawberry.ID
    temporary_password: str = strawberry.field(
        description="Tell it to the user; they must replace it at their next sign-in."
    )


@strawberry.input
class ChangeRoleInput:
    account_id: strawberry.ID
    role: Role
    branch_id: strawberry.ID | None = strawberry.field(
        default=None, description="A secretary's scope branch; left out, the account's stays."
    )


@strawberry.type
class AccountAdminQuery:
    @strawberry.field(
        description="Accounts by username, with role, member, last sign-in, lock and live "
        "session count (admins)."
    )
    async def accounts(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        roles: list[Role] | None = None,
        search: Annotated[
            str | None,
            strawberry.argument(description="Part of the username or of the member's name."),
        ] = None,
        disabled: bool | None = None,
    ) -> Connection[Account]:
        request = page_of(info, first, after)
        flt = AccountFilter(tuple(roles or ()), search, disabled)
        now = info.context.clock()
        page = await read(info, lambda db, v: ops.list_accounts(db, v, flt, request, now))
        return connection_from_page(
            page,
            [Account.from_model(r.row, r.open_sessions) for r in page.items],
            lambda: read(info, lambda db, v: ops.count_accounts(db, v, flt)),
        )

    @strawberry.field(description="An account's live sessions, most recently seen first (admins).")
    async def account_sessions(self, info: Info, account_id: strawberry.ID) -> list[DeviceSession]:
        info.context.require_viewer().require_admin()
        target = from_global_id(account_id, "Account", "accountId")
        now = info.context.clock()
        rows = await read(info, lambda db, v: account_ops.list_sessions(db, v, target, now))
        return [DeviceSession.from_model(r) for r in rows]

    @strawberry.field(description="The account audit trail, newest first (admins).")
    async def account_audit(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        account_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only actions on this account.")
        ] = None,
        actions: list[AccountAction] | None = None,
    ) -> Connection[AccountAuditEntry]:
        info.context.require_viewer().require_admin()
        request = page_of(info, first, after)
        flt = AuditFilter(
            optional_global_id(account_id, "Account", "accountId"), tuple(actions or ())
        )
        page = await read(info, lambda db, v: audit_ops.list_audit(db, v, flt, request))
        return connection_from_page(
            page,
            [AccountAuditEntry.from_record(r) for r in page.items],
            lambda: read(info, lambda db, v: audit_ops.count_audit(db, v, flt)),
        )


# One admin change: (session, viewer, now, account id) to the changed account row.
AccountChange = Callable[[AsyncSession, Viewer, datetime, uuid.UUID], Awaitable[AccountRow]]


async def _changed(info: Info, account_id: strawberry.ID, change: AccountChange) -> AccountResult:
    """Runs one admin change on an account, then makes its cached viewers go: a disabled
    account's sessions, and a new role, take effect at the very next request here."""
    changed: list[uuid.UUID] = []

    async def run(db: AsyncSession, viewer: Viewer) -> AccountPayload:
        target = from_global_id(account_id, "Account", "accountId")
        row = await change(db, viewer, info.context.clock(), target)
        changed.append(row.id)
        return AccountPayload(account=Account.from_model(row))

    result = await write(info, run)
    # Only once committed: a request in between could otherwise cache the old viewer again.
    for target in changed:
        info.context.viewer_cache.forget_account(target)
    return result


@strawberry.type
class AccountAdminMutation:
    @strawberry.mutation(
        description="停用: the account can no longer sign in or refresh; its sessions end (admins)."
    )
    async def disable_account(self, info: Info, account_id: strawberry.ID) -> AccountResult:
        return await _changed(
            info, account_id, lambda db, v, now, a: ops.set_account_disabled(db, v, now, a, True)
        )

    @strawberry.mutation(description="启用: the account may sign in again (admins).")
    async def enable_account(self, info: Info, account_id: strawberry.ID) -> AccountResult:
        return await _changed(
            info, account_id, lambda db, v, now, a: ops.set_account_disabled(db, v, now, a, False)
        )

    @strawberry.mutation(
        description="重置密码: sets a temporary password the user must change at their next "
        "sign-in; unlocks the account and ends its sessions (admins)."
    )
    async def reset_password(self, info: Info, input: ResetPasswordInput) -> AccountResult:
        password = input.temporary_password
        return await _changed(
            info,
            input.account_id,
            lambda db, v, now, a: ops.reset_password(db, v, now, a, password),
        )

    @strawberry.mutation(
        description="变更角色: takes effect at the account's next request (admins)."
    )
    async def change_role(self, info: Info, input: ChangeRoleInput) -> AccountResult:
        role = input.role
        branch = input.branch_id

        async def change(
            db: AsyncSession, viewer: Viewer, now: datetime, target: uuid.UUID
        ) -> AccountRow:
            branch_id = optional_global_id(branch, "Branch", "branchId")
            return await ops.change_role(db, viewer, now, target, role, branch_id)

        return await _changed(info, input.account_id, change)


async def _audit_node(info: Info, entry_id: uuid.UUID) -> AccountAuditEntry | None:
    row = await read(info, lambda db, viewer: audit_ops.get_audit(db, viewer, entry_id))
    return AccountAuditEntry.from_record(row) if row else None


register_node("AccountAuditEntry", AccountAuditEntry, _audit_node)
