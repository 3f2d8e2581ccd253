"""Ledgers over GraphQL: writing by role, listing with filters and batching, attachments,
completeness, study records, and typed errors with nothing written."""

from __future__ import annotations

import base64
import dataclasses
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from core.clock import FrozenClock
from core.db import Sessionmaker
from core.settings import Settings
from demo.seed import seed_catalogs
from models import LedgerAttachment, LedgerEntry, Role, StudyRecord
from schema.node import to_global_id
from tests.conftest import Api, Builders, ClientFor, World
from tests.schema.test_statement_count import counting

CREATE = """
mutation($input: CreateLedgerEntryInput!) {
  createLedgerEntry(input: $input) {
    __typename
    ... on LedgerEntryPayload { entry { id title occurredOn item { code } attendees { name } } }
    ... on InvalidInput { errors { field code message } }
  }
}
"""
UPLOAD = """
mutation($input: AddLedgerAttachmentInput!) {
  addLedgerAttachment(input: $input) {
    __typename
    ... on LedgerAttachmentPayload { attachment { id fileName size sha256 downloadPath } }
    ... on InvalidInput { errors { field code } }
  }
}
"""


@pytest.fixture
def app_settings(settings: Settings, tmp_path: Path) -> Settings:
    return dataclasses.replace(
        settings,
        response_cache_entries=0,
        storage_dir=str(tmp_path / "files"),
        ledger_attachment_max_bytes=1000,
    )


@pytest.fixture
async def catalog(sessionmaker: Sessionmaker, clock: FrozenClock) -> None:
    await seed_catalogs(sessionmaker, clock)


def gid(kind: str, row: Any) -> str:
    return str(to_global_id(kind, row.id))


def entry_input(world: World, **overrides: Any) -> dict[str, Any]:
    return {
        "branchId": gid("Branch", world.meigui),
        "itemCode": "L02",
        "occurredOn": "2026-11-03",
        "title": "11月支委会",
        "content": "研究发展党员工作",
        "attendeeIds": [gid("Member", world.secretary_member), gid("Member", world.meigui_member)],
        **overrides,
    }


async def create(api: Api, token: str, world: World, **overrides: Any) -> dict[str, Any]:
    body = await api(CREATE, {"input": entry_input(world, **overrides)}, token=token)
    result: dict[str, Any] = body["data"]["createLedgerEntry"]
    return result


async def count(sessionmaker: Sessionmaker, model: Any) -> int:
    async with sessionmaker() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


async def test_secretary_records_an_entry_with_attendees(
    api: Api, world: World, catalog: None
) -> None:
    token = await api.login("secretary.meigui")
    result = await create(api, token, world)
    assert result["__typename"] == "LedgerEntryPayload", result
    entry = result["entry"]
    assert entry["item"]["code"] == "L02"
    assert [a["name"] for a in entry["attendees"]] == sorted(["王书记", "张党员"])


async def test_typed_errors_for_bad_entries_and_nothing_written(
    api: Api, world: World, catalog: None, sessionmaker: Sessionmaker
) -> None:
    token = await api.login("secretary.meigui")
    result = await create(
        api,
        token,
        world,
        itemCode="L77",
        occurredOn="1990-01-01",
        attendeeIds=[gid("Member", world.yushan_member)],
    )
    assert result["__typename"] == "InvalidInput"
    assert {(e["field"], e["code"]) for e in result["errors"]} == {
        ("itemCode", "NOT_FOUND"),
        ("occurredOn", "OUT_OF_RANGE"),
        ("attendeeIds", "OUT_OF_SCOPE"),
    }
    assert await count(sessionmaker, LedgerEntry) == 0


