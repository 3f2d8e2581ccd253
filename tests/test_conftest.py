"""The test set-up itself: a required PostgreSQL that is missing fails the run."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from core.db import Sessionmaker
from models import Base, BranchKind
from tests import conftest
from tests.conftest import Builders, World, prepared
from tests.schema.test_role_matrix import snapshot

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
    setting, *statements = conftest._EMPTY_TABLES.split(";")
    assert setting + ";" == conftest.WITHOUT_TRIGGERS
    deleted = [s.strip().removeprefix('DELETE FROM "').removesuffix('"') for s in statements]
    tables = [t.name for t in Base.metadata.sorted_tables]
    assert deleted[: len(tables)] == tables[::-1]
    assert "INSERT INTO data_version" in statements[len(tables)]


@pytest.mark.sqlite_only
def test_a_sqlite_only_test_runs_on_sqlite_alone(backend: str) -> None:
    assert backend == "sqlite"


# --- states built once and restored (`prepared`) ----------------------------------------------


async def test_a_restored_state_is_the_state_as_built(
    backend: str,
    db_url: str,
    make: Builders,
    sessionmaker: Sessionmaker,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    base = tmp_path_factory.getbasetemp()
    name = f"test-state-{uuid.uuid4().hex}"  # built here, restored here, by no other test

    async def build() -> str:
        async with make.batch():
            branch = await make.branch(None, BranchKind.COMMITTEE, name="县局党委")
            await make.member(branch, name="王书记")
        return "built"

    assert await prepared(name, backend, db_url, build, base) == "built"
    built = await snapshot(sessionmaker)
    await make.branch(None, BranchKind.COMMITTEE, name="后来的")

    async def never() -> str:
        raise AssertionError("built twice")

    # Over the row written since, the restore is refused; once the database is known to be in
    # a state again (as after a reset), the rows come back exactly as built, the later one gone.
    with pytest.raises(AssertionError, match="over rows written since"):
        await prepared(name, backend, db_url, never, base)
    conftest._version_at[db_url] = await conftest._current_version(db_url)
    assert await prepared(name, backend, db_url, never, base) == "built"
    assert await snapshot(sessionmaker) == built


async def test_a_state_is_not_restored_over_rows_written_since(
    world: World, make: Builders, backend: str, db_url: str, tmp_path: Path
) -> None:
    """A fixture that wrote after the world and then asks for a state would lose its rows:
    refused, with the reason."""
    await make.member(world.meigui, name="新党员")
    with pytest.raises(AssertionError, match="over rows written since"):
        await prepared("world", backend, db_url, _unused_build, tmp_path)


async def _unused_build() -> World:
    raise AssertionError("the world is built already")
