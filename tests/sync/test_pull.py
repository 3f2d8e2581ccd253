"""Pull paging as a property: whatever the writes and page sizes, every visible document comes
exactly once, in (updatedAt, id) order, and pages are short only at the end."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from access.scope import Scope
from core.clock import FrozenClock
from core.db import Sessionmaker, writing
from core.global_id import global_id
from models import Visit
from sync.collection import VISIT
from sync.pull import Checkpoint, pull
from sync.push import PushRow, Writer, push
from tests.conftest import Api, World

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
    async with writing(sessionmaker) as db:
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


PULL = """query($cp: VisitInputCheckpoint, $n: Int!) {
  pullVisit(checkpoint: $cp, limit: $n) { documents { id } checkpoint { id updatedAt } }
}"""
# The same query, which the fast path (schema/fast_pull.py) leaves to normal execution.
PULL_NORMAL = PULL.replace("limit: $n)", "limit: $n) @include(if: true)")


@pytest.mark.parametrize("query", [PULL, PULL_NORMAL], ids=["fast", "normal"])
@pytest.mark.parametrize("updated_at", [1e19, -1e19, 2.0**63, -1.0, 1e308])
async def test_checkpoint_outside_the_stamp_range_is_a_cursor_error(
    api: Api, world: World, query: str, updated_at: float
) -> None:
    token = await api.login("officer.meigui")

    body = await api(
        query, {"cp": {"id": "x", "updatedAt": updated_at}, "n": 10}, token, expect_errors=True
    )

    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", body
    assert [(p["field"], p["code"]) for p in error["extensions"]["problems"]] == [
        ("checkpoint", "cursor")
    ]


@pytest.mark.parametrize("updated_at", [0.0, 2.0**63 - 1024])
async def test_checkpoint_at_the_ends_of_the_stamp_range_is_served(
    api: Api, world: World, updated_at: float
) -> None:
    token = await api.login("officer.meigui")

    body = await api(PULL, {"cp": {"id": "", "updatedAt": updated_at}, "n": 10}, token)

    assert body["data"]["pullVisit"]["documents"] == []


@pytest.mark.parametrize(
    ("limit", "code"),
    [
        (0, "BAD_USER_INPUT"),
        (-1, "BAD_USER_INPUT"),
        (1001, "BAD_USER_INPUT"),
        (2**31 - 1, "BAD_USER_INPUT"),
        # Beyond what GraphQL's Int represents: refused while coercing the variables.
        (2**31, "GRAPHQL_VALIDATION_FAILED"),
        (1e19, "GRAPHQL_VALIDATION_FAILED"),
    ],
)
async def test_pull_limit_outside_its_range_is_a_typed_error(
    api: Api, world: World, limit: float, code: str
) -> None:
    token = await api.login("officer.meigui")

    body = await api(PULL, {"cp": None, "n": limit}, token, expect_errors=True)

    assert [e["extensions"]["code"] for e in body["errors"]] == [code], body
