"""The history of a branch's scores: every manual score (with what it superseded) and every
adjustment of a period, and each of them by id."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from access.assessment import readable, require_readable
from access.viewer import Viewer
from models import Account, AssessmentItem, Branch, ManualScore, ScoreAdjustment
from resolvers.branch import get_branch
from resolvers.period import Period


@dataclass(frozen=True, slots=True)
class ManualEntry:
    row: ManualScore
    item_code: str
    inspector: str  # the account's username


@dataclass(frozen=True, slots=True)
class AdjustmentEntry:
    row: ScoreAdjustment
    item_code: str | None
    inspector: str


@dataclass(frozen=True, slots=True)
class History:
    """Every manual score (each item's current one first, then those it superseded) and every
    adjustment (newest first) of a branch and period."""

    manual_scores: list[ManualEntry]
    adjustments: list[AdjustmentEntry]


async def assessment_history(
    db: AsyncSession, viewer: Viewer, branch_id: uuid.UUID, period: Period
) -> History:
    """Every manual score and adjustment of a branch and period, newest first. Two statements."""
    branch = await get_branch(db, branch_id, "branchId")
    require_readable(viewer, branch)
    manual = await db.execute(
        _manual_entries()
        .where(ManualScore.branch_id == branch.id, ManualScore.period == str(period))
        .order_by(AssessmentItem.sort_order, AssessmentItem.code)
    )
    adjustments = await db.execute(
        _adjustment_entries()
        .where(ScoreAdjustment.branch_id == branch.id, ScoreAdjustment.period == str(period))
        .order_by(ScoreAdjustment.created_at.desc(), ScoreAdjustment.id)
    )
    entries = {row.id: ManualEntry(row, code, name) for row, code, name in manual}
    return History(
        [entries[row.id] for row in newest_first([e.row for e in entries.values()])],
        [AdjustmentEntry(row, code, name) for row, code, name in adjustments],
    )


def _manual_entries() -> Select[ManualScore, str, str]:
    return (
        select(ManualScore, AssessmentItem.code, Account.username)
        .join(AssessmentItem, AssessmentItem.id == ManualScore.item_id)
        .join(Account, Account.id == ManualScore.inspector_id)
    )


def _adjustment_entries() -> Select[ScoreAdjustment, str, str]:
    return (
        select(ScoreAdjustment, AssessmentItem.code, Account.username)
        .outerjoin(AssessmentItem, AssessmentItem.id == ScoreAdjustment.item_id)
        .join(Account, Account.id == ScoreAdjustment.inspector_id)
    )


async def get_manual_score(
    db: AsyncSession, viewer: Viewer, score_id: uuid.UUID
) -> ManualEntry | None:
    """One manual score; None when absent or its branch's history is not readable (as in
    `assessment_history`). One statement."""
    query = (
        _manual_entries()
        .add_columns(Branch)
        .join(Branch, Branch.id == ManualScore.branch_id)
        .where(ManualScore.id == score_id)
    )
    found = (await db.execute(query)).one_or_none()
    if found is None or not readable(viewer, found[3]):
        return None
    return ManualEntry(found[0], found[1], found[2])


async def get_score_adjustment(
    db: AsyncSession, viewer: Viewer, adjustment_id: uuid.UUID
) -> AdjustmentEntry | None:
    """One adjustment; None when absent or its branch's history is not readable (as in
    `assessment_history`). One statement."""
    query = (
        _adjustment_entries()
        .add_columns(Branch)
        .join(Branch, Branch.id == ScoreAdjustment.branch_id)
        .where(ScoreAdjustment.id == adjustment_id)
    )
    found = (await db.execute(query)).one_or_none()
    if found is None or not readable(viewer, found[3]):
        return None
    return AdjustmentEntry(found[0], found[1], found[2])


def newest_first(rows: Sequence[ManualScore]) -> list[ManualScore]:
    """Manual scores item by item (in the order given), each item's current score
    first, then what it superseded, back to the first: the supersession chain, not timestamps,
    decides the order, so two scores entered within the same instant still read right."""
    by_successor = {r.superseded_by_id: r for r in rows if r.superseded_by_id is not None}
    out: list[ManualScore] = []
    for current in (r for r in rows if r.superseded_by_id is None):
        row: ManualScore | None = current
        while row is not None:
            out.append(row)
            row = by_successor.get(row.id)
    return out
