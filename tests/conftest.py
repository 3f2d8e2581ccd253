"""Shared fixtures: a clean database per test on every enabled backend, builders, a client.

SQLite always runs. PostgreSQL runs when TEST_DATABASE_URL is set or REQUIRE_POSTGRES=1 (then at
postgresql+asyncpg://postgres@127.0.0.1:5432/test); with REQUIRE_POSTGRES=1 an unreachable server
fails the run instead of being skipped.

Under pytest-xdist each worker has its own databases: PostgreSQL's is TEST_DATABASE_URL's with
the worker's id appended (`test` → `test_gw0`, created on first use), and SQLite's are files in
the worker's own temporary directories.

Speed: the schema is created once per process. SQLite tests get a copy of a template file;
PostgreSQL tests get the worker's database emptied by one round trip of DELETEs (the tables of a
test hold a few rows, where TRUNCATE's cost is per table, whatever its size). Tests still get real,
separate connections and transactions, so locks and concurrency behave as in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
import pytest
import sqlalchemy
from argon2 import PasswordHasher
from hypothesis import settings as hypothesis_settings
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.factory import create_app
from core.clock import FrozenClock
from core.db import Sessionmaker, create_engine, create_sessionmaker, writing
from core.security import hash_password_sync, use_password_hasher
from core.settings import Settings
from demo.seed import SeedReport, seed_demo
from models import (
    Account,
    Base,
    Branch,
    BranchKind,
    Member,
    PartyStatus,
    PersonnelType,
    Post,
    Role,
    ServiceStatus,
)
from resolvers.branch import branch_path

# CI runs the same examples every time (a red run then means the code, not the dice); locally the
# examples vary, and HYPOTHESIS_PROFILE=thorough searches harder.
hypothesis_settings.register_profile("ci", derandomize=True, deadline=None)
hypothesis_settings.register_profile("dev", deadline=None)
hypothesis_settings.register_profile("thorough", deadline=None, max_examples=2000)
hypothesis_settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)

# Argon2 at the lowest cost it accepts: production's (core/settings.py, checked by
# tests/core/test_security.py) costs ~300 ms a hash, paid by every login in every test. The
# servers the e2e tests start get the same cost through the environment (TEST_ARGON2_ENV).
TEST_ARGON2_TIME_COST, TEST_ARGON2_MEMORY_KIB, TEST_ARGON2_PARALLELISM = 1, 8, 1
TEST_ARGON2_ENV = {
    "MEIJING_ARGON2_TIME_COST": str(TEST_ARGON2_TIME_COST),
    "MEIJING_ARGON2_MEMORY_KIB": str(TEST_ARGON2_MEMORY_KIB),
    "MEIJING_ARGON2_PARALLELISM": str(TEST_ARGON2_PARALLELISM),
}
use_password_hasher(
    PasswordHasher(
        time_cost=TEST_ARGON2_TIME_COST,
        memory_cost=TEST_ARGON2_MEMORY_KIB,
        parallelism=TEST_ARGON2_PARALLELISM,
    )
)

DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"
# pytest-xdist names its workers gw0, gw1…; None when the tests run in one process.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER")


def worker_database_url(url: str, worker: str | None) -> str:
    """`url` with the worker's id appended to the database name (`url` itself outside xdist)."""
    if not worker:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)


# The database TEST_DATABASE_URL names, which must exist; workers create theirs from it.
BASE_PG_URL = os.environ.get("TEST_DATABASE_URL") or (DEFAULT_PG_URL if REQUIRE_POSTGRES else None)
PG_URL = worker_database_url(BASE_PG_URL, XDIST_WORKER) if BASE_PG_URL else None
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
TEST_PASSWORD = "correct-horse-battery"
START = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def password_hash() -> str:
    return hash_password_sync(TEST_PASSWORD)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.hookimpl(tryfirst=True)  # before pytest reads the parametrize marks
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`@pytest.mark.sqlite_only`: the test runs on SQLite alone (see the marker's rule in
    pyproject.toml); every other test that takes `backend` runs on each enabled backend.

    Pinned by a parametrize mark, as the PostgreSQL-only tests pin theirs: a parametrize mark
    on `backend` takes precedence over the fixture's own params."""
    if "backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("sqlite_only"):
        metafunc.definition.add_marker(
            pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
        )


