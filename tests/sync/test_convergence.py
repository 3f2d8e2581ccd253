"""Stateful property: phones writing offline and syncing in any order, with lost replies, converge.

3–5 replicas (officers and a secretary of one branch, so all see everything) create, edit and
delete visits and patrols offline, and push (sometimes losing the reply, sometimes every retry's
reply) and pull in random orders. Some replicas share one sign-in (two browser tabs with their
own databases, or an app reinstalled that kept its token), so the server cannot tell them apart
by their device session. After a final sync of every replica, repeated until nothing moves:

* every device holds exactly the server's documents (compared with an admin's full pull);
* every write a device sent (a field value, an element it added to a list field, or a line it
  added to a free-text field) either was the server's state of that field at some point — the
  test pulls as an admin after every push, and one push is one transaction, so it sees every
  committed state — or is in the conflict log as the client's value. A write replaced locally
  before it was pushed was superseded by its own device and is not checked. Free text merges
  line by line, so there a line counts: a note two devices appended is in some server state
  (the merge of both), never only in the log;
* no write the server took is silently reverted: whenever a field of a stored document changes,
  some row of that push changed the field from what its sender assumed (or assumed nothing), or
  the push logged a conflict on that field; and a list element (a participant, a track point)
  leaves the list only if such a row removed it, or a conflict on that field was logged.

Why a private event loop per example: hypothesis drives a state machine synchronously, and the
conftest fixtures are per-test async. Each example therefore builds its own database, app,
engine and clients on a fresh loop it owns, runs every rule with `run_until_complete`, and
disposes of all of it in teardown. Nothing crosses loops (asyncpg connections are loop-bound),
and every example starts from an empty database, so failures shrink reliably.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import uuid
from collections import defaultdict
from collections.abc import Coroutine
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from app.factory import create_app
from core.clock import FrozenClock
from core.db import create_engine, create_sessionmaker
from core.security import hash_password_sync
from core.settings import Settings
from models import Base, BranchKind, Post, Role, SyncConflict
from schema.node import to_global_id
from sync.client import (
    LocalStore,
    LossyTransport,
    RetryPolicy,
    SyncClient,
    SyncError,
    pull_query,
)
from sync.collection import PATROL, VISIT, Collection
from sync.merge import SetPolicy, TrackPolicy, text_lines
from tests.conftest import PG_URL, START, TEST_PASSWORD, Api, Builders, _reset_postgres

T = TypeVar("T")

# (username, device id): replicas with the same device id share one sign-in (one access token).
DEVICES = [
    ("officer.meigui", "officer-a"),
    ("secretary.meigui", "secretary-a"),
    ("officer.meigui", "officer-a"),
    ("secretary.meigui", "secretary-a"),
    ("officer2.meigui", "officer2-a"),
]
ATTEMPTS = 3
VILLAGES = ["东村", "西村", "南村"]
AREAS = ["玫瑰街", "榆山路"]
TEXTS = [None, "路灯坏了", "噪音扰民"]
TIMES = [f"2026-05-01T21:{m:02d}:00+08:00" for m in (0, 10, 20, 30)]
EXAMPLES = int(os.environ.get("CONVERGENCE_EXAMPLES", "12"))
STEPS = int(os.environ.get("CONVERGENCE_STEPS", "25"))


@cache
def password_hash() -> str:
    return hash_password_sync(TEST_PASSWORD)


async def _no_sleep(seconds: float) -> None:
    return None


def canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def is_text(c: Collection, name: str) -> bool:
    return name in c.free_text_fields


def parts(c: Collection, name: str, value: Any) -> list[Any]:
    """What a field's value is made of for the no-lost-write check: list elements, text lines."""
    if is_text(c, name):
        return list(text_lines(value))
    return value if isinstance(value, list) else []


def decoded(c: Collection, doc: dict[str, Any]) -> dict[str, Any]:
    """A document with its list fields decoded, so JSON spelling does not matter."""
    out = dict(doc)
    for f in c.json_fields:
        if isinstance(out.get(f.name), str):
            out[f.name] = json.loads(out[f.name])
    return out


