"""Whose reminders and directives a viewer gets: an officer's own and their branch's, not a
colleague's.

The sync scope (access/scope.py) says which branches' records a viewer gets. Field records
(visits, patrols, service actions) are the branch's work, and every officer of the branch syncs
them. Reminders and directive recipient rows are different: a row naming a member is addressed
to that member alone (a colleague's 转正申请 reminder, a directive dispatched to a colleague).
Within the scope, an officer's *audience* is

* reminders naming them (`officer_id` = their member) or naming no one (addressed to the
  branch as a whole);
* directive recipient rows (the `Directive` documents) naming them (member level) or naming no
  one (branch and committee levels: a recipient row names a member exactly at member level);
* receipts and progress reports of the recipient rows in their audience.

Secretaries (their subtree), admins and inspectors (everything) get their whole scope. The
audience never reaches outside the scope: an officer's own reminder left in a former branch is
not theirs to sync, as they could not push for that branch either.

One definition, used by the sync pull and its removals, the stream, the web reminder list and
the recipient rows shown on a directive, so a phone and the web show an officer the same rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from access.scope import Scope
from core.global_id import global_id, global_id_uuid_or_none
from models import (
    DirectiveProgress,
    DirectiveReceipt,
    DirectiveRecipient,
    Reminder,
    SyncedDocument,
    SyncScopeExit,
)
from models.sync import (
    DIRECTIVE_KEY,
    DIRECTIVE_PROGRESS_KEY,
    DIRECTIVE_RECEIPT_KEY,
    REMINDER_KEY,
)


class SyncedCollection(Protocol):
    """What the audience needs of a synced collection (sync/collection.py describes them)."""

    @property
    def key(self) -> str: ...

    @property
    def model(self) -> type[SyncedDocument]: ...


PERSONAL: frozenset[str] = frozenset(
    (REMINDER_KEY, DIRECTIVE_KEY, DIRECTIVE_RECEIPT_KEY, DIRECTIVE_PROGRESS_KEY)
)
"""The collections whose documents may be addressed to one member rather than to a branch."""

Addressees = frozenset[uuid.UUID] | None
"""Who a document is for within its branch: None for everyone the branch's scope reaches, else
only these members (empty: no officer, e.g. a receipt whose recipient row is gone)."""


def narrows(scope: Scope) -> bool:
    """Whether the audience is narrower than the scope: only for an officer's branch scope."""
    return scope.kind == "branch"


def _addressed(scope: Scope, member: InstrumentedAttribute[Any]) -> ColumnElement[bool]:
    """Rows naming no one, or naming the scope's member."""
    if scope.member_id is None:
        return member.is_(None)
    return or_(member.is_(None), member == scope.member_id)


def reminder_clause(scope: Scope) -> ColumnElement[bool]:
    """SQL condition on `Reminder` rows in the scope's audience."""
    clause = scope.clause(Reminder.branch_id)
    if not narrows(scope):
        return clause
    return and_(clause, _addressed(scope, Reminder.officer_id))


def recipient_clause(scope: Scope) -> ColumnElement[bool]:
    """SQL condition on `DirectiveRecipient` rows (`Directive` documents) in the audience."""
    clause = scope.clause(DirectiveRecipient.branch_id)
    if not narrows(scope):
        return clause
    return and_(clause, _addressed(scope, DirectiveRecipient.officer_id))


def _of_recipients(
    scope: Scope, branch: InstrumentedAttribute[uuid.UUID], recipient: InstrumentedAttribute[str]
) -> ColumnElement[bool]:
    clause = scope.clause(branch)
    if not narrows(scope):
        return clause
    return and_(clause, recipient.in_(select(DirectiveRecipient.id).where(recipient_clause(scope))))


def clause(scope: Scope, collection: SyncedCollection) -> ColumnElement[bool]:
    """SQL condition on a collection's rows in the scope's audience (the scope itself for field
    records); receipts and progress reports follow the recipient row they belong to."""
    if collection.key == REMINDER_KEY:
        return reminder_clause(scope)
    if collection.key == DIRECTIVE_KEY:
        return recipient_clause(scope)
    if collection.key == DIRECTIVE_RECEIPT_KEY:
        return _of_recipients(scope, DirectiveReceipt.branch_id, DirectiveReceipt.id)
    if collection.key == DIRECTIVE_PROGRESS_KEY:
        return _of_recipients(scope, DirectiveProgress.branch_id, DirectiveProgress.recipient_id)
    return scope.clause(collection.model.branch_id)


