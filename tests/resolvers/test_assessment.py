"""Smart assessment: each rule kind, explanations, manual history, adjustments, rankings, trend,
typed errors with nothing written, and the statement count of a whole period."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from access.errors import ErrorCode, Forbidden, InputError
from access.viewer import Viewer
from core.clock import FrozenClock
from core.db import Sessionmaker, writing
from demo.seed import seed_catalogs
from models import (
    AssessmentItem,
    Branch,
    BranchHonour,
    BranchKind,
    Directive,
    DirectiveLevel,
    DirectivePriority,
    DirectiveRecipient,
    DirectiveStatus,
    EducationActivity,
    EducationActivityType,
    FindingStatus,
    HonourLevel,
    LedgerEntry,
    LedgerItem,
    ManualScore,
    Member,
    PartyStatus,
    Patrol,
    RecipientStatus,
    Reminder,
    ReminderKind,
    ReminderStatus,
    Role,
    ScoreAdjustment,
    ServiceAction,
    SpotCheck,
    SpotCheckFinding,
    Visit,
)
from resolvers import assessment as ops
from resolvers.assessment import BranchScore, ItemScore
from resolvers.assessment.metric import (
    FINDINGS_RECTIFIED_ON_TIME,
    METRICS,
    REMINDERS_ANSWERED_ON_TIME,
)
from resolvers.metric_window import Answer, Window
from resolvers.period import Period, PeriodKind, parse_period
from resolvers.supervision_metrics import reminders_answered_on_time
from tests.conftest import Builders, World

TODAY = date(2026, 11, 28)  # the bureau's day at tests/conftest.py's START
GRACE = 7


def viewer(account: Any, branch: Branch | None = None) -> Viewer:
    return Viewer(
        account_id=account.id,
        username=account.username,
        role=account.role,
        session_id=None,
        member_id=account.member_id,
        branch_id=branch.id if branch else None,
        branch_path=branch.path if branch else None,
    )


def at(day: date, hour: int = 10) -> datetime:
    """A moment on a bureau calendar day (UTC+8), as stored."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - timedelta(hours=8)


@dataclass
class Records:
    """Writes the records the assessment reads, straight into the tables."""

    sessionmaker: Sessionmaker
    clock: FrozenClock

    async def add(self, *rows: Any) -> None:
        async with writing(self.sessionmaker) as db:
            db.add_all(rows)

    def _synced(self, branch: Branch, officer: Member, **values: Any) -> dict[str, Any]:
        return {
            "id": str(uuid.uuid4()),
            "updated_at": 1,
            "deleted": False,
            "created_at": self.clock(),
            "branch_id": branch.id,
            "officer_id": officer.id,
            **values,
        }

    async def ledger(
        self, branch: Branch, code: str, day: date, recorded: date | None = None
    ) -> None:
        async with writing(self.sessionmaker) as db:
            item_id = await db.scalar(select(LedgerItem.id).where(LedgerItem.code == code))
            db.add(
                LedgerEntry(
                    id=uuid.uuid4(),
                    branch_id=branch.id,
                    item_id=item_id,
                    occurred_on=day,
                    title=f"{code} {day}",
                    created_at=at(recorded or day),
                    updated_at=at(recorded or day),
                )
            )

    async def visit(
        self, branch: Branch, officer: Member, day: date, deleted: bool = False
    ) -> None:
        moment = at(day)
        await self.add(
            Visit(
                **self._synced(branch, officer, deleted=deleted),
                village="孔村",
                category="household",
                status="open",
                people_reached=3,
                visited_at_text=moment.isoformat(),
                visited_at=moment,
            )
        )

    async def patrol(self, branch: Branch, officer: Member, day: date, kind: str) -> None:
        moment = at(day, 21)
        await self.add(
            Patrol(
                **self._synced(branch, officer),
                kind=kind,
                area="锦水街道",
                started_at_text=moment.isoformat(),
                started_at=moment,
                participants="[]",
                track="[]",
            )
        )

    async def action(
        self,
        branch: Branch,
        officer: Member,
        day: date,
        type: str,
        difficulties: int = 0,
        banners: int = 0,
    ) -> None:
        moment = at(day)
        await self.add(
            ServiceAction(
                **self._synced(branch, officer),
                type=type,
                title=type,
                happened_at_text=moment.isoformat(),
                happened_at=moment,
                participants="[]",
                people_reached=10,
                difficulties_solved=difficulties,
                banners_received=banners,
            )
        )

    async def activity(self, branch: Branch, day: date) -> None:
        await self.add(
            EducationActivity(
                id=uuid.uuid4(),
                branch_id=branch.id,
                title="开放日",
                held_on=day,
                type=EducationActivityType.OPEN_DAY,
                audience_count=40,
                created_at=self.clock(),
                updated_at=self.clock(),
            )
        )

    async def honour(self, branch: Branch, day: date) -> None:
        await self.add(
            BranchHonour(
                id=uuid.uuid4(),
                branch_id=branch.id,
                title="全县先进基层党组织",
                level=HonourLevel.COUNTY,
                awarded_on=day,
                created_at=self.clock(),
            )
        )

    async def directive(
        self,
        issuer: Branch,
        account_id: uuid.UUID,
        deadline: datetime,
        recipients: list[tuple[Branch, Member | None, datetime | None]],
    ) -> None:
        """One directive with recipients (branch, member or None, closed_at or None)."""
        directive_id = uuid.uuid4()
        now = self.clock()
        rows: list[Any] = [
            Directive(
                id=directive_id,
                title="防汛检查",
                content="……",
                priority=DirectivePriority.URGENT,
                deadline=deadline,
                issued_by_branch_id=issuer.id,
                issued_by_account_id=account_id,
                status=DirectiveStatus.ISSUED,
                issued_at=deadline - timedelta(days=10),
                created_at=now,
                updated_at=now,
            )
        ]
        for branch, member, closed_at in recipients:
            rows.append(
                DirectiveRecipient(
                    id=str(uuid.uuid4()),
                    updated_at=1,
                    deleted=False,
                    created_at=now,
                    branch_id=branch.id,
                    officer_id=member.id if member else None,
                    directive_id=directive_id,
                    level=DirectiveLevel.MEMBER if member else DirectiveLevel.BRANCH,
                    target=f"m:{member.id}" if member else f"b:{branch.id}",
                    status=RecipientStatus.CLOSED if closed_at else RecipientStatus.PENDING,
                    dispatched_at=deadline - timedelta(days=9),
                    signed_at=deadline - timedelta(days=8) if closed_at else None,
                    closed_at=closed_at,
                )
            )
        async with writing(self.sessionmaker) as db:
            db.add(rows[0])
            await db.flush()
            db.add_all(rows[1:])


