"""Directives over GraphQL: who issues, who sees what, the typed errors, and batched reads."""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

import pytest

from core.global_id import global_id
from core.settings import Settings
from models import Post, Role
from tests.conftest import Api, Builders, World
from tests.schema.test_statement_count import counting

DEADLINE = "2026-12-20T18:00:00+08:00"

ISSUE = """
mutation($input: IssueDirectiveInput!) {
  issueDirective(input: $input) {
    __typename
    ... on DirectiveIssued { directive { id title priorityLabel status recipients { id level } } }
    ... on InvalidInput { errors { field code } }
  }
}
"""

LIST = """
{
  directives(first: 50) {
    totalCount
    nodes {
      id title overdue priorityLabel
      issuedBy { name }
      recipients {
        id levelLabel statusLabel overdue
        branch { name } member { name }
        progress { text percent }
      }
      rollup { level levelLabel recipients signed reported closed overdue closedOnTime }
    }
  }
}
"""


@pytest.fixture
def app_settings(settings: Settings) -> Settings:
    """Statement counts measure batching, so the response cache is off."""
    return dataclasses.replace(settings, response_cache_entries=0)


async def issue(api: Api, token: str, *branches: Any, title: str = "指令") -> dict[str, Any]:
    body = await api(
        ISSUE,
        {
            "input": {
                "title": title,
                "content": "落实到人",
                "deadline": DEADLINE,
                "targetBranchIds": [global_id("Branch", b.id) for b in branches],
            }
        },
        token=token,
    )
    result: dict[str, Any] = body["data"]["issueDirective"]
    return result


async def titles(api: Api, token: str) -> set[str]:
    body = await api("{ directives(first: 50) { nodes { title } } }", token=token)
    return {n["title"] for n in body["data"]["directives"]["nodes"]}


async def recipient_of(api: Api, token: str) -> str:
    body = await api("{ myDirectives { nodes { id } } }", token=token)
    return str(body["data"]["myDirectives"]["nodes"][0]["id"])


async def test_admins_issue_and_others_may_not(api: Api, world: World) -> None:
    admin = await api.login("admin")
    done = await issue(api, admin, world.organ)
    assert done["__typename"] == "DirectiveIssued"
    assert done["directive"]["priorityLabel"] == "一般"
    assert [r["level"] for r in done["directive"]["recipients"]] == [
        "COUNTY_COMMITTEE",
        "ORGAN_COMMITTEE",
    ]
    for username in ("inspector", "secretary.meigui", "officer.meigui"):
        token = await api.login(username)
        body = await api(
            ISSUE,
            {
                "input": {
                    "title": "x",
                    "content": "y",
                    "deadline": DEADLINE,
                    "targetBranchIds": [global_id("Branch", world.meigui_group.id)],
                }
            },
            token=token,
            expect_errors=True,
        )
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", username


async def test_a_committee_secretary_issues_for_their_committee(
    api: Api, world: World, make: Builders
) -> None:
    member = await make.member(world.organ, name="机关书记", post=Post.SECRETARY)
    await make.account(
        Role.SECRETARY, username="secretary.organ", member_id=member.id, branch_id=world.organ.id
    )
    token = await api.login("secretary.organ")
    done = await issue(api, token, world.meigui, world.yushan)
    assert done["__typename"] == "DirectiveIssued"
    body = await api(LIST, token=token)
    (directive,) = body["data"]["directives"]["nodes"]
    assert directive["issuedBy"]["name"] == "机关党委"


async def test_invalid_issue_is_a_typed_field_error(api: Api, world: World) -> None:
    admin = await api.login("admin")
    body = await api(
        ISSUE,
        {
            "input": {
                "title": "过期指令",
                "content": "x",
                "deadline": "2020-01-01T00:00:00+08:00",
                "targetBranchIds": [],
            }
        },
        token=admin,
    )
    result = body["data"]["issueDirective"]
    assert result["__typename"] == "InvalidInput"
    assert {(e["field"], e["code"]) for e in result["errors"]} == {
        ("deadline", "IN_PAST"),
        ("targetBranchIds", "REQUIRED"),
    }
    assert await titles(api, admin) == set()