_postgres_rebuilt: set[str] = set()


async def wait_until_blocked(sessionmaker: Sessionmaker, task: asyncio.Task[Any]) -> None:
    """Waits (PostgreSQL, up to about 2 s) until some session waits on a lock, as `task`'s does
    when it meets a row or key another open transaction holds; returns early if `task` ends."""
    async with sessionmaker() as watcher:
        for _ in range(200):
            waiting = await watcher.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted"))
            if waiting or task.done():
                return
            await asyncio.sleep(0.01)


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _connect_creating(url: str) -> asyncpg.Connection:
    """A connection to `url`'s database; a worker's database missing yet is created first,
    from the database TEST_DATABASE_URL names."""
    try:
        return await asyncpg.connect(_asyncpg_dsn(url))
    except asyncpg.InvalidCatalogNameError:
        if BASE_PG_URL is None or url == BASE_PG_URL:
            raise
    admin = await asyncpg.connect(_asyncpg_dsn(BASE_PG_URL))
    try:
        name = make_url(url).database
        await admin.execute(f'CREATE DATABASE "{name}"')
    except asyncpg.DuplicateDatabaseError:
        pass
    finally:
        await admin.close()
    return await asyncpg.connect(_asyncpg_dsn(url))


async def ensure_database(url: str) -> None:
    """Creates `url`'s database (a worker's) if it is missing yet; its tables are not made."""
    connection = await _connect_creating(url)
    await connection.close()


# The tests' resets and restores skip the foreign-key triggers (every row they delete or insert
# is a whole consistent state): checking each deleted branch against the thirty tables that
# refer to branches cost more than the rest of a reset. The tests connect as a superuser.
WITHOUT_TRIGGERS = "SET session_replication_role = replica;"


def _empty_tables_sql() -> str:
    """Empties every table in one round trip, children before parents, and puts back the one
    row create_all inserts (data_version's). The tables have no sequences to restart."""
    deletes = [f'DELETE FROM "{t.name}";' for t in reversed(Base.metadata.sorted_tables)]
    return " ".join(
        [
            WITHOUT_TRIGGERS,
            *deletes,
            "INSERT INTO data_version (id, version, sync_clock, tombstone_floor) "
            "VALUES (1, 0, 0, 0);",
        ]
    )


_EMPTY_TABLES = _empty_tables_sql()


async def _rebuild_postgres(url: str) -> None:
    """Drops and recreates the schema from the models, so a database left by an older checkout
    never lacks a new column; refuses a schema with sequences, which the DELETEs would not
    restart (TRUNCATE ... RESTART IDENTITY did)."""
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
            await connection.run_sync(Base.metadata.create_all)
            sequences = (
                await connection.execute(
                    text("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")
                )
            ).all()
            assert not sequences, f"reset the sequences too in tests/conftest.py: {sequences}"
    finally:
        await engine.dispose()


async def _reset_postgres(url: str) -> None:
    """Empties every table; the first reset of a process rebuilds the schema (_rebuild_postgres)."""
    try:
        connection = await _connect_creating(url)
        try:
            if url not in _postgres_rebuilt:
                await _rebuild_postgres(url)
                _postgres_rebuilt.add(url)
            await connection.execute(_EMPTY_TABLES)
        finally:
            await connection.close()
    except OSError as exc:
        if REQUIRE_POSTGRES:
            raise RuntimeError(f"REQUIRE_POSTGRES=1 but PostgreSQL is unreachable: {exc}") from exc
        pytest.skip(f"PostgreSQL unreachable at {url}: {exc}")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with every table created (as create_engine would: WAL), made once per
    process and copied for each test."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    engine = sqlalchemy.create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("PRAGMA journal_mode=WAL")
            Base.metadata.create_all(connection)
    finally:
        engine.dispose()
    return path


