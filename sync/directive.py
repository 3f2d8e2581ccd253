"""Directives on phones: what they pull, and the rules for receipts and progress they push.

Design. The generic protocol (pull, push, stamps, scope, tombstones, stream) works on tables with
the `SyncedDocument` columns, scoped by `branch_id`. Directives fit it without a copy:

* `Directive` (pull-only) is the dispatch tree itself: one document per `DirectiveRecipient`
  row, i.e. a directive as one recipient (a committee, a branch or a member) received it, with
  the directive's title, content, priority and deadline read through column properties.
  Its `branchId` (the recipient branch, or the member's home branch) scopes it like any field
  record, narrowed to the viewer's audience (access/audience.py): an officer pulls their own
  member-level rows and their branch's branch- and committee-level rows, not a colleague's; a
  secretary the rows of their subtree, admins and inspectors all. Receipts and reports follow
  the row they belong to. Every server write that changes a
  row (issue, dispatch, sign, report, close) takes a stamp (sync/stamp.py) and announces
  `directive`, so the pull cursor and the stream keep their guarantees. Rows are never deleted
  (withdrawing a directive would leave tombstones the usual way). There is no `pushDirective`.
* `DirectiveReceipt` (push and pull): a receipt's `id` **is the id of the Directive document
  it signs**, so a recipient is signed once however many devices sign it: a second signature is
  the same document, merged (and its different `signedAt` logged as a conflict).
* `DirectiveProgress` (push and pull): one document per report, `recipientId` naming the
  Directive document it reports on.

A pushed receipt or report goes through the generic push (one transaction, content-based
idempotent retries, merge, conflict log, quarantine) plus the rules below, checked in bulk before
anything is written. A row that breaks one is quarantined with its reasons, never dropped:
the directive must exist and be addressed to the pushing user (`not_recipient`: a receipt for a
directive the device's user never received), its branch must be the recipient's, the signer
must be the user, a receipt or report cannot be withdrawn (deleted), a report's recipient cannot
change and its percent is 0-100, and nothing is reported on a closed recipient. Applying them
updates the recipient row in the same transaction and stamp: a receipt sets `signed_at` once (the
phone's time, clamped between dispatch and now), a report sets `last_reported_at`, and signs an
unsigned recipient too, since receipts and reports replicate independently.

Who acts for a recipient row (`acts_for`): a member row, that member; a committee or branch row,
that branch's own secretary, or an admin (the county committee).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from access import audience
from access.errors import ErrorCode, Problem
from access.scope import Scope
from core.global_id import global_id_uuid_or_none
from models import DirectiveLevel, DirectiveRecipient, RecipientStatus
from sync.collection import (
    DIRECTIVE,
    DIRECTIVE_PROGRESS,
    DIRECTIVE_RECEIPT,
    Collection,
    parse_instant,
)
from sync.feed import announce
from sync.merge import JSON

MAX_PERCENT = 100


@dataclass(frozen=True, slots=True)
class Actor:
    """Who signs, reports or closes: their member (if any) and their sync scope."""

    account_id: uuid.UUID
    member_id: uuid.UUID | None
    scope: Scope


@dataclass(frozen=True, slots=True)
class RecipientFacts:
    """What the rules need to know about one recipient row."""

    id: str
    level: DirectiveLevel
    branch_id: uuid.UUID
    member_id: uuid.UUID | None
    status: RecipientStatus
    dispatched_at: datetime
    signed_at: datetime | None


RECIPIENT_FACTS = (
    DirectiveRecipient.id,
    DirectiveRecipient.level,
    DirectiveRecipient.branch_id,
    DirectiveRecipient.officer_id,
    DirectiveRecipient.status,
    DirectiveRecipient.dispatched_at,
    DirectiveRecipient.signed_at,
)


async def recipient_facts(db: AsyncSession, ids: Iterable[str]) -> dict[str, RecipientFacts]:
    """The recipient rows with these ids, in one statement."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await db.execute(select(*RECIPIENT_FACTS).where(DirectiveRecipient.id.in_(wanted)))
    return {row[0]: RecipientFacts(*row) for row in rows}


