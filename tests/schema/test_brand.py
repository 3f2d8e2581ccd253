"""Brand building over GraphQL: the matrix in a constant number of statements, checklist
mutations with typed errors, and honours removed by id."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date
from typing import Any

import pytest

from core.clock import FrozenClock
from core.db import Sessionmaker, writing
from core.settings import Settings
from models import BranchHonour, HonourLevel
from resolvers.brand import ensure_brand_criteria
from schema.node import to_global_id
from tests.conftest import Api, Builders, World
from tests.schema.test_statement_count import counting


@pytest.fixture
def app_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, response_cache_entries=0)


@pytest.fixture
async def criteria(sessionmaker: Sessionmaker, clock: FrozenClock) -> None:
    async with writing(sessionmaker) as db:
        await ensure_brand_criteria(db, clock())


MATRIX = """query($subtreeOf: ID) {
  brandMatrix(subtreeOf: $subtreeOf) {
    completeCount
    criteria { code name }
    rows {
      branch { name parent { name } }
      brandName brandSlogan metCount complete
      honours { county city province national total }
      cells { criterion { code } status statusLabel evidence evidenceLinks }
    }
  }
}"""
SET_ITEM = """mutation($input: SetBrandChecklistItemInput!) {
  setBrandChecklistItem(input: $input) {
    __typename
    ... on BrandChecklistItemPayload { branch { name } cell { status statusLabel evidenceLinks } }
    ... on InvalidInput { errors { field code } }
  }
}"""


def item(world: World, code: str, status: str = "MET", **extra: Any) -> dict[str, Any]:
    return {
        "input": {
            "branchId": to_global_id("Branch", world.meigui.id),
            "criterionCode": code,
            "status": status,
            "evidence": "已建立",
            **extra,
        }
    }


async def test_matrix_statement_count_does_not_grow_with_branches(
    api: Api, app: Any, world: World, make: Builders, criteria: None
) -> None:
    token = await api.login("officer.meigui")
    await api("{ me { account { username } } }", token=token)
    with counting(app) as small:
        body = await api(MATRIX, token=token)
    assert len(body["data"]["brandMatrix"]["rows"]) == 2
    for i in range(10):
        branch = await make.branch(world.organ, name=f"扩展派出所{i}", brand_name=f"品牌{i}")
        async with writing(make.sessionmaker) as db:
            db.add(
                BranchHonour(
                    id=uuid.uuid4(),
                    branch_id=branch.id,
                    title="锦旗",
                    level=HonourLevel.COUNTY,
                    awarded_on=date(2026, 1, 1),
                    created_at=make.clock(),
                )
            )
    with counting(app) as large:
        body = await api(MATRIX, token=token)
    matrix = body["data"]["brandMatrix"]
    assert len(matrix["rows"]) == 12
    assert sum(r["honours"]["county"] for r in matrix["rows"]) == 10
    # Branches, criteria, checklist items, honour counts, and the parents (one batch: the
    # organ committee is not in the matrix, so the primed loader does not hold it).
    assert len(small) == len(large) == 5


async def test_secretary_sets_items_and_the_matrix_shows_them(
    api: Api, world: World, criteria: None
) -> None:
    token = await api.login("secretary.meigui")
    for code in ("B1", "B2", "B3", "B4", "B5", "B6", "B7"):
        body = await api(SET_ITEM, item(world, code, evidenceLinks=[f"{code}.pdf"]), token=token)
        assert body["data"]["setBrandChecklistItem"]["cell"]["statusLabel"] == "已达标"
    body = await api(MATRIX, {"subtreeOf": to_global_id("Branch", world.meigui.id)}, token=token)
    [row] = body["data"]["brandMatrix"]["rows"]
    assert (row["brandName"], row["metCount"], row["complete"]) == ("玫警初心", 7, True)
    assert row["cells"][0]["evidenceLinks"] == ["B1.pdf"]
    assert body["data"]["brandMatrix"]["completeCount"] == 1


async def test_checklist_errors_are_typed_and_field_addressed(
    api: Api, world: World, criteria: None
) -> None:
    token = await api.login("admin")
    body = await api(SET_ITEM, item(world, "B42"), token=token)
    assert body["data"]["setBrandChecklistItem"] == {
        "__typename": "InvalidInput",
        "errors": [{"field": "criterionCode", "code": "NOT_FOUND"}],
    }
    body = await api(SET_ITEM, item(world, "B1", evidence=None), token=token)
    assert body["data"]["setBrandChecklistItem"]["errors"] == [
        {"field": "evidence", "code": "REQUIRED"}
    ]
    officer = await api.login("officer.meigui")
    body = await api(SET_ITEM, item(world, "B1"), token=officer, expect_errors=True)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await api(MATRIX, token=token)
    assert body["data"]["brandMatrix"]["completeCount"] == 0
    assert all(
        c["status"] == "NOT_STARTED"
        for r in body["data"]["brandMatrix"]["rows"]
        for c in r["cells"]
    )


async def test_honours_are_removed_by_their_id(api: Api, world: World) -> None:
    token = await api.login("admin")
    added = await api(
        """mutation($input: AddHonourInput!) {
             addHonour(input: $input) { ... on HonourPayload { honour { id levelLabel } } }
           }""",
        {
            "input": {
                "branchId": to_global_id("Branch", world.yushan.id),
                "title": "全市标杆派出所",
                "level": "CITY",
                "awardedOn": "2024-01-01",
            }
        },
        token=token,
    )
    honour = added["data"]["addHonour"]["honour"]
    assert honour["levelLabel"] == "市级"
    remove = """mutation($input: RemoveHonourInput!) {
      removeHonour(input: $input) {
        __typename
        ... on BranchPayload { branch { name honours { title } } }
        ... on InvalidInput { errors { field code } }
      }
    }"""
    secretary = await api.login("secretary.meigui")
    refused = await api(
        remove, {"input": {"id": honour["id"]}}, token=secretary, expect_errors=True
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await api(remove, {"input": {"id": honour["id"]}}, token=token)
    assert body["data"]["removeHonour"]["branch"] == {"name": "榆山第二派出所党支部", "honours": []}
    again = await api(remove, {"input": {"id": honour["id"]}}, token=token)
    assert again["data"]["removeHonour"]["errors"] == [{"field": "id", "code": "NOT_FOUND"}]
