"""Smart assessment over GraphQL: inspectors' writes, access per role, typed errors, the catalog
total, the trend, and the ranking's statement count."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from sqlalchemy import func, select

from core.clock import FrozenClock
from core.db import Sessionmaker
from core.settings import Settings
from demo.seed import seed_catalogs
from models import BranchKind, ManualScore, ScoreAdjustment
from schema.node import to_global_id
from tests.conftest import Api, Builders, World
from tests.schema.test_statement_count import counting

SCORES = "scores { code score baseScore adjustment applicable explanation }"
SET_MANUAL = f"""
mutation($input: SetManualScoreInput!) {{
  setManualScore(input: $input) {{
    __typename
    ... on ManualScoreSaved {{
      manualScore {{ itemCode period score reason inspector current }}
      assessment {{ total {SCORES} }}
    }}
    ... on InvalidInput {{ errors {{ field code message }} }}
  }}
}}"""
ADJUST = """
mutation($input: AdjustScoreInput!) {
  adjustScore(input: $input) {
    __typename
    ... on ScoreAdjusted { adjustment { itemCode delta reason inspector } assessment { total } }
    ... on InvalidInput { errors { field code } }
  }
}"""
ASSESSMENT = f"""
query($period: String!, $branch: ID!) {{
  assessment(period: $period, branchId: $branch) {{
    branch {{ name }} period periodLabel total points totalAdjustment {SCORES}
    history {{
      manualScores {{ itemCode score reason inspector current supersededAt }}
      adjustments {{ itemCode delta reason inspector }}
    }}
  }}
}}"""
RANKING = """
query($period: String!, $branch: ID) {
  assessmentRanking(period: $period, branchId: $branch) {
    period periodLabel rankedCount
    items { code points ruleKind params }
    rows { rank total branch { name } scores { code score explanation } }
  }
}"""
UPDATE_ONE = """
mutation($input: UpdateAssessmentItemInput!) {
  updateAssessmentItem(input: $input) {
    __typename
    ... on AssessmentItemsUpdated { items { code points params } }
    ... on InvalidInput { errors { field code } }
  }
}"""
UPDATE_MANY = """
mutation($input: [UpdateAssessmentItemInput!]!) {
  updateAssessmentItems(input: $input) {
    __typename
    ... on AssessmentItemsUpdated { items { code points params } }
    ... on InvalidInput { errors { field code } }
  }
}"""


@pytest.fixture
def app_settings(settings: Settings) -> Settings:
    """The statement count measures execution, so the response cache is off."""
    return dataclasses.replace(settings, response_cache_entries=0)


@pytest.fixture
async def seeded(sessionmaker: Sessionmaker, clock: FrozenClock, world: World) -> World:
    await seed_catalogs(sessionmaker, clock)
    return world


def gid(branch: Any) -> str:
    return str(to_global_id("Branch", branch.id))


async def written(sessionmaker: Sessionmaker) -> tuple[int, int]:
    async with sessionmaker() as db:
        manual = await db.scalar(select(func.count()).select_from(ManualScore))
        adjustments = await db.scalar(select(func.count()).select_from(ScoreAdjustment))
    return int(manual or 0), int(adjustments or 0)


async def test_inspector_scores_adjusts_and_reads_the_history(api: Api, seeded: World) -> None:
    token = await api.login("inspector")
    branch = gid(seeded.meigui)
    for value, reason in ((4, "初评"), (5.5, "复核")):
        body = await api(
            SET_MANUAL,
            {"input": {"branchId": branch, "period": "2026", "itemCode": "A28", "score": value,
                       "reason": reason}},
            token=token,
        )  # fmt: skip
        saved = body["data"]["setManualScore"]
        assert saved["__typename"] == "ManualScoreSaved"
    assert saved["manualScore"] == {
        "itemCode": "A28", "period": "2026", "score": 5.5, "reason": "复核",
        "inspector": "inspector", "current": True,
    }  # fmt: skip
    [a28] = [s for s in saved["assessment"]["scores"] if s["code"] == "A28"]
    assert a28["explanation"] == "A28 督导综合评价: 督导评分(复核) → 5.5/6"

    body = await api(
        ADJUST,
        {"input": {"branchId": branch, "period": "2026", "itemCode": "A28", "delta": 2,
                   "reason": "案例入选全市汇编"}},
        token=token,
    )  # fmt: skip
    adjusted = body["data"]["adjustScore"]
    assert adjusted["adjustment"] == {
        "itemCode": "A28", "delta": 2.0, "reason": "案例入选全市汇编", "inspector": "inspector"
    }  # fmt: skip
    assert adjusted["assessment"]["total"] == saved["assessment"]["total"] + 0.5  # capped at 6

    body = await api(ASSESSMENT, {"period": "2026", "branch": branch}, token=token)
    result = body["data"]["assessment"]
    assert (result["periodLabel"], result["points"], len(result["scores"])) == ("2026年", 100, 28)
    history = result["history"]
    assert [(m["score"], m["current"]) for m in history["manualScores"]] == [
        (5.5, True),
        (4.0, False),
    ]
    assert history["manualScores"][1]["supersededAt"] is not None
    assert [a["delta"] for a in history["adjustments"]] == [2.0]


async def test_access_per_role_over_graphql(
    api: Api, seeded: World, sessionmaker: Sessionmaker
) -> None:
    meigui, yushan = gid(seeded.meigui), gid(seeded.yushan)
    for username in ("admin", "inspector", "secretary.meigui", "officer.meigui"):
        token = await api.login(username)
        body = await api(ASSESSMENT, {"period": "2026-Q3", "branch": meigui}, token=token)
        assert body["data"]["assessment"]["branch"]["name"] == "玫瑰派出所党支部"
        body = await api(RANKING, {"period": "2026-Q3"}, token=token)
        rows = body["data"]["assessmentRanking"]["rows"]
        assert body["data"]["assessmentRanking"]["rankedCount"] == 2
        body = await api(
            ASSESSMENT, {"period": "2026-Q3", "branch": yushan}, token=token, expect_errors=True
        )
        if username in ("admin", "inspector"):
            assert len(rows) == 2 and "errors" not in body
        else:
            assert [r["branch"]["name"] for r in rows] == ["玫瑰派出所党支部"]
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
            for mutation, extra in ((SET_MANUAL, {"score": 1}), (ADJUST, {"delta": 1})):
                body = await api(
                    mutation,
                    {"input": {"branchId": meigui, "period": "2026", "itemCode": "A28",
                               "reason": "自评"} | extra},
                    token=token,
                    expect_errors=True,
                )  # fmt: skip
                assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    token = await api.login("inspector")
    body = await api(UPDATE_ONE, {"input": {"code": "A28", "name": "x"}}, token=token,
                     expect_errors=True)  # fmt: skip
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await written(sessionmaker) == (0, 0)


async def test_typed_errors_over_graphql_write_nothing(
    api: Api, seeded: World, sessionmaker: Sessionmaker
) -> None:
    token = await api.login("inspector")
    body = await api(
        SET_MANUAL,
        {"input": {"branchId": gid(seeded.meigui), "period": "2026年", "itemCode": "A17",
                   "score": 9, "reason": ""}},
        token=token,
    )  # fmt: skip
    errors = body["data"]["setManualScore"]["errors"]
    assert sorted((e["field"], e["code"]) for e in errors) == [
        ("itemCode", "INVALID_KIND"),
        ("period", "INVALID_PERIOD"),
        ("reason", "REQUIRED"),
    ]
    body = await api(
        SET_MANUAL,
        {"input": {"branchId": gid(seeded.meigui), "period": "2026-Q2", "itemCode": "A24",
                   "score": 3.5, "reason": "超出分值"}},
        token=token,
    )  # fmt: skip
    assert body["data"]["setManualScore"]["errors"][0]["code"] == "OUT_OF_RANGE"
    body = await api(
        ADJUST,
        {"input": {"branchId": gid(seeded.meigui), "period": "2026", "itemCode": "Z01",
                   "delta": 1, "reason": "未知项目"}},
        token=token,
    )  # fmt: skip
    assert body["data"]["adjustScore"]["errors"] == [{"field": "itemCode", "code": "NOT_FOUND"}]
    body = await api(
        RANKING, {"period": "2026-7"}, token=token, expect_errors=True
    )  # a query: a GraphQL error with the field's problem
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert await written(sessionmaker) == (0, 0)


async def test_catalog_edits_keep_the_total_at_100(api: Api, seeded: World) -> None:
    token = await api.login("admin")
    body = await api(UPDATE_ONE, {"input": {"code": "A28", "points": 7}}, token=token)
    assert body["data"]["updateAssessmentItem"]["errors"] == [
        {"field": "points", "code": "POINTS_TOTAL"}
    ]
    body = await api(
        UPDATE_ONE,
        {"input": {"code": "A20", "params": {"metric": "night_patrols", "target": 24,
                                            "period_scale": "year"}}},
        token=token,
    )  # fmt: skip
    [a20] = body["data"]["updateAssessmentItem"]["items"]
    assert a20["params"] == {
        "metric": "night_patrols", "target": 24, "per": None, "period_scale": "year"
    }  # fmt: skip
    body = await api(
        UPDATE_MANY,
        {"input": [{"code": "A28", "points": 5}, {"code": "A27", "points": 3}]},
        token=token,
    )
    assert [i["points"] for i in body["data"]["updateAssessmentItems"]["items"]] == [5, 3]
    body = await api(RANKING, {"period": "2026"}, token=token)
    items = {i["code"]: i for i in body["data"]["assessmentRanking"]["items"]}
    assert (items["A28"]["points"], items["A27"]["points"]) == (5, 3)
    assert items["A02"]["params"] == {"ledger_item": "L02"}
    assert items["A02"]["ruleKind"] == "LEDGER_FREQUENCY"


async def test_trend_over_graphql(api: Api, seeded: World) -> None:
    token = await api.login("secretary.meigui")
    body = await api(
        """query($branch: ID!) {
             assessmentTrend(branchId: $branch, year: 2026, granularity: QUARTER) {
               branch { name } year granularity points { period periodLabel total }
             }
           }""",
        {"branch": gid(seeded.meigui)},
        token=token,
    )
    trend = body["data"]["assessmentTrend"]
    assert trend["granularity"] == "QUARTER"
    assert [p["periodLabel"] for p in trend["points"]] == [
        "2026年第一季度",
        "2026年第二季度",
        "2026年第三季度",
        "2026年第四季度",
    ]


async def test_ranking_statement_count_does_not_grow_with_branches(
    api: Api, app: Any, seeded: World, make: Builders
) -> None:
    token = await api.login("admin")
    await api("{ me { account { username } } }", token=token)  # the viewer is cached from here

    async def statements() -> tuple[int, int]:
        with counting(app) as seen:
            body = await api(RANKING, {"period": "2026"}, token=token)
        return len(seen), len(body["data"]["assessmentRanking"]["rows"])

    small, two = await statements()
    for i in range(10):
        branch = await make.branch(seeded.organ, name=f"扩展派出所{i}", sort_order=10 + i)
        await make.member(await make.branch(branch, BranchKind.GROUP, name=f"扩展党小组{i}"))
    large, twelve = await statements()
    assert (two, twelve) == (2, 12)
    assert small == large


async def test_a_secretary_reads_what_is_scored_what_is_pending_and_a24s_suggestion(
    api: Api, seeded: World
) -> None:
    secretary = await api.login("secretary.meigui")
    for n in range(1, 8):  # 玫瑰 meets all seven criteria of 六有一规范
        body = await api(
            """mutation($b: ID!, $c: String!) { setBrandChecklistItem(input: {
                 branchId: $b, criterionCode: $c, status: MET, evidence: "见附件" }) { __typename } }""",
            {"b": gid(seeded.meigui), "c": f"B{n}"},
            token=secretary,
        )
        assert body["data"]["setBrandChecklistItem"]["__typename"] == "BrandChecklistItemPayload"
    query = """query($branch: ID!) { assessment(period: "2026-Q4", branchId: $branch) {
      total points
      progress { provisionalTotal scoredPoints pendingCount pendingPoints }
      scores { code score pending suggestedScore suggestion }
    } }"""

    body = await api(query, {"branch": gid(seeded.meigui)}, token=secretary)

    result = body["data"]["assessment"]
    pending = {s["code"]: s for s in result["scores"] if s["pending"]}
    assert sorted(pending) == ["A24", "A27", "A28"]
    assert pending["A24"]["suggestedScore"] == 3.0
    assert "7/7" in pending["A24"]["suggestion"]
    assert pending["A28"]["suggestedScore"] is None
    progress = result["progress"]
    assert (progress["pendingCount"], progress["pendingPoints"]) == (3, 11)
    assert progress["scoredPoints"] == result["points"] - 11
    # Pending items count 0 in the total, so the provisional total equals it here, but out of
    # the 89 points scored rather than 100.
    assert progress["provisionalTotal"] == result["total"]

    # Once the inspector scores A24 it is no longer pending, and the suggestion stays beside it.
    inspector = await api.login("inspector")
    await api(
        SET_MANUAL,
        {"input": {"branchId": gid(seeded.meigui), "period": "2026-Q4", "itemCode": "A24",
                   "score": 3, "reason": "六有一规范全部达标"}},
        token=inspector,
    )  # fmt: skip
    body = await api(query, {"branch": gid(seeded.meigui)}, token=secretary)
    result = body["data"]["assessment"]
    [a24] = [s for s in result["scores"] if s["code"] == "A24"]
    assert (a24["pending"], a24["score"], a24["suggestedScore"]) == (False, 3.0, 3.0)
    assert result["progress"]["pendingCount"] == 2
    assert result["progress"]["scoredPoints"] == result["points"] - 8
