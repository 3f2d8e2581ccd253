"""Directives: the four-level dispatch, its roll-up, overdue by the clock, and every typed error."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from access.errors import ErrorCode, Forbidden, InputError
from access.viewer import Viewer, viewer_for
from core.clock import FrozenClock
from core.db import Sessionmaker, writing
from models import (
    Account,
    Branch,
    Directive,
    DirectiveLevel,
    DirectivePriority,
    DirectiveProgress,
    DirectiveReceipt,
    DirectiveRecipient,
    DirectiveStatus,
    Member,
    Post,
    RecipientStatus,
    Role,
)
from resolvers import directive as ops
from resolvers.directive import IssueData, LevelRollup
from tests.conftest import Builders, World


def as_viewer(account: Account, scope: Branch | None = None, home: Branch | None = None) -> Viewer:
    return viewer_for(account, None, scope, home)


@dataclass
class County:
    """The world's accounts as viewers, plus secretaries of the organ committee and 榆山."""

    world: World
    admin: Viewer
    organ_secretary: Viewer
    meigui_secretary: Viewer
    yushan_secretary: Viewer
    officer: Viewer
    colleague: Viewer  # 张党员 of 玫瑰, an officer too


@pytest.fixture
async def county(world: World, make: Builders) -> County:
    organ_member = await make.member(world.organ, name="机关书记", post=Post.SECRETARY)
    organ_account = await make.account(
        Role.SECRETARY, member_id=organ_member.id, branch_id=world.organ.id
    )
    yushan_secretary_member = await make.member(world.yushan, name="榆山书记", post=Post.SECRETARY)
    yushan_account = await make.account(
        Role.SECRETARY, member_id=yushan_secretary_member.id, branch_id=world.yushan.id
    )
    colleague = await make.account(Role.OFFICER, member_id=world.meigui_member.id)
    return County(
        world,
        as_viewer(world.admin),
        as_viewer(organ_account, world.organ, world.organ),
        as_viewer(world.secretary, world.meigui, world.meigui),
        as_viewer(yushan_account, world.yushan, world.yushan),
        as_viewer(world.officer, None, world.meigui),
        as_viewer(colleague, None, world.meigui),
    )


async def run(sessionmaker: Sessionmaker, operation: Any) -> Any:
    async with writing(sessionmaker) as db:
        return await operation(db)


def codes(error: InputError) -> dict[str | None, ErrorCode]:
    return {p.field: p.code for p in error.problems}