def content(c: Collection, doc: dict[str, Any]) -> dict[str, Any]:
    """A document as the contract compares it: without `updatedAt`, a null field same as absent,
    and a set or track field (participants, track) in any order.

    A device keeps the document it wrote when the server stored it unchanged (a push answered with
    no conflict, or a retried push the server saw as a no-op), so its copy may omit the optional
    fields the server's copy lists as null, and may list the same participants in another order
    (the merge compares them as sets, so a reordering alone is a no-op).
    """
    out: dict[str, Any] = {}
    for name, value in decoded(c, doc).items():
        if name == "updatedAt" or value is None:
            continue
        if isinstance(c.policies.get(name), SetPolicy | TrackPolicy) and isinstance(value, list):
            value = sorted(value, key=canon)
        out[name] = value
    return out


@dataclass(frozen=True)
class Write:
    """One thing a device wrote: a field's value, or (`element`) one element it added to a list."""

    device: int
    collection: str
    doc_id: str
    field: str
    value: Any
    element: bool = False


@dataclass
class Phone:
    client: SyncClient
    transport: LossyTransport
    http: httpx.AsyncClient
    username: str


@dataclass(frozen=True)
class SentRow:
    """One push row as it reached the server (its reply may have been lost)."""

    collection: str
    assumed: dict[str, Any] | None
    new: dict[str, Any]


class RecordingTransport(httpx.AsyncBaseTransport):
    """Notes every push row a replica sends before passing the request on."""

    def __init__(self, inner: httpx.AsyncBaseTransport, rows: list[SentRow]) -> None:
        self.inner = inner
        self.rows = rows

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content or b"{}")
        for name, value in (body.get("variables") or {}).items():
            if name.endswith("PushRow"):
                key = next(c.key for c in (VISIT, PATROL) if name == f"{c.key}PushRow")
                for row in value:
                    self.rows.append(
                        SentRow(key, row.get("assumedMasterState"), row["newDocumentState"])
                    )
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def field_value(c: Collection, doc: dict[str, Any] | None, name: str) -> str:
    """A field's value by content: null = absent, deleted absent = false, lists as sets."""
    value = decoded(c, doc or {}).get(name)
    if name == "deleted":
        return canon(bool(value))
    if isinstance(value, list):
        return canon(sorted(canon(e) for e in value))
    return canon(value)


def elements(c: Collection, doc: dict[str, Any] | None, name: str) -> set[str]:
    value = decoded(c, doc or {}).get(name)
    return {canon(e) for e in value} if isinstance(value, list) else set()


