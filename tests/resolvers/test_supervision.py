"""Spot checks and bulletins at the resolver level: the rules that need two sessions at once."""

from __future__ import annotations

from datetime import date

import pytest

from access.errors import ErrorCode, InputError
from access.viewer import Viewer, viewer_for
from core.clock import FrozenClock
from core.db import Sessionmaker, writing
from models import Account, Branch, FindingStatus, SpotCheckFinding
from resolvers import supervision as ops
from resolvers.supervision import FindingData, SpotCheckData
from tests.conftest import World


def as_viewer(account: Account, branch: Branch | None = None) -> Viewer:
    return viewer_for(account, None, branch, branch)


async def one_finding(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> SpotCheckFinding:
    data = SpotCheckData(
        branch_id=world.meigui.id,
        checked_on=date(2026, 11, 27),
        period="2026-Q4",
        summary="台账基本齐全",
        findings=[FindingData("10月支委会记录缺签到", date(2026, 12, 10))],
    )
    async with writing(sessionmaker) as db:
        _, findings = await ops.create_spot_check(db, as_viewer(world.inspector), clock(), data)
    return findings[0]


async def test_a_closed_finding_is_never_rectified_again_by_a_slower_session(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    finding = await one_finding(sessionmaker, clock, world)
    secretary = as_viewer(world.secretary, world.meigui)
    async with writing(sessionmaker) as slow:
        # The secretary opened the finding while it was open; meanwhile the admin rectified it
        # and the inspector closed it (销号).
        opened = await slow.get(SpotCheckFinding, finding.id)
        assert opened is not None and opened.status is FindingStatus.OPEN
        async with writing(sessionmaker) as db:
            await ops.rectify_finding(db, as_viewer(world.admin), clock(), finding.id, "已补签")
        async with writing(sessionmaker) as db:
            await ops.close_finding(db, as_viewer(world.inspector), clock(), finding.id)
        with pytest.raises(InputError) as caught:
            await ops.rectify_finding(slow, secretary, clock(), finding.id, "再次补签")
    assert [(p.field, p.code) for p in caught.value.problems] == [
        ("id", ErrorCode.INVALID_TRANSITION)
    ]
    async with sessionmaker() as db:
        stored = await db.get(SpotCheckFinding, finding.id)
        assert stored is not None
        assert (stored.status, stored.rectification) == (FindingStatus.CLOSED, "已补签")
