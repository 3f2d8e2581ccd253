"""Nested fields are batched: the statement count of a query does not grow with the data."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from core.settings import Settings
from models import PartyStatus
from tests.conftest import Api, Builders, World


@pytest.fixture
def app_settings(settings: Settings) -> Settings:
    """These tests measure query batching, so the response cache is off."""
    return dataclasses.replace(settings, response_cache_entries=0)


COUNTY_OVERVIEW = """
query CountyOverview {
  branches(first: 100) {
    totalCount
    edges {
      node {
        id name kind brandName
        parent { id name }
        children { id name }
        members { id name post partyStatus branch { id name } }
      }
    }
  }
}
"""


@contextmanager
def counting(app: Any) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def overview_statements(api: Api, app: Any, token: str) -> tuple[int, dict[str, Any]]:
    # The viewer is cached for a few seconds only, and building a large county can take longer
    # on a loaded machine: load it now, so only the overview's own statements are counted.
    await api("{ me { account { username } } }", token=token)
    with counting(app) as statements:
        body = await api(COUNTY_OVERVIEW, token=token)
    return len(statements), body


async def test_county_overview_statement_count_does_not_grow_with_data(
    api: Api, app: Any, world: World, make: Builders
) -> None:
    token = await api.login("admin")
    await api("{ me { account { username } } }", token=token)  # the viewer is cached from here on

    small, body = await overview_statements(api, app, token)
    assert body["data"]["branches"]["totalCount"] == 6

    for i in range(12):
        branch = await make.branch(world.organ, name=f"扩展派出所{i}", sort_order=20 + i)
        await make.branch(branch, name=f"扩展党小组{i}")
        for j in range(6):
            await make.member(branch, name=f"党员{i}-{j}", party_status=PartyStatus.PROBATIONARY)

    large, body = await overview_statements(api, app, token)
    assert body["data"]["branches"]["totalCount"] == 30
    members = sum(len(e["node"]["members"]) for e in body["data"]["branches"]["edges"])
    assert members == 4 + 72
    # The page, totalCount, children and members; parents and members' branches are answered
    # by the branches already fetched (the loader is primed with them).
    assert small == large == 4


async def test_member_connection_statement_count_is_constant(
    api: Api, app: Any, world: World, make: Builders
) -> None:
    query = "{ members(first: 50) { totalCount edges { node { name branch { name } taskUnits { name } } } } }"
    token = await api.login("admin")
    await api("{ me { account { username } } }", token=token)
    with counting(app) as small:
        await api(query, token=token)
    for i in range(20):
        await make.member(world.yushan, name=f"新党员{i}")
    with counting(app) as large:
        body = await api(query, token=token)
    assert body["data"]["members"]["totalCount"] == 24
    assert len(small) == len(large) == 4


async def test_competing_versions_of_a_list_are_read_in_one_statement(
    api: Api, app: Any, world: World
) -> None:
    from tests.schema.test_sync import push, visit

    query = """{
      visits(first: 50) {
        nodes { id competingVersions { field lines username memberName } }
      }
    }"""
    officer = await api.login("officer.meigui")
    secretary = await api.login("secretary.meigui")
    await api("{ me { account { username } } }", token=secretary)

    async def conflicted() -> None:
        base = visit(world, concerns="路灯坏了\n待处理")
        await push(api, officer, (None, base))
        await push(api, secretary, (base, {**base, "concerns": "路灯坏了\n已派电工"}))
        await push(api, officer, (base, {**base, "concerns": "路灯坏了\n已修复"}))

    await conflicted()
    with counting(app) as small:
        body = await api(query, token=secretary)
    for _ in range(12):
        await conflicted()
    with counting(app) as large:
        body = await api(query, token=secretary)
    nodes = body["data"]["visits"]["nodes"]
    assert [len(n["competingVersions"]) for n in nodes] == [1] * 13
    # The page, and one batch of competing versions for all its visits.
    assert len(small) == len(large) == 2


async def test_field_record_connections_statement_count_is_constant(
    api: Api, app: Any, world: World, make: Builders
) -> None:
    from tests.schema.test_sync import push, visit

    query = """{
      visits(first: 50) { totalCount nodes { id officer { name branch { name } } branch { name } } }
      patrols(first: 50) { nodes { participants { name } officer { name } } }
    }"""
    token = await api.login("admin")
    await api("{ me { account { username } } }", token=token)
    await push(api, token, (None, visit(world)))
    with counting(app) as small:
        await api(query, token=token)
    branch = await make.branch(world.organ, name="扩展派出所")
    from schema.node import to_global_id

    for i in range(15):
        member = await make.member(branch, name=f"走访民警{i}")
        doc = visit(
            world,
            branchId=to_global_id("Branch", branch.id),
            officerId=to_global_id("Member", member.id),
        )
        await push(api, token, (None, doc))
    with counting(app) as large:
        body = await api(query, token=token)
    assert body["data"]["visits"]["totalCount"] == 16
    # Two pages, one count, one batch of members, one of branches (the patrol page is empty).
    assert len(small) == len(large) == 5


async def test_patrol_and_service_action_participants_are_read_in_batches(
    api: Api, app: Any, world: World, make: Builders
) -> None:
    from schema.node import to_global_id
    from tests.schema.test_field_record import create, patrol, service_action

    query = """{
      patrols(first: 50) { nodes { id track { at } participants { name member { id } } } }
      serviceActions(first: 50) { nodes { id participants { name kind } } }
    }"""
    token = await api.login("admin")
    await api("{ me { account { username } } }", token=token)

    async def grow(n: int) -> None:
        for i in range(n):
            member = await make.member(world.meigui, name=f"巡逻队员{i}")
            crew = to_global_id("Member", member.id)
            await create(api, token, "Patrol", patrol(world, participants=f'["{crew}"]'))
            people = f'[{{"memberId": "{crew}"}}, {{"name": "志愿者{i}"}}]'
            await create(api, token, "ServiceAction", service_action(world, participants=people))

    await grow(1)
    with counting(app) as small:
        await api(query, token=token)
    await grow(6)
    with counting(app) as large:
        body = await api(query, token=token)
    assert len(body["data"]["patrols"]["nodes"]) == 7
    assert all(n["participants"] for n in body["data"]["serviceActions"]["nodes"])
    # Two pages and one batch of members for every participant of both.
    assert len(small) == len(large) <= 4
