"""A reference sync client that behaves like an RxDB phone: local store, offline writes, push/pull.

It exists so tests and `meijing simulate` exercise the server the way real phones do, speaking the
wire contract exactly (the queries RxDB's schema-based builders send). Per document it keeps the
local state and the *assumed master state*, the last state it believes the server has:

* push: every document whose local state differs from its assumed master state is sent as
  {assumedMasterState (absent if never known to the server), newDocumentState (the whole local
  document, updatedAt and deleted included)}. Rows the server returns are conflicts, resolved by
  RxDB's default handler: the server's state becomes both local and assumed state, the local edit
  is dropped (the server keeps it in its conflict log). Rows not returned: the sent state becomes
  the assumed master state.
* pull: pages from the stored checkpoint until a short page. A pulled document becomes the local
  and assumed state, except when the local document has an unpushed write: RxDB's downstream then
  leaves the document alone (local *and* assumed state) and lets the upstream push it with the old
  assumed state, so the server three-way merges it. Overwriting the assumed state there would make
  the push look like a plain update and silently revert the other device's fields.

The local store is stdlib `sqlite3`: a phone's store is local and each call takes microseconds, so
blocking the client's event loop briefly is harmless (this is not server code).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import sqlite3
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from sync.collection import COLLECTIONS, Collection, encode_list
from sync.merge import JSON, same_content

APP_VERSION = "meijing-reference-client/0.1"
RESYNC_REQUIRED = "RESYNC_REQUIRED"

Sleep = Callable[[float], Awaitable[None]]


# --- the queries RxDB's builders send -----------------------------------------------------------


def _lower_first(name: str) -> str:
    return name[0].lower() + name[1:]


def pull_query(collection: Collection) -> str:
    """What `pullQueryBuilderFromRxSchema` sends (checkpointFields id, updatedAt)."""
    fields = " ".join(collection.wire_names)
    name = collection.name
    return (
        f"query Pull{name}($checkpoint: {name}InputCheckpoint, $limit: Int!) {{"
        f" pull{name}(checkpoint: $checkpoint, limit: $limit) {{"
        f" documents {{ {fields} }} checkpoint {{ id updatedAt }} }} }}"
    )


def push_query(collection: Collection) -> str:
    """What `pushQueryBuilderFromRxSchema` sends: one variable `<name>PushRow`."""
    fields = " ".join(collection.wire_names)
    name = collection.name
    variable = f"{_lower_first(name)}PushRow"
    return (
        f"mutation Push{name}(${variable}: [{name}InputPushRow!]) {{"
        f" push{name}({variable}: ${variable}) {{ {fields} }} }}"
    )


# --- errors and reports -------------------------------------------------------------------------


class SyncError(Exception):
    """A request that still failed after every retry; `code` is the GraphQL extensions code."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class ResyncRequiredError(SyncError):
    """The server wants the collection dropped and pulled from scratch (never retried as is)."""


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff. RxDB retries forever; tests and the simulator need an end."""

    attempts: int = 6
    first_delay: float = 0.05
    max_delay: float = 5.0
    sleep: Sleep = asyncio.sleep


@dataclass
class SyncReport:
    """What one push, pull or sync did, summed over collections."""

    pushed: int = 0  # rows sent in pushes that succeeded
    conflicts: int = 0  # rows the server returned (adopted by the conflict handler)
    pulled: int = 0  # documents received
    resyncs: int = 0

    def add(self, other: SyncReport) -> None:
        self.pushed += other.pushed
        self.conflicts += other.conflicts
        self.pulled += other.pulled
        self.resyncs += other.resyncs


@dataclass(frozen=True)
class LocalDocument:
    """A document as the device holds it."""

    doc: dict[str, Any]
    assumed: dict[str, Any] | None  # None: never known to the server
    dirty: bool  # the local state has a write the server has not acknowledged


# --- the local store ----------------------------------------------------------------------------


class LocalStore:
    """Documents per collection (local JSON, assumed JSON, dirty flag) and a checkpoint table."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.db = sqlite3.connect(str(path), isolation_level=None)
        for c in COLLECTIONS.values():
            self.db.execute(
                f"CREATE TABLE IF NOT EXISTS doc_{c.key} ("
                " id TEXT PRIMARY KEY, doc TEXT NOT NULL, assumed TEXT,"
                " dirty INTEGER NOT NULL, seq INTEGER NOT NULL)"
            )
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS checkpoint (collection TEXT PRIMARY KEY, value TEXT)"
        )

    def close(self) -> None:
        self.db.close()

    def get(self, c: Collection, doc_id: str) -> LocalDocument | None:
        row = self.db.execute(
            f"SELECT doc, assumed, dirty FROM doc_{c.key} WHERE id = ?", (doc_id,)
        ).fetchone()
        return None if row is None else _local(row)

    def put(self, c: Collection, doc: Mapping[str, Any], assumed: Mapping[str, Any] | None) -> None:
        """Stores a document; dirty is derived by content, as RxDB's `isEqual` check does."""
        dirty = assumed is None or not _same(c, doc, assumed)
        self.db.execute(
            f"INSERT INTO doc_{c.key} (id, doc, assumed, dirty, seq) VALUES (?, ?, ?, ?,"
            f" (SELECT coalesce(max(seq), 0) + 1 FROM doc_{c.key}))"
            " ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, assumed = excluded.assumed,"
            " dirty = excluded.dirty, seq = excluded.seq",
            (
                doc["id"],
                json.dumps(dict(doc), ensure_ascii=False),
                None if assumed is None else json.dumps(dict(assumed), ensure_ascii=False),
                int(dirty),
            ),
        )

    def dirty(self, c: Collection, limit: int) -> list[LocalDocument]:
        """Unpushed documents, oldest write first."""
        rows = self.db.execute(
            f"SELECT doc, assumed, dirty FROM doc_{c.key} WHERE dirty = 1 ORDER BY seq LIMIT ?",
            (limit,),
        ).fetchall()
        return [_local(row) for row in rows]

    def documents(self, c: Collection) -> list[LocalDocument]:
        rows = self.db.execute(f"SELECT doc, assumed, dirty FROM doc_{c.key} ORDER BY id")
        return [_local(row) for row in rows.fetchall()]

    def checkpoint(self, c: Collection) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT value FROM checkpoint WHERE collection = ?", (c.key,)
        ).fetchone()
        return None if row is None or row[0] is None else dict(json.loads(row[0]))

    def set_checkpoint(self, c: Collection, value: Mapping[str, Any] | None) -> None:
        self.db.execute(
            "INSERT INTO checkpoint (collection, value) VALUES (?, ?)"
            " ON CONFLICT (collection) DO UPDATE SET value = excluded.value",
            (c.key, None if value is None else json.dumps(dict(value))),
        )

    def drop(self, c: Collection) -> None:
        """Forgets the collection and its checkpoint (a resync)."""
        self.db.execute(f"DELETE FROM doc_{c.key}")
        self.db.execute("DELETE FROM checkpoint WHERE collection = ?", (c.key,))


