"""Tombstones: deleted documents stay as `deleted=true` rows until every device has seen them.

They are kept for `tombstone_days`; purging older ones moves the data_version row's
`tombstone_floor` up to the newest purged stamp, and a device pulling from a checkpoint older than
that floor is told to resync (`sync.pull.ResyncRequired`), since it may have missed a deletion.
Its unsent writes are still accepted by push.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update

from core.db import Sessionmaker, writing
from models import DataVersion, SyncScopeExit
from sync.collection import ALL_COLLECTIONS
from sync.stamp import epoch_ms


@dataclass(frozen=True, slots=True)
class PurgeResult:
    purged: dict[str, int]
    floor: int


async def purge_tombstones(sessionmaker: Sessionmaker, now: datetime, days: int) -> PurgeResult:
    """Deletes tombstones and scope exits stamped more than `days` ago; raises the floor."""
    horizon = epoch_ms(now - timedelta(days=days))
    purged: dict[str, int] = {}
    async with writing(sessionmaker) as db:
        floor = 0
        for key, collection in ALL_COLLECTIONS.items():
            model = collection.model
            old = (model.deleted.is_(True), model.updated_at < horizon)
            newest = (await db.execute(select(func.max(model.updated_at)).where(*old))).scalar()
            result = await db.execute(delete(model).where(*old))
            purged[key] = int(getattr(result, "rowcount", 0) or 0)
            floor = max(floor, int(newest or 0) + 1 if newest is not None else 0)
        exits = SyncScopeExit.updated_at < horizon
        newest_exit = (
            await db.execute(select(func.max(SyncScopeExit.updated_at)).where(exits))
        ).scalar()
        await db.execute(delete(SyncScopeExit).where(exits))
        if newest_exit is not None:
            floor = max(floor, int(newest_exit) + 1)
        current = (await db.execute(select(DataVersion.tombstone_floor))).scalar_one()
        floor = max(floor, int(current))
        if floor != current:
            await db.execute(
                update(DataVersion).where(DataVersion.id == 1).values(tombstone_floor=floor)
            )
    return PurgeResult(purged, floor)