async def test_each_role_sees_the_directives_addressed_to_its_scope(api: Api, world: World) -> None:
    admin = await api.login("admin")
    await issue(api, admin, world.meigui, title="玫瑰指令")
    await issue(api, admin, world.yushan, title="榆山指令")
    await issue(api, admin, world.organ, title="机关指令")

    assert await titles(api, admin) == {"玫瑰指令", "榆山指令", "机关指令"}
    assert await titles(api, await api.login("inspector")) == {"玫瑰指令", "榆山指令", "机关指令"}
    secretary = await api.login("secretary.meigui")
    assert await titles(api, secretary) == {"玫瑰指令"}
    officer = await api.login("officer.meigui")
    # Addressed to the officer's branch: the officer may read it, not sign it.
    assert await titles(api, officer) == {"玫瑰指令"}
    mine = await api("{ myDirectives { totalCount } }", token=officer)
    assert mine["data"]["myDirectives"]["totalCount"] == 0

    # The secretary dispatches to the officer, who then has it as their own.
    row = await recipient_of(api, secretary)
    await api(
        """mutation($r: ID!, $m: ID!) { dispatchDirective(input: {recipientId: $r, memberIds: [$m]})
             { __typename } }""",
        {"r": row, "m": global_id("Member", world.officer_member.id)},
        token=secretary,
    )
    body = await api("{ myDirectives { nodes { levelLabel directive { title } } } }", token=officer)
    assert body["data"]["myDirectives"]["nodes"] == [
        {"levelLabel": "党员", "directive": {"title": "玫瑰指令"}}
    ]
    # The secretary's view of the tree is their subtree's rows; the admin's, all of them.
    body = await api(LIST, token=secretary)
    (seen,) = body["data"]["directives"]["nodes"]
    assert [r["levelLabel"] for r in seen["recipients"]] == ["党支部", "党员"]
    assert [r["recipients"] for r in seen["rollup"]] == [1, 0, 1, 1]


async def test_signing_a_directive_never_received_is_a_typed_error(api: Api, world: World) -> None:
    admin = await api.login("admin")
    await issue(api, admin, world.meigui, title="玫瑰指令")
    secretary = await api.login("secretary.meigui")
    row = await recipient_of(api, secretary)
    officer = await api.login("officer.meigui")
    body = await api(
        """mutation($r: ID!) { signDirective(recipientId: $r) {
             __typename ... on InvalidInput { errors { field code } } } }""",
        {"r": row},
        token=officer,
    )
    assert body["data"]["signDirective"] == {
        "__typename": "InvalidInput",
        "errors": [{"field": "recipientId", "code": "NOT_RECIPIENT"}],
    }


async def test_report_and_close_through_graphql(api: Api, world: World) -> None:
    admin = await api.login("admin")
    await issue(api, admin, world.meigui, title="玫瑰指令")
    secretary = await api.login("secretary.meigui")
    row = await recipient_of(api, secretary)
    body = await api(
        """mutation($r: ID!) {
             reportDirectiveProgress(input: {recipientId: $r, text: "已部署", stage: "已部署"}) {
               ... on DirectiveProgressReported { recipient { statusLabel } progress { stage } }
             }
             closeDirective(recipientId: $r) {
               ... on DirectiveRecipientSaved { recipient { statusLabel closedAt } }
             }
           }""",
        {"r": row},
        token=secretary,
    )
    assert body["data"]["reportDirectiveProgress"] == {
        "recipient": {"statusLabel": "办理中"},
        "progress": {"stage": "已部署"},
    }
    assert body["data"]["closeDirective"]["recipient"]["statusLabel"] == "已办结"


