"""The change feed: after a sync write commits, every subscriber learns its stamp.

`Feed` is the in-process fan-out (enough for SQLite, where one process serves). The stream reads
what a stamp wrote once per process (`sync.pull.changes_at`) and each subscription filters it by
its viewer's scope.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Notice:
    """A committed sync write: which collection, at which stamp."""

    collection: str
    stamp: int


@dataclass
class Feed:
    """In-process publish/subscribe of notices; a slow subscriber never blocks a writer."""

    queue_size: int = 1000
    _subscribers: set[asyncio.Queue[Notice]] = field(default_factory=set)

    async def publish(self, notice: Notice) -> None:
        """Called after commit; delivers to this process's subscribers."""
        self.deliver(notice)

    async def publish_stamp(self, collection: str, stamp: int) -> None:
        await self.publish(Notice(collection, stamp))

    def deliver(self, notice: Notice) -> None:
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(notice)
            except asyncio.QueueFull:
                # The subscriber is far behind; it will catch up from its checkpoint on reconnect.
                continue

    async def subscribe(self) -> AsyncIterator[Notice]:
        """Notices published from now on, until the caller stops iterating."""
        queue: asyncio.Queue[Notice] = asyncio.Queue(self.queue_size)
        self._subscribers.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers.discard(queue)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    async def start(self) -> None:
        """Nothing to connect to in-process."""

    async def stop(self) -> None:
        """Nothing to close in-process."""
