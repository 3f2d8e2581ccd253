"""Brand building (品牌创建): the "六有一规范" criteria and each branch's checklist against them.

The brand name and slogan live on `Branch`, honours in `BranchHonour` (models/branch.py).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, str_enum


class BrandItemStatus(enum.StrEnum):
    """Where a branch stands on one criterion; a criterion without a row is not started."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    MET = "met"

    @property
    def label(self) -> str:
        return {"not_started": "未开始", "in_progress": "推进中", "met": "已达标"}[self]


class BrandCriterion(Base):
    """One criterion of the brand standard; seed data the bureau may edit (`meijing seed`)."""

    __tablename__ = "brand_criterion"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    sort_order: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class BrandChecklistItem(Base):
    """A branch's status on one criterion, with the evidence it offers."""

    __tablename__ = "brand_checklist_item"
    __table_args__ = (
        UniqueConstraint("branch_id", "criterion_id"),
        # The matrix and the assessment read all items of a set of branches by status.
        Index("ix_brand_checklist_item_branch_status", "branch_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branch.id"))
    criterion_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brand_criterion.id"), index=True)
    status: Mapped[BrandItemStatus] = mapped_column(str_enum(BrandItemStatus))
    evidence: Mapped[str | None] = mapped_column(Text)
    # Links or attachment references (file names, ledger entry ids) as a list of strings.
    evidence_links: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