def _local(row: tuple[str, str | None, int]) -> LocalDocument:
    return LocalDocument(
        json.loads(row[0]), None if row[1] is None else json.loads(row[1]), bool(row[2])
    )


def _merge_form(c: Collection, doc: Mapping[str, Any]) -> dict[str, JSON]:
    out: dict[str, JSON] = dict(doc)
    for f in c.json_fields:
        value = out.get(f.name)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                out[f.name] = json.loads(value)
    return out


def _same(c: Collection, a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Equal by client-owned content (updatedAt ignored, null = absent, lists by element)."""
    return same_content(_merge_form(c, a), _merge_form(c, b), c.policies)


# --- the client ---------------------------------------------------------------------------------


def collection_of(which: Collection | str) -> Collection:
    """A collection by spec, key ("visit") or contract name ("Visit")."""
    if isinstance(which, Collection):
        return which
    for c in COLLECTIONS.values():
        if which in (c.key, c.name):
            return c
    raise KeyError(which)


@dataclass
class SyncClient:
    """One device: a local store, a signed-in token, and an HTTP client to the server.

    `http` is any `httpx.AsyncClient`: on a real URL for the simulator, on the in-process ASGI app
    (optionally wrapped in `LossyTransport`) for tests.
    """

    http: httpx.AsyncClient
    token: str
    store: LocalStore = field(default_factory=LocalStore)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    page_size: int = 100
    push_batch: int = 100
    app_version: str = APP_VERSION
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    path: str = "/graphql"
    collections: tuple[Collection, ...] = tuple(COLLECTIONS.values())

    # --- offline writes -----------------------------------------------------------------------

    def create(self, which: Collection | str, fields: Mapping[str, Any]) -> str:
        """Writes a new document locally (id generated unless given); returns its id."""
        c = collection_of(which)
        doc_id = str(fields.get("id") or uuid.uuid4())
        doc: dict[str, Any] = {"id": doc_id, "deleted": False, **_wire_values(c, fields)}
        existing = self.store.get(c, doc_id)
        self.store.put(c, doc, existing.assumed if existing else None)
        return doc_id

    def edit(self, which: Collection | str, doc_id: str, changes: Mapping[str, Any]) -> None:
        """Changes fields of a local document (lists for JSON fields are encoded here)."""
        c = collection_of(which)
        local = self._require(c, doc_id)
        self.store.put(c, {**local.doc, **_wire_values(c, changes)}, local.assumed)

    def delete(self, which: Collection | str, doc_id: str) -> None:
        """Marks a local document deleted: a tombstone, pushed like any edit."""
        self.edit(which, doc_id, {"deleted": True})

    def get(self, which: Collection | str, doc_id: str) -> dict[str, Any] | None:
        """The local state of a document (tombstones included), or None."""
        local = self.store.get(collection_of(which), doc_id)
        return None if local is None else local.doc

    def documents(self, which: Collection | str) -> list[dict[str, Any]]:
        """Every local document of a collection, tombstones included, by id."""
        return [d.doc for d in self.store.documents(collection_of(which))]

    def pending(self, which: Collection | str) -> int:
        """How many documents have writes the server has not acknowledged."""
        c = collection_of(which)
        return sum(1 for d in self.store.documents(c) if d.dirty)

    def _require(self, c: Collection, doc_id: str) -> LocalDocument:
        local = self.store.get(c, doc_id)
        if local is None:
            raise KeyError(f"{c.name} {doc_id} is not on this device")
        return local

    # --- replication --------------------------------------------------------------------------

    async def sync(self, which: Iterable[Collection | str] | None = None) -> SyncReport:
        """Push then pull every collection (or the given ones)."""
        report = SyncReport()
        for c in self._chosen(which):
            report.add(await self.push(c))
            report.add(await self.pull(c))
        return report

    async def push(self, which: Collection | str | None = None) -> SyncReport:
        """Sends every unpushed document in batches; adopts the rows the server returns."""
        report = SyncReport()
        for c in self._chosen(None if which is None else [which]):
            while True:
                batch = self.store.dirty(c, self.push_batch)
                if not batch:
                    break
                report.add(await self._push_batch(c, batch))
                if len(batch) < self.push_batch:
                    break
        return report

    async def _push_batch(self, c: Collection, batch: list[LocalDocument]) -> SyncReport:
        rows = []
        for local in batch:
            row: dict[str, Any] = {"newDocumentState": local.doc}
            if local.assumed is not None:
                row["assumedMasterState"] = local.assumed
            rows.append(row)
        variable = f"{_lower_first(c.name)}PushRow"
        data = await self._request(push_query(c), {variable: rows})
        returned: list[dict[str, Any]] = data[f"push{c.name}"]
        by_id = {doc["id"]: doc for doc in returned}
        for local in batch:
            master = by_id.pop(local.doc["id"], None)
            if master is not None:
                # RxDB's default conflict handler: the server's state wins locally.
                self.store.put(c, master, master)
                continue
            current = self.store.get(c, local.doc["id"])
            self.store.put(c, current.doc if current else local.doc, local.doc)
        for master in by_id.values():  # not expected: a row for a document not sent
            self.store.put(c, master, master)
        return SyncReport(pushed=len(batch), conflicts=len(returned))

    async def pull(self, which: Collection | str | None = None) -> SyncReport:
        """Pulls every collection (or one) from its checkpoint; resyncs when the server says so."""
        report = SyncReport()
        for c in self._chosen(None if which is None else [which]):
            try:
                report.add(await self._pull_pages(c))
            except ResyncRequiredError:
                # Unsent writes first: the server still accepts them, and dropping would lose them.
                report.add(await self.push(c))
                self.store.drop(c)
                report.resyncs += 1
                report.add(await self._pull_pages(c))
        return report

    async def _pull_pages(self, c: Collection) -> SyncReport:
        report = SyncReport()
        while True:
            checkpoint = self.store.checkpoint(c)
            data = await self._request(
                pull_query(c), {"checkpoint": checkpoint, "limit": self.page_size}
            )
            bulk = data[f"pull{c.name}"]
            documents: list[dict[str, Any]] = bulk["documents"]
            for doc in documents:
                local = self.store.get(c, doc["id"])
                if local is not None and local.dirty:
                    continue  # an unpushed write: the upstream resolves it (see module doc)
                self.store.put(c, doc, doc)
            if bulk["checkpoint"] is not None:
                self.store.set_checkpoint(c, bulk["checkpoint"])
            report.pulled += len(documents)
            if len(documents) < self.page_size:
                return report

    def _chosen(self, which: Iterable[Collection | str] | None) -> list[Collection]:
        return list(self.collections) if which is None else [collection_of(w) for w in which]

    # --- transport ----------------------------------------------------------------------------

    def headers(self) -> dict[str, str]:
        """Authorization plus what the fleet view reads: app version and the phone's clock."""
        now_ms = int(self.clock().timestamp() * 1000)
        return {
            "Authorization": f"Bearer {self.token}",
            "X-Meijing-App-Version": self.app_version,
            "X-Meijing-Client-Time": str(now_ms),
        }

    async def _request(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """POSTs one GraphQL request, retrying transport failures and errors with backoff."""
        delay = self.retry.first_delay
        failure: SyncError = SyncError("no attempt made")
        for attempt in range(1, self.retry.attempts + 1):
            try:
                response = await self.http.post(
                    self.path, json={"query": query, "variables": variables}, headers=self.headers()
                )
                body = response.json()
            except (httpx.TransportError, ValueError) as exc:
                failure = SyncError(f"{type(exc).__name__}: {exc}")
            else:
                errors = body.get("errors") if isinstance(body, dict) else None
                if not errors and isinstance(body, dict) and body.get("data") is not None:
                    return dict(body["data"])
                first = (errors or [{}])[0]
                code = (first.get("extensions") or {}).get("code")
                message = str(first.get("message") or f"HTTP {response.status_code}")
                if code == RESYNC_REQUIRED:
                    raise ResyncRequiredError(message, code)
                failure = SyncError(message, code)
            if attempt < self.retry.attempts:
                await self.retry.sleep(delay)
                delay = min(delay * 2, self.retry.max_delay)
        raise SyncError(
            f"gave up after {self.retry.attempts} attempts: {failure}", failure.code
        ) from failure


def _wire_values(c: Collection, values: Mapping[str, Any]) -> dict[str, Any]:
    """Local writes in wire form: list values of JSON fields become canonical JSON text."""
    json_names = {f.name for f in c.json_fields}
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name == "id":
            continue
        if name in json_names and isinstance(value, list | tuple):
            value = encode_list(list(value))
        out[name] = value
    return out


# --- transports for tests and the simulator -----------------------------------------------------


class LossyTransport(httpx.AsyncBaseTransport):
    """Forwards every request, then throws away some replies: the server did the work, the phone
    never heard back. `lose_next(n)` loses the next n replies; `rate` loses replies at random."""

    def __init__(
        self, inner: httpx.AsyncBaseTransport, rate: float = 0.0, seed: int | None = None
    ) -> None:
        self.inner = inner
        self.rate = rate
        self.random = random.Random(seed)
        self._lose = 0
        self.lost = 0

    def lose_next(self, count: int = 1) -> None:
        self._lose += count

    def clear(self) -> None:
        """Forgets losses not used up (say, a push that had nothing to send)."""
        self._lose = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        lose = self._lose > 0 or (self.rate > 0 and self.random.random() < self.rate)
        if not lose:
            return response
        self._lose = max(0, self._lose - 1)
        self.lost += 1
        await response.aread()
        await response.aclose()
        raise httpx.ReadError("response lost on the way back", request=request)

    async def aclose(self) -> None:
        await self.inner.aclose()
