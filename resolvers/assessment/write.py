"""Inspectors' writes: manual scores (each superseding the current one, which is kept) and
adjustments (加减分) of a branch and period, with their reasons."""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from access.assessment import require_inspector
from access.errors import Collector, ErrorCode, InputError
from access.viewer import Viewer
from core.clock import Clock
from core.ids import new_id
from models import Branch, ManualScore, RuleKind, ScoreAdjustment
from resolvers.assessment.catalog import items_by_code, unknown_item
from resolvers.assessment.query import check_assessed
from resolvers.period import Period, PeriodError, parse_period

REASON_MAX = 500
MAX_DELTA = 100.0


def _period(errors: Collector, text: str | None) -> Period | None:
    try:
        return parse_period(text or "")
    except PeriodError as exc:
        errors.add("period", str(exc), ErrorCode.INVALID_PERIOD)
        return None


async def _assessed_branch(
    db: AsyncSession, errors: Collector, branch_id: uuid.UUID
) -> Branch | None:
    branch = await db.get(Branch, branch_id)
    if branch is None:
        errors.add("branchId", "组织不存在 (branch not found)", ErrorCode.NOT_FOUND)
        return None
    try:
        check_assessed(branch, "branchId")
    except InputError as exc:
        errors.problems.extend(exc.problems)
        return None
    return branch


async def _lock(db: AsyncSession, branch: Branch) -> None:
    """Serialises scoring of one branch (PostgreSQL row lock; SQLite writes one at a time), so
    two inspectors scoring the same item at once leave one current score, not two."""
    await db.execute(select(Branch.id).where(Branch.id == branch.id).with_for_update())


async def set_manual_score(
    db: AsyncSession, viewer: Viewer, clock: Clock, data: Mapping[str, Any]
) -> ManualScore:
    """Records an inspector's score of a manual item; it supersedes the current one, which is
    kept. `data`: branch_id, period, item_code, score, reason."""
    require_inspector(viewer)
    errors = Collector()
    period = _period(errors, data.get("period"))
    code = str(data.get("item_code") or "").strip().upper()
    item = (await items_by_code(db, [code])).get(code)
    score = float(data.get("score", -1))
    if item is None:
        errors.add("itemCode", unknown_item(code), ErrorCode.NOT_FOUND)
    elif item.rule_kind is not RuleKind.MANUAL:
        errors.add(
            "itemCode",
            f"{item.code} {item.name}按{item.rule_kind.label}自动计分,不能人工评分 "
            "(not a manual item: use adjustScore)",
            ErrorCode.INVALID_KIND,
        )
    elif not item.active:
        errors.add("itemCode", f"{item.code} 已停用 (item retired)", ErrorCode.INVALID)
    elif not (math.isfinite(score) and 0 <= score <= item.points):
        errors.add(
            "score",
            f"{item.code} 的评分须在 0 到 {item.points} 分之间 (score 0–{item.points})",
            ErrorCode.OUT_OF_RANGE,
        )
    reason = errors.require_text("reason", data.get("reason"), REASON_MAX)
    branch = await _assessed_branch(db, errors, data["branch_id"])
    errors.raise_if_any()
    assert item is not None and period is not None and branch is not None and reason
    await _lock(db, branch)
    earlier = (
        await db.scalars(
            select(ManualScore).where(
                ManualScore.branch_id == branch.id,
                ManualScore.item_id == item.id,
                ManualScore.period == str(period),
                ManualScore.superseded_by_id.is_(None),
            )
        )
    ).all()
    now = clock()
    row = ManualScore(
        id=new_id(),
        branch_id=branch.id,
        item_id=item.id,
        period=str(period),
        score=score,
        reason=reason,
        inspector_id=viewer.account_id,
        created_at=now,
    )
    db.add(row)
    await db.flush()
    for old in earlier:
        old.superseded_by_id = row.id
        old.superseded_at = now
    await db.flush()
    return row


async def adjust_score(
    db: AsyncSession, viewer: Viewer, clock: Clock, data: Mapping[str, Any]
) -> ScoreAdjustment:
    """Adds (or deducts) points for a branch and period, on an item or (no item) on the total,
    with the reason. `data`: branch_id, period, item_code (optional), delta, reason."""
    require_inspector(viewer)
    errors = Collector()
    period = _period(errors, data.get("period"))
    code = str(data.get("item_code") or "").strip().upper()
    item = None
    if code:
        item = (await items_by_code(db, [code])).get(code)
        if item is None:
            errors.add("itemCode", unknown_item(code), ErrorCode.NOT_FOUND)
    delta = float(data.get("delta", 0))
    if not math.isfinite(delta) or delta == 0 or abs(delta) > MAX_DELTA:
        errors.add(
            "delta",
            "调整分值须为非零且不超过 ±100 分 (delta must be non-zero, at most ±100)",
            ErrorCode.OUT_OF_RANGE,
        )
    elif item is not None and abs(delta) > item.points:
        errors.add(
            "delta",
            f"{item.code} 的调整不能超过其分值 {item.points} 分 (more than the item's points)",
            ErrorCode.OUT_OF_RANGE,
        )
    reason = errors.require_text("reason", data.get("reason"), REASON_MAX)
    branch = await _assessed_branch(db, errors, data["branch_id"])
    errors.raise_if_any()
    assert period is not None and branch is not None and reason
    row = ScoreAdjustment(
        id=new_id(),
        branch_id=branch.id,
        item_id=item.id if item else None,
        period=str(period),
        delta=delta,
        reason=reason,
        inspector_id=viewer.account_id,
        created_at=clock(),
    )
    db.add(row)
    await db.flush()
    return row
