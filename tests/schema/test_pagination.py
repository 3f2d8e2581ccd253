"""Cursors of every list: one that decodes but does not hold the list's sort key
(forged, or from another list) is a typed CURSOR error on `after`, never an internal error."""

from __future__ import annotations

import pytest

from resolvers.pagination import encode_cursor
from tests.conftest import Api, World

LISTS = [
    "ledgerEntries",
    "studyRecords",
    "studyGroups",
    "educationActivities",
    "hotlineRequests",
    "spotChecks",
    "bulletins",
    "members",
    "visits",
    "patrols",
    "serviceActions",
    "directives",
    "myDirectives",
    "reminders",
    "myReminders",
    "syncConflicts",
    "syncQuarantine",
    "myQuarantinedRows",
    "syncDevices",
]
FORGED = {
    "not a date or time": encode_cursor(["yesterday", "00000000-0000-0000-0000-000000000000"]),
    "a time without offset": encode_cursor(
        ["2026-11-03T08:00:00", "00000000-0000-0000-0000-000000000000"]
    ),
    "not an id": encode_cursor(["2026-11-03", "not-a-uuid"]),
    "not text": encode_cursor([20261103, 7]),
}
# Lists ordered by a name take any text as the name; reminder ids are any text.
BY_NAME = {"not a date or time", "a time without offset"}
NOT_REFUSED = {
    "studyGroups": BY_NAME,
    "members": BY_NAME,
    "syncDevices": BY_NAME,
    "reminders": {"not an id"},
    "myReminders": {"not an id"},
}
CASES = [
    pytest.param(field, cursor, id=f"{field}-{name}")
    for field in LISTS
    for name, cursor in FORGED.items()
    if name not in NOT_REFUSED.get(field, set())
]


# Branches are ordered by (depth, sort order, id): three values.
ZERO_ID = "00000000-0000-0000-0000-000000000000"
FORGED_BRANCH = {
    "depth not a number": encode_cursor(["deep", 0, ZERO_ID]),
    "sort order missing": encode_cursor([1, None, ZERO_ID]),
    "not an id": encode_cursor([1, 0, "not-a-uuid"]),
}


@pytest.mark.parametrize(("field", "cursor"), CASES)
async def test_a_forged_cursor_is_a_typed_error_on_after(
    api: Api, world: World, field: str, cursor: str
) -> None:
    await assert_cursor_refused(api, field, cursor)


@pytest.mark.parametrize("cursor", FORGED_BRANCH.values(), ids=FORGED_BRANCH.keys())
async def test_a_forged_branch_cursor_is_a_typed_error_on_after(
    api: Api, world: World, cursor: str
) -> None:
    await assert_cursor_refused(api, "branches", cursor)


async def assert_cursor_refused(api: Api, field: str, cursor: str) -> None:
    token = await api.login("admin")
    body = await api(
        f"query($after: String) {{ {field}(first: 5, after: $after) {{ totalCount }} }}",
        {"after": cursor},
        token=token,
        expect_errors=True,
    )
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["extensions"]["problems"] == [
        {"field": "after", "message": "无效的游标 (invalid cursor)", "code": "cursor"}
    ]
