"""Ends a live stream when the sign-in it was opened with ends.

A subscription is authenticated once, when it starts; left alone it would go on receiving
documents after its access token expired, its session was revoked or its account disabled.
Each process keeps one `StreamGuard` that watches every open stream:

- the access token's expiry is compared with the injectable clock every `check_seconds`, and
  the stream ends with 4401 (the phone renews its token and reconnects);
- the sessions behind the streams are re-read from the database in one query every
  `recheck_seconds`, and a stream whose session was revoked (by any process, or straight in
  the database) or whose account was disabled ends with 4403 (the phone signs in again).

The codes are graphql-transport-ws close codes: 4401 Unauthorized, 4403 Forbidden. graphql-ws
(RxDB's client) does not retry 4401 and passes it on to the app; it retries 4403, and the
retried subscription is refused with UNAUTHENTICATED, which reaches the app the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import select

from core.clock import Clock
from core.db import Sessionmaker
from core.observability import log
from models import Account, DeviceSession

CHECK_SECONDS = 1.0
"""How often token expiry is compared with the clock (no query involved)."""

_IDS_PER_QUERY = 1000


@dataclass(frozen=True, slots=True)
class StreamEnd:
    """Why a stream ended: a graphql-transport-ws close code and a reason the phone can show.

    A close reason is at most 123 bytes of UTF-8, which these fit.
    """

    code: int
    reason: str


TOKEN_EXPIRED = StreamEnd(
    4401, "令牌已过期,请换取新令牌后重新连接 (access token expired; refresh it and reconnect)"
)
SIGNED_OUT = StreamEnd(
    4403, "已退出登录或账号已停用,请重新登录 (signed out or account disabled; sign in again)"
)

Close = Callable[[StreamEnd], Coroutine[Any, Any, None]]


@dataclass(eq=False, slots=True)
class Watch:
    """One open stream: the sign-in it depends on, and how it is ended."""

    session_id: uuid.UUID
    expires_at: datetime
    close: Close | None
    end: StreamEnd | None = None
    _closing: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def ended(self) -> bool:
        return self.end is not None

    def lapsed(self, now: datetime) -> bool:
        """True once the stream must send nothing more; ends it if its token expired by `now`.

        Asked before each delivery, so a write made after the expiry never reaches the phone,
        even before the guard's next round closes the socket.
        """
        if self.end is None and self.expires_at <= now:
            self.finish(TOKEN_EXPIRED)
        return self.end is not None

    def finish(self, end: StreamEnd) -> None:
        if self.end is not None:
            return
        self.end = end
        if self.close is not None:
            self._closing = asyncio.create_task(self.close(end))


class StreamGuard:
    """Per process: ends the streams whose token expired or whose session ended."""

    def __init__(
        self,
        sessionmaker: Sessionmaker,
        clock: Clock,
        recheck_seconds: float = 5.0,
        check_seconds: float = CHECK_SECONDS,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.recheck_seconds = max(recheck_seconds, check_seconds)
        self.check_seconds = check_seconds
        self.timer = timer
        self._watches: set[Watch] = set()
        self._task: asyncio.Task[None] | None = None

    @property
    def watch_count(self) -> int:
        return len(self._watches)

    @contextlib.asynccontextmanager
    async def watch(
        self, session_id: uuid.UUID, expires_at: datetime, close: Close | None = None
    ) -> AsyncIterator[Watch]:
        """Watches a stream for as long as the block runs; `close` ends it when its sign-in ends.

        The stream should also stop yielding once `Watch.ended` is true: closing takes a moment.
        """
        watch = Watch(session_id, expires_at, close)
        self._watches.add(watch)
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="meijing-stream-guard")
        try:
            yield watch
        finally:
            self._watches.discard(watch)
            if not self._watches and self._task is not None:
                # Nothing left to watch: no task outlives the last stream (or the server).
                self._task.cancel()
                self._task = None

    async def check(self, recheck: bool = True) -> None:
        """One round: expired tokens end now; with `recheck`, so do ended sessions."""
        now = self.clock()
        for watch in list(self._watches):
            watch.lapsed(now)
        if not recheck:
            return
        watched = {w.session_id for w in self._watches if not w.ended}
        if not watched:
            return
        live = await self._live_sessions(watched, now)
        for watch in list(self._watches):
            if watch.session_id not in live:
                watch.finish(SIGNED_OUT)

    async def _run(self) -> None:
        last_recheck = self.timer()
        while True:
            await asyncio.sleep(self.check_seconds)
            recheck = self.timer() - last_recheck >= self.recheck_seconds
            try:
                await self.check(recheck)
            except Exception as exc:  # a database hiccup must not stop the guard
                log.warning("stream_guard_check_failed", error=f"{type(exc).__name__}: {exc}")
                continue
            if recheck:
                last_recheck = self.timer()

    async def _live_sessions(self, ids: set[uuid.UUID], now: datetime) -> set[uuid.UUID]:
        """Those of `ids` whose session is neither revoked nor expired, on an enabled account."""
        live: set[uuid.UUID] = set()
        async with self.sessionmaker() as db:
            for chunk in _chunks(ids, _IDS_PER_QUERY):
                query = (
                    select(DeviceSession.id)
                    .join(Account, Account.id == DeviceSession.account_id)
                    .where(
                        DeviceSession.id.in_(chunk),
                        DeviceSession.revoked_at.is_(None),
                        DeviceSession.expires_at > now,
                        Account.disabled.is_(False),
                    )
                )
                live.update(await db.scalars(query))
        return live


def _chunks(ids: set[uuid.UUID], size: int) -> Iterator[list[uuid.UUID]]:
    remaining = iter(ids)
    while chunk := list(islice(remaining, size)):
        yield chunk
