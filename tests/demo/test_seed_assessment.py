"""The assessment catalog is seeded by every `meijing seed`, once, and the bureau's edits stay."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from core.clock import FrozenClock
from core.db import Sessionmaker, writing
from demo.seed import seed_catalogs
from models import AssessmentItem, RuleKind


async def test_assessment_catalog_is_seeded_once_and_edits_survive(
    sessionmaker: Sessionmaker, clock: FrozenClock
) -> None:
    first = await seed_catalogs(sessionmaker, clock)
    assert (first.ledger_items, first.brand_criteria, first.assessment_items) == (24, 7, 28)
    assert "考核项目 28 项" in first.message
    async with writing(sessionmaker) as db:
        await db.execute(
            update(AssessmentItem).where(AssessmentItem.code == "A17").values(name="人均走访(改)")
        )
        await db.execute(delete(AssessmentItem).where(AssessmentItem.code == "A28"))
    again = await seed_catalogs(sessionmaker, clock)
    assert (again.ledger_items, again.brand_criteria, again.assessment_items) == (0, 0, 1)
    assert (await seed_catalogs(sessionmaker, clock)).added == 0
    async with sessionmaker() as db:
        items = {i.code: i for i in (await db.scalars(select(AssessmentItem))).all()}
    assert len(items) == 28 and sum(i.points for i in items.values()) == 100
    assert items["A17"].name == "人均走访(改)"
    assert items["A02"].params == {"ledger_item": "L02"}
    assert items["A17"].params == {
        "metric": "visits_per_member", "target": 6, "per": "member", "period_scale": "year"
    }  # fmt: skip
    kinds = [i.rule_kind for i in sorted(items.values(), key=lambda i: i.sort_order)]
    assert kinds.count(RuleKind.LEDGER_FREQUENCY) == 15 and kinds.count(RuleKind.MANUAL) == 3
