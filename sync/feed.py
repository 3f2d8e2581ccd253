"""The change feed: after a sync write commits, every subscriber learns its stamp.

`Feed` is the in-process fan-out (enough for SQLite, where one process serves). `PostgresFeed`
scales it out: a write is announced with `NOTIFY` once committed, and each process keeps one
connection `LISTEN`ing that hands every notice, its own included, to that process's subscribers.
The stream reads what a stamp wrote once per process (`sync.stream.ChangeCache`) and each
subscription filters it by its viewer's scope.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from sqlalchemy import func, literal, select, union
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from core.observability import log
from models import DataVersion, SyncScopeExit
from sync.collection import ALL_COLLECTIONS

CHANNEL = "meijing_sync"
"""The PostgreSQL channel every Meijing process listens on; payload "collection:stamp"."""


@dataclass(frozen=True, slots=True)
class Notice:
    """A committed sync write: which collection, at which stamp."""

    collection: str
    stamp: int

    def payload(self) -> str:
        return f"{self.collection}:{self.stamp}"

    @classmethod
    def parse(cls, payload: str) -> Notice | None:
        """The notice a NOTIFY payload carries; None for anything else on the channel."""
        collection, _, stamp = payload.rpartition(":")
        if collection not in ALL_COLLECTIONS or not stamp.isdigit():
            return None
        return cls(collection, int(stamp))


@dataclass
class Feed:
    """In-process publish/subscribe of notices; a slow subscriber never blocks a writer."""

    queue_size: int = 1000
    _subscribers: set[asyncio.Queue[Notice]] = field(default_factory=set)

    async def publish(self, notice: Notice) -> None:
        """Called after commit; delivers to this process's subscribers."""
        self.deliver(notice)

    async def publish_stamp(self, collection: str, stamp: int) -> None:
        """`publish` of the notice for one committed stamp."""
        await self.publish(Notice(collection, stamp))

    def deliver(self, notice: Notice) -> None:
        """Hands a notice to every subscriber of this process."""
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


class PostgresFeed(Feed):
    """Fan-out across every process on one PostgreSQL, through `LISTEN/NOTIFY`.

    Each process delivers a notice exactly once: only from its listening connection, also for
    its own writes (`publish` does not deliver locally while listening). When that connection
    drops it is reopened with backoff, and the stamps committed meanwhile are read from the
    tables and delivered, so no subscriber misses a write for the outage.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        channel: str = CHANNEL,
        queue_size: int = 1000,
        probe_seconds: float = 10.0,
        max_backoff_seconds: float = 5.0,
    ) -> None:
        super().__init__(queue_size)
        self.engine = engine
        self.channel = channel
        self.probe_seconds = probe_seconds
        self.max_backoff_seconds = max_backoff_seconds
        # asyncpg speaks libpq URLs: the same database without SQLAlchemy's driver suffix.
        self._dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()
        self._lost = asyncio.Event()
        # The highest stamp seen, from which a reconnect catches up; and the recent notices, so
        # one announced both by NOTIFY and by the catch-up reaches subscribers once.
        self._high_water = 0
        self._recent: OrderedDict[Notice, None] = OrderedDict()

    @property
    def listening(self) -> bool:
        return self._listening.is_set()

    async def publish(self, notice: Notice) -> None:
        """Nothing to send: the writing transaction itself notified (see `announce`).

        Without a listener (no lifespan, as in some tests) the notice is delivered locally.
        """
        if self._task is None:
            self.deliver(notice)

    def deliver(self, notice: Notice) -> None:
        if notice in self._recent:
            return
        self._recent[notice] = None
        while len(self._recent) > 1024:
            self._recent.popitem(last=False)
        self._high_water = max(self._high_water, notice.stamp)
        super().deliver(notice)

    async def start(self) -> None:
        """Starts listening; returns once the first connection listens (or failed to)."""
        if self._task is not None:
            return
        self._task = asyncio.create_task(self._listen_forever(), name="meijing-sync-listen")
        # A server that cannot listen yet still serves: the task keeps trying in the background.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5.0):
                await self._listening.wait()

    async def stop(self) -> None:
        """Stops listening and closes the connection."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _listen_forever(self) -> None:
        backoff = 0.1
        first = True
        while True:
            try:
                await self._listen_once(catch_up=not first)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "sync_listen_lost", channel=self.channel, error=repr(exc), retry_in=backoff
                )
            else:
                log.warning("sync_listen_lost", channel=self.channel, retry_in=backoff)
            if self._listening.is_set():
                first = False
                backoff = 0.1  # it had worked: retry soon, then slower
            self._listening.clear()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.max_backoff_seconds)

    async def _listen_once(self, catch_up: bool) -> None:
        """One listening connection's life: returns or raises when it is lost."""
        connection: Any = await asyncpg.connect(self._dsn)
        self._lost.clear()
        try:
            connection.add_termination_listener(lambda _c: self._lost.set())
            await connection.add_listener(self.channel, self._on_notify)
            if catch_up:
                for notice in await self._missed():
                    self.deliver(notice)
            elif self._high_water == 0:
                self._high_water = await self._current_stamp()
            self._listening.set()
            log.info("sync_listening", channel=self.channel)
            while not self._lost.is_set():
                # A silent network failure only shows when the connection is used.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.probe_seconds):
                        await self._lost.wait()
                if not self._lost.is_set():
                    async with asyncio.timeout(self.probe_seconds):
                        await connection.execute("SELECT 1")
        finally:
            with contextlib.suppress(Exception):
                await asyncio.shield(connection.close(timeout=2.0))

    def _on_notify(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        notice = Notice.parse(payload)
        if notice is None:
            log.warning("sync_notice_ignored", payload=payload[:100])
            return
        self.deliver(notice)

    async def _current_stamp(self) -> int:
        async with self.engine.connect() as connection:
            found = await connection.scalar(
                select(DataVersion.sync_clock).where(DataVersion.id == 1)
            )
        return int(found or 0)

    async def _missed(self) -> list[Notice]:
        """The writes committed after the high-water mark, in stamp order."""
        after = self._high_water
        parts = [
            select(literal(key).label("collection"), spec.model.updated_at.label("stamp")).where(
                spec.model.updated_at > after
            )
            for key, spec in ALL_COLLECTIONS.items()
        ]
        parts.append(
            select(SyncScopeExit.collection, SyncScopeExit.updated_at).where(
                SyncScopeExit.updated_at > after
            )
        )
        query = union(*parts).order_by("stamp")
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        if rows:
            log.info("sync_listen_caught_up", after=after, notices=len(rows))
        return [Notice(str(collection), int(stamp)) for collection, stamp in rows]


def create_feed(engine: AsyncEngine) -> Feed:
    """The feed for this database: LISTEN/NOTIFY on PostgreSQL, in-process otherwise."""
    if engine.url.get_backend_name() == "postgresql":
        return PostgresFeed(engine)
    return Feed()


async def announce(db: AsyncSession, collection: str, stamp: int) -> None:
    """Queues the NOTIFY for a sync write inside its own transaction (PostgreSQL only).

    PostgreSQL sends a transaction's notifications only if it commits, and in commit order,
    which for sync writes is stamp order (sync/stamp.py). So a process that dies after committing
    cannot swallow the notice, and phones never get a later write's checkpoint ahead of an
    earlier one. On SQLite the in-process `Feed.publish` after commit does the job.
    """
    if db.get_bind().dialect.name == "postgresql":
        await db.execute(select(func.pg_notify(CHANNEL, Notice(collection, stamp).payload())))
