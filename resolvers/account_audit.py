"""The audit trail of account administration: who did what to which account, and when."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from access.viewer import Viewer
from core.ids import new_id
from models import Account, AccountAction, AccountAudit
from resolvers.pagination import Page, PageRequest, aware_datetime, cursor_values, encode_cursor

# Fits the `account_audit.detail` column.
MAX_DETAIL = 200


def record_action(
    db: AsyncSession,
    actor_id: uuid.UUID,
    action: AccountAction,
    account_id: uuid.UUID,
    at: datetime,
    detail: str | None = None,
) -> AccountAudit:
    """Adds one entry to the trail, in the transaction of the action it records: the action and
    its record are committed together or not at all."""
    entry = AccountAudit(
        id=new_id(),
        at=at,
        actor_id=actor_id,
        action=action,
        account_id=account_id,
        detail=detail[:MAX_DETAIL] if detail else None,
    )
    db.add(entry)
    return entry


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """An entry with the accounts of who acted and on whom."""

    row: AccountAudit
    actor: Account
    account: Account


@dataclass(frozen=True, slots=True)
class AuditFilter:
    account_id: uuid.UUID | None = None
    actions: tuple[AccountAction, ...] = ()


_actor = aliased(Account)
_target = aliased(Account)


def _with_accounts() -> Select[Any]:
    return cast(
        "Select[Any]",
        select(AccountAudit, _actor, _target)
        .join(_actor, _actor.id == AccountAudit.actor_id)
        .join(_target, _target.id == AccountAudit.account_id),
    )


def _filtered(query: Select[Any], viewer: Viewer, flt: AuditFilter) -> Select[Any]:
    viewer.require_admin()
    if flt.account_id is not None:
        query = query.where(AccountAudit.account_id == flt.account_id)
    if flt.actions:
        query = query.where(AccountAudit.action.in_(list(flt.actions)))
    return query


async def list_audit(
    db: AsyncSession, viewer: Viewer, flt: AuditFilter, page: PageRequest
) -> Page[AuditRecord]:
    """The trail, newest first (admins only)."""
    query = _filtered(_with_accounts(), viewer, flt)
    if page.after is not None:
        moment, last_id = cursor_values(page.after, aware_datetime, uuid.UUID)
        key: ColumnElement[Any] = tuple_(AccountAudit.at, AccountAudit.id)
        query = query.where(key < tuple_(moment, last_id))
    query = query.order_by(AccountAudit.at.desc(), AccountAudit.id.desc()).limit(page.first + 1)
    rows = [AuditRecord(*r) for r in await db.execute(query)]
    items = rows[: page.first]
    return Page(
        items=items,
        cursors=[encode_cursor([r.row.at.isoformat(), str(r.row.id)]) for r in items],
        has_next_page=len(rows) > page.first,
        has_previous_page=page.after is not None,
    )


async def get_audit(db: AsyncSession, viewer: Viewer, entry_id: uuid.UUID) -> AuditRecord | None:
    """One entry, for an admin; None when absent or for anyone else."""
    if not viewer.is_admin:
        return None
    query = _with_accounts().where(AccountAudit.id == entry_id)
    found = (await db.execute(query)).one_or_none()
    return AuditRecord(*found) if found else None


async def count_audit(db: AsyncSession, viewer: Viewer, flt: AuditFilter) -> int:
    """How many entries match the filter (admins only)."""
    query = _filtered(select(func.count()).select_from(AccountAudit), viewer, flt)
    return int((await db.execute(query)).scalar_one())
