"""Patrols (巡逻, including 夜间巡逻 night patrols) with their participants and GPS track."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from models.sync import SyncedDocument


class PatrolKind(enum.StrEnum):
    DAY = "day"
    NIGHT = "night"

    @property
    def label(self) -> str:
        return {"day": "日间巡逻", "night": "夜间巡逻"}[self]


class Patrol(SyncedDocument, Base):
    __tablename__ = "patrol"

    kind: Mapped[str] = mapped_column(String(16))
    area: Mapped[str] = mapped_column(String(100))
    started_at_text: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime] = mapped_column(index=True)
    ended_at_text: Mapped[str | None] = mapped_column(String(40))
    ended_at: Mapped[datetime | None]
    # JSON text as on the wire: ["<Member global id>", ...] and [{"t", "lat", "lng"}, ...].
    participants: Mapped[str] = mapped_column(Text, default="[]")
    track: Mapped[str] = mapped_column(Text, default="[]")
    observations: Mapped[str | None] = mapped_column(Text)
