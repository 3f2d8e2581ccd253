"""Pull paging as a property: whatever the writes and page sizes, every visible document comes
exactly once, in (updatedAt, id) order, and pages are short only at the end."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from app.clock import FrozenClock
from app.db import Sessionmaker
from models import Visit
from sync.collection import VISIT, global_id
from sync.pull import Checkpoint, pull
from sync.push import PushRow, Writer, push
from sync.scope import Scope
from tests.conftest import World

batches = st.lists(
    st.lists(st.sampled_from(["meigui", "yushan", "meigui_group"]), min_size=1, max_size=5),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=25,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    batches=batches,
    page=st.integers(min_value=1, max_value=7),
    viewer=st.sampled_from(["all", "meigui_subtree", "yushan_branch"]),
)
async def test_paging_delivers_each_visible_document_once_in_order(
    sessionmaker: Sessionmaker,
    world: World,
    clock: FrozenClock,
    batches: list[list[str]],
    page: int,
    viewer: str,
) -> None:
    async with sessionmaker.begin() as db:
        await db.execute(delete(Visit))
    branches = {"meigui": world.meigui, "yushan": world.yushan, "meigui_group": world.meigui_group}
    scope = {
        "all": Scope("all"),
        "meigui_subtree": Scope("subtree", world.meigui.id, world.meigui.path),
        "yushan_branch": Scope("branch", world.yushan.id, world.yushan.path),
    }[viewer]
    admin = Writer(world.admin.id, None, Scope("all", writable=True))
    expected: set[str] = set()
    for batch in batches:
        rows = []
        for name in batch:
            doc = _visit(world, global_id("Branch", branches[name].id))
            rows.append(PushRow(doc))
            if scope.covers(branches[name].id, branches[name].path):
                expected.add(doc["id"])
        await push(sessionmaker, VISIT, admin, rows, clock())
        clock.advance(milliseconds=1)

    seen: list[tuple[float, str]] = []
    checkpoint: Checkpoint | None = None
    while True:
        async with sessionmaker() as db:
            result = await pull(db, scope, VISIT, checkpoint, page)
        seen += [(d["updatedAt"], d["id"]) for d in result.documents]
        if result.documents:
            assert result.checkpoint == Checkpoint(seen[-1][1], seen[-1][0])
        checkpoint = result.checkpoint
        if len(result.documents) < page:
            break
    assert seen == sorted(seen) and len(set(seen)) == len(seen)
    assert {doc_id for _, doc_id in seen} == expected


def _visit(world: World, branch: str) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "branchId": branch,
        "officerId": global_id("Member", world.officer_member.id),
        "village": "玫瑰村",
        "category": "household",
        "status": "open",
        "peopleReached": 1,
        "visitedAt": "2026-05-01T10:00:00+08:00",
    }
