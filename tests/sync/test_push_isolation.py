"""One bad row of a push never blocks the others, whatever the badness (sync/push.py).

A phone's replication retries a failing batch forever, so a row that cannot be stored must be
quarantined with its reason while the rest of the batch is written. The property runs over every
collection phones push, with one row of N bad in a random way: a character the database cannot
hold (NUL, a lone surrogate) anywhere, the assumed state included; a text over its limit; a
number out of range; a value of the wrong type; an unknown reference; malformed JSON text; and a
refusal nobody foresaw, made by a database trigger that the validation knows nothing about.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select, text

from access.scope import Scope
from core.clock import FrozenClock
from core.db import Sessionmaker, writing
from core.global_id import global_id
from models import (
    Directive,
    DirectiveLevel,
    DirectivePriority,
    DirectiveRecipient,
    DirectiveStatus,
    RecipientStatus,
    SyncQuarantine,
)
from sync.collection import (
    COLLECTIONS,
    DIRECTIVE_PROGRESS,
    DIRECTIVE_RECEIPT,
    PATROL,
    SERVICE_ACTION,
    VISIT,
    Collection,
    unstorable_character,
)
from sync.push import PushRow, Writer, push
from tests.conftest import World

REFUSED = "拒收标记"
"""Text the trigger refuses in any row; a receipt has no free text, so its marker is an instant."""
REFUSED_INSTANT = "2026-11-27T09:00:00.424242+08:00"
REFUSED_FIELD = {
    VISIT.key: "village",
    PATROL.key: "area",
    SERVICE_ACTION.key: "title",
    DIRECTIVE_RECEIPT.key: "signedAt",
    DIRECTIVE_PROGRESS.key: "text",
}


def table_of(c: Collection) -> str:
    return str(sa_inspect(c.model).local_table.name)


@pytest.fixture
async def refusing_database(sessionmaker: Sessionmaker, backend: str) -> AsyncIterator[None]:
    """A rule in the database that the push's validation does not know about."""
    tables = [table_of(c) for c in COLLECTIONS.values()]
    async with writing(sessionmaker) as db:
        if backend == "postgresql":
            await db.execute(
                text(
                    "CREATE FUNCTION refuse_marked() RETURNS trigger AS $$ BEGIN "
                    "IF row_to_json(NEW)::text LIKE '%拒收标记%' "
                    "OR row_to_json(NEW)::text LIKE '%00.424242+08:00%' "
                    "THEN RAISE EXCEPTION 'refused by a rule nobody foresaw'; END IF; "
                    "RETURN NEW; END $$ LANGUAGE plpgsql"
                )
            )
            for table in tables:
                await db.execute(
                    text(
                        f"CREATE TRIGGER refuse_{table} BEFORE INSERT OR UPDATE ON {table} "
                        "FOR EACH ROW EXECUTE FUNCTION refuse_marked()"
                    )
                )
        else:
            for c in COLLECTIONS.values():
                f = c.by_name[REFUSED_FIELD[c.key]]
                table, column = table_of(c), f.text_column if f.kind == "datetime" else f.column
                marker = REFUSED_INSTANT if c is DIRECTIVE_RECEIPT else REFUSED
                for event in ("INSERT", "UPDATE"):
                    await db.execute(
                        text(
                            f"CREATE TRIGGER refuse_{table}_{event.lower()} BEFORE {event} "
                            f"ON {table} WHEN NEW.{column} = '{marker}' BEGIN "
                            "SELECT RAISE(ABORT, 'refused by a rule nobody foresaw'); END"
                        )
                    )
    yield
    if backend == "postgresql":
        # PostgreSQL's test database is emptied, not rebuilt, between tests: leave no trigger.
        async with writing(sessionmaker) as db:
            await db.execute(text("DROP FUNCTION refuse_marked() CASCADE"))