@pytest.mark.parametrize("username", ["officer.meigui", "inspector"])
async def test_officers_and_inspectors_cannot_write_ledgers(
    api: Api, world: World, catalog: None, username: str
) -> None:
    token = await api.login(username)
    body = await api(CREATE, {"input": entry_input(world)}, token=token, expect_errors=True)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_entries_filter_by_subtree_item_and_period(
    api: Api, world: World, catalog: None
) -> None:
    admin = await api.login("admin")
    await create(api, admin, world, occurredOn="2026-05-06")
    await create(api, admin, world, occurredOn="2026-08-06", itemCode="L05", attendeeIds=[])
    await create(
        api,
        admin,
        world,
        branchId=gid("Branch", world.yushan),
        attendeeIds=[],
        occurredOn="2026-05-07",
    )
    query = """query($s: ID, $codes: [String!], $p: String) {
      ledgerEntries(subtreeOf: $s, itemCodes: $codes, period: $p, first: 10) {
        totalCount nodes { title occurredOn branch { name } }
      }
    }"""
    meigui = gid("Branch", world.meigui)
    body = await api(query, {"s": meigui}, token=admin)
    assert body["data"]["ledgerEntries"]["totalCount"] == 2
    body = await api(query, {"p": "2026-Q2"}, token=admin)
    assert body["data"]["ledgerEntries"]["totalCount"] == 2
    body = await api(query, {"s": meigui, "codes": ["L05"], "p": "2026"}, token=admin)
    assert [n["occurredOn"] for n in body["data"]["ledgerEntries"]["nodes"]] == ["2026-08-06"]
    officer = await api.login("officer.meigui")
    body = await api(query, {}, token=officer)
    assert {n["branch"]["name"] for n in body["data"]["ledgerEntries"]["nodes"]} == {
        "玫瑰派出所党支部"
    }


@pytest.mark.parametrize(
    ("variables", "field", "code"),
    [
        ({"p": "2026-Q5"}, "period", "invalid_period"),
        ({"codes": ["L02", "X9"]}, "itemCodes", "not_found"),
    ],
)
async def test_listing_refuses_a_wrong_period_or_unknown_item_code(
    api: Api, world: World, catalog: None, variables: dict[str, Any], field: str, code: str
) -> None:
    token = await api.login("admin")
    query = """query($codes: [String!], $p: String) {
      ledgerEntries(itemCodes: $codes, period: $p) { totalCount }
    }"""
    body = await api(query, variables, token=token, expect_errors=True)
    extensions = body["errors"][0]["extensions"]
    assert extensions["code"] == "BAD_USER_INPUT"
    assert extensions["problems"][0]["field"] == field
    assert extensions["problems"][0]["code"] == code


async def test_ledger_entries_statement_count_is_constant(
    api: Api, app: Any, world: World, make: Builders, catalog: None
) -> None:
    query = """{ ledgerEntries(first: 50) { totalCount nodes {
      title item { code } branch { name } attendees { name } attachments { fileName } } } }"""
    token = await api.login("admin")
    await api("{ me { account { username } } }", token=token)
    await create(api, token, world)
    with counting(app) as small:
        await api(query, token=token)
    for i in range(12):
        branch = await make.branch(world.organ, name=f"扩展派出所{i}")
        member = await make.member(branch, name=f"党员{i}")
        await create(
            api,
            token,
            world,
            branchId=gid("Branch", branch),
            attendeeIds=[gid("Member", member)],
            itemCode=f"L{1 + i % 10:02d}",
        )
    with counting(app) as large:
        body = await api(query, token=token)
    assert body["data"]["ledgerEntries"]["totalCount"] == 13
    # Page, count, items, branches, attendees, attachments.
    assert len(small) == len(large) == 6


async def test_attachment_upload_and_download_with_scope(
    api: Api, world: World, catalog: None, make: Builders
) -> None:
    secretary = await api.login("secretary.meigui")
    entry = (await create(api, secretary, world))["entry"]
    content = "支委会会议纪要".encode()
    body = await api(
        UPLOAD,
        {
            "input": {
                "entryId": entry["id"],
                "fileName": "会议纪要.txt",
                "contentType": "text/plain",
                "contentBase64": base64.b64encode(content).decode(),
            }
        },
        token=secretary,
    )
    attachment = body["data"]["addLedgerAttachment"]["attachment"]
    assert attachment["size"] == len(content)
    path = attachment["downloadPath"]

    response = await api.client.get(path, headers={"Authorization": f"Bearer {secretary}"})
    assert response.status_code == 200
    assert response.content == content
    assert response.headers["content-type"].startswith("text/plain")
    assert "filename*=UTF-8''%E4%BC%9A" in response.headers["content-disposition"]

    officer = await api.login("officer.meigui")
    response = await api.client.get(path, headers={"Authorization": f"Bearer {officer}"})
    assert response.status_code == 200  # officers read their own branch

    # A secretary of another branch may not.
    await make.account(Role.SECRETARY, username="secretary.yushan", branch_id=world.yushan.id)
    other = await api.login("secretary.yushan")
    response = await api.client.get(path, headers={"Authorization": f"Bearer {other}"})
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    response = await api.client.get(path)
    assert response.status_code == 401
    response = await api.client.get(
        "/files/ledger/not-an-id", headers={"Authorization": f"Bearer {officer}"}
    )
    assert response.status_code == 400


