"""Study records and groups over GraphQL: lists whose statement count does not grow with data."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from core.clock import FrozenClock
from core.db import Sessionmaker
from core.settings import Settings
from demo.seed import seed_catalogs
from models import Branch, Member
from schema.node import to_global_id
from tests.conftest import Api, Builders, World
from tests.schema.test_statement_count import counting


@pytest.fixture
def app_settings(settings: Settings) -> Settings:
    """Statement counts are measured here, so the response cache is off."""
    return dataclasses.replace(settings, response_cache_entries=0)


@pytest.fixture
async def catalog(sessionmaker: Sessionmaker, clock: FrozenClock) -> None:
    await seed_catalogs(sessionmaker, clock)


def gid(row: Branch | Member) -> str:
    return to_global_id(type(row).__name__, row.id)


ENTRY = """mutation($input: CreateLedgerEntryInput!) { createLedgerEntry(input: $input) {
  ... on LedgerEntryPayload { entry { id } } } }"""
STUDY = """mutation($input: CreateStudyRecordInput!) { createStudyRecord(input: $input) {
  __typename ... on InvalidInput { errors { field code } } } }"""
GROUP = """mutation($input: CreateStudyGroupInput!) { createStudyGroup(input: $input) {
  __typename ... on InvalidInput { errors { field code } } } }"""
RECORDS = """{ studyRecords(first: 50) { totalCount nodes {
  topic formLabel branch { name } attendees { name } ledgerEntry { title item { code } }
} } }"""
GROUPS = (
    """{ studyGroups(first: 50) { totalCount nodes { name branch { name } members { name } } } }"""
)


async def add_study(api: Api, token: str, branch: Branch, member: Member) -> None:
    body = await api(
        ENTRY,
        {
            "input": {
                "branchId": gid(branch),
                "itemCode": "L06",
                "occurredOn": "2026-11-03",
                "title": "第一议题学习",
                "attendeeIds": [gid(member)],
            }
        },
        token=token,
    )
    entry = body["data"]["createLedgerEntry"]["entry"]["id"]
    body = await api(
        STUDY,
        {
            "input": {
                "branchId": gid(branch),
                "heldOn": "2026-11-03",
                "topic": "学习党的二十届四中全会精神",
                "form": "BRANCH",
                "attendeeIds": [gid(member)],
                "ledgerEntryId": entry,
            }
        },
        token=token,
    )
    assert body["data"]["createStudyRecord"]["__typename"] == "StudyRecordPayload", body
    body = await api(
        GROUP,
        {
            "input": {
                "branchId": gid(branch),
                "name": "青年民警理论学习小组",
                "memberIds": [gid(member)],
            }
        },
        token=token,
    )
    assert body["data"]["createStudyGroup"]["__typename"] == "StudyGroupPayload", body


async def statements(api: Api, app: Any, query: str, token: str) -> tuple[int, dict[str, Any]]:
    with counting(app) as seen:
        body = await api(query, token=token)
    return len(seen), body["data"]


async def test_study_lists_statement_count_does_not_grow_with_data(
    api: Api, app: Any, world: World, make: Builders, catalog: None
) -> None:
    token = await api.login("admin")
    await api("{ me { account { username } } }", token=token)  # the viewer is cached from here
    await add_study(api, token, world.meigui, world.meigui_member)
    small_records, _ = await statements(api, app, RECORDS, token)
    small_groups, _ = await statements(api, app, GROUPS, token)

    for i in range(10):
        branch = await make.branch(world.organ, name=f"扩展派出所{i}")
        await add_study(api, token, branch, await make.member(branch, name=f"学员{i}"))
    await api("{ me { account { username } } }", token=token)
    large_records, records = await statements(api, app, RECORDS, token)
    large_groups, groups = await statements(api, app, GROUPS, token)

    assert records["studyRecords"]["totalCount"] == 11
    assert all(n["attendees"] and n["ledgerEntry"] for n in records["studyRecords"]["nodes"])
    assert groups["studyGroups"]["totalCount"] == 11
    assert all(n["members"] for n in groups["studyGroups"]["nodes"])
    # Records: page, count, branches, attendees, ledger entries, their items.
    assert small_records == large_records == 6
    # Groups: count, page, branches, members.
    assert small_groups == large_groups == 4