async def test_directive_list_statement_count_does_not_grow_with_data(
    api: Api, app: Any, world: World, make: Builders
) -> None:
    admin = await api.login("admin")
    secretary = await api.login("secretary.meigui")
    await api("{ me { account { username } } }", token=admin)  # the viewer is cached from here

    async def grow(n: int) -> None:
        for i in range(n):
            await issue(api, admin, world.meigui, world.yushan, title=f"指令{i}")
            row = await recipient_of(api, secretary)
            member = await make.member(world.meigui, name=f"党员{i}")
            await api(
                """mutation($r: ID!, $m: ID!) {
                     dispatchDirective(input: {recipientId: $r, memberIds: [$m]}) { __typename }
                     reportDirectiveProgress(input: {recipientId: $r, text: "进展", percent: 50})
                       { __typename } }""",
                {"r": row, "m": global_id("Member", member.id)},
                token=secretary,
            )

    await grow(1)
    with counting(app) as statements:
        body = await api(LIST, token=admin)
    small = len(statements)
    assert body["data"]["directives"]["totalCount"] == 1

    await grow(5)
    with counting(app) as statements:
        body = await api(LIST, token=admin)
    assert body["data"]["directives"]["totalCount"] == 6
    recipients = sum(len(n["recipients"]) for n in body["data"]["directives"]["nodes"])
    assert recipients == 6 * 4
    assert len(statements) == small


# --- 催办, refusing to close, myDirectives(status:) (issue 12 items 16 and 10) -------------------

URGE = """mutation($r: ID!, $note: String) { urgeDirective(recipientId: $r, note: $note) {
  __typename
  ... on DirectiveUrged { reminder { id kind kindLabel title dueOn member { name } branch { name }
                                     directiveRecipient { id } }
                          recipient { id statusLabel } }
  ... on InvalidInput { errors { field code } }
} }"""


async def dispatched_to_officer(api: Api, world: World) -> tuple[str, str, str]:
    """玫瑰's secretary dispatches the admin's directive to the officer: (secretary's token,
    the secretary's row, the officer's row)."""
    admin = await api.login("admin")
    await issue(api, admin, world.meigui, title="玫瑰指令")
    secretary = await api.login("secretary.meigui")
    row = await recipient_of(api, secretary)
    body = await api(
        """mutation($r: ID!, $m: ID!) { dispatchDirective(input: {recipientId: $r, memberIds: [$m]})
             { ... on DirectiveDispatched { recipients { id } } } }""",
        {"r": row, "m": global_id("Member", world.officer_member.id)},
        token=secretary,
    )
    [officer_row] = body["data"]["dispatchDirective"]["recipients"]
    return secretary, row, str(officer_row["id"])


async def test_urging_a_lagging_recipient_reminds_them_once_a_day(api: Api, world: World) -> None:
    secretary, _, officer_row = await dispatched_to_officer(api, world)

    body = await api(URGE, {"r": officer_row, "note": "今天下班前签收"}, token=secretary)
    urged = body["data"]["urgeDirective"]
    assert urged["__typename"] == "DirectiveUrged"
    reminder = urged["reminder"]
    assert reminder["kind"] == "DIRECTIVE_URGED" and reminder["kindLabel"] == "指令催办"
    assert reminder["member"] == {"name": "李民警"}
    assert "王书记催办" in reminder["title"] and "今天下班前签收" in reminder["title"]
    assert reminder["dueOn"] == "2026-12-20"
    # The reminder names the row it is about as an object, as the web reads it.
    assert reminder["directiveRecipient"] == {"id": officer_row}

    # The officer finds it among their reminders; urging again today raises nothing new.
    officer = await api.login("officer.meigui")
    mine = await api("{ myReminders { totalCount nodes { id kind } } }", token=officer)
    assert mine["data"]["myReminders"]["nodes"] == [
        {"id": reminder["id"], "kind": "DIRECTIVE_URGED"}
    ]
    again = await api(URGE, {"r": officer_row}, token=secretary)
    assert again["data"]["urgeDirective"]["reminder"]["id"] == reminder["id"]
    mine = await api("{ myReminders { totalCount } }", token=officer)
    assert mine["data"]["myReminders"]["totalCount"] == 1


