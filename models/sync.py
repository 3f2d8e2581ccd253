"""What the offline sync keeps besides the documents: conflicts, quarantine, devices, scope exits.

Synced documents (visits, patrols, service actions) share the `SyncedDocument` columns: a
client-generated id, the branch that scopes them, the server-assigned `updated_at` stamp (epoch
milliseconds, the pull cursor) and a `deleted` tombstone flag.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from models.base import Base

DOCUMENT_ID_LENGTH = 64

# Each synced collection's key: stored in the logs (sync_conflict.collection, ...), so stable.
# sync/collection.py describes each collection under its key; access/audience.py narrows the
# personal ones without knowing the sync protocol.
VISIT_KEY = "visit"
PATROL_KEY = "patrol"
SERVICE_ACTION_KEY = "service_action"
DIRECTIVE_KEY = "directive"
REMINDER_KEY = "reminder"
DIRECTIVE_RECEIPT_KEY = "directive_receipt"
DIRECTIVE_PROGRESS_KEY = "directive_progress"


class SyncCollection(enum.StrEnum):
    """The synced collections by key, as the sync logs (conflicts, quarantine) name them."""

    VISIT = VISIT_KEY
    PATROL = PATROL_KEY
    SERVICE_ACTION = SERVICE_ACTION_KEY
    DIRECTIVE = DIRECTIVE_KEY
    REMINDER = REMINDER_KEY
    DIRECTIVE_RECEIPT = DIRECTIVE_RECEIPT_KEY
    DIRECTIVE_PROGRESS = DIRECTIVE_PROGRESS_KEY

    @property
    def label(self) -> str:
        return {
            "visit": "走访",
            "patrol": "巡逻",
            "service_action": "为民服务",
            "directive": "上级指令",
            "reminder": "督导提醒",
            "directive_receipt": "指令签收",
            "directive_progress": "指令进展",
        }[self]


class SyncedDocument:
    """Columns every synced collection has; each table adds its own typed fields."""

    id: Mapped[str] = mapped_column(String(DOCUMENT_ID_LENGTH), primary_key=True)
    updated_at: Mapped[int] = mapped_column(BigInteger)
    deleted: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    # Who wrote the current version (a phone's account and device session, or a web user).
    updated_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id"))
    updated_device: Mapped[uuid.UUID | None]

    @declared_attr
    def branch_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(ForeignKey("branch.id"), index=True)

    @declared_attr
    def officer_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(ForeignKey("member.id"), index=True)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        # The pull cursor: (updated_at, id) ascending.
        return (Index(f"ix_{cls.__tablename__}_cursor", "updated_at", "id"),)  # type: ignore[attr-defined]


class SyncConflict(Base):
    """A field whose concurrent writes could not all be kept: nothing an officer wrote is lost.

    Values are JSON as on the wire. `fingerprint` makes a retried push log nothing new.
    """

    __tablename__ = "sync_conflict"
    __table_args__ = (UniqueConstraint("collection", "document_id", "fingerprint"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    collection: Mapped[str] = mapped_column(String(32))
    document_id: Mapped[str] = mapped_column(String(DOCUMENT_ID_LENGTH), index=True)
    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branch.id"), index=True)
    field: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(32))
    ancestor: Mapped[Any | None] = mapped_column(JSON(none_as_null=True))
    client: Mapped[Any | None] = mapped_column(JSON(none_as_null=True))
    server: Mapped[Any | None] = mapped_column(JSON(none_as_null=True))
    result: Mapped[Any | None] = mapped_column(JSON(none_as_null=True))
    account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id"))
    device_session_id: Mapped[uuid.UUID | None]
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(index=True)
    # An admin or the record's secretary may override the result with another value, once.
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id"))
    resolution: Mapped[Any | None] = mapped_column(JSON(none_as_null=True))
    # What the override did to the record (resolvers/sync_admin.py): "applied" (the field now
    # holds it), "merged" (combined with later writes) or "conflicted" (it clashed with a later
    # write, logged as `next_conflict_id`).
    settlement: Mapped[str | None] = mapped_column(String(16))
    next_conflict_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sync_conflict.id"))


class SyncQuarantine(Base):
    """A pushed row that could not be applied, kept verbatim with its reasons until handled."""

    __tablename__ = "sync_quarantine"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    collection: Mapped[str] = mapped_column(String(32))
    document_id: Mapped[str | None] = mapped_column(Text)
    account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id"), index=True)
    device_session_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    # [{field, message, code}, ...]
    reasons: Mapped[Any] = mapped_column(JSON)
    # {"assumedMasterState": ..., "newDocumentState": ...} exactly as received.
    row: Mapped[Any] = mapped_column(JSON)
    # The fingerprint of (collection, row, reasons, account): a retried push is kept once.
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    received_at: Mapped[datetime] = mapped_column(index=True)
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id"))
    # "applied" (re-pushed through the merge) or "discarded", with an optional note.
    resolution: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)


class SyncDevice(Base):
    """The fleet view: what each signed-in device last did, keyed by its device session."""

    __tablename__ = "sync_device"

    device_session_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"), index=True)
    app_version: Mapped[str | None] = mapped_column(String(64))
    last_pull_at: Mapped[datetime | None]
    last_push_at: Mapped[datetime | None]
    # The device's clock minus the server's, in milliseconds, as last reported.
    clock_skew_ms: Mapped[int | None] = mapped_column(BigInteger)
    pushed_rows: Mapped[int] = mapped_column(BigInteger, default=0)
    # {collection: scope key} at the device's last pull: a changed scope asks for a resync.
    scopes: Mapped[Any] = mapped_column(JSON, default=dict)
    quarantined_rows: Mapped[int] = mapped_column(BigInteger, default=0)


class SyncScopeExit(Base):
    """A document left a branch (its branch changed): viewers of the old branch get a removal.

    `document` is the state the old branch's viewers were entitled to, sent back as a tombstone.
    """

    __tablename__ = "sync_scope_exit"
    __table_args__ = (
        Index("ix_sync_scope_exit_cursor", "collection", "updated_at", "document_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    collection: Mapped[str] = mapped_column(String(32))
    document_id: Mapped[str] = mapped_column(String(DOCUMENT_ID_LENGTH))
    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branch.id"), index=True)
    # The old branch's path when the document left it, so subtree viewers find the exit even
    # after branches move.
    branch_path: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[int] = mapped_column(BigInteger)
    document: Mapped[Any] = mapped_column(JSON)