async def count(sessionmaker: Sessionmaker, model: Any, *where: Any) -> int:
    async with sessionmaker() as db:
        return int(await db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def issue(
    sessionmaker: Sessionmaker,
    clock: FrozenClock,
    viewer: Viewer,
    targets: list[Branch],
    **overrides: Any,
) -> ops.Issued:
    values: dict[str, Any] = {
        "title": "关于开展夏季治安巡防的通知",
        "content": "各支部组织党员开展夜间巡逻,每周报告进展。",
        "priority": DirectivePriority.URGENT,
        "deadline": clock() + timedelta(days=7),
        "target_branch_ids": [b.id for b in targets],
    }
    values.update(overrides)
    data = IssueData(**values)
    result: ops.Issued = await run(
        sessionmaker, lambda db: ops.issue_directive(db, viewer, data, clock())
    )
    return result


async def row_of(
    sessionmaker: Sessionmaker,
    directive_id: uuid.UUID,
    *,
    branch: Branch | None = None,
    member: Member | None = None,
) -> DirectiveRecipient:
    target = f"m:{member.id}" if member else f"b:{branch.id}" if branch else ""
    async with sessionmaker() as db:
        row = await db.scalar(
            select(DirectiveRecipient).where(
                DirectiveRecipient.directive_id == directive_id,
                DirectiveRecipient.target == target,
            )
        )
    assert row is not None
    return row


async def rollup(
    sessionmaker: Sessionmaker, directive_id: uuid.UUID, clock: FrozenClock
) -> dict[DirectiveLevel, LevelRollup]:
    async with sessionmaker() as db:
        (levels,) = await ops.rollups_by_directive_id(db, [directive_id], clock())
    return {r.level: r for r in levels}


async def four_levels(
    sessionmaker: Sessionmaker, clock: FrozenClock, c: County
) -> tuple[uuid.UUID, dict[str, DirectiveRecipient]]:
    """县局党委 → 机关党委 → 玫瑰, 榆山 → 李民警, 张党员 (玫瑰)."""
    w = c.world
    issued = await issue(sessionmaker, clock, c.admin, [w.organ])
    assert issued.directive is not None
    directive_id = issued.directive.id
    organ = await row_of(sessionmaker, directive_id, branch=w.organ)
    await run(
        sessionmaker,
        lambda db: ops.dispatch_directive(
            db, c.organ_secretary, organ.id, [w.meigui.id, w.yushan.id], [], clock()
        ),
    )
    meigui = await row_of(sessionmaker, directive_id, branch=w.meigui)
    await run(
        sessionmaker,
        lambda db: ops.dispatch_directive(
            db,
            c.meigui_secretary,
            meigui.id,
            [],
            [w.officer_member.id, w.meigui_member.id],
            clock(),
        ),
    )
    rows = {
        "county": await row_of(sessionmaker, directive_id, branch=w.committee),
        "organ": organ,
        "meigui": meigui,
        "yushan": await row_of(sessionmaker, directive_id, branch=w.yushan),
        "officer": await row_of(sessionmaker, directive_id, member=w.officer_member),
        "colleague": await row_of(sessionmaker, directive_id, member=w.meigui_member),
    }
    return directive_id, rows


async def test_directive_rolls_up_across_four_levels(
    sessionmaker: Sessionmaker, clock: FrozenClock, county: County
) -> None:
    c = county
    directive_id, rows = await four_levels(sessionmaker, clock, c)
    assert rows["county"].level is DirectiveLevel.COUNTY_COMMITTEE
    assert rows["organ"].parent_id == rows["county"].id
    assert rows["meigui"].parent_id == rows["organ"].id
    assert rows["officer"].parent_id == rows["meigui"].id
    assert rows["officer"].branch_id == c.world.meigui.id

    await run(
        sessionmaker,
        lambda db: ops.sign_directive(db, c.yushan_secretary, rows["yushan"].id, clock()),
    )
    clock.advance(hours=1)
    await run(
        sessionmaker,
        lambda db: ops.report_progress(
            db, c.officer, rows["officer"].id, "已完成三次夜巡", 60, None, clock()
        ),
    )
    levels = await rollup(sessionmaker, directive_id, clock)
    assert list(levels) == list(DirectiveLevel)
    counts = {
        level: (r.recipients, r.signed, r.reported, r.closed, r.overdue)
        for level, r in levels.items()
    }
    assert counts == {
        # The issuer holds its own row from the start; dispatching signs the dispatcher's row.
        DirectiveLevel.COUNTY_COMMITTEE: (1, 1, 0, 0, 0),
        DirectiveLevel.ORGAN_COMMITTEE: (1, 1, 0, 0, 0),
        DirectiveLevel.BRANCH: (2, 2, 0, 0, 0),
        # A report signs an unsigned recipient.
        DirectiveLevel.MEMBER: (2, 1, 1, 0, 0),
    }

    # Closing bottom-up: each level once the levels below it have closed.
    for viewer, key in (
        (c.officer, "officer"),
        (c.colleague, "colleague"),
        (c.meigui_secretary, "meigui"),
        (c.yushan_secretary, "yushan"),
        (c.organ_secretary, "organ"),
        (c.admin, "county"),
    ):
        rid = rows[key].id
        done = await run(
            sessionmaker, lambda db, v=viewer, r=rid: ops.close_recipient(db, v, r, clock())
        )
        assert done.recipient.status is RecipientStatus.CLOSED
    levels = await rollup(sessionmaker, directive_id, clock)
    assert all(r.closed == r.recipients == r.closed_on_time == r.signed for r in levels.values())
    async with sessionmaker() as db:
        directive = await db.get(Directive, directive_id)
    assert directive is not None and directive.status is DirectiveStatus.CLOSED


async def test_overdue_follows_the_injected_clock(
    sessionmaker: Sessionmaker, clock: FrozenClock, county: County
) -> None:
    c = county
    directive_id, rows = await four_levels(sessionmaker, clock, c)
    await run(
        sessionmaker, lambda db: ops.close_recipient(db, c.officer, rows["officer"].id, clock())
    )
    assert all(r.overdue == 0 for r in (await rollup(sessionmaker, directive_id, clock)).values())

    clock.advance(days=8)  # past the seven-day deadline
    levels = await rollup(sessionmaker, directive_id, clock)
    assert {level: r.overdue for level, r in levels.items()} == {
        DirectiveLevel.COUNTY_COMMITTEE: 1,
        DirectiveLevel.ORGAN_COMMITTEE: 1,
        DirectiveLevel.BRANCH: 2,
        DirectiveLevel.MEMBER: 1,  # the officer closed in time, the colleague did not
    }
    assert levels[DirectiveLevel.MEMBER].closed_on_time == 1
    await run(
        sessionmaker, lambda db: ops.close_recipient(db, c.colleague, rows["colleague"].id, clock())
    )
    levels = await rollup(sessionmaker, directive_id, clock)
    assert (
        levels[DirectiveLevel.MEMBER].overdue,
        levels[DirectiveLevel.MEMBER].closed_on_time,
    ) == (
        0,
        1,
    )


async def test_a_receipt_for_a_directive_never_received_is_refused_and_nothing_written(
    sessionmaker: Sessionmaker, clock: FrozenClock, county: County
) -> None:
    c = county
    _, rows = await four_levels(sessionmaker, clock, c)
    # The officer did not receive the branch's row, nor a colleague's.
    for rid in (rows["meigui"].id, rows["colleague"].id, rows["yushan"].id):
        with pytest.raises(InputError) as caught:
            await run(sessionmaker, lambda db, r=rid: ops.sign_directive(db, c.officer, r, clock()))
        assert codes(caught.value) == {"recipientId": ErrorCode.NOT_RECIPIENT}
        with pytest.raises(InputError) as caught:
            await run(
                sessionmaker,
                lambda db, r=rid: ops.report_progress(
                    db, c.officer, r, "进展", None, None, clock()
                ),
            )
        assert codes(caught.value) == {"recipientId": ErrorCode.NOT_RECIPIENT}
    assert await count(sessionmaker, DirectiveReceipt) == 0
    assert await count(sessionmaker, DirectiveProgress) == 0
    assert (
        await count(sessionmaker, DirectiveRecipient, DirectiveRecipient.signed_at.is_not(None))
        == 3
    )  # the county row at issue, the organ and 玫瑰 rows by dispatching


async def test_unknown_directive_is_a_not_found_error(
    sessionmaker: Sessionmaker, clock: FrozenClock, county: County
) -> None:
    for operation in (
        lambda db: ops.sign_directive(db, county.officer, str(uuid.uuid4()), clock()),
        lambda db: ops.close_recipient(db, county.officer, str(uuid.uuid4()), clock()),
        lambda db: ops.dispatch_directive(
            db,
            county.meigui_secretary,
            str(uuid.uuid4()),
            [],
            [county.world.officer_member.id],
            clock(),
        ),
    ):
        with pytest.raises(InputError) as caught:
            await run(sessionmaker, operation)
        assert codes(caught.value) == {"recipientId": ErrorCode.NOT_FOUND}


async def test_deadline_in_the_past_is_refused_at_issue(
    sessionmaker: Sessionmaker, clock: FrozenClock, county: County
) -> None:
    with pytest.raises(InputError) as caught:
        await issue(
            sessionmaker,
            clock,
            county.admin,
            [county.world.organ],
            deadline=clock() - timedelta(hours=1),
        )
    assert codes(caught.value) == {"deadline": ErrorCode.IN_PAST}
    assert await count(sessionmaker, Directive) == 0
    assert await count(sessionmaker, DirectiveRecipient) == 0


async def test_issue_checks_title_and_targets(
    sessionmaker: Sessionmaker, clock: FrozenClock, county: County
) -> None:
    w = county.world
    with pytest.raises(InputError) as caught:
        await issue(sessionmaker, clock, county.admin, [], title=" ")
    assert codes(caught.value) == {
        "title": ErrorCode.REQUIRED,
        "targetBranchIds": ErrorCode.REQUIRED,
    }
    # The organ committee issues only below itself.
    with pytest.raises(InputError) as caught:
        await issue(sessionmaker, clock, county.organ_secretary, [w.committee])
    assert codes(caught.value) == {"targetBranchIds": ErrorCode.OUT_OF_SCOPE}
    assert await count(sessionmaker, Directive) == 0


async def test_only_admins_and_committees_issue(
    sessionmaker: Sessionmaker, clock: FrozenClock, county: County
) -> None:
    for viewer in (county.meigui_secretary, county.officer):
        with pytest.raises(Forbidden):
            await issue(sessionmaker, clock, viewer, [county.world.meigui_group])
    issued = await issue(sessionmaker, clock, county.organ_secretary, [county.world.meigui])
    assert issued.directive is not None
    assert issued.directive.issued_by_branch_id == county.world.organ.id


async def test_dispatching_outside_your_subtree_is_refused(
    sessionmaker: Sessionmaker, clock: FrozenClock, county: County
) -> None:
    c = county
    w = c.world
    _, rows = await four_levels(sessionmaker, clock, c)
    before = await count(sessionmaker, DirectiveRecipient)
    with pytest.raises(InputError) as caught:
        await run(
            sessionmaker,
            lambda db: ops.dispatch_directive(
                db,
                c.meigui_secretary,
                rows["meigui"].id,
                [w.yushan.id],
                [w.yushan_member.id],
                clock(),
            ),
        )
    assert codes(caught.value) == {
        "branchIds": ErrorCode.OUT_OF_SCOPE,
        "memberIds": ErrorCode.OUT_OF_SCOPE,
    }
    # Nor may a secretary dispatch another branch's row.
    with pytest.raises(InputError) as caught:
        await run(
            sessionmaker,
            lambda db: ops.dispatch_directive(
                db, c.meigui_secretary, rows["yushan"].id, [], [w.yushan_member.id], clock()
            ),
        )
    assert codes(caught.value) == {"recipientId": ErrorCode.NOT_RECIPIENT}
    assert await count(sessionmaker, DirectiveRecipient) == before


async def test_dispatching_to_a_recipient_again_adds_nobody(
    sessionmaker: Sessionmaker, clock: FrozenClock, county: County
) -> None:
    c = county
    _, rows = await four_levels(sessionmaker, clock, c)
    before = await count(sessionmaker, DirectiveRecipient)
    again = await run(
        sessionmaker,
        lambda db: ops.dispatch_directive(
            db, c.meigui_secretary, rows["meigui"].id, [], [c.world.officer_member.id], clock()
        ),
    )
    assert again.recipients == []
    assert await count(sessionmaker, DirectiveRecipient) == before


async def test_signing_twice_is_idempotent(
    sessionmaker: Sessionmaker, clock: FrozenClock, county: County
) -> None:
    c = county
    _, rows = await four_levels(sessionmaker, clock, c)
    first = await run(
        sessionmaker, lambda db: ops.sign_directive(db, c.officer, rows["officer"].id, clock())
    )
    clock.advance(minutes=5)
    second = await run(
        sessionmaker, lambda db: ops.sign_directive(db, c.officer, rows["officer"].id, clock())
    )
    assert first.stamp is not None and second.stamp is None
    assert second.recipient.signed_at == first.recipient.signed_at
    assert await count(sessionmaker, DirectiveReceipt) == 1


async def test_a_level_closes_only_after_its_onward_recipients(
    sessionmaker: Sessionmaker, clock: FrozenClock, county: County
) -> None:
    c = county
    _, rows = await four_levels(sessionmaker, clock, c)
    await run(
        sessionmaker, lambda db: ops.close_recipient(db, c.officer, rows["officer"].id, clock())
    )
    with pytest.raises(InputError) as caught:
        await run(
            sessionmaker,
            lambda db: ops.close_recipient(db, c.meigui_secretary, rows["meigui"].id, clock()),
        )
    assert codes(caught.value) == {"recipientId": ErrorCode.OPEN_RECIPIENTS}
    assert "1" in caught.value.problems[0].message
    # A closed recipient reports no more.
    with pytest.raises(InputError) as caught:
        await run(
            sessionmaker,
            lambda db: ops.report_progress(
                db, c.officer, rows["officer"].id, "补充", None, None, clock()
            ),
        )
    assert codes(caught.value) == {"recipientId": ErrorCode.INVALID_TRANSITION}


async def test_progress_percent_must_be_within_0_and_100(
    sessionmaker: Sessionmaker, clock: FrozenClock, county: County
) -> None:
    c = county
    _, rows = await four_levels(sessionmaker, clock, c)
    with pytest.raises(InputError) as caught:
        await run(
            sessionmaker,
            lambda db: ops.report_progress(
                db, c.officer, rows["officer"].id, "进展", 120, None, clock()
            ),
        )
    assert codes(caught.value) == {"percent": ErrorCode.INVALID}
    assert await count(sessionmaker, DirectiveProgress) == 0
