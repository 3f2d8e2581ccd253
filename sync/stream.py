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
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from access import audience
from access.auth import authenticate, bearer_token
from access.errors import AuthProblem, Unauthenticated
from access.scope import Scope, scope_of
from access.viewer import Viewer
from core.db import Sessionmaker
from core.security import TokenError, decode_access_token
from sync.collection import Collection
from sync.pull import Change, changes_at
from sync.stream_guard import StreamGuard

if TYPE_CHECKING:
    from schema.context import Info


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


def connection_token(params: Any) -> str | None:
    """The Authorization a phone put in connectionParams, at the top or under `headers`."""
    if not isinstance(params, dict):
        return None
    for source in (params, params.get("headers")):
        if isinstance(source, dict):
            for name, value in source.items():
                if isinstance(name, str) and name.lower() == "authorization" and value:
                    return str(value)
    return None


@dataclass(frozen=True, slots=True)
class Subscriber:
    """Who subscribed, and until when their access token lets them."""

    viewer: Viewer
    token_expires_at: datetime


async def stream_subscriber(info: Info, header_token: str | None) -> Subscriber:
    """The subscriber: from the socket's headers, its connectionParams, or the headers argument."""
    ctx = info.context
    upgrade = ctx.request.headers.get("authorization") if ctx.request is not None else None
    problem: AuthProblem | None = None
    for token in (upgrade, connection_token(ctx.connection_params), header_token):
        if not token:
            continue
        viewer, problem = await authenticate(
            token, ctx.settings.secret_key, ctx.sessionmaker, ctx.clock, ctx.viewer_cache
        )
        if viewer is not None:
            return Subscriber(viewer, _expires_at(info, token))
    raise Unauthenticated(problem or ctx.auth_problem)


def _expires_at(info: Info, authorization: str) -> datetime:
    ctx = info.context
    now = ctx.clock()
    try:
        claims = decode_access_token(
            ctx.settings.secret_key, bearer_token(authorization) or "", now
        )
    except TokenError:  # it expired since it was accepted a moment ago
        return now
    return claims.expires_at


async def stream_changes(
    info: Info, collection: Collection, header_token: str | None
) -> AsyncIterator[list[dict[str, Any]]]:
    """Lists of documents, one per committed write the subscriber may see (never empty), for as
    long as the subscriber's sign-in lasts."""
    ctx = info.context
    subscriber = await stream_subscriber(info, header_token)
    scope = scope_of(subscriber.viewer)
    guard = ctx.stream_guard or StreamGuard(ctx.sessionmaker, ctx.clock)
    session_id = subscriber.viewer.session_id
    if session_id is None:  # every access token names its session; nothing to watch otherwise
        raise Unauthenticated(AuthProblem.INVALID)
    async with guard.watch(session_id, subscriber.token_expires_at, ctx.close_socket) as watch:
        async for notice in ctx.feed.subscribe():
            if notice.collection != collection.key:
                continue
            changes = await ctx.change_cache.get(ctx.sessionmaker, collection, notice.stamp)
            documents = visible(changes, scope)
            if watch.lapsed(ctx.clock()):
                return  # the socket is being closed with the reason; over HTTP the stream ends
            if documents:
                yield documents