@dataclass(frozen=True)
class Badness:
    """How the bad row is bad, and the reason codes it may be quarantined with."""

    kind: str
    field: str
    value: Any = None
    in_assumed: bool = False

    @property
    def codes(self) -> set[str]:
        return {
            "character": {"invalid_character", "invalid"},
            "too_long": {"too_long"},
            "number": {"invalid"},
            "type": {"invalid", "required"},
            "reference": {"not_found"},
            "json": {"invalid"},
            "refused": {"unstorable"},
        }[self.kind]


TEXTS = {
    VISIT.key: ["id", "village", "household", "concerns", "resolution", "visitedAt", "officerId"],
    PATROL.key: ["id", "area", "observations", "startedAt", "participants", "track"],
    SERVICE_ACTION.key: ["id", "title", "place", "notes", "happenedAt", "participants"],
    DIRECTIVE_RECEIPT.key: ["signedAt", "branchId", "officerId"],
    DIRECTIVE_PROGRESS.key: ["id", "text", "stage", "reportedAt", "recipientId"],
}
LIMITED = {
    VISIT.key: ["village", "household", "concerns", "resolution", "visitedAt"],
    PATROL.key: ["area", "observations", "startedAt", "endedAt", "participants", "track"],
    SERVICE_ACTION.key: ["title", "place", "notes", "happenedAt", "participants"],
    DIRECTIVE_RECEIPT.key: ["signedAt"],
    DIRECTIVE_PROGRESS.key: ["text", "stage", "reportedAt"],
}
NUMBERS = {
    VISIT.key: ["peopleReached"],
    SERVICE_ACTION.key: ["peopleReached", "difficultiesSolved", "bannersReceived"],
    DIRECTIVE_PROGRESS.key: ["percent"],
}
LISTS = {PATROL.key: ["participants", "track"], SERVICE_ACTION.key: ["participants"]}


@st.composite
def badness(draw: st.DrawFn, key: str) -> Badness:
    kinds = ["character", "too_long", "type", "reference", "refused"]
    kinds += ["number"] if key in NUMBERS else []
    kinds += ["json"] if key in LISTS else []
    kind = draw(st.sampled_from(kinds))
    if kind == "character":
        return Badness(
            kind,
            draw(st.sampled_from(TEXTS[key])),
            draw(st.sampled_from(["\x00", "\ud800", "\udfff"])),
            draw(st.booleans()),
        )
    if kind == "too_long":
        return Badness(kind, draw(st.sampled_from(LIMITED[key])))
    if kind == "number":
        value = draw(st.sampled_from([-1, 1_000_001, 2**31, 2**63, -(2**63) - 1, 10**30]))
        return Badness(kind, draw(st.sampled_from(NUMBERS[key])), value)
    if kind == "type":
        field = draw(st.sampled_from(TEXTS[key][1:] + NUMBERS.get(key, []) + ["deleted"]))
        wrong: list[Any] = [2.5, ["x"], {"a": 1}]
        wrong += ["7", "true"] if field in NUMBERS.get(key, []) or field == "deleted" else [7, True]
        return Badness(kind, field, draw(st.sampled_from(wrong)))
    if kind == "reference":
        return Badness(kind, draw(st.sampled_from(["branchId", "officerId"])))
    if kind == "json":
        malformed = draw(st.sampled_from(["not json", '{"a": 1}', "[1, 2", "7"]))
        return Badness(kind, draw(st.sampled_from(LISTS[key])), malformed)
    return Badness(kind, REFUSED_FIELD[key])


def inject(text_value: str, character: str) -> str:
    middle = len(text_value) // 2
    return text_value[:middle] + character + text_value[middle:]


