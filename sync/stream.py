"""The stream: each committed sync write, filtered to what one subscriber's viewer may see.

What a stamp wrote is read once per process, however many phones are subscribed, and each
subscription keeps only the documents in its viewer's audience (access/audience.py: the scope,
narrowed for an officer to the reminders and directives addressed to them or their branch).
A removal (a document that left a branch) reaches those who saw the old branch and cannot see
the new one. A stream lasts only as long as its sign-in: sync/stream_guard.py ends it when the
access token expires or the session ends.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any

from access import audience
from access.auth import Subscriber
from access.errors import AuthProblem, Unauthenticated
from access.scope import Scope, scope_of
from core.clock import Clock
from core.db import Sessionmaker
from sync.collection import Collection
from sync.feed import Feed
from sync.pull import Change, changes_at
from sync.stream_guard import Close, StreamGuard


class ChangeCache:
    """What each recent stamp wrote, fetched once per process (concurrent readers share it)."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[str, int], asyncio.Task[list[Change]]] = OrderedDict()

    async def get(
        self, sessionmaker: Sessionmaker, collection: Collection, stamp: int
    ) -> list[Change]:
        """The changes of one stamp; the first caller's query serves every other caller."""
        key = (collection.key, stamp)
        task = self._entries.get(key)
        if task is None:
            # A task of its own, not the first caller's: a phone that disconnects mid-query
            # (cancelling its stream) must not cancel the read the other subscribers await.
            task = asyncio.create_task(self._fetch(sessionmaker, collection, stamp))
            self._entries[key] = task
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        try:
            return await asyncio.shield(task)
        except Exception:
            # A failed read is not cached: the next notice of this stamp tries again.
            if self._entries.get(key) is task:
                del self._entries[key]
            raise

    @staticmethod
    async def _fetch(
        sessionmaker: Sessionmaker, collection: Collection, stamp: int
    ) -> list[Change]:
        async with sessionmaker() as db:
            return await changes_at(db, collection, stamp)


def visible(changes: list[Change], scope: Scope) -> list[dict[str, Any]]:
    """The documents of one write this scope may see, removals included, in (updatedAt, id) order.

    What it may see is its audience (access/audience.py), as in a pull.
    """
    shown: dict[str, dict[str, Any]] = {}
    for change in changes:
        if not change.removal and _reaches(scope, change):
            shown[change.document["id"]] = change.document
    for change in changes:
        doc_id = change.document["id"]
        if change.removal and doc_id not in shown and _reaches(scope, change):
            shown[doc_id] = change.document
    return sorted(shown.values(), key=lambda d: (d["updatedAt"], d["id"]))


def _reaches(scope: Scope, change: Change) -> bool:
    return scope.covers(change.branch_id, change.path) and audience.reaches(
        scope, change.addressees
    )


async def stream_changes(
    collection: Collection,
    subscriber: Subscriber,
    *,
    feed: Feed,
    cache: ChangeCache,
    sessionmaker: Sessionmaker,
    clock: Clock,
    guard: StreamGuard,
    close: Close | None = None,
) -> AsyncIterator[list[dict[str, Any]]]:
    """Lists of documents, one per committed write the subscriber may see (never empty), for as
    long as the subscriber's sign-in lasts (`guard` ends it; over a WebSocket through `close`)."""
    scope = scope_of(subscriber.viewer)
    session_id = subscriber.viewer.session_id
    if session_id is None:  # every access token names its session; nothing to watch otherwise
        raise Unauthenticated(AuthProblem.INVALID)
    async with guard.watch(session_id, subscriber.token_expires_at, close) as watch:
        async for notice in feed.subscribe():
            if notice.collection != collection.key:
                continue
            changes = await cache.get(sessionmaker, collection, notice.stamp)
            documents = visible(changes, scope)
            if watch.lapsed(clock()):
                return  # the socket is being closed with the reason; over HTTP the stream ends
            if documents:
                yield documents
