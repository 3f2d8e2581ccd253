"""The device bookkeeping behind the fleet view."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.clock import FrozenClock
from app.db import Sessionmaker
from models import SyncDevice
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
