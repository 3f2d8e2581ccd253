"""Smart assessment (智能考核): the scored items, inspectors' manual scores and adjustments.

The catalog (A01–A28, 100 points by default) is seed data the bureau edits. How an item is
scored is data too: its `rule_kind` and `params` (a ledger item code, or a metric name with a
target); resolvers/assessment/ reads them. Scores themselves are never stored: they are
computed from the records whenever asked, so they always agree with the data. What is stored is
what people decide: manual scores and adjustments, each with a reason, kept for good.

Manual scores and adjustments are keyed by branch and period text ("2026", "2026-Q2",
"2026-05", the canonical form of resolvers/period.py), and indexed that way, since the
assessment reads all branches of one period at once.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, str_enum


class RuleKind(enum.StrEnum):
    """How an item is scored."""

    # Share of the ledger item's due entries present in the period: {"ledger_item": "L02"}.
    LEDGER_FREQUENCY = "ledger_frequency"
    # A count against a target: {"metric", "target", "per": "member" | null,
    # "period_scale": "month" | "quarter" | "year" | null}.
    COUNT_TARGET = "count_target"
    # Done out of total from a metric: {"metric": "directives_on_time"}.
    RATE = "rate"
    # Scored by an inspector (督导) with a reason: {}.
    MANUAL = "manual"

    @property
    def label(self) -> str:
        return {
            "ledger_frequency": "台账频次",
            "count_target": "数量目标",
            "rate": "完成率",
            "manual": "督导评分",
        }[self]


class AssessmentItem(Base):
    """One scored item of the standard (党建工作考核办法), e.g. A02 支部委员会会议, 4 points."""

    __tablename__ = "assessment_item"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    # Whole points; the active items add up to 100 (enforced when an admin edits them).
    points: Mapped[int]
    rule_kind: Mapped[RuleKind] = mapped_column(str_enum(RuleKind))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sort_order: Mapped[int] = mapped_column(default=0)
    # Retired items keep their manual scores but are no longer scored.
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ManualScore(Base):
    """An inspector's score of a manual item for one branch and period, with the reason.

    A new score for the same (branch, item, period) supersedes the current one: the earlier row
    is kept and points at its successor (`superseded_by_id`), so the history reads in order and
    the current score is the one row nobody superseded.
    """

    __tablename__ = "manual_score"
    __table_args__ = (
        # The assessment reads the current scores of all branches of a period in one go.
        Index("ix_manual_score_period_branch_item", "period", "branch_id", "item_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branch.id"), index=True)
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assessment_item.id"), index=True)
    period: Mapped[str] = mapped_column(String(8))
    score: Mapped[float]
    reason: Mapped[str] = mapped_column(Text)
    inspector_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[datetime]
    superseded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("manual_score.id"))
    superseded_at: Mapped[datetime | None]


class ScoreAdjustment(Base):
    """Points an inspector adds (or, negative, deducts) for a branch and period, with the reason.

    On one item, or on the total when `item_id` is null. Every adjustment is kept and they all
    add up; a wrong one is undone by an opposite one, so the record shows both.
    """

    __tablename__ = "score_adjustment"
    __table_args__ = (Index("ix_score_adjustment_period_branch", "period", "branch_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branch.id"), index=True)
    item_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("assessment_item.id"), index=True)
    period: Mapped[str] = mapped_column(String(8))
    delta: Mapped[float]
    reason: Mapped[str] = mapped_column(Text)
    inspector_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[datetime]
