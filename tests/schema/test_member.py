"""The members and branches GraphQL surface: filters, cursors, global ids, typed errors."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from core.clock import FrozenClock
from core.db import Sessionmaker
from models import Member, PartyStatus, PersonnelType
from schema.node import to_global_id
from tests.conftest import Api, Builders, World

MEMBER_FIELDS = "id name partyStatus partyStatusLabel personnelType post policeNumber"


def gid(kind: str, row: Any) -> str:
    return str(to_global_id(kind, row.id))


async def member_count(sessionmaker: Sessionmaker) -> int:
    async with sessionmaker() as db:
        return int(await db.scalar(select(func.count()).select_from(Member)) or 0)


async def test_members_filters(api: Api, world: World, make: Builders) -> None:
    await make.member(
        world.yushan, name="钱辅警", personnel_type=PersonnelType.AUXILIARY, police_number="F1234"
    )
    await make.member(
        world.meigui, name="周积极", party_status=PartyStatus.ACTIVIST, police_number="556677"
    )
    token = await api.login("admin")

    async def names(args: str) -> list[str]:
        body = await api(f"{{ members({args}) {{ totalCount nodes {{ name }} }} }}", token=token)
        found = [n["name"] for n in body["data"]["members"]["nodes"]]
        assert body["data"]["members"]["totalCount"] == len(found)
        return sorted(found)

    assert await names("personnelType: AUXILIARY") == ["钱辅警"]
    assert await names("partyStatus: [ACTIVIST, CANDIDATE]") == ["周积极"]
    assert await names('search: "5566"') == ["周积极"]
    assert await names('search: "书记"') == ["王书记"]
    assert await names(f'branchId: "{gid("Branch", world.yushan)}"') == ["赵党员", "钱辅警"]
    assert len(await names(f'subtreeOf: "{gid("Branch", world.meigui)}"')) == 4


async def test_member_pages_chain_by_cursor(api: Api, world: World, make: Builders) -> None:
    for i in range(5):
        await make.member(world.yushan, name=f"吴党员{i}")
    token = await api.login("admin")
    seen: list[str] = []
    after = None
    while True:
        body = await api(
            "query($after: String) { members(first: 4, after: $after) {"
            " totalCount pageInfo { hasNextPage endCursor } edges { cursor node { name } } } }",
            {"after": after},
            token=token,
        )
        connection = body["data"]["members"]
        seen += [e["node"]["name"] for e in connection["edges"]]
        assert connection["totalCount"] == 9
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == 9


async def test_node_refetches_by_global_id(api: Api, world: World) -> None:
    token = await api.login("admin")
    member_id = gid("Member", world.yushan_member)
    body = await api(
        "query($id: ID!) { node(id: $id) { __typename id ... on Member { name branch { name } } } }",
        {"id": member_id},
        token=token,
    )
    assert body["data"]["node"] == {
        "__typename": "Member",
        "id": member_id,
        "name": "赵党员",
        "branch": {"name": "榆山第二派出所党支部"},
    }
    bad = await api('{ node(id: "bm90LWFuLWlk") { id } }', token=token, expect_errors=True)
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_branch_kind_filter_and_tree_fields(api: Api, world: World) -> None:
    token = await api.login("admin")
    body = await api(
        "{ branches(kind: BRANCH) { totalCount nodes { name kindLabel parent { name }"
        " children { name isTaskUnit } memberCount } } }",
        token=token,
    )
    branches = {b["name"]: b for b in body["data"]["branches"]["nodes"]}
    assert body["data"]["branches"]["totalCount"] == 2
    meigui = branches["玫瑰派出所党支部"]
    assert meigui["kindLabel"] == "党支部"
    assert meigui["parent"] == {"name": "机关党委"}
    assert {c["name"]: c["isTaskUnit"] for c in meigui["children"]} == {
        "玫瑰第一党小组": False,
        "民生小案攻坚小组": True,
    }
    assert meigui["memberCount"] == 3


CREATE_MEMBER = """
mutation($input: CreateMemberInput!) {
  createMember(input: $input) {
    __typename
    ... on MemberPayload { member { id name partyStatus branch { name } } }
    ... on InvalidInput { message errors { field code message } }
  }
}
"""


async def test_create_member_bad_input_is_typed_and_writes_nothing(
    api: Api, world: World, sessionmaker: Sessionmaker, clock: FrozenClock
) -> None:
    token = await api.login("admin")
    before = await member_count(sessionmaker)
    body = await api(
        CREATE_MEMBER,
        {
            "input": {
                "branchId": gid("Branch", world.meigui),
                "name": "",
                "phone": "call me",
                "idNumber": "123",
                "birthday": (clock().date() + timedelta(days=1)).isoformat(),
            }
        },
        token=token,
    )
    result = body["data"]["createMember"]
    assert result["__typename"] == "InvalidInput"
    assert {(e["field"], e["code"]) for e in result["errors"]} == {
        ("name", "REQUIRED"),
        ("phone", "INVALID"),
        ("idNumber", "INVALID"),
        ("birthday", "IN_FUTURE"),
    }
    assert await member_count(sessionmaker) == before


async def test_unknown_branch_is_a_field_error(api: Api, world: World) -> None:
    token = await api.login("admin")
    body = await api(
        CREATE_MEMBER,
        {"input": {"branchId": str(to_global_id("Branch", world.admin.id)), "name": "某人"}},
        token=token,
    )
    assert body["data"]["createMember"]["errors"] == [
        {"field": "branchId", "code": "NOT_FOUND", "message": "组织不存在 (branch not found)"}
    ]
    wrong_type = await api(
        CREATE_MEMBER,
        {"input": {"branchId": gid("Member", world.yushan_member), "name": "某人"}},
        token=token,
    )
    assert wrong_type["data"]["createMember"]["errors"][0]["field"] == "branchId"


ADVANCE = """
mutation($input: AdvancePartyStatusInput!) {
  advancePartyStatus(input: $input) {
    __typename
    ... on MemberPayload { member { partyStatus statusHistory { fromStatus toStatus fastTrack reason } } }
    ... on InvalidInput { errors { field code message } }
  }
}
"""


async def test_premature_step_is_refused_with_a_reason_and_fast_track_is_recorded(
    api: Api, world: World, make: Builders, clock: FrozenClock
) -> None:
    member = await make.member(
        world.meigui, party_status=PartyStatus.ACTIVIST, party_status_since=date(2026, 6, 1)
    )
    token = await api.login("secretary.meigui")
    refused = await api(
        ADVANCE,
        {"input": {"memberId": gid("Member", member), "toStatus": "CANDIDATE"}},
        token=token,
    )
    [error] = refused["data"]["advancePartyStatus"]["errors"]
    assert error["code"] == "TOO_EARLY"
    assert "2027-06-01" in error["message"]

    taken = await api(
        ADVANCE,
        {
            "input": {
                "memberId": gid("Member", member),
                "toStatus": "CANDIDATE",
                "fastTrackReason": "破案攻坚中表现突出,火线发展",
            }
        },
        token=token,
    )
    result = taken["data"]["advancePartyStatus"]
    assert result["member"]["partyStatus"] == "CANDIDATE"
    assert result["member"]["statusHistory"][-1] == {
        "fromStatus": "ACTIVIST",
        "toStatus": "CANDIDATE",
        "fastTrack": True,
        "reason": "破案攻坚中表现突出,火线发展",
    }


async def test_transfer_member_over_graphql_keeps_history(api: Api, world: World) -> None:
    token = await api.login("admin")
    body = await api(
        """mutation($input: TransferMemberInput!) { transferMember(input: $input) {
             ... on MemberPayload { member { branch { name }
                   transfers { fromBranch { name } toBranch { name } reason } } } } }""",
        {
            "input": {
                "memberId": gid("Member", world.meigui_member),
                "toBranchId": gid("Branch", world.yushan),
                "reason": "组织关系转接",
            }
        },
        token=token,
    )
    member = body["data"]["transferMember"]["member"]
    assert member["branch"] == {"name": "榆山第二派出所党支部"}
    assert member["transfers"] == [
        {
            "fromBranch": {"name": "玫瑰派出所党支部"},
            "toBranch": {"name": "榆山第二派出所党支部"},
            "reason": "组织关系转接",
        }
    ]


async def test_update_member_changes_only_given_fields(api: Api, world: World) -> None:
    token = await api.login("admin")
    body = await api(
        """mutation($input: UpdateMemberInput!) { updateMember(input: $input) {
             __typename ... on MemberPayload { member { name phone serviceStatus retiredOn post } } } }""",
        {
            "input": {
                "id": gid("Member", world.meigui_member),
                "serviceStatus": "RETIRED",
                "post": "YOUTH",
            }
        },
        token=token,
    )
    assert body["data"]["updateMember"]["member"] == {
        "name": "张党员",
        "phone": "13900000003",
        "serviceStatus": "RETIRED",
        "retiredOn": "2026-11-28",
        "post": "YOUTH",
    }


# --- issue 12 item 15: the next step's earliest day, secretaries, task units -----------------------


async def test_the_next_pipeline_steps_earliest_day_is_a_field(
    api: Api, world: World, make: Builders
) -> None:
    activist = await make.member(
        world.meigui, party_status=PartyStatus.ACTIVIST, party_status_since=date(2025, 12, 10)
    )
    probationary = await make.member(
        world.meigui, party_status=PartyStatus.PROBATIONARY, party_status_since=date(2026, 2, 28)
    )
    applicant = await make.member(
        world.meigui, party_status=PartyStatus.APPLICANT, party_status_since=date(2026, 3, 1)
    )
    token = await api.login("secretary.meigui")
    query = """query($id: ID!) { node(id: $id) { ... on Member {
                 nextPartyStatus nextPartyStatusLabel nextStepEarliestOn } } }"""

    async def step(member: Member) -> dict[str, Any]:
        body = await api(query, {"id": gid("Member", member)}, token=token)
        node: dict[str, Any] = body["data"]["node"]
        return node

    assert await step(activist) == {
        "nextPartyStatus": "CANDIDATE",
        "nextPartyStatusLabel": "发展对象",
        "nextStepEarliestOn": "2026-12-10",
    }
    assert await step(probationary) == {
        "nextPartyStatus": "FULL",
        "nextPartyStatusLabel": "正式党员",
        "nextStepEarliestOn": "2027-02-28",
    }
    assert await step(applicant) == {
        "nextPartyStatus": "ACTIVIST",
        "nextPartyStatusLabel": "入党积极分子",
        "nextStepEarliestOn": "2026-03-01",
    }
    assert await step(world.meigui_member) == {
        "nextPartyStatus": None,
        "nextPartyStatusLabel": None,
        "nextStepEarliestOn": None,
    }

    # The refusal names the same day.
    body = await api(
        """mutation($id: ID!) { advancePartyStatus(input: {memberId: $id, toStatus: CANDIDATE}) {
             ... on InvalidInput { errors { field code message } } } }""",
        {"id": gid("Member", activist)},
        token=token,
    )
    [error] = body["data"]["advancePartyStatus"]["errors"]
    assert error["code"] == "TOO_EARLY" and "2026-12-10" in error["message"]


async def test_branches_name_their_secretary_and_task_units_their_members_with_roles(
    api: Api, world: World, make: Builders
) -> None:
    token = await api.login("secretary.meigui")
    add = """mutation($u: ID!, $m: ID!, $r: String) {
               addTaskUnitMember(input: {taskUnitId: $u, memberId: $m, role: $r}) { __typename } }"""
    unit = gid("Branch", world.task_force)
    await api(add, {"u": unit, "m": gid("Member", world.officer_member), "r": "队长"}, token=token)
    await api(add, {"u": unit, "m": gid("Member", world.meigui_member)}, token=token)

    body = await api(
        """query($b: ID!, $u: ID!) {
             branch: node(id: $b) { ... on Branch { secretary { name } memberCount } }
             unit: node(id: $u) { ... on Branch {
               secretary { name } memberCount members { name }
               taskUnitMembers { member { name } role joinedOn } } }
           }""",
        {"b": gid("Branch", world.meigui), "u": unit},
        token=token,
    )
    assert body["data"]["branch"] == {"secretary": {"name": "王书记"}, "memberCount": 3}
    assert body["data"]["unit"] == {
        "secretary": None,
        "memberCount": 2,
        "members": [{"name": "张党员"}, {"name": "李民警"}],
        "taskUnitMembers": [
            {"member": {"name": "张党员"}, "role": None, "joinedOn": "2026-11-28"},
            {"member": {"name": "李民警"}, "role": "队长", "joinedOn": "2026-11-28"},
        ],
    }