def spoil(c: Collection, doc: dict[str, Any], bad: Badness) -> dict[str, Any]:
    """`doc` made bad as `bad` says (wire form: list fields are JSON text)."""
    out = dict(doc)
    if bad.kind == "character":
        value = out[bad.field]
        if bad.field in LISTS.get(c.key, []):
            elements = json.loads(value)
            first = dict(elements[0]) if isinstance(elements[0], dict) else elements[0]
            if isinstance(first, dict):
                first[inject("note", bad.value)] = inject("手写", bad.value)
            else:
                first = inject(first, bad.value)
            # Escaped as JSON text allows (ensure_ascii): the phone's JSON.stringify output.
            out[bad.field] = json.dumps([first, *elements[1:]])
        else:
            out[bad.field] = inject(value, bad.value)
    elif bad.kind == "too_long":
        limit = c.by_name[bad.field].max_length
        if bad.field in LISTS.get(c.key, []):
            filler = "长" * limit
            extra = {"name": "志愿者", "role": "other", "note": filler}
            point = {"t": "2026-05-01T21:00:00+08:00", "lat": 36.2, "lng": 116.4, "note": filler}
            element = point if bad.field == "track" else extra
            out[bad.field] = json.dumps([element], ensure_ascii=False)
            if bad.field == "participants" and c is PATROL:
                out[bad.field] = json.dumps([out["officerId"]] * (limit // 50 + 1))
        elif bad.field.endswith("At"):
            # A valid instant, longer than the column keeps (Python reads any fraction length).
            out[bad.field] = "2026-05-01T10:00:00." + "1" * limit + "+08:00"
        else:
            out[bad.field] = "长" * (limit + 1)
    elif bad.kind in ("number", "type", "json"):
        out[bad.field] = bad.value
    elif bad.kind == "reference":
        kind = "Branch" if bad.field == "branchId" else "Member"
        out[bad.field] = global_id(kind, uuid.uuid4())
    else:
        out[bad.field] = REFUSED_INSTANT if c is DIRECTIVE_RECEIPT else REFUSED
    return out


async def new_recipient(sessionmaker: Sessionmaker, world: World, clock: FrozenClock) -> str:
    """A directive issued to 玫瑰 that its secretary has not signed yet: its branch row's id."""
    now = clock()
    directive = Directive(
        id=uuid.uuid4(),
        title="反诈宣传进村入户",
        content="每名党员走访十户",
        priority=DirectivePriority.URGENT,
        deadline=now + timedelta(days=20),
        issued_by_branch_id=world.committee.id,
        issued_by_account_id=world.admin.id,
        status=DirectiveStatus.ISSUED,
        issued_at=now - timedelta(days=2),
        created_at=now,
        updated_at=now,
    )
    recipient = DirectiveRecipient(
        id=str(uuid.uuid4()),
        updated_at=1,
        deleted=False,
        created_at=now,
        branch_id=world.meigui.id,
        officer_id=None,
        directive_id=directive.id,
        level=DirectiveLevel.BRANCH,
        target=f"b:{world.meigui.id}",
        status=RecipientStatus.PENDING,
        dispatched_at=now - timedelta(days=2),
    )
    async with writing(sessionmaker) as db:
        db.add(directive)
        await db.flush()
        db.add(recipient)
    return recipient.id


def good_document(
    c: Collection, world: World, index: int, recipient: Callable[[], str]
) -> dict[str, Any]:
    branch = global_id("Branch", world.meigui.id)
    secretary = global_id("Member", world.secretary_member.id)
    officer = global_id("Member", world.officer_member.id)
    if c is VISIT:
        return {
            "id": str(uuid.uuid4()),
            "branchId": branch,
            "officerId": officer,
            "village": f"玫瑰{index}村",
            "household": "张家",
            "category": "household",
            "concerns": "路灯坏了",
            "resolution": "已联系供电所",
            "status": "open",
            "peopleReached": index,
            "visitedAt": "2026-05-01T10:00:00+08:00",
            "deleted": False,
        }
    if c is PATROL:
        return {
            "id": str(uuid.uuid4()),
            "branchId": branch,
            "officerId": officer,
            "kind": "night",
            "area": f"玫瑰{index}街",
            "startedAt": "2026-05-01T21:00:00+08:00",
            "endedAt": "2026-05-01T23:00:00+08:00",
            "participants": json.dumps([officer, secretary]),
            "track": json.dumps([{"t": "2026-05-01T21:00:00+08:00", "lat": 36.2, "lng": 116.4}]),
            "observations": "一切正常",
            "deleted": False,
        }
    if c is SERVICE_ACTION:
        return {
            "id": str(uuid.uuid4()),
            "branchId": branch,
            "officerId": officer,
            "type": "forum",
            "title": f"警民恳谈会{index}",
            "place": "村委会",
            "happenedAt": "2026-05-01T15:00:00+08:00",
            "participants": json.dumps(
                [{"memberId": officer}, {"name": "刘建国", "role": "old_party_member"}],
                ensure_ascii=False,
            ),
            "peopleReached": 30,
            "difficultiesSolved": 2,
            "bannersReceived": 0,
            "notes": "群众反映良好",
            "deleted": False,
        }
    if c is DIRECTIVE_RECEIPT:
        return {
            "id": recipient(),
            "branchId": branch,
            "officerId": secretary,
            "signedAt": "2026-11-27T10:00:00+08:00",
            "deleted": False,
        }
    return {
        "id": str(uuid.uuid4()),
        "recipientId": recipient(),
        "branchId": branch,
        "officerId": secretary,
        "text": f"已部署到人{index}",
        "percent": 50,
        "stage": "进行中",
        "reportedAt": "2026-11-27T11:00:00+08:00",
        "deleted": False,
    }


@st.composite
def batches(draw: st.DrawFn) -> tuple[str, int, int, Badness]:
    key = draw(st.sampled_from(sorted(COLLECTIONS)))
    size = draw(st.integers(2, 6))
    return key, size, draw(st.integers(0, size - 1)), draw(badness(key))


@settings(
    max_examples=60,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=batches())
async def test_one_bad_row_of_n_never_blocks_the_others(
    sessionmaker: Sessionmaker,
    world: World,
    clock: FrozenClock,
    refusing_database: None,
    batch: tuple[str, int, int, Badness],
) -> None:
    key, size, bad_index, bad = batch
    c = COLLECTIONS[key]
    # The secretary of 玫瑰: writes the branch's field records and signs its directives.
    writer = Writer(
        world.secretary.id,
        None,
        Scope("subtree", world.meigui.id, world.meigui.path, writable=True),
        member_id=world.secretary_member.id,
    )
    directive = c in (DIRECTIVE_RECEIPT, DIRECTIVE_PROGRESS)
    recipients = [await new_recipient(sessionmaker, world, clock) for _ in range(size)] * directive
    picks = iter(recipients)

    def recipient() -> str:
        # A receipt's id is the row it signs, one each; reports may share their row.
        return recipients[0] if c is DIRECTIVE_PROGRESS else next(picks)

    docs = [good_document(c, world, i, recipient) for i in range(size)]
    rows = [PushRow(doc) for doc in docs]
    good = docs[bad_index]
    if bad.in_assumed:
        rows[bad_index] = PushRow(good, spoil(c, good, bad))
    else:
        rows[bad_index] = PushRow(spoil(c, good, bad))
    async with sessionmaker() as db:
        already = set((await db.execute(select(SyncQuarantine.id))).scalars())

    outcome = await push(sessionmaker, c, writer, rows, clock())

    assert (outcome.written, outcome.quarantined) == (size - 1, 1)
    async with sessionmaker() as db:
        bad_id = str(rows[bad_index].new["id"])
        # An id no database text holds was never stored (and cannot even be looked up).
        ids = {d["id"] for d in docs} | (
            {bad_id} if unstorable_character(bad_id) is None else set()
        )
        found = (await db.execute(select(c.model).where(c.model.id.in_(ids)))).scalars()
        stored = {row.id: c.wire_to_merge(c.to_wire(row)) for row in found}
        [kept] = (
            await db.execute(select(SyncQuarantine).where(SyncQuarantine.id.not_in(already)))
        ).scalars()
    for index, doc in enumerate(docs):
        if index != bad_index:
            expected = c.wire_to_merge(doc)
            assert {k: stored[doc["id"]][k] for k in expected} == expected
    assert bad_id not in stored
    assert kept.row == rows[bad_index].verbatim()
    assert {r["code"] for r in kept.reasons} & bad.codes, (kept.reasons, bad)
