"""The sync stamp: `updatedAt`, epoch milliseconds, strictly increasing in commit order.

A stamp is taken by updating the single `data_version` row, which locks it until the transaction
ends. The next writer waits on that lock, so it can only take a larger stamp after this one
committed (or rolled back): no document ever becomes visible behind a checkpoint already handed
out, which a plain clock or a sequence cannot promise. The lock is held only from the stamp to
the commit; callers read, merge and validate first. On SQLite writers are serialised anyway.

Every document written in one transaction shares its stamp; the pull orders by (stamp, id).
The stamp follows the clock but never goes backwards, and moves by at least 1 per transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import VERSION_MOVED
from models import DataVersion


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


async def next_stamp(db: AsyncSession, now: datetime) -> int:
    """Takes this transaction's stamp; also moves the data version, so it is done only once."""
    clock = DataVersion.sync_clock
    now_ms = epoch_ms(now)
    statement = (
        update(DataVersion)
        .where(DataVersion.id == 1)
        .values(
            version=DataVersion.version + 1,
            sync_clock=case((clock + 1 > now_ms, clock + 1), else_=now_ms),
        )
        .returning(DataVersion.sync_clock)
    )
    stamp = int((await db.execute(statement)).scalar_one())
    db.sync_session.info[VERSION_MOVED] = True
    return stamp
