"""The party-building education base (党建教育基地, 615 m²) and the activities held there."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, str_enum


class EducationActivityType(enum.StrEnum):
    OPEN_DAY = "open_day"
    CEREMONY_RETIREMENT = "ceremony_retirement"
    OATH = "oath"
    STUDY_VISIT = "study_visit"
    LECTURE = "lecture"
    OTHER = "other"

    @property
    def label(self) -> str:
        return EDUCATION_ACTIVITY_TYPE_LABELS[self]


EDUCATION_ACTIVITY_TYPE_LABELS = {
    EducationActivityType.OPEN_DAY: "开放日",
    EducationActivityType.CEREMONY_RETIREMENT: "荣休仪式",
    EducationActivityType.OATH: "入党宣誓",
    EducationActivityType.STUDY_VISIT: "参观学习",
    EducationActivityType.LECTURE: "党课宣讲",
    EducationActivityType.OTHER: "其他",
}


class EducationBase(Base):
    """A party-building education base (党建教育基地): where education activities are held. The
    county's is 玫警初心党建教育基地, 615 m²."""

    __tablename__ = "education_base"
    __table_args__ = (CheckConstraint("area_m2 > 0", name="area_m2_positive"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # Floor area in square metres.
    area_m2: Mapped[int]
    address: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class EducationActivity(Base):
    """One activity at a base, organised by a branch, with how many people attended."""

    __tablename__ = "education_activity"
    __table_args__ = (
        CheckConstraint("audience_count >= 0", name="audience_count_not_negative"),
        # Dashboards and the assessment count activities per branch and period.
        Index("ix_education_activity_branch_held_on", "branch_id", "held_on"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branch.id"))
    # The base it was held at; None for activities recorded before bases were kept.
    base_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("education_base.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    held_on: Mapped[date] = mapped_column(index=True)
    type: Mapped[EducationActivityType] = mapped_column(str_enum(EducationActivityType))
    audience_count: Mapped[int]
    notes: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
