"""A recipient's own steps: sign (签收), report progress, close (办结).

Sign: idempotent; signing a signed row writes nothing. Report: text, and a percent (0-100) or
a stage; it signs an unsigned row; not once closed. Close: a recipient closes its own row once
every recipient it dispatched to has closed (or it dispatched to none): a level is done when the
levels below it are. Closing signs an unsigned row; closing twice is harmless. When the root
(the issuer's row) closes, the directive closes.

Signing and reporting from the web write the same receipt and progress documents a phone
pushes, so phones see them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from access.errors import Collector, ErrorCode, InputError, Problem
from access.viewer import Viewer
from core.ids import new_id
from models import (
    Branch,
    Directive,
    DirectiveProgress,
    DirectiveReceipt,
    DirectiveRecipient,
    DirectiveStatus,
    Member,
    RecipientStatus,
)
from resolvers.directive.recipient import MAX_CONTENT, Written, own_recipient, refreshed
from sync.collection import DIRECTIVE, DIRECTIVE_PROGRESS, DIRECTIVE_RECEIPT
from sync.directive import MAX_PERCENT, mark_reported, mark_signed
from sync.feed import announce
from sync.stamp import next_stamp

MAX_STAGE = 50
# How many open recipients the refusal's message names (all are in the typed error).
MAX_NAMED = 10


@dataclass(frozen=True, slots=True)
class RecipientWritten(Written):
    recipient: DirectiveRecipient | None = None


@dataclass(frozen=True, slots=True)
class ProgressWritten(Written):
    progress: DirectiveProgress | None = None
    recipient: DirectiveRecipient | None = None


class StillOpen(InputError):
    """Closing refused: recipients this row dispatched to have not closed. Names them, and
    carries their rows (`recipients`, dispatch order) for the typed error."""

    def __init__(self, recipients: list[DirectiveRecipient], names: list[str]) -> None:
        shown = "、".join(names[:MAX_NAMED]) + (" 等" if len(names) > MAX_NAMED else "")
        super().__init__(
            [
                Problem(
                    "recipientId",
                    f"还有 {len(names)} 个下级未办结:{shown} "
                    f"({len(names)} onward recipients still open)",
                    ErrorCode.OPEN_RECIPIENTS,
                )
            ]
        )
        self.recipients = recipients
        self.names = names


async def _names(db: AsyncSession, rows: list[DirectiveRecipient]) -> list[str]:
    """Each row's recipient as people call it: the member's name, else the branch's."""
    member_ids = {r.officer_id for r in rows if r.officer_id is not None}
    branch_ids = {r.branch_id for r in rows}
    members = (
        dict(
            (
                await db.execute(select(Member.id, Member.name).where(Member.id.in_(member_ids)))
            ).all()
        )
        if member_ids
        else {}
    )
    branches = dict(
        (await db.execute(select(Branch.id, Branch.name).where(Branch.id.in_(branch_ids)))).all()
    )
    return [
        members.get(r.officer_id, "") if r.officer_id is not None else branches.get(r.branch_id, "")
        for r in rows
    ]


async def sign_directive(
    db: AsyncSession, viewer: Viewer, recipient_id: str, now: datetime
) -> RecipientWritten:
    """签收: signs the viewer's recipient row, writing the receipt document phones sync.

    Signing a signed row writes nothing and returns it as it is.
    """
    row = await own_recipient(db, viewer, recipient_id)
    if row.signed_at is not None:
        return RecipientWritten(recipient=row)
    stamp = await next_stamp(db, now)
    receipt = await db.get(DirectiveReceipt, row.id)
    if receipt is None:
        db.add(
            DirectiveReceipt(
                id=row.id,
                branch_id=row.branch_id,
                officer_id=viewer.member_id,
                signed_at_text=now.isoformat(),
                signed_at=now,
                updated_at=stamp,
                deleted=False,
                created_at=now,
                updated_by=viewer.account_id,
            )
        )
        await db.flush()
    await mark_signed(db, {row.id: now}, viewer.account_id, stamp)
    await announce(db, DIRECTIVE_RECEIPT.key, stamp)
    await announce(db, DIRECTIVE.key, stamp)
    return RecipientWritten(stamp, (DIRECTIVE_RECEIPT.key, DIRECTIVE.key), await refreshed(db, row))


