"""What every write on a directive shares: the acting recipient row, new rows of the dispatch
tree, and what a write returns (its sync stamp and the collections it wrote)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from access.errors import ErrorCode, InputError
from access.scope import scope_of
from access.viewer import Viewer
from core.ids import new_id
from models import Directive, DirectiveLevel, DirectiveRecipient, RecipientStatus
from sync.directive import Actor, RecipientFacts, acts_for, not_recipient

MAX_CONTENT = 5000


@dataclass(frozen=True, slots=True)
class Written:
    """What a write returns: its rows, the sync stamp and the collections it wrote (to publish
    to the stream after commit)."""

    stamp: int | None = None
    collections: tuple[str, ...] = ()


def actor_of(viewer: Viewer) -> Actor:
    """The viewer as the sync rules of directives see an actor (sync/directive.py)."""
    return Actor(viewer.account_id, viewer.member_id, scope_of(viewer))


def recipient_facts(row: DirectiveRecipient) -> RecipientFacts:
    """What the sync rules of directives read of a recipient row."""
    return RecipientFacts(
        row.id,
        row.level,
        row.branch_id,
        row.officer_id,
        row.status,
        row.dispatched_at,
        row.signed_at,
    )


def new_recipient_row(
    directive: Directive,
    *,
    parent: DirectiveRecipient | None,
    level: DirectiveLevel,
    branch_id: uuid.UUID,
    member_id: uuid.UUID | None,
    viewer: Viewer,
    stamp: int,
    now: datetime,
) -> DirectiveRecipient:
    """A pending recipient row of the dispatch tree, for a member or (no member) a branch."""
    target = f"m:{member_id}" if member_id is not None else f"b:{branch_id}"
    return DirectiveRecipient(
        id=str(new_id()),
        directive_id=directive.id,
        parent_id=parent.id if parent else None,
        level=level,
        target=target,
        branch_id=branch_id,
        officer_id=member_id,
        status=RecipientStatus.PENDING,
        dispatched_at=now,
        dispatched_by=viewer.account_id,
        updated_at=stamp,
        deleted=False,
        created_at=now,
        updated_by=viewer.account_id,
    )


async def own_recipient(
    db: AsyncSession, viewer: Viewer, recipient_id: str, *, lock: bool = True
) -> DirectiveRecipient:
    """The recipient row the viewer acts for, or a typed error on `recipientId`."""
    query = select(DirectiveRecipient).where(DirectiveRecipient.id == recipient_id)
    if lock:
        query = query.with_for_update()
    row = (await db.scalars(query)).first()
    if row is None:
        raise InputError.one("recipientId", "指令不存在 (directive not found)", ErrorCode.NOT_FOUND)
    if not acts_for(actor_of(viewer), recipient_facts(row)):
        raise InputError([not_recipient("recipientId")])
    return row


async def refreshed(db: AsyncSession, row: DirectiveRecipient) -> DirectiveRecipient:
    """The row reloaded, with what UPDATE statements (not the session) wrote to it."""
    await db.refresh(row)
    return row
