"""The role matrix (tests/schema/test_role_matrix.py) for the party-building modules: e-ledgers,
study, brand building, the education base, care and supervision (spot checks, bulletins).

Same machinery and the same promise: every role against every operation, and a refused
operation leaves the database exactly as it was. Kept in a file of its own so the core matrix
stays readable; the scene is the core one plus one row of each kind these operations act on.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.clock import FrozenClock
from core.db import Sessionmaker, writing
from core.settings import Settings
from demo.seed import seed_catalogs
from models import (
    Bulletin,
    BulletinKind,
    BulletinRecipient,
    EducationActivity,
    EducationActivityType,
    FindingStatus,
    LedgerEntry,
    LedgerItem,
    SpotCheck,
    SpotCheckFinding,
    StudyForm,
    StudyGroup,
    StudyRecord,
)
from schema.node import to_global_id
from tests.conftest import Api, prepared
from tests.schema.test_role_matrix import (
    ADMIN_ONLY,
    FORBIDDEN,
    NULL,
    OK,
    READERS,
    ROLES,
    UNAUTHENTICATED,
    WRITERS,
    Operation,
    Scene,
    _mutation,
    expected_outcome,
    scene,
    snapshot,
    token_of,
)

__all__ = ["scene"]  # the fixture, shared with the core matrix

INSPECTORS = {"admin": OK, "secretary": FORBIDDEN, "inspector": OK, "officer": FORBIDDEN}
OWN_SCOPE_READERS = {"admin": OK, "secretary": FORBIDDEN, "inspector": OK, "officer": FORBIDDEN}
NODE_IN_SCOPE = {"admin": OK, "secretary": NULL, "inspector": OK, "officer": NULL}
NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)


@pytest.fixture
def app_settings(settings: Settings, tmp_path: Path) -> Settings:
    """Uploads go to the test's folder; answers are not cached between before and after."""
    return dataclasses.replace(
        settings, response_cache_entries=0, storage_dir=str(tmp_path / "files")
    )


@dataclass
class Rows:
    """One row of each kind the operations act on, all in 玫瑰 unless named otherwise."""

    scene: Scene
    entry: uuid.UUID
    yushan_entry: uuid.UUID
    study: uuid.UUID
    group: uuid.UUID
    activity: uuid.UUID
    open_finding: uuid.UUID
    rectified_finding: uuid.UUID
    bulletin: uuid.UUID

    def gid(self, type_name: str, raw: uuid.UUID) -> str:
        return to_global_id(type_name, raw)

    @property
    def meigui(self) -> str:
        return self.scene.gid(self.scene.world.meigui)

    @property
    def yushan(self) -> str:
        return self.scene.gid(self.scene.world.yushan)

    @property
    def member(self) -> str:
        return self.scene.gid(self.scene.world.meigui_member)