@pytest.fixture
async def records(sessionmaker: Sessionmaker, clock: FrozenClock, world: World) -> Records:
    await seed_catalogs(sessionmaker, clock)
    return Records(sessionmaker, clock)


async def score(
    sessionmaker: Sessionmaker, branches: list[Branch], period: str
) -> list[BranchScore]:
    async with sessionmaker() as db:
        return await ops.score_branches(
            db, branches, parse_period(period), today=TODAY, grace_days=GRACE
        )


def item(result: BranchScore, code: str) -> ItemScore:
    [found] = [i for i in result.items if i.item.code == code]
    return found


# --- rule kinds ---------------------------------------------------------------------------------


async def test_ledger_frequency_scores_the_share_of_due_entries_present(
    sessionmaker: Sessionmaker, records: Records, world: World
) -> None:
    await records.ledger(world.meigui, "L02", date(2026, 7, 8))
    await records.ledger(world.meigui, "L02", date(2026, 9, 3))
    await records.ledger(world.meigui, "L01", date(2026, 8, 20))
    meigui, yushan = await score(sessionmaker, [world.meigui, world.yushan], "2026-Q3")

    a02 = item(meigui, "A02")
    assert (a02.score, a02.done, a02.total, a02.applicable) == (2.7, 2, 3, True)
    assert a02.explanation == "L02 支部委员会会议: 应记 3 次(每月一次), 已记 2 次 → 2.7/4"
    assert item(meigui, "A01").score == 4.0
    assert item(yushan, "A02").explanation.endswith("已记 0 次 → 0.0/4")
    assert item(yushan, "A02").score == 0.0


async def test_ledger_item_not_due_in_the_period_scores_full_points_as_not_applicable(
    sessionmaker: Sessionmaker, records: Records, world: World
) -> None:
    [may] = await score(sessionmaker, [world.meigui], "2026-05")
    a01 = item(may, "A01")  # L01 is quarterly: nothing due in May
    assert (a01.score, a01.applicable) == (4.0, False)
    assert a01.explanation == "L01 支部党员大会: 本期无到期记录, 不适用 → 4.0/4"
    # A month still within its grace days is pending, not missing.
    [november] = await score(sessionmaker, [world.meigui], "2026-11")
    assert item(november, "A02").applicable is False
    assert "尚未到期" in item(november, "A02").explanation


async def test_count_target_visits_per_member_rolls_up_the_subtree(
    sessionmaker: Sessionmaker, records: Records, world: World
) -> None:
    # Meigui has three members; one visit by an officer of its 党小组 counts for it.
    await records.visit(world.meigui_group, world.officer_member, date(2026, 7, 3))
    await records.visit(world.meigui, world.officer_member, date(2026, 7, 4), deleted=True)
    await records.visit(world.meigui, world.officer_member, date(2026, 8, 4))  # August
    await records.visit(world.yushan, world.yushan_member, date(2026, 7, 4))
    meigui, yushan = await score(sessionmaker, [world.meigui, world.yushan], "2026-07")

    a17 = item(meigui, "A17")  # 6 a year per member → 0.5 in a month; 1/3 per member
    assert (a17.score, a17.done, a17.total) == (3.3, 1, 3)
    assert a17.explanation == (
        "A17 党员人均走访: 走访 1 次, 党员 3 人, 人均 0.3 次, 本期目标人均 0.5 次 → 3.3/5"
    )
    assert item(yushan, "A17").score == 5.0  # 1 visit, 1 member: twice the target, capped


