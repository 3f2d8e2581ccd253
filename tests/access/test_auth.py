"""From an Authorization header to a viewer, or the typed reason there is none."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import update

from access.auth import ViewerCache, authenticate
from access.errors import AuthProblem, Unauthenticated
from access.viewer import Viewer
from core.clock import FrozenClock
from core.db import Sessionmaker, writing
from core.security import issue_access_token
from core.settings import DEV_SECRET_KEY
from models import Account, DeviceSession, Role
from tests.conftest import World

LIFETIME = timedelta(minutes=15)


async def live_session(sessionmaker: Sessionmaker, clock: FrozenClock, account: Account) -> str:
    """An access token of a new live session of `account`."""
    now = clock()
    session = DeviceSession(
        id=uuid.uuid4(),
        account_id=account.id,
        device_id="phone",
        device_name=None,
        refresh_hash="0" * 64,
        previous_refresh_hash=None,
        rotated_at=now,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(days=30),
        revoked_at=None,
    )
    async with writing(sessionmaker) as db:
        db.add(session)
    token, _ = issue_access_token(
        DEV_SECRET_KEY, account.id, session.id, account.role.value, now, LIFETIME
    )
    return token


async def test_authenticate_names_why_a_token_was_refused(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    async def problem_of(header: str | None) -> AuthProblem | None:
        # No cache: each call reads the session as it is now.
        viewer, problem = await authenticate(
            header, DEV_SECRET_KEY, sessionmaker, clock, ViewerCache(0)
        )
        assert viewer is None
        return problem

    token = await live_session(sessionmaker, clock, world.officer)
    viewer, problem = await authenticate(
        f"Bearer {token}", DEV_SECRET_KEY, sessionmaker, clock, ViewerCache(0)
    )
    assert (viewer and viewer.username, problem) == ("officer.meigui", None)

    assert await problem_of(None) is None
    assert await problem_of("  ") is None
    assert await problem_of(f"Token {token}") is AuthProblem.MALFORMED
    assert await problem_of("Bearer not.a.jwt") is AuthProblem.INVALID
    assert await problem_of(f"Bearer {token}x") is AuthProblem.INVALID

    clock.advance(seconds=LIFETIME.total_seconds())
    assert await problem_of(f"Bearer {token}") is AuthProblem.EXPIRED

    fresh = await live_session(sessionmaker, clock, world.officer)
    async with writing(sessionmaker) as db:
        await db.execute(update(DeviceSession).values(revoked_at=clock()))
    assert await problem_of(f"Bearer {fresh}") is AuthProblem.REVOKED

    disabled = await live_session(sessionmaker, clock, world.inspector)
    async with writing(sessionmaker) as db:
        await db.execute(
            update(Account).where(Account.id == world.inspector.id).values(disabled=True)
        )
    assert await problem_of(f"Bearer {disabled}") is AuthProblem.REVOKED


def test_unauthenticated_carries_its_problem_and_a_bilingual_message() -> None:
    missing, expired = Unauthenticated(), Unauthenticated(AuthProblem.EXPIRED)

    assert (missing.problem, str(missing)) == (None, "请先登录 (authentication required)")
    assert expired.problem is AuthProblem.EXPIRED
    assert "refresh" in str(expired) and "过期" in str(expired)


def test_the_viewer_cache_forgets_every_session_of_one_account() -> None:
    cache = ViewerCache(ttl=60, timer=lambda: 0.0)
    account, other = uuid.uuid4(), uuid.uuid4()
    sessions = [uuid.uuid4() for _ in range(3)]
    for session_id, owner in zip(sessions, [account, account, other], strict=True):
        cache.put(session_id, Viewer(owner, "x", Role.OFFICER, session_id, None, None, None))
    refused = uuid.uuid4()
    cache.put(refused, None)
    cache.forget_account(account)
    assert [cache.get(s) is None for s in sessions] == [True, True, False]
    assert cache.get(refused) is not None, "a refused token's entry names no account"
