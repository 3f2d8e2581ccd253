"""Village visits (走访) recorded by field officers, usually offline."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from models.sync import SyncedDocument


class VisitCategory(enum.StrEnum):
    HOUSEHOLD = "household"
    DISPUTE_MEDIATION = "dispute_mediation"
    FRAUD_PREVENTION = "fraud_prevention"
    SAFETY_CHECK = "safety_check"
    HELP_REQUEST = "help_request"
    ELDERLY_CARE = "elderly_care"
    SCHOOL_SAFETY = "school_safety"

    @property
    def label(self) -> str:
        return {
            "household": "入户走访",
            "dispute_mediation": "矛盾纠纷调解",
            "fraud_prevention": "反诈宣传",
            "safety_check": "安全隐患排查",
            "help_request": "群众求助",
            "elderly_care": "关爱孤寡留守",
            "school_safety": "校园安全",
        }[self]


class VisitStatus(enum.StrEnum):
    """In the order a visit moves: a status only moves forward when two writes meet."""

    OPEN = "open"
    ESCALATED = "escalated"
    RESOLVED = "resolved"

    @property
    def label(self) -> str:
        return {"open": "待办", "escalated": "已上报", "resolved": "已解决"}[self]


class Visit(SyncedDocument, Base):
    __tablename__ = "visit"

    village: Mapped[str] = mapped_column(String(100), index=True)
    household: Mapped[str | None] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(32))
    concerns: Mapped[str | None] = mapped_column(Text)
    resolution: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    people_reached: Mapped[int]
    # As the phone sent it (so content comparisons see the same text), and as an instant.
    visited_at_text: Mapped[str] = mapped_column(String(40))
    visited_at: Mapped[datetime] = mapped_column(index=True)
