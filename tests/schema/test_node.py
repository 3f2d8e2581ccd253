"""`node(id:)`: every type implementing Node refetches, and only what the viewer may list."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLInterfaceType, build_schema

from core.clock import FrozenClock
from core.db import Sessionmaker
from demo.seed import seed_catalogs
from schema import sdl
from schema.node import refetchable_types, to_global_id
from tests.conftest import Api, World
from tests.schema.test_statement_count import counting

REFETCH = """query($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Member { name } ... on Branch { name }
    ... on LedgerItem { code } ... on AssessmentItem { code }
  }
}"""


def node_types() -> set[str]:
    built = build_schema(sdl())
    node = built.get_type("Node")
    assert isinstance(node, GraphQLInterfaceType)
    return {t.name for t in built.get_possible_types(node)}


def test_every_node_type_is_refetchable() -> None:
    types = node_types()
    assert len(types) >= 20
    assert types == set(refetchable_types())


async def refetch(api: Api, token: str, id: str) -> Any:
    body = await api(REFETCH, {"id": id}, token=token)
    return body["data"]["node"]


async def test_node_refetches_what_the_lists_show(
    api: Api, world: World, sessionmaker: Sessionmaker, clock: FrozenClock
) -> None:
    await seed_catalogs(sessionmaker, clock)
    token = await api.login("admin")
    lists = await api(
        "{ ledgerItems { __typename id code } assessmentItems { __typename id code }"
        " members(first: 3) { nodes { __typename id name } }"
        " branches(first: 3) { nodes { __typename id name } } }",
        token=token,
    )
    shown = [
        *lists["data"]["ledgerItems"][:3],
        *lists["data"]["assessmentItems"][:3],
        *lists["data"]["members"]["nodes"],
        *lists["data"]["branches"]["nodes"],
    ]
    assert len(shown) == 12
    for row in shown:
        assert await refetch(api, token, row["id"]) == row


async def test_node_hides_what_the_list_hides(api: Api, world: World) -> None:
    far_member = to_global_id("Member", world.yushan_member.id)
    far_branch = to_global_id("Branch", world.yushan.id)
    officer = await api.login("officer.meigui")
    admin = await api.login("admin")
    listed = await api("{ members(first: 50) { nodes { id } } }", token=officer)
    assert far_member not in {n["id"] for n in listed["data"]["members"]["nodes"]}
    assert await refetch(api, officer, far_member) is None
    assert (await refetch(api, admin, far_member))["name"] == world.yushan_member.name
    assert (await refetch(api, admin, far_branch))["name"] == world.yushan.name
    other_account = to_global_id("Account", world.admin.id)
    assert await refetch(api, officer, other_account) is None


async def test_node_issues_a_bounded_number_of_statements(api: Api, app: Any, world: World) -> None:
    token = await api.login("admin")
    member = to_global_id("Member", world.yushan_member.id)
    await refetch(api, token, member)  # warms the viewer cache
    with counting(app) as statements:
        await refetch(api, token, to_global_id("Member", world.meigui_member.id))
    assert 1 <= len(statements) <= 3
