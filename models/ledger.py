"""E-ledgers (电子台账): the bureau's catalog of ledger items and each branch's entries.

The catalog (L01–L24 by default) is seed data the bureau edits; entries are what a branch
records against an item: a meeting, a talk, a fee collection. Aggregations (completeness,
assessment, the dashboard) read entries by (branch_id, item_id, occurred_on), which is indexed.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, str_enum


class LedgerFrequency(enum.StrEnum):
    """How often an item is due; `on_event` items are recorded when they happen, never due."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"
    ON_EVENT = "on_event"

    @property
    def label(self) -> str:
        return {"monthly": "每月", "quarterly": "每季度", "yearly": "每年", "on_event": "按需"}[
            self
        ]


class LedgerItem(Base):
    """One item of the standard (党支部基础工作台账标准), e.g. L02 支部委员会会议, monthly."""

    __tablename__ = "ledger_item"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    frequency: Mapped[LedgerFrequency] = mapped_column(str_enum(LedgerFrequency))
    # Only required items with a schedule count for completeness (and assessment).
    required: Mapped[bool] = mapped_column(default=True)
    sort_order: Mapped[int] = mapped_column(default=0)
    # Retired items keep their entries but are no longer offered or counted.
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class LedgerEntry(Base):
    """One record in a branch's ledger: what happened on `occurred_on`, who attended."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        Index("ix_ledger_entry_branch_item_day", "branch_id", "item_id", "occurred_on"),
        Index("ix_ledger_entry_branch_day", "branch_id", "occurred_on", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branch.id"))
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledger_item.id"), index=True)
    occurred_on: Mapped[date]
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id"))
    # When it was recorded: an entry recorded after its period's grace days is "late".
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class LedgerEntryAttendee(Base):
    """A member who attended (参会人员)."""

    __tablename__ = "ledger_entry_attendee"

    entry_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("ledger_entry.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("member.id"), primary_key=True, index=True
    )


class LedgerAttachment(Base):
    """A file kept with an entry; the bytes live in the storage (core/storage.py) by sha256."""

    __tablename__ = "ledger_attachment"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    entry_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("ledger_entry.id", ondelete="CASCADE"), index=True
    )
    file_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[datetime]
