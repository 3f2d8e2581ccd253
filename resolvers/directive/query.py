"""Reading directives: the readable ones filtered and paged, the rows addressed to the viewer,
and the batch loads behind a directive's recipients and progress. Who may read what is
access/directive.py's."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from access import audience
from access.directive import addressed_to, directive_read_clause
from access.scope import scope_of
from access.viewer import Viewer
from models import (
    Branch,
    Directive,
    DirectiveProgress,
    DirectiveRecipient,
    DirectiveStatus,
    RecipientStatus,
)
from resolvers.batch import group_by_key
from resolvers.pagination import Page, PageRequest, aware_datetime, cursor_values, encode_cursor


@dataclass(frozen=True, slots=True)
class DirectiveFilter:
    statuses: Sequence[DirectiveStatus] = ()
    overdue: bool | None = None
    subtree_of: uuid.UUID | None = None
    since: datetime | None = None  # issued at or after
    until: datetime | None = None  # issued before


def _filtered(
    query: Select[Any], viewer: Viewer, flt: DirectiveFilter, now: datetime
) -> Select[Any]:
    query = query.where(directive_read_clause(viewer))
    if flt.statuses:
        query = query.where(Directive.status.in_(list(flt.statuses)))
    late = and_(Directive.status != DirectiveStatus.CLOSED, Directive.deadline < now)
    if flt.overdue is True:
        query = query.where(late)
    elif flt.overdue is False:
        query = query.where(~late)
    if flt.subtree_of is not None:
        root = select(Branch.path).where(Branch.id == flt.subtree_of).scalar_subquery()
        subtree = select(Branch.id).where(Branch.path.startswith(root))
        query = query.where(
            or_(
                Directive.issued_by_branch_id.in_(subtree),
                exists().where(
                    DirectiveRecipient.directive_id == Directive.id,
                    DirectiveRecipient.branch_id.in_(subtree),
                ),
            )
        )
    if flt.since is not None:
        query = query.where(Directive.issued_at >= flt.since)
    if flt.until is not None:
        query = query.where(Directive.issued_at < flt.until)
    return query


async def list_directives(
    db: AsyncSession, viewer: Viewer, flt: DirectiveFilter, page: PageRequest, now: datetime
) -> Page[Directive]:
    """One page of readable directives, newest first."""
    query = _filtered(select(Directive), viewer, flt, now)
    if page.after is not None:
        moment, last_id = cursor_values(page.after, aware_datetime, uuid.UUID)
        query = query.where(
            or_(
                Directive.created_at < moment,
                and_(Directive.created_at == moment, Directive.id < last_id),
            )
        )
    query = query.order_by(Directive.created_at.desc(), Directive.id.desc()).limit(page.first + 1)
    rows = list(await db.scalars(query))
    items = rows[: page.first]
    return Page(
        items=items,
        cursors=[encode_cursor([r.created_at.isoformat(), str(r.id)]) for r in items],
        has_next_page=len(rows) > page.first,
        has_previous_page=page.after is not None,
    )


async def count_directives(
    db: AsyncSession, viewer: Viewer, flt: DirectiveFilter, now: datetime
) -> int:
    """How many readable directives the filter keeps."""
    query = _filtered(select(func.count()).select_from(Directive), viewer, flt, now)
    return int((await db.execute(query)).scalar_one())


def mine(viewer: Viewer, statuses: Sequence[RecipientStatus] = ()) -> list[ColumnElement[bool]]:
    """The rows `my_directives` lists: addressed to the viewer, live, in `statuses` if given."""
    clauses = [addressed_to(viewer), DirectiveRecipient.deleted.is_(False)]
    if statuses:
        clauses.append(DirectiveRecipient.status.in_(list(statuses)))
    return clauses


async def my_directives(
    db: AsyncSession,
    viewer: Viewer,
    page: PageRequest,
    statuses: Sequence[RecipientStatus] = (),
) -> Page[DirectiveRecipient]:
    """The recipient rows addressed to the viewer (as a member, and as their branch's
    secretary), newest dispatch first; only those in `statuses` when given."""
    query = select(DirectiveRecipient).where(*mine(viewer, statuses))
    if page.after is not None:
        at, last_id = cursor_values(page.after, aware_datetime, str)
        query = query.where(
            or_(
                DirectiveRecipient.dispatched_at < at,
                and_(DirectiveRecipient.dispatched_at == at, DirectiveRecipient.id < last_id),
            )
        )
    query = query.order_by(
        DirectiveRecipient.dispatched_at.desc(), DirectiveRecipient.id.desc()
    ).limit(page.first + 1)
    rows = list(await db.scalars(query))
    items = rows[: page.first]
    return Page(
        items=items,
        cursors=[encode_cursor([r.dispatched_at.isoformat(), r.id]) for r in items],
        has_next_page=len(rows) > page.first,
        has_previous_page=page.after is not None,
    )


async def count_my_directives(
    db: AsyncSession, viewer: Viewer, statuses: Sequence[RecipientStatus] = ()
) -> int:
    """How many recipient rows are addressed to the viewer (as `my_directives` lists them)."""
    query = select(func.count()).select_from(DirectiveRecipient).where(*mine(viewer, statuses))
    return int((await db.execute(query)).scalar_one())


async def directives_by_id(
    db: AsyncSession, viewer: Viewer, ids: Sequence[uuid.UUID]
) -> list[Directive | None]:
    """Readable directives by id, in key order (None where absent or not readable)."""
    query = select(Directive).where(Directive.id.in_(ids), directive_read_clause(viewer))
    rows = {d.id: d for d in await db.scalars(query)}
    return [rows.get(i) for i in ids]


async def recipients_by_id(
    db: AsyncSession, viewer: Viewer, ids: Sequence[str]
) -> list[DirectiveRecipient | None]:
    """Recipient rows by id, in key order: those the viewer's lists show (a directive's tree in
    their sync audience, and the rows addressed to them), else None."""
    query = select(DirectiveRecipient).where(
        DirectiveRecipient.id.in_(ids),
        DirectiveRecipient.deleted.is_(False),
        or_(audience.recipient_clause(scope_of(viewer)), addressed_to(viewer)),
    )
    rows = {r.id: r for r in await db.scalars(query)}
    return [rows.get(i) for i in ids]


async def recipients_by_directive_id(
    db: AsyncSession, viewer: Viewer, ids: Sequence[uuid.UUID]
) -> list[list[DirectiveRecipient]]:
    """Each directive's recipient rows in the viewer's sync audience, top level first: what
    their phone pulls (an officer: their own row and their branch's, not a colleague's)."""
    query = (
        select(DirectiveRecipient)
        .where(
            DirectiveRecipient.directive_id.in_(ids),
            DirectiveRecipient.deleted.is_(False),
            audience.recipient_clause(scope_of(viewer)),
        )
        .order_by(DirectiveRecipient.dispatched_at, DirectiveRecipient.id)
    )
    rows = list(await db.scalars(query))
    rows.sort(key=lambda r: (r.level.rank, r.dispatched_at, r.id))
    return group_by_key(ids, ((r.directive_id, r) for r in rows))


async def progress_by_id(db: AsyncSession, document_id: str) -> DirectiveProgress | None:
    """One progress report, unless deleted; whether the viewer may see it is its row's
    visibility (`recipients_by_id`)."""
    return await db.scalar(
        select(DirectiveProgress).where(
            DirectiveProgress.id == document_id, DirectiveProgress.deleted.is_(False)
        )
    )


async def progress_by_recipient_id(
    db: AsyncSession, ids: Sequence[str]
) -> list[list[DirectiveProgress]]:
    """Each recipient's progress reports, oldest first."""
    query = (
        select(DirectiveProgress)
        .where(DirectiveProgress.recipient_id.in_(ids), DirectiveProgress.deleted.is_(False))
        .order_by(DirectiveProgress.reported_at, DirectiveProgress.id)
    )
    return group_by_key(ids, ((p.recipient_id, p) for p in await db.scalars(query)))