def run_convergence(backend: str, tmp_path: Path) -> None:
    counter = itertools.count()

    class Convergence(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.loop = asyncio.new_event_loop()
            self.phones: list[Phone] = []
            self.pending: list[dict[tuple[str, str, str, Any], Write]] = []
            self.sent: list[Write] = []
            self.history: dict[tuple[str, str, str], set[str]] = defaultdict(set)
            self.admin_checkpoints: dict[str, dict[str, Any] | None] = {}
            # The server's documents as last pulled, the rows sent since, the conflicts seen.
            self.stored: dict[tuple[str, str], dict[str, Any]] = {}
            self.step_rows: list[SentRow] = []
            self.seen_conflicts: set[Any] = set()
            self.app: Any = None
            self.api_http: httpx.AsyncClient | None = None
            self.admin: SyncClient | None = None
            self.notes = itertools.count()

        def run(self, work: Coroutine[Any, Any, T]) -> T:
            return self.loop.run_until_complete(work)

        # --- setup --------------------------------------------------------------------------

        @initialize(devices=st.integers(3, 5))
        def start(self, devices: int) -> None:
            self.run(self._start(devices))

        async def _start(self, devices: int) -> None:
            if backend == "postgresql":
                assert PG_URL is not None
                await _reset_postgres(PG_URL)
                url = PG_URL
            else:
                url = f"sqlite+aiosqlite:///{tmp_path / f'convergence-{next(counter)}.db'}"
                engine = create_engine(url)
                async with engine.begin() as connection:
                    await connection.run_sync(Base.metadata.create_all)
                await engine.dispose()
            clock = FrozenClock(START)
            engine = create_engine(url)
            try:
                make = Builders(create_sessionmaker(engine), clock, password_hash())
                county = await make.branch(None, BranchKind.COMMITTEE, name="县局党委")
                meigui = await make.branch(county, name="玫瑰派出所党支部")
                secretary = await make.member(meigui, name="王书记", post=Post.SECRETARY)
                officer = await make.member(meigui, name="李民警")
                officer2 = await make.member(meigui, name="张民警")
                await make.account(Role.ADMIN, username="admin")
                await make.account(
                    Role.SECRETARY,
                    username="secretary.meigui",
                    member_id=secretary.id,
                    branch_id=meigui.id,
                )
                await make.account(Role.OFFICER, username="officer.meigui", member_id=officer.id)
                await make.account(Role.OFFICER, username="officer2.meigui", member_id=officer2.id)
            finally:
                await engine.dispose()
            self.branch = to_global_id("Branch", meigui.id)
            self.members = [to_global_id("Member", m.id) for m in (secretary, officer, officer2)]

            self.own_member = {
                "officer.meigui": to_global_id("Member", officer.id),
                "officer2.meigui": to_global_id("Member", officer2.id),
            }

            self.app = create_app(Settings(database_url=url, log_level="WARNING"), clock=clock)
            self.api_http = self._http(httpx.ASGITransport(app=self.app))
            api = Api(self.api_http)
            tokens: dict[str, str] = {}
            for username, name in DEVICES[:devices]:
                transport = LossyTransport(
                    RecordingTransport(httpx.ASGITransport(app=self.app), self.step_rows)
                )
                http = self._http(transport)
                if name not in tokens:
                    tokens[name] = await api.login(username, device=name)
                token = tokens[name]
                client = SyncClient(
                    http,
                    token,
                    store=LocalStore(),
                    retry=RetryPolicy(attempts=ATTEMPTS, first_delay=0, sleep=_no_sleep),
                    page_size=4,  # small pages: paging is exercised too
                    clock=clock,
                    collections=(VISIT, PATROL),
                )
                self.phones.append(Phone(client, transport, http, username))
                self.pending.append({})
            token = await api.login("admin", device="auditor")
            self.admin = SyncClient(
                self.api_http, token, store=LocalStore(), collections=(VISIT, PATROL)
            )
            await self._seed()

        async def _seed(self) -> None:
            """The branch's records before the examples' writes: a visit and a patrol on every
            replica, so replicas edit the same documents from the first step."""
            officer = self.phones[0].username
            visit = {
                "branchId": self.branch,
                "officerId": self.own_member[officer],
                "category": "household",
                "visitedAt": "2026-05-01T10:00:00+08:00",
                "village": VILLAGES[0],
                "status": "open",
                "peopleReached": 1,
            }
            patrol = {
                "branchId": self.branch,
                "officerId": self.own_member[officer],
                "kind": "night",
                "area": AREAS[0],
                "startedAt": TIMES[0],
                "participants": [self.own_member[officer]],
                "track": [{"t": TIMES[0], "lat": 36.1, "lng": 116.4}],
            }
            for c, fields in ((VISIT, visit), (PATROL, patrol)):
                doc_id = str(uuid.uuid4())
                self.note(0, c, doc_id, fields)
                self.phone(0).create(c, {"id": doc_id, **fields})
            await self._push(0)
            for phone in self.phones:
                await phone.client.pull()

        @staticmethod
        def _http(transport: httpx.AsyncBaseTransport) -> httpx.AsyncClient:
            return httpx.AsyncClient(transport=transport, base_url="http://meijing.test")

        def teardown(self) -> None:
            try:
                if self.phones:
                    self.run(self._final_sync())
                    self.run(self._check())
            finally:
                self.run(self._close())
                self.loop.run_until_complete(self.loop.shutdown_asyncgens())
                self.loop.close()

        async def _close(self) -> None:
            for phone in self.phones:
                await phone.http.aclose()
                phone.client.store.close()
            if self.admin is not None:
                self.admin.store.close()
            if self.api_http is not None:
                await self.api_http.aclose()
            if self.app is not None:
                await self.app.state.engine.dispose()

        # --- helpers ------------------------------------------------------------------------

        def phone(self, index: int) -> SyncClient:
            return self.phones[index % len(self.phones)].client

        def live(self, device: int, c: Collection) -> list[str]:
            return [d["id"] for d in self.phone(device).documents(c) if not d.get("deleted")]

        def note(self, device: int, c: Collection, doc_id: str, changes: dict[str, Any]) -> None:
            """Records writes; a later write of the same field by the same device replaces one."""
            index = device % len(self.phones)
            pending = self.pending[index]
            before = self.phone(device).get(c, doc_id) or {}
            for name, value in changes.items():
                if is_text(c, name):
                    old_lines = text_lines(before.get(name))
                    for line in text_lines(value):
                        if line not in old_lines:
                            key = (c.key, doc_id, name, canon(line))
                            pending[key] = Write(index, c.key, doc_id, name, line, True)
                elif name in {f.name for f in c.json_fields}:
                    old = json.loads(before[name]) if before.get(name) else []
                    for element in value:
                        if element not in old:
                            key = (c.key, doc_id, name, canon(element))
                            pending[key] = Write(index, c.key, doc_id, name, element, True)
                else:
                    pending[(c.key, doc_id, name, None)] = Write(index, c.key, doc_id, name, value)

        def officer_id(self, device: int, data: st.DataObject) -> str:
            """Officers record as themselves; the secretary names any member of the branch."""
            username = self.phones[device % len(self.phones)].username
            own = self.own_member.get(username)
            return own if own is not None else data.draw(st.sampled_from(self.members))

        def visit_fields(self, data: st.DataObject) -> dict[str, Any]:
            return {
                "village": data.draw(st.sampled_from(VILLAGES)),
                "household": data.draw(st.sampled_from([None, "张家", "李家"])),
                "concerns": data.draw(st.sampled_from(TEXTS)),
                "status": data.draw(st.sampled_from(["open", "escalated", "resolved"])),
                "peopleReached": data.draw(st.integers(0, 5)),
            }

        # --- rules --------------------------------------------------------------------------

        @rule(device=st.integers(0, 4), data=st.data())
        def create_visit(self, device: int, data: st.DataObject) -> None:
            fields = {
                "branchId": self.branch,
                "officerId": self.officer_id(device, data),
                "category": "household",
                "visitedAt": "2026-05-01T10:00:00+08:00",
                **self.visit_fields(data),
            }
            doc_id = str(uuid.uuid4())
            self.note(device, VISIT, doc_id, fields)
            self.phone(device).create(VISIT, {"id": doc_id, **fields})

        @rule(device=st.integers(0, 4), data=st.data())
        def create_patrol(self, device: int, data: st.DataObject) -> None:
            fields = {
                "branchId": self.branch,
                "officerId": self.officer_id(device, data),
                "kind": data.draw(st.sampled_from(["day", "night"])),
                "area": data.draw(st.sampled_from(AREAS)),
                "startedAt": TIMES[0],
                "participants": data.draw(st.lists(st.sampled_from(self.members), unique=True)),
                "track": [{"t": TIMES[0], "lat": 36.1, "lng": 116.4}],
            }
            doc_id = str(uuid.uuid4())
            self.note(device, PATROL, doc_id, fields)
            self.phone(device).create(PATROL, {"id": doc_id, **fields})

        @rule(device=st.integers(0, 4), pick=st.integers(0, 100), data=st.data())
        def edit_visit(self, device: int, pick: int, data: st.DataObject) -> None:
            ids = self.live(device, VISIT)
            if not ids:
                return
            doc_id = ids[pick % len(ids)]
            every = self.visit_fields(data)
            names = data.draw(st.lists(st.sampled_from(sorted(every)), min_size=1, unique=True))
            changes = {n: every[n] for n in names}
            self.note(device, VISIT, doc_id, changes)
            self.phone(device).edit(VISIT, doc_id, changes)

        @rule(device=st.integers(0, 4), pick=st.integers(0, 100), data=st.data())
        def edit_visit_online(self, device: int, pick: int, data: st.DataObject) -> None:
            """An online replica: live replication pushes the write at once, then pulls what the
            others wrote meanwhile (another tab's write may be on its way: no pull first)."""
            self.edit_visit(device, pick, data)
            self.run(self._push(device))
            self.run(self.phone(device).pull())

        @rule(device=st.integers(0, 4), pick=st.integers(0, 100), data=st.data())
        def edit_patrol(self, device: int, pick: int, data: st.DataObject) -> None:
            ids = self.live(device, PATROL)
            if not ids:
                return
            doc_id = ids[pick % len(ids)]
            local = self.phone(device).get(PATROL, doc_id)
            assert local is not None
            what = data.draw(st.sampled_from(["area", "observations", "participants", "track"]))
            value: Any
            if what == "area":
                value = data.draw(st.sampled_from(AREAS))
            elif what == "observations":
                value = data.draw(st.sampled_from(TEXTS))
            elif what == "participants":
                value = data.draw(st.lists(st.sampled_from(self.members), unique=True))
            else:
                track = json.loads(local["track"])
                taken = {p["t"] for p in track}
                free = [t for t in TIMES if t not in taken]
                if not free:
                    return
                point = {
                    "t": data.draw(st.sampled_from(free)),
                    "lat": data.draw(st.sampled_from([36.1, 36.2])),
                    "lng": 116.4,
                }
                value = [*track, point]  # tracks are append-only
            self.note(device, PATROL, doc_id, {what: value})
            self.phone(device).edit(PATROL, doc_id, {what: value})

        @rule(device=st.integers(0, 4), pick=st.integers(0, 100), patrol=st.booleans())
        def append_note(self, device: int, pick: int, patrol: bool) -> None:
            """The common case in the field: a line added to the notes on the local copy."""
            c, name = (PATROL, "observations") if patrol else (VISIT, "concerns")
            ids = self.live(device, c)
            if not ids:
                return
            doc_id = ids[pick % len(ids)]
            local = self.phone(device).get(c, doc_id)
            assert local is not None
            note = f"{device % len(self.phones)}号机 记录{next(self.notes)}"
            value = "\n".join([*text_lines(local.get(name)), note])
            self.note(device, c, doc_id, {name: value})
            self.phone(device).edit(c, doc_id, {name: value})

        @rule(device=st.integers(0, 4), pick=st.integers(0, 100), patrol=st.booleans())
        def delete(self, device: int, pick: int, patrol: bool) -> None:
            c = PATROL if patrol else VISIT
            ids = self.live(device, c)
            if ids:
                doc_id = ids[pick % len(ids)]
                self.note(device, c, doc_id, {"deleted": True})
                self.phone(device).delete(c, doc_id)

        @rule(device=st.integers(0, 4), lost=st.integers(0, ATTEMPTS))
        def push(self, device: int, lost: int) -> None:
            """Push; `lost` replies go missing (all of them: the push fails and is retried later)."""
            self.run(self._push(device, lost))

        @rule(device=st.integers(0, 4))
        def pull(self, device: int) -> None:
            self.run(self.phone(device).pull())

        # --- final sync and checks ----------------------------------------------------------

        async def _push(self, device: int, lost: int = 0) -> int:
            index = device % len(self.phones)
            phone = self.phones[index]
            phone.transport.lose_next(lost)
            pushed = 0
            try:
                # One collection at a time, marking its writes sent just before: when every
                # reply of a request is lost the client gives up, and the collections after it
                # are not sent at all (their writes may still be replaced locally, unsent).
                for c in (VISIT, PATROL):
                    self._mark_sent(index, c)
                    pushed += (await phone.client.push(c)).pushed
            except SyncError:
                assert lost == ATTEMPTS
                return 1
            finally:
                phone.transport.clear()
                await self._record_history()
            return pushed

        def _mark_sent(self, index: int, c: Collection) -> None:
            """Pending writes of `c` still in the local documents are about to reach the server."""
            client = self.phones[index].client
            for key, write in list(self.pending[index].items()):
                if write.collection != c.key:
                    continue
                local = client.store.get(c, write.doc_id)
                if local is None or not local.dirty:
                    continue  # not sent; still pending until it is
                value = decoded(c, local.doc).get(write.field)
                if write.element:
                    present = write.value in parts(c, write.field, value)
                else:
                    present = write.value == value
                if present:
                    self.sent.append(write)
                del self.pending[index][key]

        async def _record_history(self) -> None:
            """Every committed state since the last look, as the admin sees it; and every change
            of a stored field since then explained by a row sent or a conflict logged."""
            assert self.admin is not None
            async with self.app.state.sessionmaker() as db:
                conflicts = (await db.execute(select(SyncConflict))).scalars().all()
            logged = {
                (row.collection, row.document_id, row.field)
                for row in conflicts
                if row.id not in self.seen_conflicts
            }
            self.seen_conflicts.update(row.id for row in conflicts)
            rows, self.step_rows[:] = list(self.step_rows), []
            unexplained: list[str] = []
            for c in (VISIT, PATROL):
                checkpoint = self.admin_checkpoints.get(c.key)
                while True:
                    bulk = (
                        await self.admin._request(
                            pull_query(c),
                            {"checkpoint": checkpoint, "limit": 100},
                        )
                    )[f"pull{c.name}"]
                    for doc in bulk["documents"]:
                        for name, value in decoded(c, doc).items():
                            slot = self.history[(c.key, doc["id"], name)]
                            slot.add(canon(value))
                            slot.update(canon(e) for e in parts(c, name, value))
                        before = self.stored.get((c.key, doc["id"]))
                        if before is not None:
                            sent = [r for r in rows if r.collection == c.key]
                            unexplained += self._explain(c, before, doc, sent, logged)
                        self.stored[(c.key, doc["id"])] = doc
                    checkpoint = bulk["checkpoint"] or checkpoint
                    if len(bulk["documents"]) < 100:
                        break
                self.admin_checkpoints[c.key] = checkpoint
            # Asserted once everything is recorded, so teardown's final sync starts consistent.
            assert not unexplained, unexplained

        @staticmethod
        def _explain(
            c: Collection,
            before: dict[str, Any],
            after: dict[str, Any],
            rows: list[SentRow],
            logged: set[tuple[str, str, str]],
        ) -> list[str]:
            """Stored values that changed with no row changing them and nothing logged."""
            unexplained: list[str] = []
            doc_id = after["id"]
            mine = [r for r in rows if r.new.get("id") == doc_id]
            lists = {f.name for f in c.json_fields}
            for name in (*(f.name for f in c.fields), "deleted"):
                if (c.key, doc_id, name) in logged:
                    continue
                if field_value(c, before, name) != field_value(c, after, name):
                    changed = [
                        r
                        for r in mine
                        if r.assumed is None
                        or field_value(c, r.assumed, name) != field_value(c, r.new, name)
                    ]
                    if not changed:
                        unexplained.append(
                            f"{c.name} {doc_id}: {name} silently went from "
                            f"{field_value(c, before, name)} to {field_value(c, after, name)}; "
                            f"rows sent: {mine}"
                        )
                if name in lists:
                    for element in elements(c, before, name) - elements(c, after, name):
                        removed = [
                            r
                            for r in mine
                            if r.assumed is not None
                            and element in elements(c, r.assumed, name)
                            and element not in elements(c, r.new, name)
                        ]
                        if not removed:
                            unexplained.append(
                                f"{c.name} {doc_id}: {element} silently left {name}; "
                                f"rows sent: {mine}"
                            )
            return unexplained

        async def _final_sync(self) -> None:
            for _ in range(10):
                moved = 0
                for index in range(len(self.phones)):
                    moved += await self._push(index)
                    moved += (await self.phones[index].client.pull()).pulled
                if moved == 0:
                    return
            raise AssertionError("devices did not become quiescent in 10 rounds")

        async def _check(self) -> None:
            assert self.admin is not None
            self.admin.store.drop(VISIT)
            self.admin.store.drop(PATROL)
            await self.admin.pull()
            for c in (VISIT, PATROL):
                # By content: a push the server found already applied (a no-op) is acknowledged
                # without a new stamp, so the device keeps the updatedAt it had; harmless, since
                # updatedAt is only the pull cursor.
                server = {d["id"]: content(c, d) for d in self.admin.documents(c)}
                for index, phone in enumerate(self.phones):
                    local = {d["id"]: content(c, d) for d in phone.client.documents(c)}
                    differing = {
                        doc_id: (local.get(doc_id), server.get(doc_id))
                        for doc_id in local.keys() | server.keys()
                        if local.get(doc_id) != server.get(doc_id)
                    }
                    assert not differing, (
                        f"device {index} differs from the server in {c.name} "
                        f"(id: (device's, server's)): {differing}"
                    )
                    assert phone.client.pending(c) == 0

            async with self.app.state.sessionmaker() as db:
                rows = (await db.execute(select(SyncConflict))).scalars().all()
            logged: dict[tuple[str, str, str], set[str]] = defaultdict(set)
            collections = {VISIT.key: VISIT, PATROL.key: PATROL}
            for row in rows:
                slot = logged[(row.collection, row.document_id, row.field)]
                slot.add(canon(row.client))
                slot.update(
                    canon(e) for e in parts(collections[row.collection], row.field, row.client)
                )
            for write in self.sent:
                key = (write.collection, write.doc_id, write.field)
                value = canon(write.value)
                assert value in self.history[key] or value in logged[key], (
                    f"lost write: {write}; server states {self.history[key]}, "
                    f"conflict log {logged[key]}"
                )

    run_state_machine_as_test(
        Convergence,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


def test_devices_converge_and_no_write_is_lost(backend: str, db_url: str, tmp_path: Path) -> None:
    # db_url: the usual check that PostgreSQL is configured (each example then rebuilds its own).
    run_convergence(backend, tmp_path)
