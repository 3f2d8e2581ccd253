"""From an Authorization header to a viewer, or the typed reason there is none."""

from __future__ import annotations

import uuid

from sqlalchemy import update

from access.auth import ViewerCache, authenticate
from access.errors import AuthProblem, Unauthenticated
from access.viewer import Viewer
from core.clock import FrozenClock
from core.db import Sessionmaker, writing
from core.settings import DEV_SECRET_KEY
from models import Account, DeviceSession, Role
from tests.conftest import World
from tests.schema.test_role_matrix import TOKEN_LIFETIME, start_session


async def session_token(sessionmaker: Sessionmaker, clock: FrozenClock, account: Account) -> str:
    """An access token of a new live session of `account`."""
    return (await start_session(sessionmaker, clock, account))[1]


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

    token = await session_token(sessionmaker, clock, world.officer)
    viewer, problem = await authenticate(
        f"Bearer {token}", DEV_SECRET_KEY, sessionmaker, clock, ViewerCache(0)
    )
    assert (viewer and viewer.username, problem) == ("officer.meigui", None)

    assert await problem_of(None) is None
    assert await problem_of("  ") is None
    assert await problem_of(f"Token {token}") is AuthProblem.MALFORMED
    assert await problem_of("Bearer not.a.jwt") is AuthProblem.INVALID
    assert await problem_of(f"Bearer {token}x") is AuthProblem.INVALID

    clock.advance(seconds=TOKEN_LIFETIME.total_seconds())
    assert await problem_of(f"Bearer {token}") is AuthProblem.EXPIRED

    fresh = await session_token(sessionmaker, clock, world.officer)
    async with writing(sessionmaker) as db:
        await db.execute(update(DeviceSession).values(revoked_at=clock()))
    assert await problem_of(f"Bearer {fresh}") is AuthProblem.REVOKED

    disabled = await session_token(sessionmaker, clock, world.inspector)
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
