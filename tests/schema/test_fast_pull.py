"""The pull fast path (schema/fast_pull.py) answers exactly as normal execution would.

Normal execution is reached with the same document plus `@include(if: true)` on the root field:
the directive changes nothing in the result, and the fast path leaves every directive alone.
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.response_cache import CACHE_LOOKUPS
from core.settings import Settings
from schema.fast_pull import FAST_PULLS
from schema.node import to_global_id
from sync import collection as collections
from tests.conftest import Api, ClientFor, World
from tests.schema.test_sync import push, visit

REQUEST_ID = "fast-pull-test"
ALIASES = ("a", "b", "doc", "x_1", "updatedAt", "id", "village")


@pytest.fixture
async def app_settings(settings: Settings) -> Settings:
    # Off, so that every request executes (a cached answer would skip both paths).
    return dataclasses.replace(settings, response_cache_entries=0)


def answered() -> float:
    return float(FAST_PULLS.labels("answered")._value.get())


def cache_lookups() -> float:
    return sum(
        s.value
        for metric in CACHE_LOOKUPS.collect()
        for s in metric.samples
        if s.name.endswith("_total")
    )


async def post(api: Api, query: str, variables: dict[str, Any], token: str | None) -> bytes:
    headers = {"x-request-id": REQUEST_ID}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response: httpx.Response = await api.client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    return response.content


@dataclass
class Seeded:
    token: str
    checkpoints: list[dict[str, Any]]


async def seed(api: Api, world: World) -> Seeded:
    token = await api.login("officer.meigui")
    docs = [
        visit(world, village=f"村{i}", household=None if i % 2 else "李家", peopleReached=i)
        for i in range(6)
    ]
    docs.append(visit(world, concerns="修路", resolution="已协调", deleted=True))
    for doc in docs:
        assert await push(api, token, (None, doc)) == []
    body = await api(
        "query { pullVisit(limit: 100) { documents { id updatedAt } } }", {}, token=token
    )
    pulled = body["data"]["pullVisit"]["documents"]
    return Seeded(token, [{"id": d["id"], "updatedAt": d["updatedAt"]} for d in pulled])


@dataclass(frozen=True)
class Pull:
    """A generated pull query and its variables."""

    query: str
    normal: str  # the same with @include(if: true) on the root field
    variables: dict[str, Any]


def _selection(draw: st.DrawFn, names: tuple[str, ...], required: bool) -> str:
    chosen = draw(
        st.lists(st.sampled_from((*names, "__typename")), unique=True, min_size=int(required))
    )
    keys: set[str] = set()
    parts = []
    for name in chosen:
        alias = draw(st.none() | st.sampled_from(ALIASES))
        key = alias or name
        if key in keys:  # a repeated key is another test's business (it falls back)
            alias, key = None, name
        if key in keys:
            continue
        keys.add(key)
        parts.append(f"{alias}: {name}" if alias else name)
    return " ".join(parts) or "__typename"


@st.composite
def pulls(draw: st.DrawFn, checkpoints: list[dict[str, Any]]) -> Pull:
    collection = draw(
        st.sampled_from((collections.VISIT, collections.PATROL, collections.SERVICE_ACTION))
    )
    name = collection.name
    variables: dict[str, Any] = {}
    definitions: list[str] = []

    limit = draw(st.integers(1, 9))
    if draw(st.booleans()):
        definitions.append("$limit: Int!")
        variables["limit"] = limit
        arguments = ["limit: $limit"]
    else:
        arguments = [f"limit: {limit}"]

    checkpoint = draw(st.none() | st.sampled_from(checkpoints))
    how = draw(st.sampled_from(("omitted", "literal", "variable", "null")))
    if how == "variable":
        definitions.append(f"$cp: {name}InputCheckpoint")
        variables["cp"] = checkpoint
        arguments.insert(draw(st.integers(0, 1)), "checkpoint: $cp")
    elif how == "literal" and checkpoint is not None:
        stamp = checkpoint["updatedAt"]
        # Int and Float literals both coerce to Float.
        printed = str(int(stamp)) if draw(st.booleans()) else repr(float(stamp))
        arguments.append(f'checkpoint: {{updatedAt: {printed}, id: "{checkpoint["id"]}"}}')
    elif how == "null":
        arguments.append("checkpoint: null")

    parts = []
    for part in draw(st.permutations(("documents", "checkpoint", "__typename"))):
        if not draw(st.booleans()) and part != "documents":
            continue
        alias = draw(st.none() | st.sampled_from(("docs", "cp", "t")))
        head = f"{alias}: {part}" if alias else part
        if part == "documents":
            parts.append(f"{head} {{ {_selection(draw, collection.wire_names, True)} }}")
        elif part == "checkpoint":
            parts.append(f"{head} {{ {_selection(draw, ('id', 'updatedAt'), True)} }}")
        else:
            parts.append(head)
    if len({p.split(":")[0].split(" ")[0] for p in parts}) != len(parts):
        parts = parts[:1]  # two aliases alike: keep it simple, one part

    root_alias = draw(st.none() | st.just("page"))
    root = f"{root_alias + ': ' if root_alias else ''}pull{name}({', '.join(arguments)})"
    header = draw(st.sampled_from(("query", "query Pull", "")))
    if definitions:
        header = (header or "query") + f"({', '.join(definitions)})"
    body = f"{{ {' '.join(parts)} }}"
    return Pull(
        query=f"{header} {{ {root} {body} }}",
        normal=f"{header} {{ {root} @include(if: true) {body} }}",
        variables=variables,
    )


@settings(
    max_examples=int(os.environ.get("FAST_PULL_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_fast_path_bytes_equal_normal_execution(
    api: Api, world: World, data: st.DataObject
) -> None:
    # Seeded once per test run: hypothesis reuses the function-scoped fixtures across examples.
    if not hasattr(world, "_seeded"):
        object.__setattr__(world, "_seeded", await seed(api, world))
    seeded: Seeded = world._seeded  # type: ignore[attr-defined]
    pull = data.draw(pulls(seeded.checkpoints))
    before = answered()
    fast = await post(api, pull.query, pull.variables, seeded.token)
    assert answered() == before + 1, pull.query
    normal = await post(api, pull.normal, pull.variables, seeded.token)
    assert answered() == before + 1
    assert fast == normal, pull.query
    assert b'"errors"' not in fast


async def test_full_rxdb_page_is_answered_fast_and_identically(api: Api, world: World) -> None:
    seeded = await seed(api, world)
    fields = " ".join(collections.VISIT.wire_names)
    body = "{ documents { " + fields + " } checkpoint { id updatedAt } }"
    head = "query($checkpoint: VisitInputCheckpoint, $limit: Int!)"
    args = "(checkpoint: $checkpoint, limit: $limit)"
    variables = {"checkpoint": seeded.checkpoints[1], "limit": 3}
    before = answered()
    fast = await post(api, f"{head} {{ pullVisit{args} {body} }}", variables, seeded.token)
    normal = await post(
        api, f"{head} {{ pullVisit{args} @include(if: true) {body} }}", variables, seeded.token
    )
    assert answered() == before + 1
    assert fast == normal
    assert fast.count(b'"village"') == 3


@pytest.mark.parametrize(
    "query",
    [
        # a fragment spread, an inline fragment, a directive below the root
        "query { pullVisit(limit: 5) { ...Page } } fragment Page on VisitPullBulk { __typename }",
        "query { pullVisit(limit: 5) { ... on VisitPullBulk { documents { id } } } }",
        "query { pullVisit(limit: 5) { documents { id @skip(if: false) } } }",
        # a repeated response key, which graphql-core merges
        "query { pullVisit(limit: 5) { documents { id } documents { village } } }",
        # two root fields
        "query { pullVisit(limit: 5) { __typename } pullPatrol(limit: 5) { __typename } }",
        "query { __typename pullVisit(limit: 5) { __typename } }",
    ],
)
async def test_unrecognised_documents_take_the_normal_path(
    api: Api, world: World, query: str
) -> None:
    token = await api.login("officer.meigui")
    await push(api, token, (None, visit(world)))
    before = answered()
    body = await api(query, {}, token=token)
    assert answered() == before
    assert body["data"] is not None


@pytest.mark.parametrize(
    ("limit", "login"),
    [(5000, True), (0, True), (5, False)],
    ids=["limit-too-large", "limit-zero", "unauthenticated"],
)
async def test_refusals_come_from_normal_execution_identically(
    api: Api, world: World, limit: int, login: bool
) -> None:
    token = await api.login("officer.meigui") if login else None
    query = "query($n: Int!) { pullVisit(limit: $n) { documents { id } } }"
    normal = "query($n: Int!) { pullVisit(limit: $n) @include(if: true) { documents { id } } }"
    before = answered()
    fast = await post(api, query, {"n": limit}, token)
    assert answered() == before
    assert fast == await post(api, normal, {"n": limit}, token)
    assert b'"errors"' in fast


async def test_variables_that_do_not_coerce_are_refused_as_before(api: Api, world: World) -> None:
    token = await api.login("officer.meigui")
    query = "query($n: Int!) { pullVisit(limit: $n) { documents { id } } }"
    normal = "query($n: Int!) { pullVisit(limit: $n) @include(if: true) { documents { id } } }"
    fast = await post(api, query, {"n": "ten"}, token)
    assert fast == await post(api, normal, {"n": "ten"}, token)
    assert b'"errors"' in fast


async def test_pull_of_a_scope_exit_removal_is_identical(api: Api, world: World) -> None:
    """A removal is a tombstone built from a stored document: another source of rows."""
    secretary = await api.login("secretary.meigui")
    officer = await api.login("officer.meigui")
    doc = visit(world, id=str(uuid.uuid4()))
    await push(api, officer, (None, doc))
    moved = {**doc, "branchId": to_global_id("Branch", world.meigui_group.id)}
    await push(api, secretary, (doc, moved))
    query = "query { pullVisit(limit: 10) { documents { id deleted branchId } checkpoint { id } } }"
    normal = query.replace("limit: 10)", "limit: 10) @include(if: true)")
    fast = await post(api, query, {}, officer)
    assert fast == await post(api, normal, {}, officer)
    assert b'"deleted":true' in fast


async def test_fast_pulls_bypass_the_response_cache(
    client_for: ClientFor, settings: Settings, world: World
) -> None:
    assert settings.response_cache_entries > 0
    cached_api = Api(await client_for(settings))
    seeded = await seed(cached_api, world)
    query = "query { pullVisit(limit: 3) { documents { id village } checkpoint { id } } }"
    lookups = cache_lookups()
    before = answered()
    first = await post(cached_api, query, {}, seeded.token)
    second = await post(cached_api, query, {}, seeded.token)
    assert answered() == before + 2
    assert first == second
    assert cache_lookups() == lookups  # neither looked up nor stored
    # Normal execution of the same pull still goes through the cache.
    normal = query.replace("limit: 3)", "limit: 3) @include(if: true)")
    assert await post(cached_api, normal, {}, seeded.token) == first
    assert cache_lookups() == lookups + 1