async def report_progress(
    db: AsyncSession,
    viewer: Viewer,
    recipient_id: str,
    text: str | None,
    percent: int | None,
    stage: str | None,
    now: datetime,
) -> ProgressWritten:
    """Reports progress on the viewer's recipient row (which signs it if it was not)."""
    row = await own_recipient(db, viewer, recipient_id)
    errors = Collector()
    cleaned = errors.require_text("text", text, MAX_CONTENT)
    cleaned_stage = errors.optional_text("stage", stage, MAX_STAGE)
    if percent is not None and not 0 <= percent <= MAX_PERCENT:
        errors.add("percent", "须在 0 到 100 之间 (0 to 100)", ErrorCode.INVALID)
    if row.closed_at is not None:
        errors.add(
            "recipientId",
            "该指令已办结,不能再反馈 (the directive is closed for you)",
            ErrorCode.INVALID_TRANSITION,
        )
    errors.raise_if_any()
    assert cleaned is not None
    stamp = await next_stamp(db, now)
    progress = DirectiveProgress(
        id=str(new_id()),
        recipient_id=row.id,
        branch_id=row.branch_id,
        officer_id=viewer.member_id,
        text=cleaned,
        percent=percent,
        stage=cleaned_stage,
        reported_at_text=now.isoformat(),
        reported_at=now,
        updated_at=stamp,
        deleted=False,
        created_at=now,
        updated_by=viewer.account_id,
    )
    db.add(progress)
    await db.flush()
    await mark_reported(db, {row.id: now}, viewer.account_id, stamp)
    await announce(db, DIRECTIVE_PROGRESS.key, stamp)
    await announce(db, DIRECTIVE.key, stamp)
    return ProgressWritten(
        stamp,
        (DIRECTIVE_PROGRESS.key, DIRECTIVE.key),
        progress,
        await refreshed(db, row),
    )


async def close_recipient(
    db: AsyncSession, viewer: Viewer, recipient_id: str, now: datetime
) -> RecipientWritten:
    """Closes the viewer's recipient row once all it dispatched to have closed."""
    row = await own_recipient(db, viewer, recipient_id)
    if row.closed_at is not None:
        return RecipientWritten(recipient=row)
    open_children = list(
        await db.scalars(
            select(DirectiveRecipient)
            .where(
                DirectiveRecipient.parent_id == row.id,
                DirectiveRecipient.closed_at.is_(None),
                DirectiveRecipient.deleted.is_(False),
            )
            .order_by(DirectiveRecipient.dispatched_at, DirectiveRecipient.id)
        )
    )
    if open_children:
        names = await _names(db, open_children)
        # The refusal rolls the transaction back, which would expire the rows it carries.
        for child in open_children:
            db.expunge(child)
        raise StillOpen(open_children, names)
    stamp = await next_stamp(db, now)
    await db.execute(
        update(DirectiveRecipient)
        .where(DirectiveRecipient.id == row.id)
        .values(
            closed_at=now,
            closed_by=viewer.account_id,
            status=RecipientStatus.CLOSED,
            signed_at=func.coalesce(DirectiveRecipient.signed_at, now),
            signed_by=func.coalesce(DirectiveRecipient.signed_by, viewer.account_id),
            updated_at=stamp,
        )
        .execution_options(synchronize_session=False)
    )
    if row.parent_id is None:
        await db.execute(
            update(Directive)
            .where(Directive.id == row.directive_id)
            .values(status=DirectiveStatus.CLOSED, closed_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    await announce(db, DIRECTIVE.key, stamp)
    return RecipientWritten(stamp, (DIRECTIVE.key,), await refreshed(db, row))