def acts_for(actor: Actor, recipient: RecipientFacts) -> bool:
    """Whether the actor may sign, report on and close this recipient row."""
    if recipient.level is DirectiveLevel.MEMBER:
        return actor.member_id is not None and actor.member_id == recipient.member_id
    if actor.scope.kind == "all":
        return actor.scope.writable
    return actor.scope.kind == "subtree" and actor.scope.branch_id == recipient.branch_id


def not_recipient(field_name: str) -> Problem:
    return Problem(
        field_name,
        "您未收到该指令,不能签收或反馈 (you did not receive this directive)",
        ErrorCode.NOT_RECIPIENT,
    )


def signing_time(claimed: datetime | None, recipient: RecipientFacts, now: datetime) -> datetime:
    """The phone's signing time, never before the dispatch nor after the server's now."""
    moment = claimed or now
    return max(recipient.dispatched_at, min(moment, now))


async def mark_signed(
    db: AsyncSession, signed: Mapping[str, datetime], account_id: uuid.UUID, stamp: int
) -> None:
    """Signs the recipients not yet signed (a recipient is signed once); stamps those rows."""
    if not signed:
        return
    table = cast(Table, DirectiveRecipient.__table__)
    statement = (
        update(table)
        .where(table.c.id == bindparam("rid"), table.c.signed_at.is_(None))
        .values(
            signed_at=bindparam("moment"),
            signed_by=account_id,
            status=case(
                (table.c.status == RecipientStatus.PENDING.value, RecipientStatus.SIGNED.value),
                else_=table.c.status,
            ),
            updated_at=stamp,
        )
    )
    await db.execute(statement, [{"rid": rid, "moment": at} for rid, at in sorted(signed.items())])


async def mark_reported(
    db: AsyncSession, reported: Mapping[str, datetime], account_id: uuid.UUID, stamp: int
) -> None:
    """Records the latest report on each recipient; an unsigned recipient is signed by it."""
    if not reported:
        return
    await mark_signed(db, reported, account_id, stamp)
    table = cast(Table, DirectiveRecipient.__table__)
    moment = bindparam("moment", type_=table.c.last_reported_at.type)
    statement = (
        update(table)
        .where(table.c.id == bindparam("rid"))
        .values(
            last_reported_at=case(
                (table.c.last_reported_at.is_(None), moment),
                (table.c.last_reported_at < moment, moment),
                else_=table.c.last_reported_at,
            ),
            # Two comparisons, not IN: an expanding parameter cannot run as executemany, and a
            # phone reporting on several directives sends them in one batch.
            status=case(
                (
                    table.c.status == RecipientStatus.PENDING.value,
                    RecipientStatus.IN_PROGRESS.value,
                ),
                (table.c.status == RecipientStatus.SIGNED.value, RecipientStatus.IN_PROGRESS.value),
                else_=table.c.status,
            ),
            updated_at=stamp,
        )
    )
    await db.execute(
        statement, [{"rid": rid, "moment": at} for rid, at in sorted(reported.items())]
    )


# --- push rules -------------------------------------------------------------------------------


