"""Member rules: the party-status pipeline, transfers, task units, and bad input."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
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
    Member,
    MemberTransfer,
    PartyStatus,
    PartyStatusChange,
    Role,
    TaskUnitMembership,
)
from resolvers import member as ops
from tests.conftest import Builders, World


def as_viewer(account: Account, branch: Branch | None = None) -> Viewer:
    return viewer_for(account, None, branch, branch)


async def count(sessionmaker: Sessionmaker, model: Any) -> int:
    async with sessionmaker() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


def codes(error: InputError) -> dict[str | None, ErrorCode]:
    return {p.field: p.code for p in error.problems}


async def advance(
    sessionmaker: Sessionmaker,
    clock: FrozenClock,
    viewer: Viewer,
    member: Member,
    to: PartyStatus,
    on: date | None = None,
    reason: str | None = None,
) -> Member:
    async with writing(sessionmaker) as db:
        return await ops.advance_party_status(db, viewer, clock, member.id, to, on, reason)


async def test_activist_needs_a_year_before_becoming_candidate(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, make: Builders
) -> None:
    since = clock().date() - timedelta(days=200)
    member = await make.member(
        world.meigui, party_status=PartyStatus.ACTIVIST, party_status_since=since
    )
    admin = as_viewer(world.admin)
    with pytest.raises(InputError) as refused:
        await advance(sessionmaker, clock, admin, member, PartyStatus.CANDIDATE)
    assert codes(refused.value) == {"effectiveOn": ErrorCode.TOO_EARLY}
    earliest = since.replace(year=since.year + 1).isoformat()
    assert earliest in refused.value.problems[0].message
    assert await count(sessionmaker, PartyStatusChange) == 0

    clock.advance(days=166)
    updated = await advance(sessionmaker, clock, admin, member, PartyStatus.CANDIDATE)
    assert updated.party_status is PartyStatus.CANDIDATE
    assert updated.party_status_since == clock().date()


async def test_probation_lasts_a_year(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, make: Builders
) -> None:
    since = clock().date() - timedelta(days=300)
    member = await make.member(
        world.meigui,
        party_status=PartyStatus.PROBATIONARY,
        party_status_since=since,
        joined_party_on=since,
    )
    with pytest.raises(InputError) as refused:
        await advance(sessionmaker, clock, as_viewer(world.admin), member, PartyStatus.FULL)
    assert codes(refused.value) == {"effectiveOn": ErrorCode.TOO_EARLY}


async def test_fast_track_is_a_recorded_exception_with_a_reason(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, make: Builders
) -> None:
    since = clock().date() - timedelta(days=30)
    member = await make.member(
        world.meigui, party_status=PartyStatus.ACTIVIST, party_status_since=since
    )
    admin = as_viewer(world.admin)
    with pytest.raises(InputError) as short:
        await advance(sessionmaker, clock, admin, member, PartyStatus.CANDIDATE, reason="急")
    assert codes(short.value) == {"fastTrackReason": ErrorCode.INVALID}

    reason = "抗洪抢险一线表现突出,火线发展"
    updated = await advance(
        sessionmaker, clock, admin, member, PartyStatus.CANDIDATE, reason=reason
    )
    assert updated.party_status is PartyStatus.CANDIDATE
    async with sessionmaker() as db:
        change = await db.scalar(
            select(PartyStatusChange).where(PartyStatusChange.member_id == member.id)
        )
    assert change is not None
    assert change.fast_track is True
    assert change.reason == reason
    assert change.from_status is PartyStatus.ACTIVIST


async def test_steps_cannot_be_skipped_or_reversed(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, make: Builders
) -> None:
    member = await make.member(world.meigui, party_status=PartyStatus.APPLICANT)
    admin = as_viewer(world.admin)
    for target in (PartyStatus.CANDIDATE, PartyStatus.FULL, PartyStatus.APPLICANT):
        with pytest.raises(InputError) as refused:
            await advance(sessionmaker, clock, admin, member, target, reason="火线发展理由充分")
        assert codes(refused.value) == {"toStatus": ErrorCode.INVALID_TRANSITION}
    full = await make.member(world.meigui, party_status=PartyStatus.FULL)
    with pytest.raises(InputError) as last:
        await advance(sessionmaker, clock, admin, full, PartyStatus.FULL)
    assert codes(last.value) == {"toStatus": ErrorCode.INVALID_TRANSITION}


async def test_becoming_probationary_sets_the_joining_date(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, make: Builders
) -> None:
    member = await make.member(
        world.meigui,
        party_status=PartyStatus.CANDIDATE,
        party_status_since=date(2026, 1, 5),
        joined_party_on=None,
    )
    on = date(2026, 7, 1)
    updated = await advance(
        sessionmaker, clock, as_viewer(world.admin), member, PartyStatus.PROBATIONARY, on
    )
    assert updated.joined_party_on == on
    assert updated.party_status_since == on


async def test_effective_date_must_not_be_in_the_future_or_before_the_current_status(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, make: Builders
) -> None:
    member = await make.member(
        world.meigui, party_status=PartyStatus.APPLICANT, party_status_since=date(2026, 3, 1)
    )
    admin = as_viewer(world.admin)
    with pytest.raises(InputError) as future:
        await advance(
            sessionmaker,
            clock,
            admin,
            member,
            PartyStatus.ACTIVIST,
            clock().date() + timedelta(days=1),
        )
    assert codes(future.value) == {"effectiveOn": ErrorCode.IN_FUTURE}
    with pytest.raises(InputError) as before:
        await advance(sessionmaker, clock, admin, member, PartyStatus.ACTIVIST, date(2026, 2, 1))
    assert codes(before.value) == {"effectiveOn": ErrorCode.INVALID}


async def test_an_effective_date_of_today_in_pingyin_is_not_in_the_future(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, make: Builders
) -> None:
    """01:00 on 1 July in Pingyin is still 30 June in UTC; "today" is the bureau's day."""
    clock.now = datetime(2026, 6, 30, 17, 0, tzinfo=UTC)
    member = await make.member(
        world.meigui, party_status=PartyStatus.APPLICANT, party_status_since=date(2026, 3, 1)
    )
    updated = await advance(
        sessionmaker, clock, as_viewer(world.admin), member, PartyStatus.ACTIVIST
    )
    assert updated.party_status_since == date(2026, 7, 1)


