"""The assessment catalog (考核项目): items, their points and rules, edited by admins.

The active items add up to 100 points; each item's rule kind says how it is scored
(resolvers/assessment/scoring.py) and its params what from: a ledger item, or a metric
(resolvers/assessment/metric.py) with a target.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from access.errors import Collector, ErrorCode, InputError
from access.viewer import Viewer
from core.clock import Clock
from models import AssessmentItem, LedgerItem, RuleKind
from resolvers.assessment.metric import METRICS, MetricRegistry
from resolvers.assessment.scoring import PERIOD_SCALES, SUGGESTIONS

TOTAL_POINTS = 100


async def list_assessment_items(
    db: AsyncSession, include_inactive: bool = False
) -> list[AssessmentItem]:
    """The catalog in the bureau's order."""
    query = select(AssessmentItem).order_by(AssessmentItem.sort_order, AssessmentItem.code)
    if not include_inactive:
        query = query.where(AssessmentItem.active.is_(True))
    return list((await db.scalars(query)).all())


async def get_assessment_item(db: AsyncSession, item_id: uuid.UUID) -> AssessmentItem | None:
    """One catalog item, active or not (the catalog is readable by everyone)."""
    return await db.get(AssessmentItem, item_id)


async def items_by_code(db: AsyncSession, codes: Sequence[str]) -> dict[str, AssessmentItem]:
    """Catalog items by code (codes trimmed and upper-cased), active or not; absent ones left out."""
    wanted = sorted({c.strip().upper() for c in codes})
    rows = await db.scalars(select(AssessmentItem).where(AssessmentItem.code.in_(wanted)))
    return {r.code: r for r in rows}


def unknown_item(code: str) -> str:
    """The message for an item code the catalog does not have."""
    return f"考核项目 {code} 不存在 (unknown assessment item code)"


def check_params(
    errors: Collector,
    kind: RuleKind,
    params: Mapping[str, Any] | None,
    field: str,
    ledger_codes: set[str],
    metrics: MetricRegistry = METRICS,
) -> dict[str, Any]:
    """The rule's parameters checked against its kind; returns them in canonical form."""
    raw = dict(params or {})

    def bad(message: str, code: ErrorCode = ErrorCode.INVALID) -> dict[str, Any]:
        errors.add(field, message, code)
        return raw

    allowed = {
        RuleKind.LEDGER_FREQUENCY: {"ledger_item"},
        RuleKind.COUNT_TARGET: {"metric", "target", "per", "period_scale"},
        RuleKind.RATE: {"metric"},
        RuleKind.MANUAL: {"suggested_by"},
    }[kind]
    extra = sorted(set(raw) - allowed)
    if extra:
        return bad(f"{kind.label}规则不认识参数 {', '.join(extra)} (unknown parameters)")
    if kind is RuleKind.MANUAL:
        source = raw.get("suggested_by")
        if source is None:
            return {}
        if source not in SUGGESTIONS:
            return bad(
                f"建议分来源须为 {', '.join(sorted(SUGGESTIONS))} 之一 (unknown suggested_by)",
                ErrorCode.NOT_FOUND,
            )
        return {"suggested_by": source}
    if kind is RuleKind.LEDGER_FREQUENCY:
        code = raw.get("ledger_item")
        if not isinstance(code, str) or not code.strip():
            return bad('须指定台账项目,如 {"ledger_item": "L02"} (ledger_item required)')
        code = code.strip().upper()
        if code not in ledger_codes:
            return bad(f"台账项目 {code} 不存在 (unknown ledger item code)", ErrorCode.NOT_FOUND)
        return {"ledger_item": code}
    metric = raw.get("metric")
    if not isinstance(metric, str) or not metrics.known(metric):
        return bad(
            f"指标须为 {', '.join(metrics.names())} 之一 (unknown metric)", ErrorCode.NOT_FOUND
        )
    if kind is RuleKind.RATE:
        return {"metric": metric}
    target = raw.get("target")
    if (
        isinstance(target, bool)
        or not isinstance(target, int | float)
        or not math.isfinite(target)
        or target <= 0
    ):
        return bad("目标须为正数 (target must be a positive number)", ErrorCode.OUT_OF_RANGE)
    per = raw.get("per")
    if per not in (None, "member"):
        return bad('per 只能为 "member" 或 null (per must be "member" or null)')
    scale = raw.get("period_scale")
    if scale is not None and scale not in PERIOD_SCALES:
        return bad("period_scale 须为 month、quarter、year 或 null")
    return {"metric": metric, "target": target, "per": per, "period_scale": scale}


async def update_assessment_items(
    db: AsyncSession, viewer: Viewer, clock: Clock, changes: Sequence[Mapping[str, Any]]
) -> list[AssessmentItem]:
    """Edits catalog items together (admins only); the active items must still add up to 100.

    Several items change in one call because moving points from one item to another is one
    change: the total is checked once all of them are applied. `changes[i]` has `code` and any
    of name, points, rule_kind, params, sort_order, active; problems of change i are addressed
    to `items[i].<field>` when there are several.
    """
    viewer.require_admin()
    items = {i.code: i for i in await list_assessment_items(db, include_inactive=True)}
    ledger_codes = set((await db.scalars(select(LedgerItem.code))).all())
    errors = Collector()
    several = len(changes) > 1
    planned: list[tuple[AssessmentItem, dict[str, Any]]] = []
    for index, change in enumerate(changes):
        p = f"items[{index}]." if several else ""
        code = str(change.get("code") or "").strip().upper()
        item = items.get(code)
        if item is None:
            errors.add(f"{p}code", unknown_item(code), ErrorCode.NOT_FOUND)
            continue
        values: dict[str, Any] = {}
        if change.get("name") is not None:
            values["name"] = errors.require_text(f"{p}name", change["name"], 100)
        if change.get("points") is not None:
            points = change["points"]
            if not 1 <= points <= TOTAL_POINTS:
                errors.add(
                    f"{p}points", "分值须在 1 到 100 之间 (points 1–100)", ErrorCode.OUT_OF_RANGE
                )
            values["points"] = points
        for key in ("sort_order", "active"):
            if change.get(key) is not None:
                values[key] = change[key]
        kind = change.get("rule_kind") or item.rule_kind
        if change.get("rule_kind") is not None or change.get("params") is not None:
            params = change.get("params")
            if params is None:
                params = item.params if kind is item.rule_kind else {}
            values["rule_kind"] = kind
            values["params"] = check_params(errors, kind, params, f"{p}params", ledger_codes)
        planned.append((item, values))
    errors.raise_if_any()
    after = {code: (item.points, item.active) for code, item in items.items()}
    for item, values in planned:
        after[item.code] = (
            values.get("points", after[item.code][0]),
            values.get("active", after[item.code][1]),
        )
    total = sum(points for points, active in after.values() if active)
    if total != TOTAL_POINTS:
        raise InputError.one(
            "items" if several else "points",
            f"启用项目的分值合计须为 100 分,改后为 {total} 分 "
            f"(the active items' points must add up to 100, not {total})",
            ErrorCode.POINTS_TOTAL,
        )
    now = clock()
    for item, values in planned:
        for key, value in values.items():
            setattr(item, key, value)
        item.updated_at = now
    await db.flush()
    return [item for item, _ in planned]
