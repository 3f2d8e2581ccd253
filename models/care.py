"""Care for officers (关爱民警辅警): 警心110 hotline requests and how they were handled.

Confidential: only admins, the member's secretary and the member themself read them
(resolvers/care.py).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, str_enum


class HotlineCategory(enum.StrEnum):
    PSYCHOLOGICAL = "psychological"
    FAMILY = "family"
    HEALTH = "health"
    WORK_PRESSURE = "work_pressure"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "psychological": "心理疏导",
            "family": "家庭困难",
            "health": "健康就医(警医绿色通道)",
            "work_pressure": "工作压力",
            "other": "其他",
        }[self]


class HotlineStatus(enum.StrEnum):
    """In order: a request only moves forward."""

    RECEIVED = "received"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"

    @property
    def label(self) -> str:
        return {"received": "已受理", "in_progress": "处理中", "resolved": "已办结"}[self]

    @property
    def rank(self) -> int:
        return list(HotlineStatus).index(self)


class HotlineRequest(Base):
    """A 警心110 request by a member, or recorded on their behalf."""

    __tablename__ = "hotline_request"
    __table_args__ = (Index("ix_hotline_request_status_received", "status", "received_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("member.id"), index=True)
    received_at: Mapped[datetime]
    category: Mapped[HotlineCategory] = mapped_column(str_enum(HotlineCategory))
    summary: Mapped[str] = mapped_column(Text)
    status: Mapped[HotlineStatus] = mapped_column(str_enum(HotlineStatus))
    handled_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id"))
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id"))
    resolved_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class HotlineNote(Base):
    """One step of handling: a note and the status it left the request in. Kept forever."""

    __tablename__ = "hotline_note"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hotline_request.id"), index=True)
    status: Mapped[HotlineStatus] = mapped_column(str_enum(HotlineStatus))
    note: Mapped[str] = mapped_column(Text)
    by_account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id"))
    recorded_at: Mapped[datetime]
