"""The device bookkeeping behind the fleet view."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from core.clock import FrozenClock
from core.db import Sessionmaker
from models import SyncDevice
from sync.fleet import REFRESH_SECONDS, DeviceReport, DeviceTracker
from sync.stamp import epoch_ms
from tests.conftest import Api, World

PULL = "{ pullVisit(limit: 10) { checkpoint { id } } }"


async def test_pull_records_app_version_clock_skew_and_last_pull(
    api: Api, world: World, sessionmaker: Sessionmaker, clock: FrozenClock
) -> None:
    token = await api.login("officer.meigui")
    phone_time = epoch_ms(clock() + timedelta(minutes=3))
    response = await api.client.post(
        "/graphql",
        json={"query": PULL},
        headers={
            "Authorization": f"Bearer {token}",
            "X-Meijing-App-Version": "meijing-phone 2.3.1",
            "X-Meijing-Client-Time": str(phone_time),
        },
    )
    assert "errors" not in response.json()
    async with sessionmaker() as db:
        [device] = (await db.execute(select(SyncDevice))).scalars()
    assert device.account_id == world.officer.id
    assert device.app_version == "meijing-phone 2.3.1"
    assert device.clock_skew_ms == 3 * 60 * 1000
    assert device.last_pull_at == clock()
    assert device.scopes == {"visit": f"branch:{world.meigui.id}"}


async def test_repeated_pulls_do_not_rewrite_the_device_row_each_time(
    api: Api, world: World, sessionmaker: Sessionmaker, clock: FrozenClock
) -> None:
    token = await api.login("officer.meigui")
    await api(PULL, token=token)
    first = clock()
    clock.advance(seconds=5)
    # Another page size, so the response cache does not answer it without running the pull.
    await api(PULL.replace("limit: 10", "limit: 9"), token=token)
    async with sessionmaker() as db:
        [device] = (await db.execute(select(SyncDevice))).scalars()
    # Within the refresh interval the process remembers it wrote already: paging is write-free.
    assert device.last_pull_at == first


class FakeTimer:
    """A monotonic seconds counter the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def pull_as(
    tracker: DeviceTracker, sessionmaker: Sessionmaker, world: World, session: uuid.UUID, now: Any
) -> None:
    await tracker.record_pull(
        sessionmaker,
        world.officer.id,
        session,
        "visit",
        f"branch:{world.meigui.id}",
        has_checkpoint=False,
        report=DeviceReport(app_version="2.3.1"),
        now=now,
    )


async def test_device_tracker_stays_bounded_after_many_sign_ins(
    world: World, sessionmaker: Sessionmaker, clock: FrozenClock
) -> None:
    timer = FakeTimer()
    tracker = DeviceTracker(timer=timer, max_entries=20)
    for _ in range(60):  # each sign-in is a new device session
        await pull_as(tracker, sessionmaker, world, uuid.uuid4(), clock())
        timer.now += 0.01
    assert len(tracker) == 20
    # Past the refresh interval an entry could no longer spare a write: it is gone too.
    timer.now += REFRESH_SECONDS
    await pull_as(tracker, sessionmaker, world, uuid.uuid4(), clock())
    assert len(tracker) == 1


async def test_device_tracker_still_skips_repeated_writes_after_evicting(
    world: World, sessionmaker: Sessionmaker, clock: FrozenClock
) -> None:
    timer = FakeTimer()
    tracker = DeviceTracker(timer=timer, max_entries=5)
    for _ in range(20):
        await pull_as(tracker, sessionmaker, world, uuid.uuid4(), clock())
    phone = uuid.uuid4()
    await pull_as(tracker, sessionmaker, world, phone, clock())
    first = clock()
    clock.advance(seconds=5)
    timer.now += 5
    await pull_as(tracker, sessionmaker, world, phone, clock())
    async with sessionmaker() as db:
        device = await db.get(SyncDevice, phone)
    assert device is not None and device.last_pull_at == first
