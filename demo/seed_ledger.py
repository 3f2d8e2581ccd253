"""The default ledger catalog (党支部基础工作台账标准, 24 items), seeded by `meijing seed`.

Seeding adds the items whose code is not there yet and never touches existing ones, so the
bureau's edits (names, frequencies, retired items) survive every later seed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.ids import new_id
from models import LedgerFrequency, LedgerItem

M, Q, Y, E = (
    LedgerFrequency.MONTHLY,
    LedgerFrequency.QUARTERLY,
    LedgerFrequency.YEARLY,
    LedgerFrequency.ON_EVENT,
)

DEFAULT_LEDGER_ITEMS: tuple[tuple[str, str, LedgerFrequency], ...] = (
    ("L01", "支部党员大会", Q),
    ("L02", "支部委员会会议", M),
    ("L03", "党小组会", M),
    ("L04", "党课", Q),
    ("L05", "主题党日", M),
    ("L06", "“第一议题”学习", M),
    ("L07", "组织生活会", Y),
    ("L08", "民主评议党员", Y),
    ("L09", "谈心谈话", Q),
    ("L10", "党费收缴", M),
    ("L11", "发展党员", E),
    ("L12", "党员教育培训", Q),
    ("L13", "组织关系转接", E),
    ("L14", "党员名册维护", Q),
    ("L15", "换届选举", E),  # a three-year term: recorded when it happens
    ("L16", "青年民警理论学习小组", M),
    ("L17", "队伍思想状况分析研判", Q),
    ("L18", "意识形态工作", Q),
    ("L19", "党风廉政建设", Q),
    ("L20", "为民服务 / 志愿服务", M),
    ("L21", "关爱民警辅警", M),
    ("L22", "品牌创建", Q),
    ("L23", "阵地建设与使用", Q),
    ("L24", "上级指令落实", E),
)


async def seed_ledger_items(db: AsyncSession, now: datetime) -> int:
    """Adds the default items that are missing (by code); returns how many were added."""
    existing = set((await db.scalars(select(LedgerItem.code))).all())
    rows = [
        {
            "id": new_id(),
            "code": code,
            "name": name,
            "frequency": frequency,
            "required": frequency is not E,
            "sort_order": index * 10,
            "active": True,
            "created_at": now,
            "updated_at": now,
        }
        for index, (code, name, frequency) in enumerate(DEFAULT_LEDGER_ITEMS, start=1)
        if code not in existing
    ]
    if rows:
        await db.execute(insert(LedgerItem), rows)
    return len(rows)
