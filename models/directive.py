"""Directives (上级指令) and their four-level dispatch (四级调度): 县局党委 → 机关党委 → 支部 → 党员.

A `Directive` is issued once by a committee. Who received it, level by level, is a tree of
`DirectiveRecipient` rows: the issuing committee's own row is the root, and each row that
dispatches onward is the parent of its recipients' rows. Every recipient signs (签收), reports
progress (`DirectiveProgress`) and closes its own row.

The tree rows are also what phones sync. A recipient row *is* the synced `Directive` document
(pull-only; the directive's title, content, priority and deadline are read through column
properties, never copied), so it carries the `SyncedDocument` columns: the server's commit-ordered
stamp in `updated_at`, and `branch_id`, which scopes it. Receipts and progress reports are synced
documents of their own (`DirectiveReceipt`, `DirectiveProgress`) that phones push offline;
applying one updates its recipient row (see sync/directive.py).

For aggregation (assessment item A21 "directives signed and closed on time", reminders, the
dashboard's completion rate) a recipient row names the branch it belongs to in `branch_id` (for a
member, their home branch when it was dispatched), its `level`, and the instants `dispatched_at`,
`signed_at`, `last_reported_at` and `closed_at`; the deadline is the directive's.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, column_property, mapped_column, synonym

from models.base import Base, str_enum
from models.branch import BRANCH_KIND_LABELS, BranchKind
from models.sync import DOCUMENT_ID_LENGTH, SyncedDocument


class DirectivePriority(enum.StrEnum):
    ROUTINE = "routine"
    IMPORTANT = "important"
    URGENT = "urgent"

    @property
    def label(self) -> str:
        return {"routine": "一般", "important": "重要", "urgent": "紧急"}[self]


class DirectiveStatus(enum.StrEnum):
    """`draft` is kept for an editing step before issue; issueDirective issues at once."""

    DRAFT = "draft"
    ISSUED = "issued"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {"draft": "草稿", "issued": "已下发", "closed": "已办结"}[self]


class DirectiveLevel(enum.StrEnum):
    """The four dispatch levels, top down."""

    COUNTY_COMMITTEE = "county_committee"
    ORGAN_COMMITTEE = "organ_committee"
    BRANCH = "branch"
    MEMBER = "member"

    @property
    def label(self) -> str:
        return DIRECTIVE_LEVEL_LABELS[self]

    @property
    def rank(self) -> int:
        return DIRECTIVE_LEVELS.index(self)

    @classmethod
    def of_branch(cls, kind: BranchKind) -> DirectiveLevel:
        """The level a branch of this kind receives directives at."""
        if kind is BranchKind.COMMITTEE:
            return cls.COUNTY_COMMITTEE
        if kind is BranchKind.ORGAN_COMMITTEE:
            return cls.ORGAN_COMMITTEE
        return cls.BRANCH


DIRECTIVE_LEVELS = list(DirectiveLevel)
DIRECTIVE_LEVEL_LABELS = {
    DirectiveLevel.COUNTY_COMMITTEE: "县局党委",
    DirectiveLevel.ORGAN_COMMITTEE: "机关党委",
    DirectiveLevel.BRANCH: BRANCH_KIND_LABELS[BranchKind.BRANCH],  # 党支部, as the branch's kind
    DirectiveLevel.MEMBER: "党员",
}


class RecipientStatus(enum.StrEnum):
    """In order: a recipient only moves forward."""

    PENDING = "pending"
    SIGNED = "signed"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {
            "pending": "待签收",
            "signed": "已签收",
            "in_progress": "办理中",
            "closed": "已办结",
        }[self]


class Directive(Base):
    """A directive as issued: what, how urgent, by when, and by which committee."""

    __tablename__ = "directive"
    __table_args__ = (
        Index("ix_directive_status_deadline", "status", "deadline"),
        Index("ix_directive_issued_by_issued_at", "issued_by_branch_id", "issued_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    priority: Mapped[DirectivePriority] = mapped_column(str_enum(DirectivePriority))
    deadline: Mapped[datetime]
    issued_by_branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branch.id"))
    issued_by_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"))
    issued_by_member_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("member.id"))
    status: Mapped[DirectiveStatus] = mapped_column(str_enum(DirectiveStatus))
    issued_at: Mapped[datetime | None] = mapped_column(index=True)
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


def _of_directive(column: Any) -> Any:
    """A directive column read from a recipient row (correlated on its directive_id), labelled
    with the column's name so named rows carry it as an attribute."""
    return column_property(
        select(column)
        .where(Directive.id == DirectiveRecipient.directive_id)
        .correlate_except(Directive)
        .scalar_subquery()
        .label(column.key),
        deferred=True,
    )


