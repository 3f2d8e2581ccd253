"""Repeated queries are answered from the response cache, and never with data a write changed."""

from __future__ import annotations

from typing import Any

from core.clock import FrozenClock
from core.db import Sessionmaker
from models import DataVersion
from schema.node import to_global_id
from tests.conftest import Api, Builders, World
from tests.schema.test_statement_count import counting

MEMBERS = "{ members(first: 50) { totalCount nodes { name phone } } }"


async def test_repeated_query_costs_one_statement(api: Api, app: Any, world: World) -> None:
    token = await api.login("admin")
    first = await api(MEMBERS, token=token)
    with counting(app) as statements:
        second = await api(MEMBERS, token=token)
    assert second == first
    assert len(statements) == 1  # the data version, nothing else


async def test_cache_never_serves_data_a_write_changed(
    api: Api, world: World, make: Builders
) -> None:
    token = await api.login("admin")
    assert (await api(MEMBERS, token=token))["data"]["members"]["totalCount"] == 4
    await make.member(world.yushan, name="新来的党员")  # another session, as another process would
    assert (await api(MEMBERS, token=token))["data"]["members"]["totalCount"] == 5
    created = await api(
        """mutation($b: ID!) { createMember(input: {branchId: $b, name: "又一位"}) { __typename ... on InvalidInput { errors { field code } } } }""",
        {"b": str(to_global_id("Branch", world.meigui.id))},
        token=token,
    )
    assert created["data"]["createMember"]["__typename"] == "MemberPayload", created
    assert (await api(MEMBERS, token=token))["data"]["members"]["totalCount"] == 6


async def test_cache_is_per_viewer(api: Api, world: World) -> None:
    admin = await api.login("admin")
    inspector = await api.login("inspector")
    officer = await api.login("officer.meigui")
    by_admin = (await api(MEMBERS, token=admin))["data"]["members"]
    by_inspector = (await api(MEMBERS, token=inspector))["data"]["members"]
    by_officer = (await api(MEMBERS, token=officer))["data"]["members"]
    assert by_admin["totalCount"] == by_inspector["totalCount"] == 4
    assert "13900000004" in {m["phone"] for m in by_admin["nodes"]}
    assert "13900000004" not in {m["phone"] for m in by_inspector["nodes"]}
    assert by_officer["totalCount"] == 3


async def test_every_committed_write_moves_the_data_version(
    sessionmaker: Sessionmaker, world: World, make: Builders
) -> None:
    async with sessionmaker() as db:
        before = (await db.get(DataVersion, 1)).version  # type: ignore[union-attr]
    await make.member(world.meigui)
    async with sessionmaker() as db:
        after = (await db.get(DataVersion, 1)).version  # type: ignore[union-attr]
    assert after == before + 1


async def test_cached_response_expires_after_max_age(
    api: Api, app: Any, world: World, clock: FrozenClock
) -> None:
    token = await api.login("admin")
    await api(MEMBERS, token=token)
    with counting(app) as cached:
        await api(MEMBERS, token=token)
    clock.advance(seconds=app.state.settings.response_cache_seconds + 1)
    with counting(app) as expired:
        await api(MEMBERS, token=token)
    assert len(cached) == 1
    assert len(expired) > 1