async def test_attachment_errors_name_the_input_field_and_store_nothing(
    api: Api, world: World, catalog: None, sessionmaker: Sessionmaker, tmp_path: Path
) -> None:
    token = await api.login("secretary.meigui")
    entry = (await create(api, token, world))["entry"]
    for content, field, code in (
        (base64.b64encode(b"x" * 1001).decode(), "contentBase64", "TOO_LARGE"),
        (base64.b64encode(b"x" * 5000).decode(), "contentBase64", "TOO_LARGE"),
        ("", "contentBase64", "REQUIRED"),
        ("not base64!", "contentBase64", "INVALID"),
    ):
        body = await api(
            UPLOAD,
            {"input": {"entryId": entry["id"], "fileName": "a.bin", "contentBase64": content}},
            token=token,
        )
        result = body["data"]["addLedgerAttachment"]
        assert result["errors"] == [{"field": field, "code": code}]
    assert await count(sessionmaker, LedgerAttachment) == 0
    assert not (tmp_path / "files").exists()


async def test_ledger_completeness_query(
    api: Api, world: World, catalog: None, clock: FrozenClock
) -> None:
    token = await api.login("secretary.meigui")
    await create(api, token, world, occurredOn="2026-07-06")
    await create(api, token, world, occurredOn="2026-09-06")
    query = """query($b: ID!, $p: String!) {
      ledgerCompleteness(branchId: $b, period: $p) {
        period periodLabel expected present rate
        items { code expected present missing late pending
                subPeriods { period status statusLabel deadline } }
      }
    }"""
    body = await api(query, {"b": gid("Branch", world.meigui), "p": "2026-Q3"}, token=token)
    result = body["data"]["ledgerCompleteness"]
    assert result["periodLabel"] == "2026年第三季度"
    l02 = next(i for i in result["items"] if i["code"] == "L02")
    assert (l02["expected"], l02["present"], l02["missing"]) == (3, 2, ["2026-08"])
    assert l02["subPeriods"][1] == {
        "period": "2026-08",
        "status": "MISSING",
        "statusLabel": "缺失",
        "deadline": "2026-09-07",
    }
    assert result["expected"] == sum(i["expected"] for i in result["items"])

    officer = await api.login("officer.meigui")
    body = await api(
        query, {"b": gid("Branch", world.yushan), "p": "2026"}, token=officer, expect_errors=True
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await api(
        query, {"b": gid("Branch", world.meigui), "p": "2026-5"}, token=officer, expect_errors=True
    )
    assert body["errors"][0]["extensions"]["problems"][0]["code"] == "invalid_period"


async def test_admin_edits_the_catalog(api: Api, world: World, catalog: None) -> None:
    admin = await api.login("admin")
    body = await api(
        """mutation { createLedgerItem(input: {code: "L25", name: "警营文化", frequency: QUARTERLY}) {
          __typename ... on LedgerItemPayload { item { id code frequencyLabel } } } }""",
        token=admin,
    )
    item = body["data"]["createLedgerItem"]["item"]
    assert item["frequencyLabel"] == "每季度"
    body = await api(
        """mutation($id: ID!) { updateLedgerItem(input: {id: $id, active: false}) {
          ... on LedgerItemPayload { item { active } } } }""",
        {"id": item["id"]},
        token=admin,
    )
    assert body["data"]["updateLedgerItem"]["item"]["active"] is False
    body = await api("{ ledgerItems { code } }", token=admin)
    assert len(body["data"]["ledgerItems"]) == 24
    secretary = await api.login("secretary.meigui")
    body = await api(
        """mutation { createLedgerItem(input: {code: "L26", name: "x", frequency: MONTHLY}) {
          __typename } }""",
        token=secretary,
        expect_errors=True,
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_update_and_delete_entry(
    api: Api, world: World, catalog: None, sessionmaker: Sessionmaker
) -> None:
    token = await api.login("secretary.meigui")
    entry = (await create(api, token, world))["entry"]
    body = await api(
        """mutation($id: ID!) { updateLedgerEntry(input: {id: $id, title: "改", attendeeIds: []}) {
          ... on LedgerEntryPayload { entry { title attendees { name } } } } }""",
        {"id": entry["id"]},
        token=token,
    )
    assert body["data"]["updateLedgerEntry"]["entry"] == {"title": "改", "attendees": []}
    body = await api(
        """mutation($id: ID!) { deleteLedgerEntry(id: $id) {
          ... on LedgerEntryDeleted { id } } }""",
        {"id": entry["id"]},
        token=token,
    )
    assert body["data"]["deleteLedgerEntry"]["id"] == entry["id"]
    assert await count(sessionmaker, LedgerEntry) == 0


# --- study records ------------------------------------------------------------------------------

CREATE_STUDY = """
mutation($input: CreateStudyRecordInput!) {
  createStudyRecord(input: $input) {
    __typename
    ... on StudyRecordPayload { record { id topic form formLabel attendees { name }
                                          ledgerEntry { item { code } } } }
    ... on InvalidInput { errors { field code } }
  }
}
"""


async def test_study_record_links_to_an_l06_or_l02_entry_of_its_branch(
    api: Api, world: World, catalog: None, sessionmaker: Sessionmaker
) -> None:
    admin = await api.login("admin")
    l06 = (await create(api, admin, world, itemCode="L06"))["entry"]
    l05 = (await create(api, admin, world, itemCode="L05"))["entry"]
    other = (
        await create(
            api, admin, world, itemCode="L06", branchId=gid("Branch", world.yushan), attendeeIds=[]
        )
    )["entry"]
    study = {
        "branchId": gid("Branch", world.meigui),
        "heldOn": "2026-11-03",
        "topic": "学习习近平总书记重要讲话精神",
        "form": "BRANCH",
        "attendeeIds": [gid("Member", world.meigui_member)],
    }
    body = await api(CREATE_STUDY, {"input": {**study, "ledgerEntryId": l06["id"]}}, token=admin)
    record = body["data"]["createStudyRecord"]["record"]
    assert record["formLabel"] == "支部组学"
    assert record["ledgerEntry"] == {"item": {"code": "L06"}}
    for entry, code in ((l05, "INVALID_KIND"), (other, "OUT_OF_SCOPE")):
        body = await api(
            CREATE_STUDY, {"input": {**study, "ledgerEntryId": entry["id"]}}, token=admin
        )
        assert body["data"]["createStudyRecord"]["errors"] == [
            {"field": "ledgerEntryId", "code": code}
        ]
    assert await count(sessionmaker, StudyRecord) == 1

    query = """{ studyRecords(form: [BRANCH], period: "2026-11") {
      totalCount nodes { topic branch { name } } } }"""
    officer = await api.login("officer.meigui")
    body = await api(query, token=officer)
    assert body["data"]["studyRecords"]["totalCount"] == 1
    body = await api(CREATE_STUDY, {"input": study}, token=officer, expect_errors=True)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_study_groups(api: Api, world: World, catalog: None) -> None:
    token = await api.login("secretary.meigui")
    body = await api(
        """mutation($b: ID!, $m: [ID!]!) {
          createStudyGroup(input: {branchId: $b, name: "青年民警理论学习小组", memberIds: $m}) {
            __typename ... on StudyGroupPayload { group { id name members { name } } }
            ... on InvalidInput { errors { field code } } } }""",
        {"b": gid("Branch", world.meigui), "m": [gid("Member", world.officer_member)]},
        token=token,
    )
    group = body["data"]["createStudyGroup"]["group"]
    assert group["members"] == [{"name": "李民警"}]
    body = await api(
        """mutation($id: ID!, $m: [ID!]) { updateStudyGroup(input: {id: $id, memberIds: $m}) {
          __typename ... on InvalidInput { errors { field code } } } }""",
        {"id": group["id"], "m": [gid("Member", world.yushan_member)]},
        token=token,
    )
    assert body["data"]["updateStudyGroup"]["errors"] == [
        {"field": "memberIds", "code": "OUT_OF_SCOPE"}
    ]
    body = await api("{ studyGroups { totalCount nodes { name branch { name } } } }", token=token)
    assert body["data"]["studyGroups"]["totalCount"] == 1


def test_study_dates_use_the_same_range_rule() -> None:
    from access.errors import Collector
    from resolvers.ledger import check_day

    errors = Collector()
    check_day(errors, "heldOn", date(1999, 1, 1), date(2026, 1, 1))
    assert [p.code.value for p in errors.problems] == ["out_of_range"]


async def test_node_refetches_entries_within_read_scope(
    api: Api, world: World, catalog: None, make: Builders
) -> None:
    admin = await api.login("admin")
    entry = (await create(api, admin, world, branchId=gid("Branch", world.yushan), attendeeIds=[]))[
        "entry"
    ]
    query = "query($id: ID!) { node(id: $id) { ... on LedgerEntry { title item { code } } } }"
    body = await api(query, {"id": entry["id"]}, token=admin)
    assert body["data"]["node"] == {"title": "11月支委会", "item": {"code": "L02"}}
    officer = await api.login("officer.meigui")
    body = await api(query, {"id": entry["id"]}, token=officer)
    assert body["data"]["node"] is None


async def test_the_largest_attachment_fits_the_default_body_limit(
    client_for: ClientFor, db_url: str, tmp_path: Path, world: World, catalog: None
) -> None:
    """A ledger attachment travels base64-encoded in the mutation's body: the default
    MEIJING_MAX_BODY_BYTES must carry the largest one the default settings accept."""
    defaults = Settings()
    client = await client_for(
        dataclasses.replace(defaults, database_url=db_url, storage_dir=str(tmp_path / "files"))
    )
    api = Api(client)
    secretary = await api.login("secretary.meigui")
    entry = (await create(api, secretary, world))["entry"]
    content = bytes(range(256)) * (defaults.ledger_attachment_max_bytes // 256)
    assert len(content) == defaults.ledger_attachment_max_bytes

    body = await api(
        UPLOAD,
        {
            "input": {
                "entryId": entry["id"],
                "fileName": "会议录音.bin",
                "contentType": "application/octet-stream",
                "contentBase64": base64.b64encode(content).decode(),
            }
        },
        token=secretary,
    )

    assert body["data"]["addLedgerAttachment"]["attachment"]["size"] == len(content)


async def test_one_recorded_rate_leaves_periods_not_yet_due_out(
    api: Api, world: World, catalog: None
) -> None:
    # 28 November, Q4: L02 recorded for October and November; December is not yet due.
    token = await api.login("secretary.meigui")
    await create(api, token, world, occurredOn="2026-10-08")
    await create(api, token, world, occurredOn="2026-11-03")
    body = await api(
        """query($b: ID!) {
          ledgerCompleteness(branchId: $b, period: "2026-Q4") {
            expected present missing late pending recordedRate rate
            items { code present missing pending recordedRate }
          }
          dashboard(period: "2026-Q4", branchId: $b) {
            ledger { missing { value } pending { value } recordedRate { value }
                     byBranch { recordedRate pending } }
          }
        }""",
        {"b": gid("Branch", world.meigui)},
        token=token,
    )
    result = body["data"]["ledgerCompleteness"]
    l02 = next(i for i in result["items"] if i["code"] == "L02")
    assert l02 == {
        "code": "L02",
        "present": 2,
        "missing": [],
        "pending": ["2026-12"],
        "recordedRate": 1.0,  # not 2/3: December is not due yet
    }
    present, missing = result["present"], result["missing"]
    assert missing > 0 and result["pending"] > 0
    assert result["expected"] == present + missing + result["pending"]
    assert result["recordedRate"] == result["rate"] == present / (present + missing)

    ledger = body["data"]["dashboard"]["ledger"]
    assert ledger["recordedRate"]["value"] == result["recordedRate"]
    assert (ledger["missing"]["value"], ledger["pending"]["value"]) == (
        missing,
        result["pending"],
    )
    assert ledger["byBranch"] == [
        {"recordedRate": result["recordedRate"], "pending": result["pending"]}
    ]
