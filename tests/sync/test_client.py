"""The reference client against the real app in-process: offline writes, push, pull, retries."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select, update

from core.clock import FrozenClock
from core.db import Sessionmaker, writing
from models import DataVersion, SyncConflict, SyncDevice
from schema.node import to_global_id
from sync.client import (
    LocalStore,
    LossyTransport,
    RetryPolicy,
    SyncClient,
    SyncError,
    pull_query,
    push_query,
)
from sync.collection import PATROL, SERVICE_ACTION, VISIT
from tests.conftest import Api, World
from tests.schema.test_sync import visit


@dataclass
class Device:
    client: SyncClient
    transport: LossyTransport
    sleeps: list[float]


MakeDevice = Callable[..., Awaitable[Device]]


@pytest.fixture
async def device(app: Any, api: Api, clock: FrozenClock) -> AsyncIterator[MakeDevice]:
    """Signs a phone in and gives it a client on the in-process app, with losable replies."""
    opened: list[tuple[httpx.AsyncClient, LocalStore]] = []

    async def build(
        username: str, name: str = "phone", store: LocalStore | None = None, **options: Any
    ) -> Device:
        token = await api.login(username, device=name)
        transport = LossyTransport(httpx.ASGITransport(app=app))
        http = httpx.AsyncClient(transport=transport, base_url="http://meijing.test")
        sleeps: list[float] = []

        async def sleep(seconds: float) -> None:
            sleeps.append(seconds)  # no real waiting: the backoff is checked, not slept

        local = store or LocalStore()
        opened.append((http, local))
        client = SyncClient(
            http,
            token,
            store=local,
            retry=RetryPolicy(attempts=4, first_delay=0.5, max_delay=1.5, sleep=sleep),
            clock=clock,
            **options,
        )
        return Device(client, transport, sleeps)

    yield build
    for http, local in opened:
        await http.aclose()
        local.close()


async def conflicts(sessionmaker: Sessionmaker) -> list[SyncConflict]:
    async with sessionmaker() as db:
        return list((await db.execute(select(SyncConflict))).scalars().all())


def content(doc: dict[str, Any] | None) -> dict[str, Any]:
    assert doc is not None
    return {k: v for k, v in doc.items() if k != "updatedAt"}


def test_queries_are_the_ones_rxdb_builders_send() -> None:
    assert pull_query(VISIT).startswith(
        "query PullVisit($checkpoint: VisitInputCheckpoint, $limit: Int!) {"
        " pullVisit(checkpoint: $checkpoint, limit: $limit) { documents { id branchId"
    )
    assert push_query(SERVICE_ACTION).startswith(
        "mutation PushServiceAction($serviceActionPushRow: [ServiceActionInputPushRow!]) {"
        " pushServiceAction(serviceActionPushRow: $serviceActionPushRow) { id"
    )


async def test_offline_create_reaches_another_device(device: MakeDevice, world: World) -> None:
    officer = (await device("officer.meigui")).client
    secretary = (await device("secretary.meigui")).client
    doc_id = officer.create(VISIT, visit(world))
    assert officer.pending(VISIT) == 1

    report = await officer.sync()
    assert (report.pushed, report.conflicts, officer.pending(VISIT)) == (1, 0, 0)
    await secretary.sync()
    assert content(secretary.get(VISIT, doc_id)) == content(officer.get(VISIT, doc_id))
    assert secretary.get(VISIT, doc_id)["updatedAt"] == officer.get(VISIT, doc_id)["updatedAt"]  # type: ignore[index]


async def test_edit_after_push_is_not_a_conflict(
    device: MakeDevice, world: World, sessionmaker: Sessionmaker
) -> None:
    officer = (await device("officer.meigui")).client
    doc_id = officer.create(VISIT, visit(world))
    await officer.push()  # assumed master = what was sent, without updatedAt
    officer.edit(VISIT, doc_id, {"status": "resolved", "resolution": "已调解"})
    report = await officer.push()
    assert (report.pushed, report.conflicts) == (1, 0)
    assert await conflicts(sessionmaker) == []


async def test_conflict_adopts_server_state_and_server_logs_the_dropped_write(
    device: MakeDevice, world: World, sessionmaker: Sessionmaker
) -> None:
    officer = (await device("officer.meigui")).client
    secretary = (await device("secretary.meigui")).client
    doc_id = officer.create(VISIT, visit(world))
    await officer.sync()
    await secretary.sync()
    secretary.edit(VISIT, doc_id, {"village": "玫瑰东村"})
    await secretary.push()
    officer.edit(VISIT, doc_id, {"village": "玫瑰西村", "peopleReached": 9})

    report = await officer.push()

    assert report.conflicts == 1
    local = officer.get(VISIT, doc_id)
    assert local is not None
    assert (local["village"], local["peopleReached"]) == ("玫瑰东村", 9)
    assert officer.pending(VISIT) == 0
    [logged] = await conflicts(sessionmaker)
    assert (logged.field, logged.client, logged.result) == ("village", "玫瑰西村", "玫瑰东村")


async def test_pull_keeps_an_unpushed_edit_and_the_push_merges_it(
    device: MakeDevice, world: World, sessionmaker: Sessionmaker
) -> None:
    officer = (await device("officer.meigui")).client
    secretary = (await device("secretary.meigui")).client
    doc_id = officer.create(VISIT, visit(world))
    await officer.sync()
    await secretary.sync()
    secretary.edit(VISIT, doc_id, {"concerns": "路灯坏了"})
    await secretary.push()
    officer.edit(VISIT, doc_id, {"peopleReached": 7})

    await officer.pull()
    assert officer.get(VISIT, doc_id)["peopleReached"] == 7  # type: ignore[index]
    await officer.sync()
    await secretary.sync()

    for phone in (officer, secretary):
        local = phone.get(VISIT, doc_id)
        assert local is not None
        # Neither write was lost, and the different fields merged without a conflict.
        assert (local["concerns"], local["peopleReached"]) == ("路灯坏了", 7)
    assert await conflicts(sessionmaker) == []


async def test_lost_push_response_is_retried_without_a_second_version_or_conflict(
    device: MakeDevice, world: World, sessionmaker: Sessionmaker
) -> None:
    phone = await device("officer.meigui")
    doc_id = phone.client.create(VISIT, visit(world))
    await phone.client.sync()
    stamp = phone.client.get(VISIT, doc_id)["updatedAt"]  # type: ignore[index]
    phone.client.edit(VISIT, doc_id, {"status": "escalated"})

    phone.transport.lose_next(2)
    report = await phone.client.push()

    assert (report.pushed, report.conflicts, phone.transport.lost) == (1, 0, 2)
    assert phone.sleeps == [0.5, 1.0]
    await phone.client.pull()
    local = phone.client.get(VISIT, doc_id)
    assert local is not None
    assert local["status"] == "escalated"
    assert local["updatedAt"] > stamp
    assert await conflicts(sessionmaker) == []


async def test_a_push_lost_until_retries_run_out_is_resent_later(
    device: MakeDevice, world: World
) -> None:
    phone = await device("officer.meigui")
    doc_id = phone.client.create(VISIT, visit(world))
    phone.transport.lose_next(4)
    with pytest.raises(SyncError, match="after 4 attempts"):
        await phone.client.push()
    assert phone.sleeps == [0.5, 1.0, 1.5]  # doubling, capped at max_delay
    assert phone.client.pending(VISIT) == 1

    # The server stored it; the resend is a no-op that acknowledges it.
    report = await phone.client.sync()
    assert (report.pushed, report.conflicts, report.pulled) == (1, 0, 1)
    assert phone.client.pending(VISIT) == 0
    assert phone.client.get(VISIT, doc_id)["updatedAt"] > 0  # type: ignore[index]


async def test_graphql_errors_are_retried_then_reported_with_their_code(
    device: MakeDevice, world: World
) -> None:
    phone = await device("officer.meigui", page_size=100_000)
    with pytest.raises(SyncError) as raised:
        await phone.client.pull(VISIT)
    assert raised.value.code == "BAD_USER_INPUT"
    assert len(phone.sleeps) == 3


async def test_pull_pages_until_a_short_page(device: MakeDevice, world: World) -> None:
    officer = (await device("officer.meigui")).client
    secretary = (await device("secretary.meigui", page_size=3)).client
    ids = {officer.create(VISIT, visit(world)) for _ in range(7)}
    await officer.push()
    report = await secretary.pull(VISIT)
    assert report.pulled == 7
    assert {d["id"] for d in secretary.documents(VISIT)} == ids


async def test_delete_is_a_tombstone_that_reaches_other_devices(
    device: MakeDevice, world: World
) -> None:
    officer = (await device("officer.meigui")).client
    secretary = (await device("secretary.meigui")).client
    doc_id = officer.create(VISIT, visit(world))
    await officer.sync()
    await secretary.sync()
    officer.delete(VISIT, doc_id)
    await officer.sync()
    await secretary.sync()
    assert secretary.get(VISIT, doc_id)["deleted"] is True  # type: ignore[index]


async def test_resync_required_pushes_unsent_writes_then_pulls_from_scratch(
    device: MakeDevice, world: World, sessionmaker: Sessionmaker
) -> None:
    phone = (await device("officer.meigui")).client
    first = phone.create(VISIT, visit(world))
    await phone.sync()
    unsent = phone.create(VISIT, visit(world, village="榆山村"))
    async with writing(sessionmaker) as db:
        # Tombstones older than any checkpoint were purged: this device must start over.
        await db.execute(update(DataVersion).values(tombstone_floor=2**53))

    report = await phone.pull(VISIT)

    assert report.resyncs == 1
    assert {d["id"] for d in phone.documents(VISIT)} == {first, unsent}
    assert phone.pending(VISIT) == 0


async def test_patrol_and_service_action_lists_travel_as_json_text(
    device: MakeDevice, world: World
) -> None:
    officer = (await device("officer.meigui")).client
    secretary = (await device("secretary.meigui")).client
    branch = to_global_id("Branch", world.meigui.id)
    me = to_global_id("Member", world.officer_member.id)
    other = to_global_id("Member", world.meigui_member.id)
    patrol = officer.create(
        PATROL,
        {
            "branchId": branch,
            "officerId": me,
            "kind": "night",
            "area": "玫瑰街",
            "startedAt": "2026-05-01T21:00:00+08:00",
            "participants": [me],
            "track": [{"t": "2026-05-01T21:00:00+08:00", "lat": 36.1, "lng": 116.4}],
        },
    )
    action = officer.create(
        SERVICE_ACTION,
        {
            "branchId": branch,
            "officerId": me,
            "type": "forum",
            "title": "邻里纠纷调解",
            "happenedAt": "2026-05-02T09:00:00+08:00",
            "participants": [{"memberId": me}, {"name": "老王", "role": "grid_leader"}],
            "peopleReached": 4,
            "difficultiesSolved": 1,
            "bannersReceived": 0,
        },
    )
    await officer.sync()
    await secretary.sync()
    secretary.edit(PATROL, patrol, {"participants": [me, other]})
    officer.edit(
        PATROL,
        patrol,
        {
            "track": [
                {"t": "2026-05-01T21:00:00+08:00", "lat": 36.1, "lng": 116.4},
                {"t": "2026-05-01T21:30:00+08:00", "lat": 36.2, "lng": 116.5},
            ]
        },
    )
    await secretary.sync()
    await officer.sync()
    await secretary.sync()

    for phone in (officer, secretary):
        local = phone.get(PATROL, patrol)
        assert local is not None
        assert sorted(orjson.loads(local["participants"])) == sorted([me, other])
        assert len(orjson.loads(local["track"])) == 2
        assert phone.get(SERVICE_ACTION, action)["title"] == "邻里纠纷调解"  # type: ignore[index]
    assert officer.pending(PATROL) == secretary.pending(PATROL) == 0


async def test_local_store_survives_a_restart(
    device: MakeDevice, world: World, tmp_path: Path
) -> None:
    path = tmp_path / "phone.db"
    first = LocalStore(path)
    phone = (await device("officer.meigui", store=first)).client
    doc_id = phone.create(VISIT, visit(world))
    await phone.sync()
    phone.edit(VISIT, doc_id, {"status": "resolved"})
    first.close()

    again = (await device("officer.meigui", name="phone", store=LocalStore(path))).client
    assert again.pending(VISIT) == 1
    assert again.store.checkpoint(VISIT) is not None
    report = await again.sync()
    assert (report.pushed, report.conflicts) == (1, 0)


async def test_headers_tell_the_fleet_view_app_version_and_clock_skew(
    device: MakeDevice, world: World, sessionmaker: Sessionmaker
) -> None:
    phone = (await device("officer.meigui", app_version="test-app/9")).client
    await phone.pull(VISIT)
    async with sessionmaker() as db:
        [row] = (await db.execute(select(SyncDevice))).scalars().all()
    assert (row.app_version, row.clock_skew_ms) == ("test-app/9", 0)