async def test_count_target_six_actions_patrols_difficulties_activities_and_honours(
    sessionmaker: Sessionmaker, records: Records, world: World
) -> None:
    officer = world.officer_member
    for kind in ("visit", "forum", "loudspeaker", "visit", "campaign_hulei"):
        await records.action(world.meigui, officer, date(2026, 3, 5), kind, difficulties=1)
    await records.action(world.meigui, officer, date(2026, 4, 5), "led_screen", difficulties=3)
    await records.action(world.meigui, officer, date(2026, 2, 5), "night_patrol", banners=2)
    await records.patrol(world.meigui, officer, date(2026, 3, 9), "night")
    await records.patrol(world.meigui, officer, date(2026, 3, 10), "day")
    await records.activity(world.meigui, date(2026, 2, 1))
    await records.activity(world.meigui_group, date(2026, 3, 1))
    await records.honour(world.meigui, date(2026, 1, 15))
    await records.honour(world.meigui, date(2025, 12, 15))  # the year before
    [q1] = await score(sessionmaker, [world.meigui], "2026-Q1")

    a18 = item(q1, "A18")  # visit, forum, loudspeaker, night_patrol; campaigns are not six
    assert (a18.done, a18.score) == (4, 2.7)
    assert a18.explanation == "A18 六项行动覆盖: 开展六项行动 4 项, 本期目标 6 项 → 2.7/4"
    a19 = item(q1, "A19")  # 5 of a quarter's 3 (12 a year)
    assert (a19.done, a19.score) == (5, 4.0)
    a20 = item(q1, "A20")  # one night patrol of 3 a quarter
    assert (a20.done, a20.score) == (1, 1.0)
    assert a20.explanation == "A20 夜间巡逻: 夜间巡逻 1 次, 本期目标 3 次 → 1.0/3"
    a25 = item(q1, "A25")  # 2 of 1.5
    assert (a25.done, a25.score) == (2, 2.0)
    a26 = item(q1, "A26")  # an honour and two banners, of 1 a quarter
    assert (a26.done, a26.score) == (3, 3.0)
    assert "本期目标 1 项" in a26.explanation


async def test_rate_member_pipeline_counts_probation_past_one_year_as_late(
    sessionmaker: Sessionmaker, records: Records, world: World, make: Builders
) -> None:
    probationary = PartyStatus.PROBATIONARY
    await make.member(world.meigui, party_status=probationary, party_status_since=date(2025, 6, 1))
    await make.member(world.meigui, party_status=probationary, party_status_since=date(2026, 3, 1))
    meigui, yushan = await score(sessionmaker, [world.meigui, world.yushan], "2026")

    a16 = item(meigui, "A16")
    assert (a16.done, a16.total, a16.score) == (1, 2, 1.5)
    assert a16.explanation == "A16 发展党员按期转正: 预备党员按期 1/2 人 → 1.5/3"
    # In February the second was not yet probationary, and the first not yet a year.
    [february] = await score(sessionmaker, [world.meigui], "2026-02")
    assert (item(february, "A16").done, item(february, "A16").total) == (1, 1)
    a16 = item(yushan, "A16")
    assert (a16.score, a16.applicable) == (3.0, False)
    assert a16.explanation == "A16 发展党员按期转正: 本期无应考核事项, 不适用 → 3.0/3"


async def test_rate_directives_signed_and_closed_on_time_from_recipient_rows(
    sessionmaker: Sessionmaker, records: Records, world: World
) -> None:
    deadline = at(date(2026, 10, 15), 18)
    await records.directive(
        world.committee,
        world.admin.id,
        deadline,
        [
            (world.meigui, None, deadline - timedelta(days=1)),  # on time
            (world.meigui, world.meigui_member, deadline + timedelta(days=2)),  # late
            (world.meigui_group, world.officer_member, None),  # never closed
            (world.yushan, None, deadline - timedelta(hours=1)),
        ],
    )
    # Due in December: not counted in October yet.
    await records.directive(
        world.committee, world.admin.id, at(date(2026, 12, 20)), [(world.meigui, None, None)]
    )
    meigui, yushan = await score(sessionmaker, [world.meigui, world.yushan], "2026-10")

    a21 = item(meigui, "A21")
    assert (a21.done, a21.total, a21.score) == (1, 3, 1.7)
    assert a21.explanation == "A21 上级指令按期签收办结: 指令按期签收办结 1/3 条 → 1.7/5"
    assert item(yushan, "A21").score == 5.0
    [november] = await score(sessionmaker, [world.meigui], "2026-11")
    assert item(november, "A21").applicable is False


async def test_rate_from_a_registered_metric_and_not_applicable_while_absent(
    sessionmaker: Sessionmaker, records: Records, world: World
) -> None:
    with METRICS.override(REMINDERS_ANSWERED_ON_TIME, None):
        [absent] = await score(sessionmaker, [world.meigui], "2026-Q3")
    a22 = item(absent, "A22")
    assert (a22.score, a22.applicable) == (3.0, False)
    assert a22.explanation == (
        "A22 督导提醒按期回复: 提醒按期回复尚无数据来源(督导模块未启用), 不适用 → 3.0/3"
    )
    seen: list[tuple[list[uuid.UUID], list[Window]]] = []

    async def reminders(db: AsyncSession, ids: Any, windows: Any) -> Answer:
        seen.append((list(ids), list(windows)))
        return [{world.meigui.id: (1, 4)}]

    async def findings(db: AsyncSession, ids: Any, windows: Any) -> Answer:
        return [{} for _ in windows]

    with (
        METRICS.override(REMINDERS_ANSWERED_ON_TIME, reminders),
        METRICS.override(FINDINGS_RECTIFIED_ON_TIME, findings),
    ):
        meigui, yushan = await score(sessionmaker, [world.meigui, world.yushan], "2026-Q4")
    # The window of a running quarter ends after today.
    assert seen == [
        ([world.meigui.id, world.yushan.id], [Window(date(2026, 10, 1), date(2026, 11, 29))])
    ]
    assert (item(meigui, "A22").score, item(meigui, "A22").applicable) == (0.8, True)
    assert item(meigui, "A22").explanation.endswith("提醒按期回复 1/4 条 → 0.8/3")
    assert item(yushan, "A22").applicable is False  # nothing to answer: full points
    assert item(meigui, "A23").explanation == (
        "A23 抽查问题按期整改: 本期无应考核事项, 不适用 → 4.0/4"
    )
    # Restored: outside the overrides A22 reads the supervision module's reminders.
    assert METRICS.provider(REMINDERS_ANSWERED_ON_TIME) is reminders_answered_on_time


