"""End to end: guessing a password in parallel against the real server runs into the lock."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from core.settings import Settings
from models import Role
from tests.conftest import TEST_PASSWORD, Builders
from tests.e2e.test_server import (
    Server,
    graphql,
    production_env,
    serving,
)

pytestmark = pytest.mark.e2e

LOGIN = """mutation($u: String!, $p: String!) {
  login(username: $u, password: $p) {
    __typename ... on AuthError { code } ... on SignInSuccess { accessToken }
  }
}"""


@pytest.fixture
async def lockable_server(db_url: str, make: Builders, tmp_path: Path) -> AsyncIterator[Server]:
    await make.account(Role.INSPECTOR, username="inspector")
    env = production_env(db_url, MEIJING_LOG_LEVEL="WARNING")
    with serving(env, tmp_path / "server.log") as started:
        yield started


async def test_forty_parallel_guesses_check_at_most_max_failures_passwords(
    lockable_server: Server,
) -> None:
    max_failures = Settings().login_max_failures
    limits = httpx.Limits(max_connections=40)
    async with httpx.AsyncClient(
        base_url=lockable_server.url, timeout=60.0, limits=limits
    ) as client:
        guesses = await asyncio.gather(
            *(graphql(client, LOGIN, u="inspector", p=f"guess-{n}") for n in range(40))
        )
        right = await graphql(client, LOGIN, u="inspector", p=TEST_PASSWORD)

    # Each INVALID_CREDENTIALS is one password argon2 checked; the others never got that far.
    answers = Counter(g["login"]["code"] for g in guesses)
    assert answers == {"INVALID_CREDENTIALS": max_failures, "ACCOUNT_LOCKED": 40 - max_failures}
    assert right["login"] == {"__typename": "AuthError", "code": "ACCOUNT_LOCKED"}
