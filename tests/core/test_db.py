"""Sessions and the data version: which transactions tell readers that the data changed."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from core.clock import FrozenClock
from core.db import Sessionmaker, writing
from models import Branch, DataVersion
from sync.stamp import next_stamp
from tests.conftest import Builders


async def version(sessionmaker: Sessionmaker) -> int:
    async with sessionmaker() as db:
        return int((await db.execute(select(DataVersion.version))).scalar_one())


async def test_a_write_moves_the_data_version_once(
    sessionmaker: Sessionmaker, make: Builders
) -> None:
    branch = await make.branch()
    before = await version(sessionmaker)
    async with writing(sessionmaker) as db:
        await db.execute(update(Branch).where(Branch.id == branch.id).values(name="玫瑰支部"))
    assert await version(sessionmaker) == before + 1


async def test_a_sync_write_moves_the_data_version_once_with_its_stamp(
    sessionmaker: Sessionmaker, clock: FrozenClock
) -> None:
    before = await version(sessionmaker)
    async with writing(sessionmaker) as db:
        await next_stamp(db, clock())
    assert await version(sessionmaker) == before + 1


async def test_bookkeeping_and_reads_leave_the_data_version_alone(
    sessionmaker: Sessionmaker, make: Builders
) -> None:
    branch = await make.branch()
    before = await version(sessionmaker)
    async with sessionmaker.begin() as db:  # bookkeeping: no reader's answer depends on it
        await db.execute(update(Branch).where(Branch.id == branch.id).values(name="玫瑰支部"))
    async with sessionmaker() as db:
        await db.execute(select(Branch))
    assert await version(sessionmaker) == before


async def test_a_write_that_fails_leaves_the_data_version_alone(
    sessionmaker: Sessionmaker,
) -> None:
    before = await version(sessionmaker)
    with pytest.raises(RuntimeError):
        async with writing(sessionmaker) as db:
            await db.execute(select(Branch))
            raise RuntimeError("refused")
    assert await version(sessionmaker) == before
