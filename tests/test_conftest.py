"""The test set-up itself: a required PostgreSQL that is missing fails the run."""

from __future__ import annotations

import pytest

from models import Base
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


def test_each_xdist_worker_gets_its_own_postgres_database() -> None:
    url = "postgresql+asyncpg://postgres:pw@127.0.0.1:5432/test"
    assert conftest.worker_database_url(url, None) == url
    assert (
        conftest.worker_database_url(url, "gw1")
        == "postgresql+asyncpg://postgres:pw@127.0.0.1:5432/test_gw1"
    )


def test_postgres_is_emptied_children_first_and_keeps_the_data_version_row() -> None:
    statements = conftest._EMPTY_TABLES.split(";")
    deleted = [s.strip().removeprefix('DELETE FROM "').removesuffix('"') for s in statements]
    tables = [t.name for t in Base.metadata.sorted_tables]
    assert deleted[: len(tables)] == tables[::-1]
    assert "INSERT INTO data_version" in statements[len(tables)]


@pytest.mark.sqlite_only
def test_a_sqlite_only_test_runs_on_sqlite_alone(backend: str) -> None:
    assert backend == "sqlite"