@pytest.fixture
async def rows(
    scene: Scene,
    sessionmaker: Sessionmaker,
    clock: FrozenClock,
    backend: str,
    db_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Rows:
    """The scene, the catalogs and the rows below, built once per process and backend."""

    async def build() -> Rows:
        return await _rows(scene, sessionmaker, clock)

    base = tmp_path_factory.getbasetemp()
    return await prepared("party-building-matrix", backend, db_url, build, base)


async def _rows(scene: Scene, sessionmaker: Sessionmaker, clock: FrozenClock) -> Rows:
    await seed_catalogs(sessionmaker, clock)
    world = scene.world
    ids = [uuid.uuid4() for _ in range(9)]
    async with writing(sessionmaker) as db:
        l02 = await db.scalar(select(LedgerItem.id).where(LedgerItem.code == "L02"))
        assert l02 is not None
        for entry_id, branch in ((ids[0], world.meigui), (ids[1], world.yushan)):
            db.add(
                LedgerEntry(
                    id=entry_id,
                    branch_id=branch.id,
                    item_id=l02,
                    occurred_on=date(2026, 11, 3),
                    title="11月支委会",
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
        db.add(
            StudyRecord(
                id=ids[2],
                branch_id=world.meigui.id,
                held_on=date(2026, 11, 3),
                topic="第一议题",
                form=StudyForm.BRANCH,
                created_at=NOW,
                updated_at=NOW,
            )
        )
        db.add(
            StudyGroup(
                id=ids[3],
                branch_id=world.meigui.id,
                name="青年民警理论学习小组",
                created_at=NOW,
                updated_at=NOW,
            )
        )
        db.add(
            EducationActivity(
                id=ids[4],
                branch_id=world.meigui.id,
                title="党建教育基地开放日",
                held_on=date(2026, 11, 1),
                type=EducationActivityType.OPEN_DAY,
                audience_count=40,
                created_at=NOW,
                updated_at=NOW,
            )
        )
        check = uuid.uuid4()
        db.add(
            SpotCheck(
                id=check,
                branch_id=world.meigui.id,
                inspector_id=world.inspector.id,
                checked_on=date(2026, 11, 27),
                period="2026-Q4",
                summary="台账基本齐全",
                created_at=NOW,
            )
        )
        db.add(
            Bulletin(
                id=ids[7],
                title="关于表扬玫瑰派出所的通报",
                content="……",
                kind=BulletinKind.COMMENDATION,
                published_at=NOW,
                published_by=world.admin.id,
            )
        )
        await db.flush()
        for finding_id, status in ((ids[5], FindingStatus.OPEN), (ids[6], FindingStatus.RECTIFIED)):
            db.add(
                SpotCheckFinding(
                    id=finding_id,
                    spot_check_id=check,
                    branch_id=world.meigui.id,
                    text="记录缺签到",
                    deadline=date(2026, 12, 10),
                    status=status,
                    rectification="已补签" if status is FindingStatus.RECTIFIED else None,
                    created_at=NOW,
                )
            )
        db.add(BulletinRecipient(bulletin_id=ids[7], branch_id=world.meigui.id))
    return Rows(scene, ids[0], ids[1], ids[2], ids[3], ids[4], ids[5], ids[6], ids[7])


def _by_id(field: str, payload: str, selection: str, type_name: str = "ID") -> str:
    """A mutation taking `id` (and maybe more) rather than an input object."""
    return f"""mutation($id: {type_name}!) {{
      {field}(id: $id) {{
        __typename
        ... on {payload} {{ {selection} }}
        ... on InvalidInput {{ errors {{ field code message }} }}
      }}
    }}"""


Vars = Callable[[Rows], dict[str, Any]]


@dataclass(frozen=True)
class PartyOperation:
    """An Operation whose variables come from the rows of this file's scene."""

    query: str
    variables: Vars
    field: str
    payload: str | None
    expected: dict[str, str]


def _op(
    query: str, variables: Vars, field: str, payload: str | None, expected: dict[str, str]
) -> PartyOperation:
    return PartyOperation(query, variables, field, payload, expected)


def entry_input(r: Rows, branch: str) -> dict[str, Any]:
    return {
        "input": {
            "branchId": branch,
            "itemCode": "L05",
            "occurredOn": "2026-11-20",
            "title": "主题党日",
            "attendeeIds": [],
        }
    }


OPERATIONS: dict[str, PartyOperation] = {
    # --- e-ledgers ---
    "read ledgerItems": _op("{ ledgerItems { code } }", lambda r: {}, "ledgerItems", None, READERS),
    "read ledgerEntries": _op(
        "{ ledgerEntries(first: 50) { totalCount nodes { title } } }",
        lambda r: {},
        "ledgerEntries",
        None,
        READERS,
    ),
    "read a ledger entry of another branch": _op(
        "query($id: ID!) { ledgerEntry(id: $id) { title } }",
        lambda r: {"id": r.gid("LedgerEntry", r.yushan_entry)},
        "ledgerEntry",
        None,
        NODE_IN_SCOPE,
    ),
    "read ledgerCompleteness of own branch": _op(
        'query($b: ID!) { ledgerCompleteness(branchId: $b, period: "2026-Q4") { expected } }',
        lambda r: {"b": r.meigui},
        "ledgerCompleteness",
        None,
        READERS,
    ),
    "read ledgerCompleteness of another branch": _op(
        'query($b: ID!) { ledgerCompleteness(branchId: $b, period: "2026-Q4") { expected } }',
        lambda r: {"b": r.yushan},
        "ledgerCompleteness",
        None,
        OWN_SCOPE_READERS,
    ),
    "createLedgerEntry in own branch": _op(
        _mutation(
            "createLedgerEntry", "CreateLedgerEntryInput", "LedgerEntryPayload", "entry { title }"
        ),
        lambda r: entry_input(r, r.meigui),
        "createLedgerEntry",
        "LedgerEntryPayload",
        WRITERS,
    ),
    "createLedgerEntry in another branch": _op(
        _mutation(
            "createLedgerEntry", "CreateLedgerEntryInput", "LedgerEntryPayload", "entry { title }"
        ),
        lambda r: entry_input(r, r.yushan),
        "createLedgerEntry",
        "LedgerEntryPayload",
        ADMIN_ONLY,
    ),
    "updateLedgerEntry": _op(
        _mutation(
            "updateLedgerEntry", "UpdateLedgerEntryInput", "LedgerEntryPayload", "entry { title }"
        ),
        lambda r: {"input": {"id": r.gid("LedgerEntry", r.entry), "title": "改"}},
        "updateLedgerEntry",
        "LedgerEntryPayload",
        WRITERS,
    ),
    "deleteLedgerEntry": _op(
        _by_id("deleteLedgerEntry", "LedgerEntryDeleted", "id"),
        lambda r: {"id": r.gid("LedgerEntry", r.entry)},
        "deleteLedgerEntry",
        "LedgerEntryDeleted",
        WRITERS,
    ),
    "addLedgerAttachment": _op(
        _mutation(
            "addLedgerAttachment",
            "AddLedgerAttachmentInput",
            "LedgerAttachmentPayload",
            "attachment { size }",
        ),
        lambda r: {
            "input": {
                "entryId": r.gid("LedgerEntry", r.entry),
                "fileName": "纪要.pdf",
                "contentBase64": "JVBERg==",
            }
        },
        "addLedgerAttachment",
        "LedgerAttachmentPayload",
        WRITERS,
    ),
    "createLedgerItem": _op(
        _mutation(
            "createLedgerItem", "CreateLedgerItemInput", "LedgerItemPayload", "item { code }"
        ),
        lambda r: {"input": {"code": "L25", "name": "警营文化", "frequency": "QUARTERLY"}},
        "createLedgerItem",
        "LedgerItemPayload",
        ADMIN_ONLY,
    ),
    # --- study ---
    "read studyRecords": _op(
        "{ studyRecords(first: 50) { totalCount } }", lambda r: {}, "studyRecords", None, READERS
    ),
    "read studyGroups": _op(
        "{ studyGroups(first: 50) { totalCount } }", lambda r: {}, "studyGroups", None, READERS
    ),
    "createStudyRecord in own branch": _op(
        _mutation(
            "createStudyRecord", "CreateStudyRecordInput", "StudyRecordPayload", "record { topic }"
        ),
        lambda r: {
            "input": {
                "branchId": r.meigui,
                "heldOn": "2026-11-20",
                "topic": "学习习近平总书记重要讲话精神",
                "form": "BRANCH",
                "attendeeIds": [r.member],
            }
        },
        "createStudyRecord",
        "StudyRecordPayload",
        WRITERS,
    ),
    "updateStudyRecord": _op(
        _mutation(
            "updateStudyRecord", "UpdateStudyRecordInput", "StudyRecordPayload", "record { topic }"
        ),
        lambda r: {"input": {"id": r.gid("StudyRecord", r.study), "topic": "改"}},
        "updateStudyRecord",
        "StudyRecordPayload",
        WRITERS,
    ),
    "deleteStudyRecord": _op(
        _by_id("deleteStudyRecord", "StudyDeleted", "id"),
        lambda r: {"id": r.gid("StudyRecord", r.study)},
        "deleteStudyRecord",
        "StudyDeleted",
        WRITERS,
    ),
    "createStudyGroup in own branch": _op(
        _mutation(
            "createStudyGroup", "CreateStudyGroupInput", "StudyGroupPayload", "group { name }"
        ),
        lambda r: {"input": {"branchId": r.meigui, "name": "读书小组", "memberIds": [r.member]}},
        "createStudyGroup",
        "StudyGroupPayload",
        WRITERS,
    ),
    "updateStudyGroup": _op(
        _mutation(
            "updateStudyGroup", "UpdateStudyGroupInput", "StudyGroupPayload", "group { name }"
        ),
        lambda r: {"input": {"id": r.gid("StudyGroup", r.group), "name": "改"}},
        "updateStudyGroup",
        "StudyGroupPayload",
        WRITERS,
    ),
    "deleteStudyGroup": _op(
        _by_id("deleteStudyGroup", "StudyDeleted", "id"),
        lambda r: {"id": r.gid("StudyGroup", r.group)},
        "deleteStudyGroup",
        "StudyDeleted",
        WRITERS,
    ),
    # --- brand building ---
    "read brandMatrix": _op(
        "{ brandMatrix { completeCount rows { metCount } } }",
        lambda r: {},
        "brandMatrix",
        None,
        READERS,
    ),
    "setBrandChecklistItem of own branch": _op(
        _mutation(
            "setBrandChecklistItem",
            "SetBrandChecklistItemInput",
            "BrandChecklistItemPayload",
            "cell { status }",
        ),
        lambda r: {
            "input": {
                "branchId": r.meigui,
                "criterionCode": "B1",
                "status": "MET",
                "evidence": "玫警初心",
            }
        },
        "setBrandChecklistItem",
        "BrandChecklistItemPayload",
        WRITERS,
    ),
    "setBrandChecklistItem of another branch": _op(
        _mutation(
            "setBrandChecklistItem",
            "SetBrandChecklistItemInput",
            "BrandChecklistItemPayload",
            "cell { status }",
        ),
        lambda r: {"input": {"branchId": r.yushan, "criterionCode": "B1", "status": "IN_PROGRESS"}},
        "setBrandChecklistItem",
        "BrandChecklistItemPayload",
        ADMIN_ONLY,
    ),
    "saveBrandCriterion": _op(
        _mutation(
            "saveBrandCriterion",
            "SaveBrandCriterionInput",
            "BrandCriterionPayload",
            "criterion { code }",
        ),
        lambda r: {"input": {"code": "B8", "name": "有宣传报道"}},
        "saveBrandCriterion",
        "BrandCriterionPayload",
        ADMIN_ONLY,
    ),
    # --- education base ---
    "read educationActivities": _op(
        "{ educationActivities(first: 50) { totalCount } }",
        lambda r: {},
        "educationActivities",
        None,
        READERS,
    ),
    "read educationTotals": _op(
        '{ educationTotals(period: "2026") { total { activities audience } } }',
        lambda r: {},
        "educationTotals",
        None,
        READERS,
    ),
    "createEducationActivity in own branch": _op(
        _mutation(
            "createEducationActivity",
            "CreateEducationActivityInput",
            "EducationActivityPayload",
            "activity { title }",
        ),
        lambda r: {
            "input": {
                "branchId": r.meigui,
                "title": "入党宣誓",
                "heldOn": "2026-11-20",
                "type": "OATH",
                "audienceCount": 12,
            }
        },
        "createEducationActivity",
        "EducationActivityPayload",
        WRITERS,
    ),
    "updateEducationActivity": _op(
        _mutation(
            "updateEducationActivity",
            "UpdateEducationActivityInput",
            "EducationActivityPayload",
            "activity { title }",
        ),
        lambda r: {"input": {"id": r.gid("EducationActivity", r.activity), "audienceCount": 41}},
        "updateEducationActivity",
        "EducationActivityPayload",
        WRITERS,
    ),
    "deleteEducationActivity": _op(
        _mutation(
            "deleteEducationActivity",
            "DeleteEducationActivityInput",
            "EducationActivityDeleted",
            "id",
        ),
        lambda r: {"input": {"id": r.gid("EducationActivity", r.activity)}},
        "deleteEducationActivity",
        "EducationActivityDeleted",
        WRITERS,
    ),
    # --- care ---
    "read collectiveBirthdays": _op(
        '{ collectiveBirthdays(month: "2026-11") { total } }',
        lambda r: {},
        "collectiveBirthdays",
        None,
        READERS,
    ),
    "read hotlineRequests": _op(
        "{ hotlineRequests(first: 50) { totalCount } }",
        lambda r: {},
        "hotlineRequests",
        None,
        READERS,
    ),
    "createHotlineRequest for a member of own branch": _op(
        _mutation(
            "createHotlineRequest",
            "CreateHotlineRequestInput",
            "HotlineRequestPayload",
            "request { status }",
        ),
        lambda r: {
            "input": {"category": "FAMILY", "summary": "家中老人住院", "memberId": r.member}
        },
        "createHotlineRequest",
        "HotlineRequestPayload",
        WRITERS,
    ),
    # --- supervision: spot checks and bulletins ---
    "read spotChecks": _op(
        "{ spotChecks(first: 50) { totalCount } }", lambda r: {}, "spotChecks", None, READERS
    ),
    "read bulletins": _op(
        "{ bulletins(first: 50) { totalCount } }", lambda r: {}, "bulletins", None, READERS
    ),
    "createSpotCheck": _op(
        _mutation(
            "createSpotCheck", "CreateSpotCheckInput", "SpotCheckPayload", "spotCheck { period }"
        ),
        lambda r: {
            "input": {
                "branchId": r.meigui,
                "checkedOn": "2026-11-27",
                "period": "2026-Q4",
                "summary": "台账基本齐全",
                "findings": [{"text": "缺签到", "deadline": "2026-12-10"}],
            }
        },
        "createSpotCheck",
        "SpotCheckPayload",
        INSPECTORS,
    ),
    "rectifyFinding of own branch": _op(
        """mutation($id: ID!) { rectifyFinding(id: $id, rectification: "已补签") {
          __typename ... on FindingPayload { finding { status } }
          ... on InvalidInput { errors { field code message } } } }""",
        lambda r: {"id": r.gid("SpotCheckFinding", r.open_finding)},
        "rectifyFinding",
        "FindingPayload",
        WRITERS,
    ),
    "closeFinding": _op(
        _by_id("closeFinding", "FindingPayload", "finding { status }"),
        lambda r: {"id": r.gid("SpotCheckFinding", r.rectified_finding)},
        "closeFinding",
        "FindingPayload",
        INSPECTORS,
    ),
    "publishBulletin": _op(
        _mutation(
            "publishBulletin", "PublishBulletinInput", "BulletinPayload", "bulletin { title }"
        ),
        lambda r: {
            "input": {"title": "通报", "content": "……", "kind": "NOTICE", "branchIds": [r.meigui]}
        },
        "publishBulletin",
        "BulletinPayload",
        ADMIN_ONLY,
    ),
    "markBulletinRead": _op(
        _by_id("markBulletinRead", "BulletinPayload", "bulletin { readCount }"),
        lambda r: {"id": r.gid("Bulletin", r.bulletin)},
        "markBulletinRead",
        "BulletinPayload",
        READERS,
    ),
}

CASES = [pytest.param(role, name, id=f"{role}-{name}") for name in OPERATIONS for role in ROLES]


@pytest.mark.parametrize(("role", "name"), CASES)
async def test_party_building_role_operation_matrix(
    api: Api, rows: Rows, sessionmaker: Sessionmaker, clock: FrozenClock, role: str, name: str
) -> None:
    party = OPERATIONS[name]
    operation = Operation(party.query, lambda s: {}, party.field, party.payload, party.expected)
    expected = expected_outcome(role, operation)
    token = await token_of(role, rows.scene, sessionmaker, clock)
    before = await snapshot(sessionmaker)

    body = await api(party.query, party.variables(rows), token=token, expect_errors=True)

    if expected in (FORBIDDEN, UNAUTHENTICATED):
        assert (body.get("data") or {}).get(party.field) is None, body
        assert [e["extensions"]["code"] for e in body["errors"]] == [expected], body
        assert body["errors"][0]["message"]
        assert await snapshot(sessionmaker) == before, "a refused operation wrote something"
        return
    assert "errors" not in body, body
    answer = body["data"][party.field]
    if expected == NULL:
        assert answer is None, body
    elif party.payload is not None:
        assert answer["__typename"] == party.payload, body
    else:
        assert answer is not None, body
    if party.payload is None:
        assert await snapshot(sessionmaker) == before, "a read wrote something"
    else:
        assert await snapshot(sessionmaker) != before, "a successful write changed nothing"


def test_the_party_building_matrix_covers_every_role_and_operation() -> None:
    for operation in OPERATIONS.values():
        assert set(operation.expected) == set(ROLES) - {"anonymous"}