async def test_only_the_dispatcher_urges_and_only_an_open_recipient(api: Api, world: World) -> None:
    secretary, own_row, officer_row = await dispatched_to_officer(api, world)
    officer = await api.login("officer.meigui")

    # The officer cannot urge themselves, nor the secretary's row above them.
    for row in (officer_row, own_row):
        body = await api(URGE, {"r": row}, token=officer)
        assert body["data"]["urgeDirective"] == {
            "__typename": "InvalidInput",
            "errors": [{"field": "recipientId", "code": "NOT_RECIPIENT"}],
        }
    # A closed recipient needs no urging.
    await api(
        "mutation($r: ID!) { closeDirective(recipientId: $r) { __typename } }",
        {"r": officer_row},
        token=officer,
    )
    body = await api(URGE, {"r": officer_row}, token=secretary)
    assert body["data"]["urgeDirective"]["errors"] == [
        {"field": "recipientId", "code": "INVALID_TRANSITION"}
    ]


async def test_refusing_to_close_names_the_recipients_still_open(api: Api, world: World) -> None:
    secretary, own_row, officer_row = await dispatched_to_officer(api, world)

    body = await api(
        """mutation($r: ID!) { closeDirective(recipientId: $r) {
             __typename
             ... on DirectiveStillOpen { errors { field code message }
                                         openRecipients { id member { name } statusLabel } }
           } }""",
        {"r": own_row},
        token=secretary,
    )
    refused = body["data"]["closeDirective"]
    assert refused["__typename"] == "DirectiveStillOpen"
    assert refused["openRecipients"] == [
        {"id": officer_row, "member": {"name": "李民警"}, "statusLabel": "待签收"}
    ]
    [error] = refused["errors"]
    assert (error["field"], error["code"]) == ("recipientId", "OPEN_RECIPIENTS")
    assert "李民警" in error["message"]


async def test_my_directives_filter_by_the_published_status_enum(api: Api, world: World) -> None:
    admin = await api.login("admin")
    await issue(api, admin, world.meigui, title="已办指令")
    await issue(api, admin, world.meigui, title="待办指令")
    secretary = await api.login("secretary.meigui")
    body = await api("{ myDirectives { nodes { id directive { title } } } }", token=secretary)
    done = next(
        n["id"]
        for n in body["data"]["myDirectives"]["nodes"]
        if n["directive"]["title"] == "已办指令"
    )
    await api(
        "mutation($r: ID!) { closeDirective(recipientId: $r) { __typename } }",
        {"r": done},
        token=secretary,
    )

    query = """query($s: [DirectiveRecipientStatus!]) { myDirectives(status: $s) {
                 totalCount nodes { statusLabel directive { title } } } }"""
    body = await api(query, {"s": ["PENDING", "SIGNED", "IN_PROGRESS"]}, token=secretary)
    assert body["data"]["myDirectives"] == {
        "totalCount": 1,
        "nodes": [{"statusLabel": "待签收", "directive": {"title": "待办指令"}}],
    }
    body = await api(query, {"s": ["CLOSED"]}, token=secretary)
    assert body["data"]["myDirectives"]["totalCount"] == 1
    bad = await api(query, {"s": ["closed"]}, token=secretary, expect_errors=True)
    assert "data" not in bad or bad["data"] is None