async def test_manual_item_without_a_score_is_zero_awaiting_the_inspector(
    sessionmaker: Sessionmaker, records: Records, world: World
) -> None:
    [result] = await score(sessionmaker, [world.meigui], "2026")
    a28 = item(result, "A28")
    assert (a28.score, a28.applicable) == (0.0, True)
    assert a28.explanation == "A28 督导综合评价: 待督导评分 → 0.0/6"


# --- inspectors' writes -------------------------------------------------------------------------


async def set_manual(
    sessionmaker: Sessionmaker, clock: FrozenClock, who: Viewer, **data: Any
) -> ManualScore:
    async with writing(sessionmaker) as db:
        return await ops.set_manual_score(db, who, clock, data)


async def adjust(
    sessionmaker: Sessionmaker, clock: FrozenClock, who: Viewer, **data: Any
) -> ScoreAdjustment:
    async with writing(sessionmaker) as db:
        return await ops.adjust_score(db, who, clock, data)


async def test_manual_score_history_a_new_score_supersedes_and_all_are_kept(
    sessionmaker: Sessionmaker, records: Records, world: World, clock: FrozenClock
) -> None:
    inspector = viewer(world.inspector)
    first = await set_manual(
        sessionmaker, clock, inspector, branch_id=world.meigui.id, period="2026",
        item_code="a28", score=4.5, reason="阵地建设较好",
    )  # fmt: skip
    second = await set_manual(
        sessionmaker, clock, viewer(world.admin), branch_id=world.meigui.id, period="2026",
        item_code="A28", score=5.5, reason="复核后上调",
    )  # fmt: skip
    await set_manual(
        sessionmaker, clock, inspector, branch_id=world.meigui.id, period="2026-Q4",
        item_code="A28", score=1, reason="季度评分",
    )  # fmt: skip
    [result] = await score(sessionmaker, [world.meigui], "2026")
    assert item(result, "A28").score == 5.5
    assert item(result, "A28").explanation == "A28 督导综合评价: 督导评分(复核后上调) → 5.5/6"

    async with sessionmaker() as db:
        history = await ops.assessment_history(db, inspector, world.meigui.id, parse_period("2026"))
    assert [e.row.id for e in history.manual_scores] == [second.id, first.id]
    assert [e.inspector for e in history.manual_scores] == ["admin", "inspector"]
    kept = history.manual_scores[1].row
    assert (kept.score, kept.superseded_by_id, kept.superseded_at) == (4.5, second.id, clock())
    assert history.manual_scores[0].row.superseded_by_id is None


async def test_adjustments_are_capped_to_the_item_points_and_the_total(
    sessionmaker: Sessionmaker, records: Records, world: World, clock: FrozenClock
) -> None:
    inspector = viewer(world.inspector)
    common = {"branch_id": world.meigui.id, "period": "2026"}
    await set_manual(
        sessionmaker, clock, inspector, **common, item_code="A28", score=5, reason="良好"
    )
    await adjust(sessionmaker, clock, inspector, **common, item_code="A28", delta=3, reason="加分")
    await adjust(sessionmaker, clock, inspector, **common, item_code="A24", delta=-2, reason="扣分")
    await adjust(sessionmaker, clock, inspector, **common, item_code="A27", delta=1.5, reason="a")
    await adjust(sessionmaker, clock, inspector, **common, item_code="A27", delta=-0.5, reason="b")
    [before] = await score(sessionmaker, [world.meigui], "2026")
    await adjust(sessionmaker, clock, inspector, **common, delta=-100, reason="重大问题一票否决")
    [after] = await score(sessionmaker, [world.meigui], "2026")

    a28 = item(before, "A28")
    assert (a28.base, a28.adjustment, a28.score) == (5.0, 3.0, 6.0)
    assert a28.explanation == (
        "A28 督导综合评价: 督导评分(良好) → 5.0/6; 督导调整 +3.0(按分值封顶) → 6.0/6"
    )
    assert (item(before, "A24").score, item(before, "A27").score) == (0.0, 1.0)
    assert item(before, "A27").explanation.endswith("督导调整 +1.0 → 1.0/2")
    assert before.total > 0
    assert (after.total_adjustment, after.total) == (-100.0, 0.0)


# --- typed errors, nothing written --------------------------------------------------------------


async def counts(sessionmaker: Sessionmaker) -> tuple[int, int]:
    async with sessionmaker() as db:
        manual = await db.scalar(select(func.count()).select_from(ManualScore))
        adjustments = await db.scalar(select(func.count()).select_from(ScoreAdjustment))
    return int(manual or 0), int(adjustments or 0)


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({"item_code": "A99"}, "itemCode", ErrorCode.NOT_FOUND),
        ({"period": "2026-13"}, "period", ErrorCode.INVALID_PERIOD),
        ({"period": "26Q1"}, "period", ErrorCode.INVALID_PERIOD),
        ({"score": 6.5}, "score", ErrorCode.OUT_OF_RANGE),
        ({"score": -1}, "score", ErrorCode.OUT_OF_RANGE),
        ({"item_code": "A02"}, "itemCode", ErrorCode.INVALID_KIND),
        ({"reason": "  "}, "reason", ErrorCode.REQUIRED),
    ],
)
async def test_manual_score_typed_errors_write_nothing(
    sessionmaker: Sessionmaker,
    records: Records,
    world: World,
    clock: FrozenClock,
    data: dict[str, Any],
    field: str,
    code: ErrorCode,
) -> None:
    values = {
        "branch_id": world.meigui.id,
        "period": "2026",
        "item_code": "A28",
        "score": 5,
        "reason": "良好",
    }
    with pytest.raises(InputError) as raised:
        await set_manual(sessionmaker, clock, viewer(world.inspector), **(values | data))
    assert [(p.field, p.code) for p in raised.value.problems] == [(field, code)]
    assert await counts(sessionmaker) == (0, 0)