class DirectiveRecipient(SyncedDocument, Base):
    """One recipient of a directive at one level; the synced `Directive` document phones pull.

    `branch_id` is the recipient branch, or for a member the member's home branch at dispatch;
    `officer_id` (alias `member_id`) is the member for level `member`, null for branch levels.
    `target` ("b:<branch id>" / "m:<member id>") makes a recipient receive a directive once.
    """

    __tablename__ = "directive_recipient"
    __table_args__ = (
        Index("ix_directive_recipient_cursor", "updated_at", "id"),
        UniqueConstraint("directive_id", "target"),
        Index("ix_directive_recipient_directive_level", "directive_id", "level"),
        Index("ix_directive_recipient_branch_dispatched", "branch_id", "dispatched_at"),
    )

    # Branch-level rows name no member, so the mixin's officer column is nullable here.
    officer_id: Mapped[uuid.UUID | None] = mapped_column(  # type: ignore[assignment]
        ForeignKey("member.id"), index=True
    )
    directive_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("directive.id"))
    parent_id: Mapped[str | None] = mapped_column(
        String(DOCUMENT_ID_LENGTH), ForeignKey("directive_recipient.id"), index=True
    )
    level: Mapped[DirectiveLevel] = mapped_column(str_enum(DirectiveLevel))
    target: Mapped[str] = mapped_column(String(40))
    status: Mapped[RecipientStatus] = mapped_column(str_enum(RecipientStatus))
    dispatched_at: Mapped[datetime]
    dispatched_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id"))
    signed_at: Mapped[datetime | None]
    signed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id"))
    last_reported_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id"))

    member_id = synonym("officer_id")


# The directive's fields on its recipients' synced documents, read at pull time.
DirectiveRecipient.title = _of_directive(Directive.title)
DirectiveRecipient.content = _of_directive(Directive.content)
DirectiveRecipient.priority = _of_directive(Directive.priority)
DirectiveRecipient.deadline = _of_directive(Directive.deadline)


class DirectiveReceipt(SyncedDocument, Base):
    """签收: a recipient's signature. Its id is the recipient row's id, so a directive is signed
    once however many devices sign it (a second device's signature merges into the first)."""

    __tablename__ = "directive_receipt"

    # An admin signing for the county committee has no member record.
    officer_id: Mapped[uuid.UUID | None] = mapped_column(  # type: ignore[assignment]
        ForeignKey("member.id"), index=True
    )
    signed_at_text: Mapped[str] = mapped_column(String(40))
    signed_at: Mapped[datetime]


class DirectiveProgress(SyncedDocument, Base):
    """A progress report of one recipient: text, and a percentage or a stage.

    `officer_id` is the reporting member (null for an admin), `updated_by` the account.
    """

    __tablename__ = "directive_progress"
    __table_args__ = (
        Index("ix_directive_progress_cursor", "updated_at", "id"),
        Index("ix_directive_progress_recipient_reported", "recipient_id", "reported_at"),
    )

    officer_id: Mapped[uuid.UUID | None] = mapped_column(  # type: ignore[assignment]
        ForeignKey("member.id"), index=True
    )
    recipient_id: Mapped[str] = mapped_column(
        String(DOCUMENT_ID_LENGTH), ForeignKey("directive_recipient.id")
    )
    text: Mapped[str] = mapped_column(Text)
    percent: Mapped[int | None]
    stage: Mapped[str | None] = mapped_column(String(50))
    reported_at_text: Mapped[str] = mapped_column(String(40))
    reported_at: Mapped[datetime] = mapped_column(index=True)
