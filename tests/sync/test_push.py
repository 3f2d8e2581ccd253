"""Push and pull against the database: commit order, compare-and-set, tombstones, scope moves."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from access.scope import Scope, scope_of
from access.viewer import Viewer
from core.clock import FrozenClock
from core.db import Sessionmaker, writing
from core.global_id import global_id
from core.settings import Settings
from models import Member, SyncConflict, SyncQuarantine, Visit
from sync.collection import PATROL, VISIT
from sync.pull import Checkpoint, ResyncRequired, pull
from sync.push import PushRow, Writer, push
from sync.stamp import next_stamp
from sync.tombstone import purge_tombstones
from tests.conftest import World

ALL = Scope("all", writable=True)


@pytest.fixture
async def app_settings(settings: Settings) -> Settings:
    # No session cache: a transfer takes effect on the next request.
    return dataclasses.replace(settings, session_cache_seconds=0)


def writer(world: World, scope: Scope = ALL) -> Writer:
    return Writer(world.admin.id, None, scope)


def visit(world: World, **overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "branchId": global_id("Branch", world.meigui.id),
        "officerId": global_id("Member", world.officer_member.id),
        "village": "玫瑰村",
        "category": "household",
        "status": "open",
        "peopleReached": 1,
        "visitedAt": "2026-05-01T10:00:00+08:00",
        "deleted": False,
    }
    doc.update(overrides)
    return doc


async def pull_all(
    sessionmaker: Sessionmaker, scope: Scope, checkpoint: Checkpoint | None = None
) -> tuple[list[dict[str, Any]], Checkpoint | None]:
    documents: list[dict[str, Any]] = []
    while True:
        async with sessionmaker() as db:
            page = await pull(db, scope, VISIT, checkpoint, 2)
        documents += page.documents
        checkpoint = page.checkpoint
        if len(page.documents) < 2:
            return documents, checkpoint


async def test_stamps_follow_commit_order_so_a_pull_never_skips_a_slow_transaction(
    sessionmaker: Sessionmaker, world: World, clock: FrozenClock
) -> None:
    """A takes its position first, B tries to commit, a client pulls, A commits: the next pull
    must deliver A (B may not become visible ahead of A's position)."""
    doc_a, doc_b = visit(world, village="甲村"), visit(world, village="乙村")
    async with writing(sessionmaker) as a:
        stamp_a = await next_stamp(a, clock())
        await a.execute(
            insert(Visit).values(**VISIT.to_columns(doc_a), updated_at=stamp_a, created_at=clock())
        )
        b = asyncio.create_task(push(sessionmaker, VISIT, writer(world), [PushRow(doc_b)], clock()))
        # Give B every chance to commit ahead of A, which a plain clock or sequence would allow.
        done, _ = await asyncio.wait({b}, timeout=0.5)
        first, checkpoint = await pull_all(sessionmaker, ALL)
    await b
    rest, _ = await pull_all(sessionmaker, ALL, checkpoint)
    delivered = [d["village"] for d in first + rest]
    assert sorted(delivered) == ["乙村", "甲村"]
    assert delivered.index("甲村") < delivered.index("乙村")
    assert not done  # B waited for A's stamp to commit


async def test_parallel_pushes_with_the_same_ancestor_never_both_win(
    sessionmaker: Sessionmaker, world: World, clock: FrozenClock
) -> None:
    for _ in range(5):
        base = visit(world)
        await push(sessionmaker, VISIT, writer(world), [PushRow(base)], clock())
        left = PushRow({**base, "village": "东村"}, base)
        right = PushRow({**base, "village": "西村"}, base)
        outcomes = await asyncio.gather(
            push(sessionmaker, VISIT, writer(world), [left], clock()),
            push(sessionmaker, VISIT, writer(world), [right], clock()),
        )
        winners = [o for o in outcomes if not o.returned]
        losers = [o for o in outcomes if o.returned]
        assert len(winners) == 1 and len(losers) == 1
        stored = losers[0].returned[0]["village"]
        async with sessionmaker() as db:
            final = (await db.execute(select(Visit.village).where(Visit.id == base["id"]))).scalar()
            [conflict] = (
                await db.execute(select(SyncConflict).where(SyncConflict.document_id == base["id"]))
            ).scalars()
        assert final == stored
        assert conflict.field == "village" and conflict.result == stored
        assert conflict.client != stored


async def test_two_devices_creating_the_same_id_merge_instead_of_failing(
    sessionmaker: Sessionmaker, world: World, clock: FrozenClock
) -> None:
    doc = visit(world)
    outcomes = await asyncio.gather(
        push(sessionmaker, VISIT, writer(world), [PushRow({**doc, "village": "东村"})], clock()),
        push(sessionmaker, VISIT, writer(world), [PushRow({**doc, "village": "西村"})], clock()),
    )
    assert sum(1 for o in outcomes if o.returned) == 1
    async with sessionmaker() as db:
        conflicts = (await db.execute(select(SyncConflict))).scalars().all()
    assert [c.field for c in conflicts] == ["village"]


async def test_delete_is_a_tombstone_pulled_as_deleted(
    sessionmaker: Sessionmaker, world: World, clock: FrozenClock
) -> None:
    doc = visit(world)
    await push(sessionmaker, VISIT, writer(world), [PushRow(doc)], clock())
    await push(
        sessionmaker, VISIT, writer(world), [PushRow({**doc, "deleted": True}, doc)], clock()
    )
    documents, _ = await pull_all(sessionmaker, ALL)
    assert [(d["id"], d["deleted"]) for d in documents] == [(doc["id"], True)]


async def test_delete_beats_a_concurrent_edit_and_the_edit_is_logged(
    sessionmaker: Sessionmaker, world: World, clock: FrozenClock
) -> None:
    doc = visit(world)
    await push(sessionmaker, VISIT, writer(world), [PushRow(doc)], clock())
    await push(
        sessionmaker, VISIT, writer(world), [PushRow({**doc, "deleted": True}, doc)], clock()
    )
    outcome = await push(
        sessionmaker, VISIT, writer(world), [PushRow({**doc, "concerns": "路灯坏了"}, doc)], clock()
    )
    [returned] = outcome.returned
    assert returned["deleted"] is True
    assert returned["concerns"] == "路灯坏了"  # kept in the tombstone: undeleting restores it
    async with sessionmaker() as db:
        reasons = set((await db.execute(select(SyncConflict.reason))).scalars())
    assert reasons == {"delete_vs_edit", "edit_of_deleted"}


async def test_device_older_than_the_tombstone_horizon_must_resync_but_may_still_push(
    sessionmaker: Sessionmaker, world: World, clock: FrozenClock
) -> None:
    doc = visit(world)
    await push(sessionmaker, VISIT, writer(world), [PushRow(doc)], clock())
    _, checkpoint = await pull_all(sessionmaker, ALL)
    clock.advance(days=1)
    await push(
        sessionmaker, VISIT, writer(world), [PushRow({**doc, "deleted": True}, doc)], clock()
    )
    clock.advance(days=200)
    result = await purge_tombstones(sessionmaker, clock(), days=180)
    assert result.purged["visit"] == 1
    with pytest.raises(ResyncRequired) as refused:
        async with sessionmaker() as db:
            await pull(db, ALL, VISIT, checkpoint, 10)
    assert refused.value.reason == "horizon"
    # Its unsent writes are still accepted.
    late = visit(world)
    outcome = await push(sessionmaker, VISIT, writer(world), [PushRow(late)], clock())
    assert outcome.written == 1
    # A fresh pull from the start works.
    documents, _ = await pull_all(sessionmaker, ALL)
    assert [d["id"] for d in documents] == [late["id"]]


async def test_tombstones_within_the_horizon_are_kept(
    sessionmaker: Sessionmaker, world: World, clock: FrozenClock
) -> None:
    doc = visit(world)
    await push(sessionmaker, VISIT, writer(world), [PushRow({**doc, "deleted": True})], clock())
    clock.advance(days=10)
    result = await purge_tombstones(sessionmaker, clock(), days=180)
    assert result.purged["visit"] == 0 and result.floor == 0


def officer_scope(world: World) -> Scope:
    return Scope(
        "branch",
        world.meigui.id,
        world.meigui.path,
        writable=True,
        member_id=world.officer_member.id,
    )


async def test_record_moved_out_of_scope_reaches_the_old_viewer_as_a_removal(
    sessionmaker: Sessionmaker, world: World, clock: FrozenClock
) -> None:
    meigui = officer_scope(world)
    yushan = Scope("branch", world.yushan.id, world.yushan.path, writable=True)
    doc = visit(world)
    await push(sessionmaker, VISIT, writer(world), [PushRow(doc)], clock())
    _, meigui_checkpoint = await pull_all(sessionmaker, meigui)
    _, yushan_checkpoint = await pull_all(sessionmaker, yushan)
    moved = {**doc, "branchId": global_id("Branch", world.yushan.id), "village": "榆山村"}
    await push(sessionmaker, VISIT, writer(world), [PushRow(moved, doc)], clock())

    removed, _ = await pull_all(sessionmaker, meigui, meigui_checkpoint)
    assert [(d["id"], d["deleted"], d["village"]) for d in removed] == [
        (doc["id"], True, "玫瑰村")  # the state the old branch saw, not the new one
    ]
    arrived, _ = await pull_all(sessionmaker, yushan, yushan_checkpoint)
    assert [(d["id"], d["deleted"], d["village"]) for d in arrived] == [
        (doc["id"], False, "榆山村")
    ]


async def test_record_of_another_branch_is_quarantined_for_an_officer(
    sessionmaker: Sessionmaker, world: World, clock: FrozenClock
) -> None:
    outside = visit(world, branchId=global_id("Branch", world.yushan.id))
    inside = visit(world)
    outcome = await push(
        sessionmaker,
        VISIT,
        writer(world, officer_scope(world)),
        [PushRow(outside), PushRow(inside)],
        clock(),
    )
    assert (outcome.written, outcome.quarantined) == (1, 1)
    async with sessionmaker() as db:
        [kept] = (await db.execute(select(SyncQuarantine))).scalars()
    assert kept.reasons[0]["code"] == "out_of_scope"


async def test_unknown_officer_and_bad_date_are_quarantined_with_their_reasons(
    sessionmaker: Sessionmaker, world: World, clock: FrozenClock
) -> None:
    ghost = visit(world, officerId=global_id("Member", uuid.uuid4()))
    undated = visit(world, visitedAt="yesterday")
    outcome = await push(
        sessionmaker, VISIT, writer(world), [PushRow(ghost), PushRow(undated)], clock()
    )
    assert (outcome.written, outcome.quarantined) == (0, 2)
    async with sessionmaker() as db:
        rows = (await db.execute(select(SyncQuarantine))).scalars().all()
    reasons = sorted((r["field"], r["code"]) for q in rows for r in q.reasons)
    assert reasons == [("officerId", "not_found"), ("visitedAt", "invalid")]


async def test_quarantined_edit_of_a_stored_record_returns_the_server_state(
    sessionmaker: Sessionmaker, world: World, clock: FrozenClock
) -> None:
    doc = visit(world)
    await push(sessionmaker, VISIT, writer(world), [PushRow(doc)], clock())
    outcome = await push(
        sessionmaker, VISIT, writer(world), [PushRow({**doc, "status": "done"}, doc)], clock()
    )
    assert outcome.quarantined == 1
    assert [r["status"] for r in outcome.returned] == ["open"]


async def test_patrol_track_is_append_only_and_participants_merge_as_a_set(
    sessionmaker: Sessionmaker, world: World, clock: FrozenClock
) -> None:
    import orjson

    me, other, third = (
        global_id("Member", m.id)
        for m in (world.officer_member, world.meigui_member, world.secretary_member)
    )
    p1 = {"t": "2026-05-01T21:00:00+08:00", "lat": 36.28, "lng": 116.45}
    p2 = {"t": "2026-05-01T21:10:00+08:00", "lat": 36.29, "lng": 116.46}
    p3 = {"t": "2026-05-01T21:20:00+08:00", "lat": 36.30, "lng": 116.47}
    base = {
        "id": str(uuid.uuid4()),
        "branchId": global_id("Branch", world.meigui.id),
        "officerId": me,
        "kind": "night",
        "area": "玫瑰镇",
        "startedAt": "2026-05-01T21:00:00+08:00",
        "participants": orjson.dumps([me]).decode(),
        "track": orjson.dumps([p1]).decode(),
        "deleted": False,
    }
    await push(sessionmaker, PATROL, writer(world), [PushRow(base)], clock())
    phone_a = {
        **base,
        "participants": orjson.dumps([me, other]).decode(),
        "track": orjson.dumps([p1, p2]).decode(),
    }
    phone_b = {
        **base,
        "participants": orjson.dumps([me, third]).decode(),
        "track": orjson.dumps([p1, p3]).decode(),
    }
    await push(sessionmaker, PATROL, writer(world), [PushRow(phone_a, base)], clock())
    outcome = await push(sessionmaker, PATROL, writer(world), [PushRow(phone_b, base)], clock())
    [merged] = outcome.returned
    assert sorted(orjson.loads(merged["participants"])) == sorted([me, other, third])
    assert [p["t"] for p in orjson.loads(merged["track"])] == [p1["t"], p2["t"], p3["t"]]


async def test_officer_transferred_to_another_branch_is_told_to_resync(
    api: Any, world: World, sessionmaker: Sessionmaker
) -> None:
    token = await api.login("officer.meigui")
    query = "query($c: VisitInputCheckpoint) { pullVisit(checkpoint: $c, limit: 10) { checkpoint { id updatedAt } } }"
    first = await api(query, {"c": None}, token=token)
    assert first["data"]["pullVisit"]["checkpoint"] is None
    checkpoint = {"id": "x", "updatedAt": 1.0}
    await api(query, {"c": checkpoint}, token=token)
    async with writing(sessionmaker) as db:
        await db.execute(
            update(Member)
            .where(Member.id == world.officer_member.id)
            .values(branch_id=world.yushan.id)
        )
    refused = await api(query, {"c": checkpoint}, token=token, expect_errors=True)
    error = refused["errors"][0]
    assert error["extensions"]["code"] == "RESYNC_REQUIRED"
    assert error["extensions"]["reason"] == "scope"


def test_scope_of_roles(world: World) -> None:
    viewer = Viewer(
        world.officer.id,
        "officer.meigui",
        world.officer.role,
        None,
        world.officer_member.id,
        world.meigui.id,
        world.meigui.path,
    )
    assert scope_of(viewer).key == f"branch:{world.meigui.id}"


async def test_branch_move_sends_removals_to_the_old_subtree_and_records_in_full_to_the_new(
    sessionmaker: Sessionmaker, world: World, clock: FrozenClock
) -> None:
    from models import Branch
    from resolvers.branch import update_branch

    doc = visit(world, branchId=global_id("Branch", world.meigui_group.id))
    await push(sessionmaker, VISIT, writer(world), [PushRow(doc)], clock())
    meigui = Scope("subtree", world.meigui.id, world.meigui.path, writable=True)
    yushan = Scope("subtree", world.yushan.id, world.yushan.path, writable=True)
    _, meigui_checkpoint = await pull_all(sessionmaker, meigui)
    # The yushan secretary is up to date, past the visit's stamp, before the move.
    extra = visit(world, branchId=global_id("Branch", world.yushan.id))
    await push(sessionmaker, VISIT, writer(world), [PushRow(extra)], clock())
    _, yushan_checkpoint = await pull_all(sessionmaker, yushan)

    admin = Viewer(world.admin.id, "admin", world.admin.role, None, None, None, None)
    async with writing(sessionmaker) as db:
        await update_branch(db, admin, clock, world.meigui_group.id, {"parent_id": world.yushan.id})

    removed, _ = await pull_all(sessionmaker, meigui, meigui_checkpoint)
    assert [(d["id"], d["deleted"]) for d in removed] == [(doc["id"], True)]
    arrived, _ = await pull_all(sessionmaker, yushan, yushan_checkpoint)
    assert [(d["id"], d["deleted"]) for d in arrived] == [(doc["id"], False)]
    async with sessionmaker() as db:
        path = (
            await db.execute(select(Branch.path).where(Branch.id == world.meigui_group.id))
        ).scalar()
    assert path is not None and path.startswith(world.yushan.path)


async def test_push_from_a_revoked_device_is_quarantined_not_dropped(
    api: Any, world: World, sessionmaker: Sessionmaker, clock: FrozenClock
) -> None:
    from models import DeviceSession

    token = await api.login("officer.meigui")
    async with writing(sessionmaker) as db:
        await db.execute(update(DeviceSession).values(revoked_at=clock()))
    doc = visit(world)
    body = await api(
        "mutation($r: [VisitInputPushRow!]) { pushVisit(visitPushRow: $r) { id } }",
        {"r": [{"newDocumentState": doc}]},
        token=token,
    )
    assert body["data"]["pushVisit"] == []
    async with sessionmaker() as db:
        [kept] = (await db.execute(select(SyncQuarantine))).scalars()
        stored = (await db.execute(select(Visit))).scalars().all()
    assert kept.row["newDocumentState"]["id"] == doc["id"]
    assert kept.reasons[0]["code"] == "invalid_token"
    assert kept.account_id == world.officer.id
    assert stored == []
    # Pulling is refused like any request with a revoked session, as a JSON GraphQL error.
    refused = await api(
        "{ pullVisit(limit: 10) { checkpoint { id } } }", token=token, expect_errors=True
    )
    assert refused["errors"][0]["extensions"]["code"] == "SESSION_REVOKED"


async def test_notes_pushed_at_once_to_the_same_visit_are_all_kept(
    sessionmaker: Sessionmaker, world: World, clock: FrozenClock
) -> None:
    base = visit(world, concerns="5月1日 路灯坏了")
    await push(sessionmaker, VISIT, writer(world), [PushRow(base)], clock())
    notes = [f"5月2日 第{i}位民警回访" for i in range(4)]
    rows = [PushRow({**base, "concerns": f"{base['concerns']}\n{note}"}, base) for note in notes]

    # Each push is decided against the one committed before it (compare-and-set), whatever
    # the order: every note is appended to what the others left.
    await asyncio.gather(
        *(push(sessionmaker, VISIT, writer(world), [row], clock()) for row in rows)
    )

    async with sessionmaker() as db:
        stored = (await db.execute(select(Visit.concerns).where(Visit.id == base["id"]))).scalar()
        conflicts = (await db.execute(select(SyncConflict))).scalars().all()
    assert stored is not None
    lines = stored.splitlines()
    assert lines[0] == "5月1日 路灯坏了"
    assert sorted(lines[1:]) == sorted(notes)
    assert conflicts == []


async def test_notes_too_long_together_keep_the_servers_and_log_the_phones_not_quarantine_it(
    sessionmaker: Sessionmaker, world: World, clock: FrozenClock
) -> None:
    base = visit(world, concerns="5月1日 路灯坏了")
    await push(sessionmaker, VISIT, writer(world), [PushRow(base)], clock())
    server_note = "甲" * 1200
    phone_note = "乙" * 1200  # each text fits in 2,000 characters; both notes together do not
    server_text = f"{base['concerns']}\n{server_note}"
    await push(
        sessionmaker,
        VISIT,
        writer(world),
        [PushRow({**base, "concerns": server_text}, base)],
        clock(),
    )

    phone = {**base, "concerns": f"{base['concerns']}\n{phone_note}"}
    outcome = await push(sessionmaker, VISIT, writer(world), [PushRow(phone, base)], clock())

    assert (outcome.quarantined, outcome.conflicts) == (0, 1)
    assert [d["concerns"] for d in outcome.returned] == [server_text]
    async with sessionmaker() as db:
        [conflict] = (await db.execute(select(SyncConflict))).scalars().all()
        quarantined = (await db.execute(select(SyncQuarantine))).scalars().all()
    assert (conflict.field, conflict.reason, conflict.client) == (
        "concerns",
        "text_lines",
        phone["concerns"],
    )
    assert quarantined == []
