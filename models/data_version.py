"""A single counter that every committed write moves forward.

Readers compare it with the version a cached response was computed at; see app/response_cache.py.
"""

from __future__ import annotations

from sqlalchemy import DDL, BigInteger, event
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class DataVersion(Base):
    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)


# Tables made from the metadata (tests, tools) get the one row the migration inserts.
event.listen(
    DataVersion.__table__,
    "after_create",
    DDL("INSERT INTO data_version (id, version) VALUES (1, 0)"),  # type: ignore[no-untyped-call]
)
