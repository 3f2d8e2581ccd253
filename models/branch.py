"""Party organisation: the branch tree, task units and honours."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, str_enum


class BranchKind(enum.StrEnum):
    COMMITTEE = "committee"
    ORGAN_COMMITTEE = "organ_committee"
    GENERAL_BRANCH = "general_branch"
    BRANCH = "branch"
    GROUP = "group"
    TEMPORARY_GROUP = "temporary_group"
    COMMANDO_TEAM = "commando_team"
    TASK_FORCE = "task_force"

    @property
    def label(self) -> str:
        return BRANCH_KIND_LABELS[self]

    @property
    def is_task_unit(self) -> bool:
        """Time-bounded units that draw members from several home branches."""
        return self in TASK_UNIT_KINDS


BRANCH_KIND_LABELS = {
    BranchKind.COMMITTEE: "党委",
    BranchKind.ORGAN_COMMITTEE: "机关党委",
    BranchKind.GENERAL_BRANCH: "党总支",
    BranchKind.BRANCH: "党支部",
    BranchKind.GROUP: "党小组",
    BranchKind.TEMPORARY_GROUP: "临时党小组",
    BranchKind.COMMANDO_TEAM: "党员突击队",
    # One label for 破案尖刀队 and 攻坚小组 alike: a unit's name says which it is.
    BranchKind.TASK_FORCE: "攻坚队",
}
TASK_UNIT_KINDS = frozenset(
    {BranchKind.TEMPORARY_GROUP, BranchKind.COMMANDO_TEAM, BranchKind.TASK_FORCE}
)


class HonourLevel(enum.StrEnum):
    COUNTY = "county"
    CITY = "city"
    PROVINCE = "province"
    NATIONAL = "national"

    @property
    def label(self) -> str:
        return {"county": "县级", "city": "市级", "province": "省级", "national": "国家级"}[self]


class Branch(Base):
    """A party organisation. `path` lists the ids from the root ("/a/b/c/") for subtree queries."""

    __tablename__ = "branch"
    __table_args__ = (Index("ix_branch_parent_sort", "parent_id", "sort_order"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("branch.id"))
    path: Mapped[str] = mapped_column(String(700), index=True)
    depth: Mapped[int]
    kind: Mapped[BranchKind] = mapped_column(str_enum(BranchKind), index=True)
    name: Mapped[str] = mapped_column(String(100))
    unit_name: Mapped[str | None] = mapped_column(String(100))
    brand_name: Mapped[str | None] = mapped_column(String(100))
    brand_slogan: Mapped[str | None] = mapped_column(String(200))
    sort_order: Mapped[int] = mapped_column(default=0)
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class BranchHonour(Base):
    """An honour a branch received, e.g. 2023-12 全省"枫桥式公安派出所"."""

    __tablename__ = "branch_honour"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branch.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    level: Mapped[HonourLevel] = mapped_column(str_enum(HonourLevel))
    awarded_on: Mapped[date]
    created_at: Mapped[datetime]
