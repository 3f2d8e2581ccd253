"""The default assessment catalog (党建工作考核办法: 28 items, 100 points), seeded by `meijing seed`.

Seeding adds the items whose code is not there yet and never touches existing ones, so the
bureau's edits (points, targets, retired items) survive every later seed. The targets of the
count items are yearly figures scaled to a month or a quarter (`period_scale`); they are set so
that a station doing the work the article describes earns the points, and the bureau tunes them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.ids import new_id
from models import AssessmentItem, RuleKind

L, C, R, M = RuleKind.LEDGER_FREQUENCY, RuleKind.COUNT_TARGET, RuleKind.RATE, RuleKind.MANUAL


def _ledger(code: str) -> dict[str, Any]:
    return {"ledger_item": code}


def _count(
    metric: str, target: float, per: str | None = None, scale: str | None = "year"
) -> dict[str, Any]:
    return {"metric": metric, "target": target, "per": per, "period_scale": scale}


def _rate(metric: str) -> dict[str, Any]:
    return {"metric": metric}


DEFAULT_ASSESSMENT_ITEMS: tuple[tuple[str, str, int, RuleKind, dict[str, Any]], ...] = (
    ("A01", "支部党员大会", 4, L, _ledger("L01")),
    ("A02", "支部委员会会议", 4, L, _ledger("L02")),
    ("A03", "党小组会", 4, L, _ledger("L03")),
    ("A04", "党课", 4, L, _ledger("L04")),
    ("A05", "主题党日", 4, L, _ledger("L05")),
    ("A06", "“第一议题”学习", 4, L, _ledger("L06")),
    ("A07", "组织生活会", 4, L, _ledger("L07")),
    ("A08", "民主评议党员", 4, L, _ledger("L08")),
    ("A09", "谈心谈话", 4, L, _ledger("L09")),
    ("A10", "党费收缴", 4, L, _ledger("L10")),
    ("A11", "党员教育培训", 3, L, _ledger("L12")),
    ("A12", "青年民警理论学习小组", 3, L, _ledger("L16")),
    ("A13", "队伍思想状况分析研判", 2, L, _ledger("L17")),
    ("A14", "党风廉政建设", 3, L, _ledger("L19")),
    ("A15", "关爱民警辅警", 2, L, _ledger("L21")),
    ("A16", "发展党员按期转正", 3, R, _rate("member_pipeline_on_time")),
    ("A17", "党员人均走访", 5, C, _count("visits_per_member", 6, per="member")),
    ("A18", "六项行动覆盖", 4, C, _count("six_action_coverage", 6, scale=None)),
    ("A19", "解决群众困难", 4, C, _count("difficulties_solved", 12)),
    ("A20", "夜间巡逻", 3, C, _count("night_patrols", 12)),
    ("A21", "上级指令按期签收办结", 5, R, _rate("directives_on_time")),
    ("A22", "督导提醒按期回复", 3, R, _rate("reminders_answered_on_time")),
    ("A23", "抽查问题按期整改", 4, R, _rate("findings_rectified_on_time")),
    # The brand checklist (品牌创建) offers the inspector a suggested score.
    ("A24", "品牌创建“六有一规范”", 3, M, {"suggested_by": "brand_checklist"}),
    ("A25", "教育基地活动", 2, C, _count("education_activities", 6)),
    ("A26", "荣誉表彰与锦旗", 3, C, _count("honours_and_banners", 4)),
    ("A27", "宣传报道与案例总结", 2, M, {}),
    ("A28", "督导综合评价", 6, M, {}),
)


async def seed_assessment_items(db: AsyncSession, now: datetime) -> int:
    """Adds the default items that are missing (by code); returns how many were added."""
    existing = set((await db.scalars(select(AssessmentItem.code))).all())
    rows = [
        {
            "id": new_id(),
            "code": code,
            "name": name,
            "points": points,
            "rule_kind": kind,
            "params": params,
            "sort_order": index * 10,
            "active": True,
            "created_at": now,
            "updated_at": now,
        }
        for index, (code, name, points, kind, params) in enumerate(
            DEFAULT_ASSESSMENT_ITEMS, start=1
        )
        if code not in existing
    ]
    if rows:
        await db.execute(insert(AssessmentItem), rows)
    return len(rows)