async def test_adjustment_typed_errors_write_nothing(
    sessionmaker: Sessionmaker, records: Records, world: World, clock: FrozenClock
) -> None:
    with pytest.raises(InputError) as raised:
        await adjust(
            sessionmaker, clock, viewer(world.inspector), branch_id=world.meigui_group.id,
            period="2026-Q5", item_code="X1", delta=0, reason="",
        )  # fmt: skip
    assert sorted((p.field or "", p.code) for p in raised.value.problems) == [
        ("branchId", ErrorCode.INVALID_KIND),
        ("delta", ErrorCode.OUT_OF_RANGE),
        ("itemCode", ErrorCode.NOT_FOUND),
        ("period", ErrorCode.INVALID_PERIOD),
        ("reason", ErrorCode.REQUIRED),
    ]
    with pytest.raises(InputError) as raised:
        await adjust(
            sessionmaker, clock, viewer(world.inspector), branch_id=world.meigui.id,
            period="2026", item_code="A27", delta=2.5, reason="超过分值",
        )  # fmt: skip
    assert [(p.field, p.code) for p in raised.value.problems] == [("delta", ErrorCode.OUT_OF_RANGE)]
    assert await counts(sessionmaker) == (0, 0)


async def test_only_inspectors_and_admins_score(
    sessionmaker: Sessionmaker, records: Records, world: World, clock: FrozenClock
) -> None:
    data = {"branch_id": world.meigui.id, "period": "2026", "item_code": "A28"}
    for who in (viewer(world.secretary, world.meigui), viewer(world.officer, world.meigui)):
        with pytest.raises(Forbidden):
            await set_manual(sessionmaker, clock, who, **data, score=1, reason="x")
        with pytest.raises(Forbidden):
            await adjust(sessionmaker, clock, who, **data, delta=1, reason="x")
    assert await counts(sessionmaker) == (0, 0)


async def catalog(sessionmaker: Sessionmaker) -> dict[str, tuple[int, dict[str, Any], bool]]:
    async with sessionmaker() as db:
        rows = await ops.list_assessment_items(db, include_inactive=True)
    return {r.code: (r.points, r.params, r.active) for r in rows}


async def update(
    sessionmaker: Sessionmaker, clock: FrozenClock, who: Viewer, *changes: dict[str, Any]
) -> list[AssessmentItem]:
    async with writing(sessionmaker) as db:
        return await ops.update_assessment_items(db, who, clock, changes)


async def test_catalog_points_must_stay_100_and_params_fit_the_rule(
    sessionmaker: Sessionmaker, records: Records, world: World, clock: FrozenClock
) -> None:
    admin = viewer(world.admin)
    before = await catalog(sessionmaker)
    assert len(before) == 28 and sum(p for p, _, _ in before.values()) == 100
    with pytest.raises(InputError) as raised:
        await update(sessionmaker, clock, admin, {"code": "A28", "points": 8})
    assert [(p.field, p.code) for p in raised.value.problems] == [
        ("points", ErrorCode.POINTS_TOTAL)
    ]
    with pytest.raises(InputError) as raised:
        await update(sessionmaker, clock, admin, {"code": "A27", "active": False})
    assert raised.value.problems[0].code is ErrorCode.POINTS_TOTAL
    bad: list[tuple[dict[str, Any], str, ErrorCode]] = [
        ({"code": "A99", "name": "x"}, "items[0].code", ErrorCode.NOT_FOUND),
        ({"code": "A02", "params": {"ledger_item": "L99"}}, "items[1].params", ErrorCode.NOT_FOUND),
        ({"code": "A17", "params": {"metric": "visits_per_member", "target": 0}},
         "items[2].params", ErrorCode.OUT_OF_RANGE),
        ({"code": "A21", "params": {"metric": "nope"}}, "items[3].params", ErrorCode.NOT_FOUND),
        ({"code": "A28", "params": {"metric": "x"}}, "items[4].params", ErrorCode.INVALID),
    ]  # fmt: skip
    with pytest.raises(InputError) as raised:
        await update(sessionmaker, clock, admin, *(change for change, _, _ in bad))
    assert [(p.field, p.code) for p in raised.value.problems] == [(f, c) for _, f, c in bad]
    with pytest.raises(Forbidden):
        await update(sessionmaker, clock, viewer(world.inspector), {"code": "A28", "name": "x"})
    assert await catalog(sessionmaker) == before

    # Moving two points from A28 to A17, with a new target: one change, checked once.
    await update(
        sessionmaker, clock, admin,
        {"code": "A28", "points": 4},
        {"code": "A17", "points": 7, "params": {"metric": "visits_per_member", "target": 12,
                                               "per": "member", "period_scale": "year"}},
    )  # fmt: skip
    after = await catalog(sessionmaker)
    assert after["A28"][0] == 4 and after["A17"][0] == 7
    assert after["A17"][1]["target"] == 12
    assert sum(p for p, _, a in after.values() if a) == 100


# --- ranking, trend, determinism, cost ----------------------------------------------------------


