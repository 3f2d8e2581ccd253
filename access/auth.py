"""From an `Authorization: Bearer` header to a Viewer, with a short cache of live sessions.

A request is authenticated once, by `identify`: its viewer, or why there is none (and, for a
genuine token of an ended session, which session: a revoked device's push is still kept). A
subscription is authenticated by `authenticate_subscriber` from whichever of its socket's
headers, connection params and `headers` argument carries a token.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from access.errors import AuthProblem, Unauthenticated
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

    def forget_account(self, account_id: uuid.UUID) -> None:
        """Drops every cached session of an account (disabled, role changed, password reset)."""
        for session_id, entry in list(self._entries.items()):
            if entry.viewer is not None and entry.viewer.account_id == account_id:
                del self._entries[session_id]


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None for any other shape."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


@dataclass(frozen=True, slots=True)
class EndedSession:
    """The account and session a genuine access token names, whose session has ended."""

    account_id: uuid.UUID
    session_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Identity:
    """What an Authorization header proves: a viewer, or why not (None if none was sent)."""

    viewer: Viewer | None
    problem: AuthProblem | None = None
    # Set with problem REVOKED: the device whose sign-in ended (its pushes are kept aside).
    ended_session: EndedSession | None = None
    # Set with a viewer: when the access token lapses (a stream ends then).
    token_expires_at: datetime | None = None


async def identify(
    authorization: str | None,
    secret_key: str,
    sessionmaker: Sessionmaker,
    clock: Clock,
    cache: ViewerCache,
) -> Identity:
    """The viewer behind an Authorization header, or why the sent token was refused.

    The problem is a typed value, not a message, so each caller answers it its own way: a
    GraphQL error code, a 401 body, a WebSocket close code (`Unauthenticated(problem)` words it).
    """
    if authorization is None or not authorization.strip():
        return Identity(None)
    token = bearer_token(authorization)
    if token is None:
        return Identity(None, AuthProblem.MALFORMED)
    now = clock()
    try:
        claims = decode_access_token(secret_key, token, now)
    except TokenExpired:
        return Identity(None, AuthProblem.EXPIRED)
    except TokenError:
        return Identity(None, AuthProblem.INVALID)
    entry = cache.get(claims.session_id)
    if entry is not None:
        viewer = entry.viewer
    else:
        async with sessionmaker() as db:
            viewer = await load_viewer(db, claims.session_id, claims.account_id, now)
        cache.put(claims.session_id, viewer)
    if viewer is None or viewer.account_id != claims.account_id:
        ended = EndedSession(claims.account_id, claims.session_id)
        return Identity(None, AuthProblem.REVOKED, ended)
    return Identity(viewer, token_expires_at=claims.expires_at)


async def authenticate(
    authorization: str | None,
    secret_key: str,
    sessionmaker: Sessionmaker,
    clock: Clock,
    cache: ViewerCache,
) -> tuple[Viewer | None, AuthProblem | None]:
    """`identify`, as the viewer or the problem (None too if no token was sent)."""
    identity = await identify(authorization, secret_key, sessionmaker, clock, cache)
    return identity.viewer, identity.problem


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


async def authenticate_subscriber(
    authorizations: Iterable[str | None],
    secret_key: str,
    sessionmaker: Sessionmaker,
    clock: Clock,
    cache: ViewerCache,
    problem: AuthProblem | None = None,
) -> Subscriber:
    """The subscriber behind the first of `authorizations` (the socket's headers, its
    connectionParams, the `headers` argument) that proves one; else `Unauthenticated` with the
    last refusal, or `problem` (the request's own) when none was refused."""
    refused: AuthProblem | None = None
    for authorization in authorizations:
        if not authorization:
            continue
        identity = await identify(authorization, secret_key, sessionmaker, clock, cache)
        if identity.viewer is not None and identity.token_expires_at is not None:
            return Subscriber(identity.viewer, identity.token_expires_at)
        refused = identity.problem
    raise Unauthenticated(refused or problem)
