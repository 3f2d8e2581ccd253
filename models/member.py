"""Party members, their pipeline history, transfers and task-unit memberships."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, str_enum


class PersonnelType(enum.StrEnum):
    POLICE = "police"
    AUXILIARY = "auxiliary"

    @property
    def label(self) -> str:
        return {"police": "民警", "auxiliary": "辅警"}[self]


class PartyStatus(enum.StrEnum):
    """The 发展党员 pipeline, in order."""

    APPLICANT = "applicant"
    ACTIVIST = "activist"
    CANDIDATE = "candidate"
    PROBATIONARY = "probationary"
    FULL = "full"

    @property
    def label(self) -> str:
        return PARTY_STATUS_LABELS[self]

    @property
    def rank(self) -> int:
        return PARTY_STATUS_ORDER.index(self)

    def next(self) -> PartyStatus | None:
        i = self.rank + 1
        return PARTY_STATUS_ORDER[i] if i < len(PARTY_STATUS_ORDER) else None


PARTY_STATUS_ORDER = list(PartyStatus)
PARTY_STATUS_LABELS = {
    PartyStatus.APPLICANT: "入党申请人",
    PartyStatus.ACTIVIST: "入党积极分子",
    PartyStatus.CANDIDATE: "发展对象",
    PartyStatus.PROBATIONARY: "预备党员",
    PartyStatus.FULL: "正式党员",
}


class Post(enum.StrEnum):
    SECRETARY = "secretary"
    DEPUTY_SECRETARY = "deputy_secretary"
    ORGANISATION = "organisation"
    PUBLICITY = "publicity"
    DISCIPLINE = "discipline"
    YOUTH = "youth"
    MEMBER = "member"

    @property
    def label(self) -> str:
        return {
            "secretary": "书记",
            "deputy_secretary": "副书记",
            "organisation": "组织委员",
            "publicity": "宣传委员",
            "discipline": "纪检委员",
            "youth": "青年委员",
            "member": "党员",
        }[self]


class ServiceStatus(enum.StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"

    @property
    def label(self) -> str:
        return {"active": "在职", "retired": "退休"}[self]


class Member(Base):
    __tablename__ = "member"
    __table_args__ = (Index("ix_member_branch_name", "branch_id", "name", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branch.id"))
    name: Mapped[str] = mapped_column(String(50), index=True)
    personnel_type: Mapped[PersonnelType] = mapped_column(str_enum(PersonnelType))
    party_status: Mapped[PartyStatus] = mapped_column(str_enum(PartyStatus), index=True)
    party_status_since: Mapped[date]
    post: Mapped[Post] = mapped_column(str_enum(Post))
    police_number: Mapped[str | None] = mapped_column(String(20), unique=True)
    birthday: Mapped[date | None]
    joined_party_on: Mapped[date | None]
    phone: Mapped[str | None] = mapped_column(String(20))
    id_number: Mapped[str | None] = mapped_column(String(18), unique=True)
    service_status: Mapped[ServiceStatus] = mapped_column(str_enum(ServiceStatus))
    retired_on: Mapped[date | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class MemberTransfer(Base):
    """组织关系转接: one move of a member's home branch, kept forever."""

    __tablename__ = "member_transfer"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("member.id"), index=True)
    from_branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branch.id"))
    to_branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branch.id"))
    transferred_on: Mapped[date]
    reason: Mapped[str | None] = mapped_column(String(200))
    by_account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id"))
    recorded_at: Mapped[datetime]


class PartyStatusChange(Base):
    """One step of the pipeline; a fast-track step (火线发展) carries its reason."""

    __tablename__ = "party_status_change"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("member.id"), index=True)
    from_status: Mapped[PartyStatus | None] = mapped_column(str_enum(PartyStatus))
    to_status: Mapped[PartyStatus] = mapped_column(str_enum(PartyStatus))
    effective_on: Mapped[date]
    fast_track: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str | None] = mapped_column(String(500))
    by_account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id"))
    recorded_at: Mapped[datetime]


class TaskUnitMembership(Base):
    """A member's place in a task unit (临时党小组, 党员突击队, 攻坚小组) beside their home branch."""

    __tablename__ = "task_unit_membership"
    __table_args__ = (UniqueConstraint("task_unit_id", "member_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    task_unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branch.id"), index=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("member.id"), index=True)
    role: Mapped[str | None] = mapped_column(String(50))
    joined_on: Mapped[date]
    created_at: Mapped[datetime]