async def test_ranking_ties_are_broken_by_sort_order_then_name(
    sessionmaker: Sessionmaker,
    records: Records,
    world: World,
    make: Builders,
    clock: FrozenClock,
) -> None:
    # Same data everywhere (members, no visits) but one manual score: the others tie.
    for name, order in (("阿城派出所党支部", 2), ("安城派出所党支部", 1)):
        await make.member(await make.branch(world.organ, name=name, sort_order=order))
    await set_manual(
        sessionmaker, clock, viewer(world.inspector), branch_id=world.yushan.id, period="2026",
        item_code="A28", score=6, reason="优秀",
    )  # fmt: skip
    async with sessionmaker() as db:
        first = await ops.assessment_ranking(
            db, viewer(world.admin), Period.whole_year(2026), subtree_of=None,
            today=TODAY, grace_days=GRACE,
        )  # fmt: skip
        again = await ops.assessment_ranking(
            db, viewer(world.admin), Period.whole_year(2026), subtree_of=world.organ.id,
            today=TODAY, grace_days=GRACE,
        )  # fmt: skip
    names = [r.score.branch.name for r in first.rows]
    # sort order 1: 安城 before 玫瑰 by name (U+5B89 < U+73AB); then sort order 2.
    assert names == [
        "榆山第二派出所党支部",
        "安城派出所党支部",
        "玫瑰派出所党支部",
        "阿城派出所党支部",
    ]
    assert [r.rank for r in first.rows] == [1, 2, 3, 4]
    assert first.rows[0].score.total == first.rows[1].score.total + 6
    assert [(r.rank, r.score.branch.id, r.score.total) for r in again.rows] == [
        (r.rank, r.score.branch.id, r.score.total) for r in first.rows
    ]
    assert [[i.explanation for i in r.score.items] for r in again.rows] == [
        [i.explanation for i in r.score.items] for r in first.rows
    ]


async def test_ranking_shows_secretaries_and_officers_their_rows_with_their_place(
    sessionmaker: Sessionmaker, records: Records, world: World, clock: FrozenClock
) -> None:
    await set_manual(
        sessionmaker, clock, viewer(world.inspector), branch_id=world.yushan.id, period="2026",
        item_code="A28", score=6, reason="优秀",
    )  # fmt: skip
    for who in (viewer(world.secretary, world.meigui), viewer(world.officer, world.meigui_group)):
        async with sessionmaker() as db:
            ranking = await ops.assessment_ranking(
                db, who, Period.whole_year(2026), subtree_of=None, today=TODAY, grace_days=GRACE
            )
        assert [(r.rank, r.score.branch.name) for r in ranking.rows] == [(2, "玫瑰派出所党支部")]
        assert ranking.ranked == 2


async def test_branch_assessment_access_per_role(
    sessionmaker: Sessionmaker, records: Records, world: World
) -> None:
    allowed = {
        "admin": viewer(world.admin),
        "inspector": viewer(world.inspector),
        "secretary": viewer(world.secretary, world.meigui),
        "officer": viewer(world.officer, world.meigui_group),
    }
    for role, who in allowed.items():
        async with sessionmaker() as db:
            result = await ops.branch_assessment(
                db, who, world.meigui.id, Period.whole_year(2026), today=TODAY, grace_days=GRACE
            )
        assert result.branch.id == world.meigui.id, role
        if who.role in (Role.SECRETARY, Role.OFFICER):
            with pytest.raises(Forbidden):
                async with sessionmaker() as db:
                    await ops.branch_assessment(
                        db, who, world.yushan.id, Period.whole_year(2026),
                        today=TODAY, grace_days=GRACE,
                    )  # fmt: skip
    with pytest.raises(InputError) as raised:
        async with sessionmaker() as db:
            await ops.branch_assessment(
                db, allowed["admin"], world.meigui_group.id, Period.whole_year(2026),
                today=TODAY, grace_days=GRACE,
            )  # fmt: skip
    assert raised.value.problems[0].code is ErrorCode.INVALID_KIND


async def test_trend_scores_each_month_of_the_year(
    sessionmaker: Sessionmaker, records: Records, world: World
) -> None:
    for day in (date(2026, 7, 2), date(2026, 7, 9), date(2026, 7, 16)):
        await records.visit(world.meigui, world.officer_member, day)
    async with sessionmaker() as db:
        months = await ops.assessment_trend(
            db, viewer(world.admin), world.meigui.id, 2026, PeriodKind.MONTH,
            today=TODAY, grace_days=GRACE,
        )  # fmt: skip
        quarters = await ops.assessment_trend(
            db, viewer(world.admin), world.meigui.id, 2026, PeriodKind.QUARTER,
            today=TODAY, grace_days=GRACE,
        )  # fmt: skip
    assert [str(m.period) for m in months] == [f"2026-{m:02d}" for m in range(1, 13)]
    assert [str(q.period) for q in quarters] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    a17 = [item(m, "A17").score for m in months]
    assert a17[6] == 5.0 and a17[5] == 0.0 and a17[7] == 0.0
    # July and August have the same items due; only the visits differ.
    assert months[6].total - months[7].total == 5.0
    assert item(quarters[2], "A17").done == 3