def exit_clause(scope: Scope, collection: SyncedCollection) -> ColumnElement[bool]:
    """SQL condition on the `SyncScopeExit` rows of a collection that may reach the scope as
    removals, besides the old branch being in scope: an officer never gets a colleague's
    document, not even as a tombstone (it carries the document's last content)."""
    if not narrows(scope) or collection.key not in PERSONAL:
        return true()
    recipients = select(DirectiveRecipient.id).where(
        _addressed(scope, DirectiveRecipient.officer_id)
    )
    if collection.key == DIRECTIVE_RECEIPT_KEY:
        return SyncScopeExit.document_id.in_(recipients)
    if collection.key == DIRECTIVE_PROGRESS_KEY:
        return _exit_text("recipientId").in_(recipients)
    named = _exit_text("memberId")
    if scope.member_id is None:
        return named.is_(None)
    return or_(named.is_(None), named == global_id("Member", scope.member_id))


def _exit_text(name: str) -> ColumnElement[str]:
    """A text field of the exited document (SQL NULL where it is JSON null), on both databases."""
    element: ColumnElement[str] = SyncScopeExit.document[name].as_string()
    return element


def scope_key(scope: Scope, collection: SyncedCollection) -> str:
    """The scope a device's checkpoint of this collection holds for; a changed key makes it
    resync. An officer's personal collections also name their member, so an account linked to
    another member drops the documents it got as the old one."""
    if narrows(scope) and collection.key in PERSONAL:
        return f"{scope.key}/member:{scope.member_id}"
    return scope.key


def reaches(scope: Scope, addressees: Addressees) -> bool:
    """Whether a document of a branch the scope covers, with these addressees, is in the
    audience; the stream's in-memory counterpart of `clause`."""
    if addressees is None or not narrows(scope):
        return True
    return scope.member_id is not None and scope.member_id in addressees


def _named(document: Mapping[str, Any]) -> Addressees:
    member = document.get("memberId")
    if not isinstance(member, str):
        return None
    raw = global_id_uuid_or_none(member, "Member")
    return frozenset() if raw is None else frozenset((raw,))


async def addressees(
    db: AsyncSession, collection: SyncedCollection, documents: Sequence[Mapping[str, Any]]
) -> list[Addressees]:
    """Who each wire document (removals included) is for, in order; one statement per 5,000
    receipts or reports, none for other collections.

    Reminders and `Directive` documents name their member; a receipt or report is for whoever
    its recipient row is for, read from the rows in one statement.
    """
    if collection.key in (REMINDER_KEY, DIRECTIVE_KEY):
        return [_named(d) for d in documents]
    if collection.key not in (DIRECTIVE_RECEIPT_KEY, DIRECTIVE_PROGRESS_KEY):
        return [None] * len(documents)
    field_name = "id" if collection.key == DIRECTIVE_RECEIPT_KEY else "recipientId"
    wanted = [str(d.get(field_name)) for d in documents]
    found = await _recipients(db, wanted)
    out: list[Addressees] = []
    for rid in wanted:
        if rid not in found:
            out.append(frozenset())
        else:
            member = found[rid]
            out.append(None if member is None else frozenset((member,)))
    return out


_CHUNK = 5000  # bound parameters per statement stay well under the drivers' limits


async def _recipients(db: AsyncSession, ids: Iterable[str]) -> dict[str, uuid.UUID | None]:
    wanted = sorted(set(ids))
    found: dict[str, uuid.UUID | None] = {}
    for start in range(0, len(wanted), _CHUNK):
        rows = await db.execute(
            select(DirectiveRecipient.id, DirectiveRecipient.officer_id).where(
                DirectiveRecipient.id.in_(wanted[start : start + _CHUNK])
            )
        )
        found.update({rid: member for rid, member in rows})
    return found
