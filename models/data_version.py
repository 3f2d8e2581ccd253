"""A single counter that every write readers must see moves forward (`writing`, core/db.py).

Readers compare it with the version a cached response was computed at; see core/response_cache.py.
"""

from __future__ import annotations

from sqlalchemy import DDL, BigInteger, event
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class DataVersion(Base):
    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)
    # The sync stamp: epoch milliseconds, moved forward under this row's lock by every sync
    # write, so stamps increase in commit order (see sync/stamp.py).
    sync_clock: Mapped[int] = mapped_column(BigInteger, default=0)
    # Tombstones stamped before this were purged: a device whose checkpoint is older resyncs.
    tombstone_floor: Mapped[int] = mapped_column(BigInteger, default=0)


# Tables made from the metadata (tests, tools) get the one row the migration inserts.
event.listen(
    DataVersion.__table__,
    "after_create",
    DDL("INSERT INTO data_version (id, version, sync_clock, tombstone_floor) VALUES (1, 0, 0, 0)"),  # type: ignore[no-untyped-call]
)