async def rich_year(
    sessionmaker: Sessionmaker, records: Records, world: World, make: Builders, clock: FrozenClock
) -> None:
    """Records of every kind the assessment reads, spread over 2025-12 … 2026-12 with some on
    the first and last days of months (and late in the bureau's evening), manual scores and
    adjustments of months, quarters and the year."""
    meigui, group, yushan = world.meigui, world.meigui_group, world.yushan
    officer, other = world.officer_member, world.yushan_member
    async with sessionmaker() as db:
        codes = list((await db.scalars(select(LedgerItem.code).order_by(LedgerItem.code))).all())
    for n, code in enumerate(codes):
        for month in range(1, 12):
            if (month + n) % 3 == 0:
                continue  # a gap
            day = date(2026, month, 1 if (month + n) % 2 else 28)
            late = day + timedelta(days=40) if (month * n) % 5 == 1 else None
            await records.ledger(meigui, code, day, recorded=late)
            if (month + n) % 4 == 0:
                await records.ledger(yushan, code, day)
    await records.ledger(meigui, "L02", date(2025, 12, 31))
    six = ("visit", "forum", "loudspeaker", "led_screen", "night_patrol", "campaign_hulei")
    for month in range(1, 13):
        last = (Period.month(2026, month).end_exclusive - timedelta(days=1)).day
        for k in range(month % 4):
            await records.visit(group if k % 2 else meigui, officer, date(2026, month, 1 + k))
        await records.visit(meigui, officer, date(2026, month, last))  # 10:00 on the last day
        await records.visit(yushan, other, date(2026, month, 15), deleted=month % 2 == 0)
        await records.action(
            meigui, officer, date(2026, month, 1), six[month % 6], month % 3, month % 2
        )
        await records.action(yushan, other, date(2026, month, last), six[(month + 2) % 6], 1)
        await records.patrol(meigui, officer, date(2026, month, 1), "night")
        if month % 3 == 0:
            await records.patrol(group, officer, date(2026, month, last), "night")
            await records.patrol(meigui, officer, date(2026, month, 2), "day")
            await records.activity(group, date(2026, month, last))
        if month % 4 == 1:
            await records.activity(meigui, date(2026, month, 1))
            await records.honour(meigui, date(2026, month, last))
    await records.honour(yushan, date(2025, 12, 31))
    # A visit at 23:30 on 31 July in the bureau's calendar: July's, although it is 31 July in
    # UTC too; and one at 00:30 on 1 August, which is still 31 July in UTC.
    late_july = datetime(2026, 7, 31, 15, 30, tzinfo=UTC)
    early_august = datetime(2026, 7, 31, 16, 30, tzinfo=UTC)
    for moment in (late_july, early_august):
        await records.add(
            Visit(
                **records._synced(meigui, officer),
                village="孔村",
                category="household",
                status="open",
                people_reached=1,
                visited_at_text=moment.isoformat(),
                visited_at=moment,
            )
        )
    probationary = PartyStatus.PROBATIONARY
    for since in (date(2025, 3, 1), date(2025, 6, 30), date(2026, 2, 28), date(2026, 9, 1)):
        await make.member(meigui, party_status=probationary, party_status_since=since)
    await make.member(yushan, party_status=probationary, party_status_since=date(2025, 8, 31))
    for month, closed in ((3, -1), (3, 2), (6, -2), (9, None), (10, -1), (12, None)):
        deadline = at(date(2026, month, 15), 18)
        await records.directive(
            world.committee,
            world.admin.id,
            deadline,
            [
                (meigui, None, None if closed is None else deadline + timedelta(days=closed)),
                (group, officer, deadline - timedelta(days=1)),
                (yushan, None, deadline + timedelta(days=3)),
            ],
        )
    check = SpotCheck(
        id=uuid.uuid4(),
        branch_id=meigui.id,
        inspector_id=world.inspector.id,
        checked_on=date(2026, 1, 20),
        period="2026-Q1",
        summary="抽查",
        created_at=clock(),
    )
    await records.add(check)
    rows: list[Any] = []
    for month in range(1, 13):
        due = date(2026, month, 1)
        answered = due if month % 2 else (due + timedelta(days=3) if month % 4 else None)
        for branch in (meigui, yushan):
            rows.append(
                Reminder(
                    id=str(uuid.uuid4()),
                    kind=ReminderKind.LEDGER_OVERDUE,
                    dedup_key=str(uuid.uuid4()),
                    title="提醒",
                    branch_id=branch.id,
                    due_on=due,
                    status=ReminderStatus.OPEN,
                    answered_on=answered,
                    updated_at=1,
                    deleted=False,
                    created_at=clock(),
                )
            )
        if month % 2:
            rows.append(
                SpotCheckFinding(
                    id=uuid.uuid4(),
                    spot_check_id=check.id,
                    branch_id=meigui.id,
                    text="问题",
                    deadline=date(2026, month, 28),
                    status=FindingStatus.OPEN,
                    rectified_on=date(2026, month, 27 + month % 3),
                    created_at=clock(),
                )
            )
    await records.add(*rows)
    inspector = viewer(world.inspector)
    for period, branch, points in (
        ("2026-03", meigui, 4.5), ("2026-Q2", meigui, 5), ("2026", meigui, 5.5),
        ("2026-03", yushan, 2), ("2026-Q2", yushan, 3.5),
    ):  # fmt: skip
        await set_manual(
            sessionmaker, clock, inspector, branch_id=branch.id, period=period,
            item_code="A28", score=points, reason=f"{period}评分",
        )  # fmt: skip
    adjustments: list[tuple[str, str | None, float]] = [
        ("2026-05", "A17", 1.5), ("2026-05", None, -3), ("2026-Q3", "A02", -2),
        ("2026", "A28", 2), ("2026-02", "A20", 3), ("2026-02", "A20", -1),
    ]  # fmt: skip
    for period, adjusted, delta in adjustments:
        await adjust(
            sessionmaker, clock, inspector, branch_id=meigui.id, period=period,
            item_code=adjusted, delta=delta, reason="调整",
        )  # fmt: skip


