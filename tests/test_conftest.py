"""The test set-up itself: a required PostgreSQL that is missing fails the run."""

from __future__ import annotations

import pytest

from tests import conftest

UNREACHABLE = "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere"


async def test_missing_postgres_fails_the_run_when_required(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(conftest, "REQUIRE_POSTGRES", True)
    with pytest.raises(RuntimeError, match="REQUIRE_POSTGRES=1"):
        await conftest._reset_postgres(UNREACHABLE)


async def test_missing_postgres_is_skipped_when_only_requested(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(conftest, "REQUIRE_POSTGRES", False)
    with pytest.raises(pytest.skip.Exception):
        await conftest._reset_postgres(UNREACHABLE)