def sqlite_copy(template: Path, path: Path) -> str:
    """A new SQLite database at `path` with every table (a copy of `template`), as a URL."""
    shutil.copyfile(template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def db_url(backend: str, tmp_path: Path, sqlite_template: Path) -> str:
    """A URL to an empty database with every table created."""
    if backend == "postgresql":
        if PG_URL is None:
            # Only tests pinned to PostgreSQL get here without TEST_DATABASE_URL (.ci/run sets it).
            if REQUIRE_POSTGRES:
                raise RuntimeError("REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")
            pytest.skip("set TEST_DATABASE_URL to run the PostgreSQL-only tests")
        await _reset_postgres(PG_URL)
        _version_at[PG_URL] = 0
        return PG_URL
    url = sqlite_copy(sqlite_template, tmp_path / "test.db")
    _version_at[url] = 0
    return url


# --- database states built once per process and restored for each test that asks ----------------

T = TypeVar("T")


@dataclass
class _Saved:
    """A state as built: its rows (SQLite: a file; PostgreSQL: each table's rows as JSON), the
    data version it left, and what building it returned."""

    value: Any
    version: int
    sqlite_file: Path | None = None
    postgres_rows: dict[str, str] | None = None


_saved: dict[tuple[str, str], _Saved] = {}
_version_at: dict[str, int] = {}
"""Per database URL: the data version of the state the test's database is known to be in (0 when
just emptied). A restore refuses a database whose version moved since: rows written after it
would be lost."""


def _sqlite_path(url: str) -> str:
    path = make_url(url).database
    assert path is not None
    return path


DATA_VERSION_SQL = "SELECT version FROM data_version WHERE id = 1"


async def _current_version(url: str) -> int:
    if url.startswith("sqlite"):
        with contextlib.closing(sqlite3.connect(_sqlite_path(url))) as connection:
            (version,) = connection.execute(DATA_VERSION_SQL).fetchone()
        return int(version)
    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        return int(await connection.fetchval(DATA_VERSION_SQL))
    finally:
        await connection.close()


def _dollar_quoted(text_value: str) -> str:
    tag = "rows"
    while f"${tag}$" in text_value:
        tag += "_"
    return f"${tag}${text_value}${tag}$"


async def prepared(
    name: str, backend: str, url: str, build: Callable[[], Awaitable[T]], tmp_dir: Path
) -> T:
    """The database state `build` makes, built once per process and backend and then restored
    into each test's database that asks for it (with `sqlite3`'s backup on SQLite, one INSERT
    per table on PostgreSQL, in one round trip). Returns what `build` returned the first time:
    the same objects for every test, to be read, not changed.

    The state replaces the whole database, so whatever asks for it must come before anything
    else writes: a restore over rows written since the last one (the data version moved) is
    refused rather than losing them."""
    expected = _version_at.get(url, 0)
    saved = _saved.get((backend, name))
    if saved is None:
        value = await build()
        version = await _current_version(url)
        if backend == "sqlite":
            copy = tmp_dir / f"{name}.db"
            with (
                contextlib.closing(sqlite3.connect(_sqlite_path(url))) as source,
                contextlib.closing(sqlite3.connect(copy)) as target,
            ):
                source.backup(target)
            saved = _Saved(value, version, sqlite_file=copy)
        else:
            connection = await asyncpg.connect(_asyncpg_dsn(url))
            try:
                by_table: dict[str, str] = {}
                for table in Base.metadata.sorted_tables:
                    found = await connection.fetchval(
                        f'SELECT json_agg(t)::text FROM "{table.name}" t'
                    )
                    if found is not None:
                        by_table[table.name] = found
            finally:
                await connection.close()
            saved = _Saved(value, version, postgres_rows=by_table)
        _saved[(backend, name)] = saved
        _version_at[url] = version
        return value
    refused = (
        f"restoring {name!r} over rows written since (the data version is not {expected}): "
        "request it before the fixtures that write"
    )
    if saved.sqlite_file is not None:
        with (
            contextlib.closing(sqlite3.connect(saved.sqlite_file)) as source,
            contextlib.closing(sqlite3.connect(_sqlite_path(url))) as target,
        ):
            (current,) = target.execute(DATA_VERSION_SQL).fetchone()
            assert current == expected, refused
            source.backup(target)
    else:
        assert saved.postgres_rows is not None
        statements = [
            WITHOUT_TRIGGERS,
            "BEGIN;",
            f"DO $$ BEGIN IF ({DATA_VERSION_SQL}) <> {expected} THEN "
            "RAISE EXCEPTION '{}'; END IF; END $$;".format(refused.replace("'", "''")),
            *(f'DELETE FROM "{t.name}";' for t in reversed(Base.metadata.sorted_tables)),
        ]
        for table in Base.metadata.sorted_tables:
            rows = saved.postgres_rows.get(table.name)
            if rows is not None:
                statements.append(
                    f'INSERT INTO "{table.name}" SELECT * FROM '
                    f'json_populate_recordset(NULL::"{table.name}", {_dollar_quoted(rows)});'
                )
        statements.append("COMMIT;")
        connection = await asyncpg.connect(_asyncpg_dsn(url))
        try:
            await connection.execute(" ".join(statements))
        except asyncpg.RaiseError as error:
            raise AssertionError(refused) from error
        finally:
            connection.terminate()
    _version_at[url] = saved.version
    return saved.value  # type: ignore[no-any-return]


_seeded_demo: dict[str, tuple[str, SeedReport]] = {}
"""Per process and backend: where the seeded demo county is kept, and what seeding it reported."""


def _maintenance_dsn(url: str) -> str:
    """The server's `postgres` database: where a database can be dropped and copied from."""
    url_object = make_url(url).set(drivername="postgresql", database="postgres")
    return url_object.render_as_string(hide_password=False)


SEED_PROGRESS: dict[str, list[tuple[str, int]]] = {}
"""Per backend: the progress `seed_demo` reported while seeding the process's demo county."""


async def _seed_into(url: str, settings: Settings, clock: FrozenClock, backend: str) -> SeedReport:
    engine = create_engine(url)
    steps = SEED_PROGRESS[backend] = []
    try:
        return await seed_demo(
            create_sessionmaker(engine),
            replace(settings, database_url=url),
            clock,
            lambda done, count: steps.append((done, count)),
        )
    finally:
        await engine.dispose()


@pytest.fixture
async def seeded_demo(
    backend: str,
    db_url: str,
    settings: Settings,
    clock: FrozenClock,
    tmp_path_factory: pytest.TempPathFactory,
) -> SeedReport:
    """This test's database holding the demo county, as `seed_demo` with this clock writes it.

    Seeding takes seconds, so each process seeds once per backend and copies the result for
    every test that asks: a file copy on SQLite, `CREATE DATABASE ... TEMPLATE` on PostgreSQL.
    Tests of seeding itself (its steps, what it skips or refuses) call `seed_demo` directly.
    """
    cached = _seeded_demo.get(backend)
    if backend == "sqlite":
        target = make_url(db_url).database
        assert target is not None
        if cached is None:
            template = tmp_path_factory.mktemp("demo-template") / "demo.db"
            shutil.copyfile(target, template)
            report = await _seed_into(f"sqlite+aiosqlite:///{template}", settings, clock, backend)
            with sqlite3.connect(template) as connection:  # everything into the main file
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cached = _seeded_demo[backend] = (str(template), report)
        shutil.copyfile(cached[0], target)
        return cached[1]
    name = make_url(db_url).database
    template_name = f"{name}_demo"
    admin = await asyncpg.connect(_maintenance_dsn(db_url))
    try:
        if cached is None:
            report = await _seed_into(db_url, settings, clock, backend)
            await admin.execute(f'DROP DATABASE IF EXISTS "{template_name}"')
            await admin.execute(f'CREATE DATABASE "{template_name}" TEMPLATE "{name}"')
            cached = _seeded_demo[backend] = (template_name, report)
        else:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"')
    finally:
        await admin.close()
    return cached[1]


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, log_json=True, log_level="WARNING")


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(db_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> Sessionmaker:
    return create_sessionmaker(engine)


@pytest.fixture
async def db(sessionmaker: Sessionmaker) -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as session:
        yield session


@dataclass
class Builders:
    """Inserts rows with sensible defaults; every keyword overrides a column."""

    sessionmaker: Sessionmaker
    clock: FrozenClock
    password_hash: str
    _pending: list[Any] | None = None

    async def _add(self, row: Any) -> Any:
        if self._pending is not None:
            self._pending.append(row)  # inserted when the batch ends
            return row
        async with writing(self.sessionmaker) as db:
            db.add(row)
        return row

    @contextlib.asynccontextmanager
    async def batch(self) -> AsyncIterator[None]:
        """Rows built inside are inserted when it ends, in one transaction and one INSERT per
        table (tables in foreign-key order, rows in the order built): a world of 14 rows costs
        three statements and one commit."""
        assert self._pending is None, "batches do not nest"
        pending: list[Any] = []
        self._pending = pending
        try:
            yield
        finally:
            self._pending = None
        async with writing(self.sessionmaker) as db:
            for table in Base.metadata.sorted_tables:
                rows = [row for row in pending if row.__table__ is table]
                if rows:
                    db.add_all(rows)
                    await db.flush()

    async def branch(
        self, parent: Branch | None = None, kind: BranchKind = BranchKind.BRANCH, **overrides: Any
    ) -> Branch:
        branch_id = overrides.pop("id", uuid.uuid4())
        values: dict[str, Any] = {
            "id": branch_id,
            "parent_id": parent.id if parent else None,
            "path": branch_path(parent.path if parent else None, branch_id),
            "depth": parent.depth + 1 if parent else 0,
            "kind": kind,
            "name": f"支部{branch_id.hex[:6]}",
            "sort_order": 0,
            "created_at": self.clock(),
            "updated_at": self.clock(),
        }
        values.update(overrides)
        return await self._add(Branch(**values))  # type: ignore[no-any-return]

    async def member(self, branch: Branch, **overrides: Any) -> Member:
        values: dict[str, Any] = {
            "id": uuid.uuid4(),
            "branch_id": branch.id,
            "name": f"党员{uuid.uuid4().hex[:4]}",
            "personnel_type": PersonnelType.POLICE,
            "party_status": PartyStatus.FULL,
            "party_status_since": date(2015, 7, 1),
            "post": Post.MEMBER,
            "joined_party_on": date(2014, 7, 1),
            "phone": "13812345678",
            "id_number": None,
            "service_status": ServiceStatus.ACTIVE,
            "created_at": self.clock(),
            "updated_at": self.clock(),
        }
        values.update(overrides)
        return await self._add(Member(**values))  # type: ignore[no-any-return]

    async def account(self, role: Role, **overrides: Any) -> Account:
        values: dict[str, Any] = {
            "id": uuid.uuid4(),
            "username": f"{role.value}.{uuid.uuid4().hex[:6]}",
            "password_hash": self.password_hash,
            "role": role,
            "disabled": False,
            "failed_logins": 0,
            "created_at": self.clock(),
        }
        values.update(overrides)
        return await self._add(Account(**values))  # type: ignore[no-any-return]


@pytest.fixture
def make(sessionmaker: Sessionmaker, clock: FrozenClock, password_hash: str) -> Builders:
    return Builders(sessionmaker, clock, password_hash)


GraphQL = Callable[..., Awaitable[dict[str, Any]]]


@dataclass
class Api:
    """Talks to the real ASGI app in-process over HTTP semantics."""

    client: httpx.AsyncClient

    async def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        token: str | None = None,
        expect_errors: bool = False,
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        body: dict[str, Any] = response.json()
        if not expect_errors:
            assert "errors" not in body, body
        return body

    async def login(
        self, username: str, password: str = TEST_PASSWORD, device: str = "test"
    ) -> str:
        body = await self(
            """mutation($u: String!, $p: String!, $d: String) {
                 login(username: $u, password: $p, deviceId: $d) {
                   __typename
                   ... on SignInSuccess { accessToken }
                   ... on AuthError { code message }
                 }
               }""",
            {"u": username, "p": password, "d": device},
        )
        result = body["data"]["login"]
        assert result["__typename"] == "SignInSuccess", result
        return str(result["accessToken"])


@pytest.fixture
async def app_settings(settings: Settings) -> Settings:
    return settings


@pytest.fixture
async def app(app_settings: Settings, clock: FrozenClock) -> AsyncIterator[Any]:
    application = create_app(app_settings, clock=clock)
    yield application
    await application.state.engine.dispose()


@pytest.fixture
async def api(app: Any) -> AsyncIterator[Api]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://meijing.test") as client:
        yield Api(client)


@dataclass
class World:
    """A small county: committee → organ committee → 玫瑰 and 榆山 stations, a task unit,
    members in each, and one account per role."""

    committee: Branch
    organ: Branch
    meigui: Branch
    yushan: Branch
    meigui_group: Branch
    task_force: Branch
    secretary_member: Member
    officer_member: Member
    meigui_member: Member
    yushan_member: Member
    admin: Account
    inspector: Account
    secretary: Account
    officer: Account


@pytest.fixture
async def world(
    make: Builders, backend: str, db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> World:
    """The small county (see World), built once per process and backend and restored for each
    test (`prepared`): the same objects every time, to be read, not changed."""

    async def build() -> World:
        async with make.batch():
            return await _world(make)

    return await prepared("world", backend, db_url, build, tmp_path_factory.getbasetemp())


async def _world(make: Builders) -> World:
    committee = await make.branch(None, BranchKind.COMMITTEE, name="县局党委", sort_order=0)
    organ = await make.branch(committee, BranchKind.ORGAN_COMMITTEE, name="机关党委")
    meigui = await make.branch(
        organ, name="玫瑰派出所党支部", unit_name="玫瑰派出所", sort_order=1, brand_name="玫警初心"
    )
    yushan = await make.branch(
        organ,
        name="榆山第二派出所党支部",
        unit_name="榆山第二派出所",
        sort_order=2,
        brand_name="红心向党 人民满意",
    )
    meigui_group = await make.branch(meigui, BranchKind.GROUP, name="玫瑰第一党小组")
    task_force = await make.branch(meigui, BranchKind.TASK_FORCE, name="民生小案攻坚小组")
    secretary_member = await make.member(
        meigui,
        name="王书记",
        post=Post.SECRETARY,
        phone="13900000001",
        id_number="370124198001010013",
    )
    officer_member = await make.member(meigui, name="李民警", phone="13900000002")
    meigui_member = await make.member(meigui, name="张党员", phone="13900000003")
    yushan_member = await make.member(yushan, name="赵党员", phone="13900000004")
    admin = await make.account(Role.ADMIN, username="admin")
    inspector = await make.account(Role.INSPECTOR, username="inspector")
    secretary = await make.account(
        Role.SECRETARY,
        username="secretary.meigui",
        member_id=secretary_member.id,
        branch_id=meigui.id,
    )
    officer = await make.account(
        Role.OFFICER, username="officer.meigui", member_id=officer_member.id
    )
    return World(
        committee,
        organ,
        meigui,
        yushan,
        meigui_group,
        task_force,
        secretary_member,
        officer_member,
        meigui_member,
        yushan_member,
        admin,
        inspector,
        secretary,
        officer,
    )


ClientFor = Callable[[Settings], Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def client_for(clock: FrozenClock) -> AsyncIterator[ClientFor]:
    """Builds an app for the given settings and an HTTP client on it; both closed afterwards."""
    built: list[tuple[Any, httpx.AsyncClient]] = []

    async def build(settings: Settings) -> httpx.AsyncClient:
        application = create_app(settings, clock=clock)
        transport = httpx.ASGITransport(app=application)
        client = httpx.AsyncClient(transport=transport, base_url="http://meijing.test")
        built.append((application, client))
        return client

    yield build
    for application, client in built:
        await client.aclose()
        await application.state.engine.dispose()