def snapshot(s: BranchScore) -> tuple[Any, ...]:
    """Everything a score says: the total and each item's figures and explanation."""
    items = [
        (i.item.code, i.base, i.adjustment, i.score, i.applicable, i.explanation, i.done, i.total)
        for i in s.items
    ]
    return (s.branch.id, str(s.period), s.total, s.total_adjustment, s.points, items)


async def test_trend_equals_each_period_computed_alone(
    sessionmaker: Sessionmaker,
    records: Records,
    world: World,
    make: Builders,
    clock: FrozenClock,
) -> None:
    await rich_year(sessionmaker, records, world, make, clock)
    admin = viewer(world.admin)
    trends: dict[PeriodKind, list[BranchScore]] = {}
    for granularity in PeriodKind:
        async with sessionmaker() as db:
            trend = await ops.assessment_trend(
                db, admin, world.meigui.id, 2026, granularity, today=TODAY, grace_days=GRACE
            )
        trends[granularity] = trend
        alone = []
        for period in Period.whole_year(2026).sub_periods(granularity):
            alone += await score(sessionmaker, [world.meigui], str(period))
        assert [snapshot(s) for s in trend] == [snapshot(s) for s in alone], granularity
    # Several branches and overlapping, scattered periods (the dashboard asks for a period and
    # the same period a year earlier), one not begun yet (December, today being 28 November).
    texts = ["2026-05", "2026-Q2", "2026", "2025-12", "2026-11", "2026-12", "2026-07", "2026-Q3"]
    branches = [world.meigui, world.yushan]
    async with sessionmaker() as db:
        together = await ops.score_periods(
            db, branches, [parse_period(t) for t in texts], today=TODAY, grace_days=GRACE
        )
    for text, scores in zip(texts, together, strict=True):
        assert [snapshot(s) for s in scores] == [
            snapshot(s) for s in await score(sessionmaker, branches, text)
        ], text

    # The data reaches every rule: late ledger entries, manual scores, adjustments, metrics
    # from the supervision module, and totals that differ from month to month.
    months = trends[PeriodKind.MONTH]
    assert len({s.total for s in months}) >= 6
    explanations = " ".join(i.explanation for s in months for i in s.items)
    for fact in ("补记", "督导评分(", "督导调整", "人均", "提醒按期回复 ", "抽查问题按期整改 "):
        assert fact in explanations, fact
    assert any(s.total_adjustment for s in months)


@contextmanager
def counting(engine: AsyncEngine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_statement_count_of_a_period_does_not_grow_with_branches(
    sessionmaker: Sessionmaker,
    engine: AsyncEngine,
    records: Records,
    world: World,
    make: Builders,
    clock: FrozenClock,
) -> None:
    async def statements() -> tuple[int, int]:
        async with sessionmaker() as db:
            branches = await ops.assessed_branches(db)
            with counting(engine) as seen:
                await ops.score_branches(
                    db, branches, parse_period("2026"), today=TODAY, grace_days=GRACE
                )
        return len(seen), len(branches)

    small, two = await statements()
    for i in range(10):
        branch = await make.branch(world.organ, name=f"扩展派出所{i}", sort_order=10 + i)
        group = await make.branch(branch, BranchKind.GROUP, name=f"扩展党小组{i}")
        member = await make.member(group)
        await records.visit(group, member, date(2026, 5, i + 1))
        await records.ledger(branch, "L02", date(2026, 5, i + 1))
        await records.action(branch, member, date(2026, 6, 1), "forum", difficulties=2)
        await set_manual(
            sessionmaker, clock, viewer(world.inspector), branch_id=branch.id, period="2026",
            item_code="A28", score=3, reason="一般",
        )  # fmt: skip
    large, twelve = await statements()
    assert (two, twelve) == (2, 12)
    assert small == large
    # catalog, ledger (2), eight metrics, manual scores, adjustments, brand checklist (2)
    assert large <= 18


async def test_trend_statement_count_does_not_grow_with_periods(
    sessionmaker: Sessionmaker,
    engine: AsyncEngine,
    records: Records,
    world: World,
    make: Builders,
    clock: FrozenClock,
) -> None:
    await rich_year(sessionmaker, records, world, make, clock)

    async def trend(granularity: PeriodKind) -> int:
        async with sessionmaker() as db:
            with counting(engine) as seen:
                found = await ops.assessment_trend(
                    db, viewer(world.admin), world.meigui.id, 2026, granularity,
                    today=TODAY, grace_days=GRACE,
                )  # fmt: skip
        assert len(found) == 12 // granularity.months
        return len(seen)

    async def periods(texts: list[str]) -> int:
        async with sessionmaker() as db:
            with counting(engine) as seen:
                await ops.score_periods(
                    db, [world.meigui, world.yushan], [parse_period(t) for t in texts],
                    today=TODAY, grace_days=GRACE,
                )  # fmt: skip
        return len(seen)

    months, quarters, year = [await trend(k) for k in PeriodKind]
    three = await periods(["2026-01", "2026-02", "2026-03"])
    twelve = await periods([f"2026-{m:02d}" for m in range(1, 13)])
    one = await periods(["2026-05"])
    # The branch, then what one period costs: the catalog, the ledger (2), one per metric
    # (10), manual scores, adjustments, the brand checklist for A24's suggestion (2).
    assert months == quarters == year == 1 + 17
    assert one == three == twelve == 17