@dataclass
class DirectivePushRules:
    """The directive rules of one push: loads the recipients once, checks rows, applies them."""

    collection: Collection
    recipients: dict[str, RecipientFacts] = field(default_factory=dict)

    def recipient_id(self, document: Mapping[str, JSON]) -> str | None:
        key = "id" if self.collection is DIRECTIVE_RECEIPT else "recipientId"
        value = document.get(key)
        return value if isinstance(value, str) else None

    async def load(self, db: AsyncSession, documents: Iterable[Mapping[str, JSON]]) -> None:
        """Reads every recipient the batch names, in one statement."""
        ids = {rid for doc in documents if (rid := self.recipient_id(doc)) is not None}
        self.recipients = await recipient_facts(db, ids)

    def reaches(self, scope: Scope, document: Mapping[str, JSON]) -> bool:
        """Whether a receipt or report is in the scope's audience (access/audience.py): an
        officer's own and their branch's, not a colleague's."""
        recipient = self.recipients.get(self.recipient_id(document) or "")
        if recipient is None:
            return audience.reaches(scope, frozenset())
        named = None if recipient.member_id is None else frozenset((recipient.member_id,))
        return audience.reaches(scope, named)

    def problems(
        self, actor: Actor, document: Mapping[str, JSON], stored: Mapping[str, JSON] | None
    ) -> list[Problem]:
        """Everything that stops this (otherwise valid) receipt or report being applied."""
        receipt = self.collection is DIRECTIVE_RECEIPT
        problems: list[Problem] = []
        if document.get("deleted"):
            problems.append(
                Problem(
                    "deleted",
                    "签收和进度反馈不能撤回 (receipts and reports cannot be withdrawn)",
                    ErrorCode.INVALID,
                )
            )
        field_name = "id" if receipt else "recipientId"
        if (
            not receipt
            and stored is not None
            and stored.get("recipientId") != document.get("recipientId")
        ):
            problems.append(
                Problem(
                    field_name,
                    "反馈所属的指令不能更改 (a report's directive cannot change)",
                    ErrorCode.INVALID,
                )
            )
        recipient = self.recipients.get(self.recipient_id(document) or "")
        if recipient is None or not acts_for(actor, recipient):
            return [*problems, not_recipient(field_name)]
        branch = global_id_uuid_or_none(str(document.get("branchId")), "Branch")
        if branch != recipient.branch_id:
            problems.append(
                Problem(
                    "branchId",
                    "须为指令接收单位 (must be the recipient's branch)",
                    ErrorCode.INVALID,
                )
            )
        signer = document.get("officerId")
        if signer is not None and global_id_uuid_or_none(str(signer), "Member") != actor.member_id:
            problems.append(
                Problem("officerId", "须为您本人 (must be yourself)", ErrorCode.INVALID)
            )
        if not receipt:
            percent = document.get("percent")
            if isinstance(percent, int) and percent > MAX_PERCENT:
                problems.append(
                    Problem("percent", "须在 0 到 100 之间 (0 to 100)", ErrorCode.INVALID)
                )
            if recipient.status is RecipientStatus.CLOSED:
                problems.append(
                    Problem(
                        field_name,
                        "该指令已办结,不能再反馈 (the directive is closed for you)",
                        ErrorCode.INVALID_TRANSITION,
                    )
                )
        return problems

    async def applied(
        self,
        db: AsyncSession,
        actor: Actor,
        documents: Sequence[Mapping[str, JSON]],
        stamp: int,
        now: datetime,
    ) -> list[str]:
        """Updates the recipient rows the written documents sign or report on; returns the other
        collections this stamp wrote (announced here, published by the caller after commit)."""
        moments: dict[str, datetime] = {}
        time_field = "signedAt" if self.collection is DIRECTIVE_RECEIPT else "reportedAt"
        for document in documents:
            rid = self.recipient_id(document)
            recipient = self.recipients.get(rid or "")
            if rid is None or recipient is None:
                continue
            claimed = document.get(time_field)
            at = signing_time(
                parse_instant(claimed) if isinstance(claimed, str) else None, recipient, now
            )
            moments[rid] = max(at, moments.get(rid, at))
        if not moments:
            return []
        if self.collection is DIRECTIVE_RECEIPT:
            await mark_signed(db, moments, actor.account_id, stamp)
        else:
            await mark_reported(db, moments, actor.account_id, stamp)
        await announce(db, DIRECTIVE.key, stamp)
        return [DIRECTIVE.key]


def push_rules(collection: Collection) -> DirectivePushRules | None:
    """The extra rules of a collection's pushes (None for field records)."""
    if collection is DIRECTIVE_RECEIPT or collection is DIRECTIVE_PROGRESS:
        return DirectivePushRules(collection)
    return None
