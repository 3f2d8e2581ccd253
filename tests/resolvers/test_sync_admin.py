"""Overriding a logged conflict and releasing a quarantined row are writes like a phone's push
(resolvers/sync_admin.py): merged against the row as it stands, under the same lock, logged."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import select, text

from access.errors import ErrorCode, InputError
from access.scope import Scope
from access.viewer import Viewer, viewer_for
from core.clock import FrozenClock
from core.db import Sessionmaker, writing
from core.global_id import global_id
from models import Account, Branch, DirectiveProgress, Role, SyncConflict, SyncQuarantine, Visit
from resolvers import sync_admin as ops
from resolvers.sync_admin import competing_versions_by_document
from sync.collection import DIRECTIVE_PROGRESS, VISIT
from sync.push import PushRow, Writer, apply_push, push
from tests.conftest import World, wait_until_blocked
from tests.sync.test_push_isolation import new_recipient


def as_viewer(account: Account) -> Viewer:
    return viewer_for(account, None, None, None)


def visit(world: World, **overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "branchId": global_id("Branch", world.meigui.id),
        "officerId": global_id("Member", world.officer_member.id),
        "village": "玫瑰村",
        "category": "household",
        "concerns": "c0",
        "status": "open",
        "peopleReached": 1,
        "visitedAt": "2026-05-01T10:00:00+08:00",
        "deleted": False,
    }
    doc.update(overrides)
    return doc


def officer(world: World) -> Writer:
    scope = Scope("branch", world.meigui.id, world.meigui.path, True, world.officer_member.id)
    return Writer(world.officer.id, None, scope, member_id=world.officer_member.id)


async def concerns_conflict(
    sessionmaker: Sessionmaker, world: World, clock: FrozenClock
) -> tuple[dict[str, Any], SyncConflict]:
    """The issue's story: A creates V (c0); B writes "B", A writes "A", both from c0. The server
    keeps B's and logs A's; B, which never heard of A, then writes "C" and is acknowledged."""
    v = visit(world)
    await push(sessionmaker, VISIT, officer(world), [PushRow(v)], clock())
    b = {**v, "concerns": "B"}
    await push(sessionmaker, VISIT, officer(world), [PushRow(b, v)], clock())
    outcome = await push(
        sessionmaker, VISIT, officer(world), [PushRow({**v, "concerns": "A"}, v)], clock()
    )
    assert outcome.conflicts == 1
    async with sessionmaker() as db:
        [conflict] = (await db.execute(select(SyncConflict))).scalars()
    assert (conflict.ancestor, conflict.client, conflict.server, conflict.result) == (
        "c0",
        "A",
        "B",
        "B",
    )
    return b, conflict


async def stored_concerns(sessionmaker: Sessionmaker, doc_id: str) -> str | None:
    async with sessionmaker() as db:
        return await db.scalar(select(Visit.concerns).where(Visit.id == doc_id))


async def conflicts(sessionmaker: Sessionmaker) -> dict[uuid.UUID, SyncConflict]:
    async with sessionmaker() as db:
        return {c.id: c for c in (await db.execute(select(SyncConflict))).scalars()}


async def test_resolving_a_conflict_never_overwrites_a_write_made_after_it(
    sessionmaker: Sessionmaker, world: World, clock: FrozenClock
) -> None:
    b, conflict = await concerns_conflict(sessionmaker, world, clock)
    c = {**b, "concerns": "C"}
    assert (
        await push(sessionmaker, VISIT, officer(world), [PushRow(c, b)], clock())
    ).returned == []

    done, record = await ops.resolve_conflict(
        sessionmaker, as_viewer(world.admin), conflict.id, "client", None, False, clock()
    )

    # C was acknowledged after the conflict: choosing A clashes with it, and C stays.
    assert await stored_concerns(sessionmaker, b["id"]) == "C"
    assert done.document["concerns"] == "C"
    logged = await conflicts(sessionmaker)
    [clash] = [x for x in logged.values() if x.id != conflict.id]
    assert (clash.ancestor, clash.client, clash.server, clash.result) == ("B", "A", "C", "C")
    assert clash.resolved_at is None and clash.account_id == world.admin.id
    # The original records how it was settled: the choice clashed, see the new conflict.
    settled = logged[conflict.id]
    assert (settled.resolution, settled.settlement, settled.next_conflict_id) == (
        "A",
        "conflicted",
        clash.id,
    )
    assert record.row.settlement == "conflicted" and settled.resolved_by == world.admin.id


async def test_resolving_a_conflict_nobody_moved_on_from_applies_the_choice(
    sessionmaker: Sessionmaker, world: World, clock: FrozenClock
) -> None:
    b, conflict = await concerns_conflict(sessionmaker, world, clock)
    done, _ = await ops.resolve_conflict(
        sessionmaker, as_viewer(world.admin), conflict.id, "client", None, False, clock()
    )
    assert await stored_concerns(sessionmaker, b["id"]) == "A" == done.document["concerns"]
    settled = (await conflicts(sessionmaker))[conflict.id]
    assert (settled.settlement, settled.next_conflict_id) == ("applied", None)
    assert len(await conflicts(sessionmaker)) == 1
    # Settled once: a second resolution is refused and changes nothing.
    with pytest.raises(InputError) as again:
        await ops.resolve_conflict(
            sessionmaker, as_viewer(world.admin), conflict.id, "server", None, False, clock()
        )
    assert again.value.problems[0].code is ErrorCode.INVALID_TRANSITION
    assert await stored_concerns(sessionmaker, b["id"]) == "A"


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_a_resolution_racing_a_push_keeps_the_push_and_says_how_it_was_settled(
    sessionmaker: Sessionmaker, world: World, clock: FrozenClock
) -> None:
    """A push holds the visit's row lock (C, from B) while an admin resolves the conflict for
    A: the resolution waits, then merges against C, so C stays and the clash is logged."""
    b, conflict = await concerns_conflict(sessionmaker, world, clock)
    c = {**b, "concerns": "C"}
    async with writing(sessionmaker) as db:
        pushed = await apply_push(db, VISIT, officer(world), [PushRow(c, b)], clock())
        assert pushed.returned == []
        resolving = asyncio.create_task(
            ops.resolve_conflict(
                sessionmaker, as_viewer(world.admin), conflict.id, "client", None, False, clock()
            )
        )
        await wait_until_blocked(sessionmaker, resolving)
        assert not resolving.done()
    await resolving

    assert await stored_concerns(sessionmaker, b["id"]) == "C"
    logged = await conflicts(sessionmaker)
    [clash] = [x for x in logged.values() if x.id != conflict.id]
    assert (clash.ancestor, clash.client, clash.server, clash.result) == ("B", "A", "C", "C")
    settled = logged[conflict.id]
    assert (settled.settlement, settled.next_conflict_id) == ("conflicted", clash.id)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_a_push_racing_a_resolution_merges_against_the_resolved_value(
    sessionmaker: Sessionmaker, world: World, clock: FrozenClock
) -> None:
    """The other order: the resolution commits A first; B's push of C, from B, then meets A and
    is a conflict of its own (logged, B's phone adopts A), never a silent overwrite of A."""
    b, conflict = await concerns_conflict(sessionmaker, world, clock)
    c = {**b, "concerns": "C"}
    async with writing(sessionmaker) as db:
        holder = await db.execute(text("SELECT id FROM visit WHERE id = :id FOR UPDATE"), b)
        assert holder.scalar() == b["id"]
        resolving = asyncio.create_task(
            ops.resolve_conflict(
                sessionmaker, as_viewer(world.admin), conflict.id, "client", None, False, clock()
            )
        )
        await wait_until_blocked(sessionmaker, resolving)
    await resolving
    outcome = await push(sessionmaker, VISIT, officer(world), [PushRow(c, b)], clock())
    assert [d["concerns"] for d in outcome.returned] == ["A"]
    assert await stored_concerns(sessionmaker, b["id"]) == "A"
    logged = await conflicts(sessionmaker)
    assert logged[conflict.id].settlement == "applied"
    [late] = [x for x in logged.values() if x.id != conflict.id]
    assert (late.ancestor, late.client, late.server, late.result) == ("B", "C", "A", "A")


async def both_waiting(
    sessionmaker: Sessionmaker, backend: str, tasks: list[asyncio.Task[str]]
) -> None:
    """Until two sessions wait on locks (PostgreSQL); SQLite shows no waits, so the tasks get a
    moment to reach theirs (the outcome must be the same however far they got)."""
    if backend != "postgresql":
        await asyncio.sleep(0.2)
        return
    async with sessionmaker() as watcher:
        for _ in range(200):
            waiting = await watcher.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted"))
            if (waiting or 0) >= 2 or any(t.done() for t in tasks):
                return
            await asyncio.sleep(0.01)


async def quarantined_edit(
    sessionmaker: Sessionmaker, world: World, clock: FrozenClock
) -> tuple[dict[str, Any], SyncQuarantine]:
    v = visit(world)
    await push(sessionmaker, VISIT, officer(world), [PushRow(v)], clock())
    bad = {**v, "status": "done", "resolution": "已调解"}
    assert (
        await push(sessionmaker, VISIT, officer(world), [PushRow(bad, v)], clock())
    ).quarantined == 1
    async with sessionmaker() as db:
        [row] = (await db.execute(select(SyncQuarantine))).scalars()
    return v, row


async def test_two_releases_of_one_quarantined_row_at_once_apply_exactly_once(
    sessionmaker: Sessionmaker, world: World, clock: FrozenClock, backend: str
) -> None:
    v, row = await quarantined_edit(sessionmaker, world, clock)
    admin = as_viewer(world.admin)
    fixes = [{**v, "status": "resolved", "resolution": text} for text in ("甲方案", "乙方案")]

    async def release(fix: dict[str, Any]) -> str:
        try:
            released, done = await ops.release_quarantined(
                sessionmaker, admin, row.id, fix, clock()
            )
        except InputError as error:
            return error.problems[0].code.value
        assert done is not None and released.resolution == "applied"
        return str(fix["resolution"])

    async with writing(sessionmaker) as db:
        # Hold the visit (PostgreSQL) or the write lock (SQLite), so that both releases are
        # under way before either can write.
        if backend == "postgresql":
            await db.execute(text("SELECT id FROM visit WHERE id = :id FOR UPDATE"), v)
        else:
            await db.execute(text("UPDATE data_version SET version = version"))
        tasks = [asyncio.create_task(release(fix)) for fix in fixes]
        await both_waiting(sessionmaker, backend, tasks)
    answers = await asyncio.gather(*tasks)

    [winner] = [a for a in answers if a != "invalid_transition"]
    assert sorted(answers) == sorted([winner, "invalid_transition"])
    async with sessionmaker() as db:
        stored = await db.get(Visit, v["id"])
        logged = (await db.execute(select(SyncConflict))).scalars().all()
        kept = await db.get(SyncQuarantine, row.id)
    assert stored is not None and stored.resolution == winner
    assert logged == []  # the loser's write never landed, not even as a conflict
    assert kept is not None and kept.resolution == "applied"


async def test_releasing_a_row_the_push_still_refuses_keeps_it_quarantined(
    sessionmaker: Sessionmaker, world: World, clock: FrozenClock
) -> None:
    # A report with a percent above 100: the directive rules refuse it on the push, which the
    # release's own check (the record's fields, references, scope) does not see. Pushed again,
    # it is refused for the very same reasons, so no second quarantine row appears: the release
    # must still say it failed, not that it applied.
    recipient = await new_recipient(sessionmaker, world, clock)
    secretary = Writer(
        world.secretary.id,
        None,
        Scope("subtree", world.meigui.id, world.meigui.path, writable=True),
        member_id=world.secretary_member.id,
    )
    report = {
        "id": str(uuid.uuid4()),
        "recipientId": recipient,
        "branchId": global_id("Branch", world.meigui.id),
        "officerId": global_id("Member", world.secretary_member.id),
        "text": "已完成",
        "percent": 150,
        "reportedAt": "2026-11-27T11:00:00+08:00",
        "deleted": False,
    }
    pushed = await push(sessionmaker, DIRECTIVE_PROGRESS, secretary, [PushRow(report)], clock())
    assert pushed.quarantined == 1
    async with sessionmaker() as db:
        [row] = (await db.execute(select(SyncQuarantine))).scalars()

    kept, done = await ops.release_quarantined(
        sessionmaker, as_viewer(world.admin), row.id, None, clock()
    )

    assert done is None and kept.resolution is None
    assert [r["code"] for r in kept.reasons] == ["invalid"]
    async with sessionmaker() as db:
        assert await db.get(DirectiveProgress, report["id"]) is None


def secretary_of(branch: Branch) -> Viewer:
    return Viewer(uuid.uuid4(), "secretary", Role.SECRETARY, None, None, branch.id, branch.path)


async def test_competing_versions_are_read_only_for_records_in_the_viewers_scope(
    sessionmaker: Sessionmaker, world: World, clock: FrozenClock
) -> None:
    admin = Writer(world.admin.id, None, Scope("all", writable=True))
    officer = Writer(world.officer.id, None, Scope("all", writable=True))
    base = visit(world, concerns="路灯坏了\n待处理")
    other = visit(world, concerns="井盖松动")
    await push(sessionmaker, VISIT, admin, [PushRow(base), PushRow(other)], clock())
    await push(
        sessionmaker,
        VISIT,
        admin,
        [PushRow({**base, "concerns": "路灯坏了\n已派电工"}, base)],
        clock(),
    )
    await push(
        sessionmaker,
        VISIT,
        officer,
        [PushRow({**base, "concerns": "路灯坏了\n已修复"}, base)],
        clock(),
    )
    keys = [("visit", base["id"]), ("visit", other["id"]), ("patrol", base["id"])]

    async with sessionmaker() as db:
        seen = await competing_versions_by_document(db, secretary_of(world.meigui), keys)
    assert [[(v.field, v.lines, v.username) for v in found] for found in seen] == [
        [("concerns", ("已修复",), "officer.meigui")],
        [],
        [],  # the same id in another collection is another document
    ]

    # The visit moves to 榆山 (its conflict was logged in 玫瑰): the record's branch now decides.
    moved = {
        **base,
        "concerns": "路灯坏了\n已派电工",
        "branchId": global_id("Branch", world.yushan.id),
    }
    await push(
        sessionmaker,
        VISIT,
        admin,
        [PushRow(moved, {**base, "concerns": "路灯坏了\n已派电工"})],
        clock(),
    )
    async with sessionmaker() as db:
        assert await competing_versions_by_document(db, secretary_of(world.meigui), keys[:1]) == [
            []
        ]
        [[version]] = await competing_versions_by_document(db, secretary_of(world.yushan), keys[:1])
    assert version.text == "路灯坏了\n已修复"
