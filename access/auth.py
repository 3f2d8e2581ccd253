"""From an `Authorization: Bearer` header to a Viewer, with a short cache of live sessions."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from access.errors import AuthProblem
from access.viewer import Viewer, load_viewer
from core.clock import Clock
from core.db import Sessionmaker
from core.security import TokenError, TokenExpired, decode_access_token


@dataclass(slots=True)
class _Entry:
    viewer: Viewer | None
    fresh_until: float


class ViewerCache:
    """Remembers each session's viewer for a few seconds, so a request costs no extra query.

    A revocation made through this process takes effect at once (`forget`); one made through
    another process (or straight in the database) within `ttl` seconds. Access tokens are
    short-lived in any case. `timer` is a monotonic seconds counter, replaceable in tests.
    """

    def __init__(
        self,
        ttl: float,
        max_entries: int = 10_000,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.timer = timer
        self._entries: dict[uuid.UUID, _Entry] = {}

    def get(self, session_id: uuid.UUID) -> _Entry | None:
        entry = self._entries.get(session_id)
        if entry is None or entry.fresh_until <= self.timer():
            return None
        return entry

    def put(self, session_id: uuid.UUID, viewer: Viewer | None) -> None:
        if self.ttl <= 0:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[session_id] = _Entry(viewer, self.timer() + self.ttl)

    def forget(self, session_id: uuid.UUID) -> None:
        self._entries.pop(session_id, None)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None for any other shape."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def authenticate(
    authorization: str | None,
    secret_key: str,
    sessionmaker: Sessionmaker,
    clock: Clock,
    cache: ViewerCache,
) -> tuple[Viewer | None, AuthProblem | None]:
    """The viewer, or None with why the sent token was refused (None too if none was sent).

    The problem is a typed value, not a message, so each caller answers it its own way: a
    GraphQL error code, a 401 body, a WebSocket close code (`Unauthenticated(problem)` words it).
    """
    if authorization is None or not authorization.strip():
        return None, None
    token = bearer_token(authorization)
    if token is None:
        return None, AuthProblem.MALFORMED
    now = clock()
    try:
        claims = decode_access_token(secret_key, token, now)
    except TokenExpired:
        return None, AuthProblem.EXPIRED
    except TokenError:
        return None, AuthProblem.INVALID
    entry = cache.get(claims.session_id)
    if entry is not None:
        viewer = entry.viewer
    else:
        async with sessionmaker() as db:
            viewer = await load_viewer(db, claims.session_id, claims.account_id, now)
        cache.put(claims.session_id, viewer)
    if viewer is None or viewer.account_id != claims.account_id:
        return None, AuthProblem.REVOKED
    return viewer, None
