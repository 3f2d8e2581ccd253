"""催办: urging a lagging recipient, which reminds them.

Whoever dispatched a row (the actor of its parent row: the committee or branch above it, or an
admin) may urge it while it is not closed. Urging raises a `directive_urged` reminder to the
recipient — the member for a member's row, the branch (its secretary) for a branch's — which
phones pull with their other reminders. The reminder is the record of the urging: who
(`updated_by`, and named in its title), when (`created_at`) and the note. One urge per recipient
per bureau day: urging again the same day raises nothing new and returns that day's reminder.
The reminder resolves by itself once the recipient closes (resolvers/reminder.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from access.errors import Collector, ErrorCode, Forbidden, InputError
from access.viewer import Viewer
from models import (
    Directive,
    DirectiveRecipient,
    RecipientStatus,
    Reminder,
    ReminderKind,
    Role,
)
from resolvers.directive.recipient import Written, actor_of, recipient_facts
from resolvers.period import local_date
from resolvers.reminder import COLLECTION_KEY, MAX_TITLE, Candidate, add_reminder
from resolvers.supervision import recorder_name
from sync.directive import acts_for
from sync.feed import announce
from sync.stamp import next_stamp

MAX_URGE_NOTE = 200


@dataclass(frozen=True, slots=True)
class Urged(Written):
    """The urge's reminder (today's, when it was urged already today) and the urged row."""

    reminder: Reminder | None = None
    recipient: DirectiveRecipient | None = None


async def urge_recipient(
    db: AsyncSession, viewer: Viewer, recipient_id: str, note: str | None, now: datetime
) -> Urged:
    """催办: reminds a recipient that has not closed, on behalf of whoever dispatched to it."""
    if viewer.role is Role.INSPECTOR:
        raise Forbidden("督导账号只读 (inspectors read directives, they do not urge)")
    row = await db.scalar(
        select(DirectiveRecipient).where(
            DirectiveRecipient.id == recipient_id, DirectiveRecipient.deleted.is_(False)
        )
    )
    if row is None or row.parent_id is None:
        raise InputError.one("recipientId", "指令不存在 (directive not found)", ErrorCode.NOT_FOUND)
    parent = await db.get(DirectiveRecipient, row.parent_id)
    assert parent is not None, "a recipient's parent is a foreign key"
    if not (viewer.is_admin or acts_for(actor_of(viewer), recipient_facts(parent))):
        raise InputError.one(
            "recipientId",
            "只有下发该指令的一方才能催办 (only whoever dispatched it may urge it)",
            ErrorCode.NOT_RECIPIENT,
        )
    errors = Collector()
    cleaned = errors.optional_text("note", note, MAX_URGE_NOTE)
    if row.status is RecipientStatus.CLOSED:
        errors.add(
            "recipientId", "该指令已办结,无需催办 (already closed)", ErrorCode.INVALID_TRANSITION
        )
    errors.raise_if_any()
    directive = await db.get(Directive, row.directive_id)
    assert directive is not None, "a recipient's directive is a foreign key"
    today = local_date(now)
    what = "签收" if row.status is RecipientStatus.PENDING else "办结"
    title = (
        f"{await recorder_name(db, viewer)}催办:指令《{directive.title}》请尽快{what}"
        f"(期限 {local_date(directive.deadline).isoformat()})"
    )
    if cleaned:
        title += f":{cleaned}"
    kind = ReminderKind.DIRECTIVE_URGED
    key = f"{kind.value}:{row.id}:{today.isoformat()}"
    candidate = Candidate(
        kind=kind,
        dedup_key=key,
        branch_id=row.branch_id,
        member_id=row.officer_id,
        title=title if len(title) <= MAX_TITLE else title[: MAX_TITLE - 1] + "…",
        due_on=max(today, local_date(directive.deadline)),
        directive_recipient_id=row.id,
    )
    existing = await db.scalar(select(Reminder).where(Reminder.dedup_key == key))
    if existing is not None:
        return Urged(reminder=existing, recipient=row)
    stamp = await next_stamp(db, now)
    reminder = await add_reminder(db, candidate, now, stamp, viewer.account_id)
    if reminder is None:  # a concurrent urge of the same day won
        reminder = await db.scalar(select(Reminder).where(Reminder.dedup_key == key))
        return Urged(reminder=reminder, recipient=row)
    await announce(db, COLLECTION_KEY, stamp)
    return Urged(stamp, (COLLECTION_KEY,), reminder, row)
