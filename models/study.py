"""Study (理论学习): 第一议题 study records and the study groups that follow them up."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, str_enum


class StudyForm(enum.StrEnum):
    """The three ways a study is held (中心组领学、支部组学、青年理论学习小组跟进学)."""

    CENTRAL_GROUP = "central_group"
    BRANCH = "branch"
    YOUTH_GROUP = "youth_group"

    @property
    def label(self) -> str:
        return {
            "central_group": "中心组领学",
            "branch": "支部组学",
            "youth_group": "青年理论学习小组跟进学",
        }[self]


class StudyRecord(Base):
    """One 第一议题 study session, optionally linked to the meeting's ledger entry (L02 or L06)."""

    __tablename__ = "study_record"
    __table_args__ = (Index("ix_study_record_branch_day", "branch_id", "held_on", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branch.id"))
    held_on: Mapped[date]
    topic: Mapped[str] = mapped_column(String(200))
    material: Mapped[str | None] = mapped_column(Text)
    form: Mapped[StudyForm] = mapped_column(str_enum(StudyForm))
    ledger_entry_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("ledger_entry.id", ondelete="SET NULL"), index=True
    )
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class StudyRecordAttendee(Base):
    __tablename__ = "study_record_attendee"

    record_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("study_record.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("member.id"), primary_key=True, index=True
    )


class StudyGroup(Base):
    """A study group of a branch, e.g. 青年民警理论学习小组."""

    __tablename__ = "study_group"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branch.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class StudyGroupMember(Base):
    __tablename__ = "study_group_member"

    group_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("study_group.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("member.id"), primary_key=True, index=True
    )
