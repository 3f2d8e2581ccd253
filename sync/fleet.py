"""The device side of sync bookkeeping: last pull, app version, clock skew, scope at last pull.

A pull writes at most once per device and collection every `REFRESH_SECONDS` (and whenever the
scope, app version or skew changes), so paging through 100,000 documents costs no extra writes.
The write does not move the data version: bookkeeping is not data a cached response shows.

What the process remembers is bounded: an entry is dropped after `REFRESH_SECONDS` (it could no
longer spare a write) and the least recently used go once `max_entries` are held, so sign-ins
over the months cannot grow it. Forgetting early only costs one bookkeeping write.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cachetools import TTLCache
from sqlalchemy import select, update

from core.db import Sessionmaker
from models import SyncDevice
from sync.pull import ResyncRequired
from sync.stamp import epoch_ms

REFRESH_SECONDS = 30.0
MAX_ENTRIES = 10_000
"""Device sessions x collections remembered per process; a county's busy half-minute fits."""


@dataclass(frozen=True, slots=True)
class DeviceReport:
    """What a phone tells about itself in headers (`X-Meijing-App-Version`, `X-Meijing-Client-Time`)."""

    app_version: str | None = None
    client_time_ms: int | None = None


class DeviceTracker:
    """Per process: remembers what it last wrote per device and collection to skip repeats."""

    def __init__(
        self, timer: Callable[[], float] = time.monotonic, max_entries: int = MAX_ENTRIES
    ) -> None:
        # What was last written per (device session, collection): scope key and app version.
        self._seen: TTLCache[tuple[uuid.UUID, str], tuple[str, str | None]] = TTLCache(
            max_entries, REFRESH_SECONDS, timer
        )

    def __len__(self) -> int:
        return len(self._seen)

    async def record_pull(
        self,
        sessionmaker: Sessionmaker,
        account_id: uuid.UUID,
        device_session_id: uuid.UUID | None,
        collection: str,
        scope_key: str,
        has_checkpoint: bool,
        report: DeviceReport,
        now: datetime,
    ) -> None:
        """Notes the pull; raises ResyncRequired when the scope changed since the device's last one."""
        if device_session_id is None:
            return
        key = (device_session_id, collection)
        if self._seen.get(key) == (scope_key, report.app_version):
            return
        skew = None if report.client_time_ms is None else report.client_time_ms - epoch_ms(now)
        async with sessionmaker.begin() as db:
            device = (
                await db.execute(
                    select(SyncDevice)
                    .where(SyncDevice.device_session_id == device_session_id)
                    .with_for_update()
                )
            ).scalar_one_or_none()
            if device is None:
                db.add(
                    SyncDevice(
                        device_session_id=device_session_id,
                        account_id=account_id,
                        app_version=report.app_version,
                        last_pull_at=now,
                        clock_skew_ms=skew,
                        pushed_rows=0,
                        quarantined_rows=0,
                        scopes={collection: scope_key},
                    )
                )
            else:
                previous = (device.scopes or {}).get(collection)
                if has_checkpoint and previous is not None and previous != scope_key:
                    raise ResyncRequired(
                        "您的同步范围已变化,请清空本地数据后完整同步 "
                        "(your sync scope changed; drop local data and resync)",
                        "scope",
                    )
                values: dict[str, Any] = {
                    "last_pull_at": now,
                    "scopes": {**(device.scopes or {}), collection: scope_key},
                }
                if report.app_version is not None:
                    values["app_version"] = report.app_version
                if skew is not None:
                    values["clock_skew_ms"] = skew
                await db.execute(
                    update(SyncDevice)
                    .where(SyncDevice.device_session_id == device_session_id)
                    .values(**values)
                )
        self._seen[key] = (scope_key, report.app_version)