async def test_transfer_keeps_history(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    admin = as_viewer(world.admin)
    async with writing(sessionmaker) as db:
        moved = await ops.transfer_member(
            db, admin, clock, world.meigui_member.id, world.yushan.id, None, "工作调动"
        )
    assert moved.branch_id == world.yushan.id
    async with writing(sessionmaker) as db:
        await ops.transfer_member(
            db, admin, clock, world.meigui_member.id, world.meigui.id, None, None
        )
    async with sessionmaker() as db:
        [history] = await ops.transfers_by_member_id(db, [world.meigui_member.id])
    assert [(t.from_branch_id, t.to_branch_id) for t in history] == [
        (world.meigui.id, world.yushan.id),
        (world.yushan.id, world.meigui.id),
    ]
    assert history[0].reason == "工作调动"


async def test_transfer_refuses_same_branch_and_task_units(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    admin = as_viewer(world.admin)
    for target, code in (
        (world.meigui, ErrorCode.SAME_BRANCH),
        (world.task_force, ErrorCode.INVALID_KIND),
    ):
        with pytest.raises(InputError) as refused:
            async with writing(sessionmaker) as db:
                await ops.transfer_member(
                    db, admin, clock, world.meigui_member.id, target.id, None, None
                )
        assert codes(refused.value) == {"toBranchId": code}
    assert await count(sessionmaker, MemberTransfer) == 0


async def test_secretary_cannot_transfer_out_of_their_subtree(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    secretary = as_viewer(world.secretary, world.meigui)
    with pytest.raises(Forbidden):
        async with writing(sessionmaker) as db:
            await ops.transfer_member(
                db, secretary, clock, world.meigui_member.id, world.yushan.id, None, None
            )
    assert await count(sessionmaker, MemberTransfer) == 0


async def test_task_unit_draws_members_from_several_branches(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    admin = as_viewer(world.admin)
    for member in (world.meigui_member, world.yushan_member):
        async with writing(sessionmaker) as db:
            await ops.add_task_unit_member(
                db, admin, clock, world.task_force.id, member.id, "队员", None
            )
    async with sessionmaker() as db:
        [unit_members] = await ops.members_by_branch_id(db, admin, [world.task_force.id])
        [units] = await ops.task_units_by_member_id(db, [world.yushan_member.id])
    assert {m.id for m in unit_members} == {world.meigui_member.id, world.yushan_member.id}
    assert [u.id for u in units] == [world.task_force.id]
    # The home branch is untouched.
    async with sessionmaker() as db:
        home = await db.get(Member, world.yushan_member.id)
    assert home is not None and home.branch_id == world.yushan.id

    with pytest.raises(InputError) as twice:
        async with writing(sessionmaker) as db:
            await ops.add_task_unit_member(
                db, admin, clock, world.task_force.id, world.yushan_member.id, None, None
            )
    assert codes(twice.value) == {"memberId": ErrorCode.DUPLICATE}
    with pytest.raises(InputError) as not_unit:
        async with writing(sessionmaker) as db:
            await ops.add_task_unit_member(
                db, admin, clock, world.yushan.id, world.meigui_member.id, None, None
            )
    assert codes(not_unit.value) == {"taskUnitId": ErrorCode.INVALID_KIND}

    async with writing(sessionmaker) as db:
        await ops.remove_task_unit_member(db, admin, world.task_force.id, world.yushan_member.id)
    assert await count(sessionmaker, TaskUnitMembership) == 1


VALID_ID = "370124198505050027"  # checksum per GB 11643; born 1985-05-05


def test_id_number_checksum() -> None:
    assert ops.id_number_valid("370124198001010013")
    assert not ops.id_number_valid("37012419800101001X")
    assert not ops.id_number_valid("37012419800101001")


async def test_bad_member_input_reports_every_field_and_writes_nothing(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    before = await count(sessionmaker, Member)
    data = {
        "branch_id": world.meigui.id,
        "name": "  ",
        "police_number": "警号!",
        "phone": "12345",
        "id_number": "370124198001010012",
        "birthday": clock().date() + timedelta(days=3),
        "party_status": PartyStatus.FULL,
    }
    with pytest.raises(InputError) as refused:
        async with writing(sessionmaker) as db:
            await ops.create_member(db, as_viewer(world.admin), clock, data)
    assert codes(refused.value) == {
        "name": ErrorCode.REQUIRED,
        "policeNumber": ErrorCode.INVALID,
        "phone": ErrorCode.INVALID,
        "idNumber": ErrorCode.INVALID,
        "birthday": ErrorCode.IN_FUTURE,
        "joinedPartyOn": ErrorCode.REQUIRED,
    }
    assert await count(sessionmaker, Member) == before
    assert await count(sessionmaker, PartyStatusChange) == 0


async def test_duplicate_police_number_and_birthday_mismatch_are_refused(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, make: Builders
) -> None:
    await make.member(world.yushan, police_number="123456")
    with pytest.raises(InputError) as refused:
        async with writing(sessionmaker) as db:
            await ops.create_member(
                db,
                as_viewer(world.admin),
                clock,
                {
                    "branch_id": world.meigui.id,
                    "name": "孙警官",
                    "police_number": "123456",
                    "id_number": VALID_ID,
                    "birthday": date(1985, 5, 6),
                },
            )
    assert codes(refused.value) == {
        "policeNumber": ErrorCode.DUPLICATE,
        "birthday": ErrorCode.INVALID,
    }


async def test_create_member_records_the_initial_status(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    secretary = as_viewer(world.secretary, world.meigui)
    async with writing(sessionmaker) as db:
        member = await ops.create_member(
            db,
            secretary,
            clock,
            {
                "branch_id": world.meigui_group.id,
                "name": "刘辅警",
                "id_number": VALID_ID,
                "birthday": date(1985, 5, 5),
            },
        )
    assert member.party_status is PartyStatus.APPLICANT
    async with sessionmaker() as db:
        [history] = await ops.status_history_by_member_id(db, [member.id])
    assert [(h.from_status, h.to_status) for h in history] == [(None, PartyStatus.APPLICANT)]


async def test_officer_and_inspector_cannot_write(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World, make: Builders
) -> None:
    for account in (world.officer, world.inspector):
        viewer = as_viewer(account, world.meigui)
        with pytest.raises(Forbidden):
            async with writing(sessionmaker) as db:
                await ops.create_member(
                    db, viewer, clock, {"branch_id": world.meigui.id, "name": "某人"}
                )
    assert Role.OFFICER in {world.officer.role}