async def test_a_recipient_row_is_a_node_whose_parent_and_reports_are_objects(
    api: Api, world: World
) -> None:
    admin = await api.login("admin")
    await issue(api, admin, world.meigui, title="玫瑰指令")
    secretary = await api.login("secretary.meigui")
    row = await recipient_of(api, secretary)
    reported = await api(
        """mutation($r: ID!) {
             reportDirectiveProgress(input: {recipientId: $r, text: "已部署", percent: 30}) {
               ... on DirectiveProgressReported {
                 progress { text percent reportedAt reporter { name } } } } }""",
        {"r": row},
        token=secretary,
    )
    progress = reported["data"]["reportDirectiveProgress"]["progress"]
    assert progress["text"] == "已部署" and progress["reporter"] == {"name": "王书记"}
    assert progress["reportedAt"].endswith("+08:00")
    body = await api(
        """query($id: ID!) { node(id: $id) { __typename id
             ... on DirectiveRecipient { levelLabel parent { id levelLabel }
                                         progress { percent } } } }""",
        {"id": row},
        token=secretary,
    )
    node = body["data"]["node"]
    assert (node["__typename"], node["id"], node["levelLabel"]) == (
        "DirectiveRecipient",
        row,
        "党支部",
    )
    assert node["progress"] == [{"percent": 30}]
    # The issuing committee's row lies outside the secretary's subtree: like the lists, the
    # secretary does not see it; an admin does.
    assert node["parent"] is None
    body = await api(
        """query($id: ID!) { node(id: $id) { ... on DirectiveRecipient {
             parent { id levelLabel parent { id } } } } }""",
        {"id": row},
        token=admin,
    )
    parent = body["data"]["node"]["parent"]
    assert (parent["levelLabel"], parent["parent"]) == ("县局党委", None)
    assert (
        await api("query($id: ID!) { node(id: $id) { id } }", {"id": parent["id"]}, token=admin)
    )["data"]["node"] == {"id": parent["id"]}


async def test_a_recipient_is_named_by_its_global_id_and_a_bare_id_is_refused(
    api: Api, world: World
) -> None:
    admin = await api.login("admin")
    await issue(api, admin, world.meigui, title="玫瑰指令")
    secretary = await api.login("secretary.meigui")
    row = await recipient_of(api, secretary)
    bare = base64.b64decode(row).decode().partition(":")[2]
    body = await api(
        """mutation($r: ID!) { signDirective(recipientId: $r) {
             __typename ... on InvalidInput { errors { field code } } } }""",
        {"r": bare},
        token=secretary,
    )
    assert body["data"]["signDirective"]["errors"] == [{"field": "recipientId", "code": "INVALID"}]
    body = await api(
        """mutation($r: ID!) { signDirective(recipientId: $r) {
             ... on DirectiveRecipientSaved { recipient { id statusLabel } } } }""",
        {"r": row},
        token=secretary,
    )
    assert body["data"]["signDirective"]["recipient"] == {"id": row, "statusLabel": "已签收"}


async def test_a_progress_report_is_a_node_that_names_its_recipient_row(
    api: Api, world: World, make: Builders
) -> None:
    admin = await api.login("admin")
    await issue(api, admin, world.meigui, title="玫瑰指令")
    secretary = await api.login("secretary.meigui")
    row = await recipient_of(api, secretary)
    reported = await api(
        """mutation($r: ID!) {
             reportDirectiveProgress(input: {recipientId: $r, text: "已部署", stage: "已部署"}) {
               ... on DirectiveProgressReported { progress { id recipient { id } } } } }""",
        {"r": row},
        token=secretary,
    )
    progress = reported["data"]["reportDirectiveProgress"]["progress"]
    assert progress["recipient"] == {"id": row}
    node = """query($id: ID!) { node(id: $id) { __typename id
                ... on DirectiveProgressReport { text reporter { name } recipient { id } } } }"""
    body = await api(node, {"id": progress["id"]}, token=secretary)
    assert body["data"]["node"] == {
        "__typename": "DirectiveProgressReport",
        "id": progress["id"],
        "text": "已部署",
        "reporter": {"name": "王书记"},
        "recipient": {"id": row},
    }
    # Another branch's secretary sees neither the row nor its reports.
    await make.account(Role.SECRETARY, username="secretary.yushan", branch_id=world.yushan.id)
    other = await api.login("secretary.yushan")
    assert (await api(node, {"id": progress["id"]}, token=other))["data"]["node"] is None
