"""The demo county's directives (上级指令) over its two years, dispatched through the four levels.

Each directive is issued by the county committee (县局党委) to the organ committee (机关党委),
which dispatches it to branches, whose secretaries dispatch it to a few members. Recipients sign
(签收, with the receipt document phones sync), report progress and close; most close on time,
some late, and some are still open past the deadline. Each is issued on its calendar date's
latest occurrence before the seed's day (a year earlier still for the earlier year's); events
after the seed's moment (dispatches, receipts, reports, closings) have not happened yet. Rows carry one sync stamp (written in one transaction) given by demo/seed.py.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from core.ids import new_id
from demo.county import UNITS, County
from demo.records import CHINA
from demo.timeline import Timeline
from models import (
    BranchKind,
    DirectiveLevel,
    DirectivePriority,
    DirectiveStatus,
    RecipientStatus,
    ServiceStatus,
)

RANDOM_SEED = 4  # four levels
# (title ("{year}": the year issued), priority, issued (month, day) and deadline (month, day),
# year offset (-1: the earlier year), branches reached)
PLANS: tuple[tuple[str, DirectivePriority, tuple[int, int], tuple[int, int], int, int], ...] = (
    ("开展春节前安全隐患大排查", DirectivePriority.URGENT, (1, 6), (1, 25), -1, 32),
    ("深化“枫桥式公安派出所”创建", DirectivePriority.IMPORTANT, (5, 8), (6, 30), -1, 11),
    ("部署{year}年党建工作要点", DirectivePriority.IMPORTANT, (1, 12), (2, 28), 0, 32),
    ("开展反电信网络诈骗宣传进村入户", DirectivePriority.ROUTINE, (3, 2), (4, 30), 0, 20),
    ("组织汛期黄河沿岸巡防", DirectivePriority.URGENT, (6, 10), (7, 10), 0, 12),
    ("做好“七一”主题党日活动", DirectivePriority.ROUTINE, (6, 15), (7, 5), 0, 32),
    ("开展护蕾行动、星空护学进校园", DirectivePriority.IMPORTANT, (8, 25), (9, 30), 0, 16),
    ("推进党建台账规范化整改", DirectivePriority.IMPORTANT, (10, 9), (11, 20), 0, 32),
    ("开展年度民主评议党员", DirectivePriority.ROUTINE, (11, 16), (12, 25), 0, 32),
)
MEMBERS_PER_BRANCH = 2
# Chance a recipient below the county committee closes after the deadline.
LATE_CHANCE = 0.12
# Branches still open past the deadline, by directive title (the rest of the tree waits on them).
STRAGGLERS = {"推进党建台账规范化整改": 4, "组织汛期黄河沿岸巡防": 1}
PROGRESS_TEXTS = ("已传达学习,制定工作方案", "正在推进,已完成过半", "已全部完成,形成总结材料")


@dataclass
class DemoDirectives:
    directives: list[dict[str, Any]] = field(default_factory=list)
    recipients: list[dict[str, Any]] = field(default_factory=list)
    receipts: list[dict[str, Any]] = field(default_factory=list)
    progress: list[dict[str, Any]] = field(default_factory=list)


class _Builder:
    def __init__(self, county: County, admin_id: uuid.UUID, when: Timeline, stamp: int) -> None:
        self.county = county
        self.admin_id = admin_id
        self.when = when
        self.now = when.now
        self.stamp = stamp
        self.rng = random.Random(RANDOM_SEED)
        self.out = DemoDirectives()
        self.root = next(b for b in county.branches if b["kind"] is BranchKind.COMMITTEE)
        self.organ = next(b for b in county.branches if b["kind"] is BranchKind.ORGAN_COMMITTEE)

    def _at(self, year: int, month: int, day: int, hour: int = 9) -> datetime:
        return datetime(year, month, day, hour, tzinfo=CHINA)

    def _happened(self, moment: datetime | None) -> datetime | None:
        return moment if moment is not None and moment <= self.now else None

    def build(self) -> DemoDirectives:
        for plan, priority, issued, deadline_day, offset, reach in PLANS:
            issued_on = self.when.latest(*issued, years_back=-offset)
            year = issued_on.year
            title = plan.format(year=year)
            issued_at = self._at(year, *issued)
            deadline = self._at(year, *deadline_day, hour=18)
            directive_id = new_id()
            root = self._recipient(
                directive_id,
                None,
                DirectiveLevel.COUNTY_COMMITTEE,
                self.root["id"],
                None,
                issued_at,
            )
            organ = self._recipient(
                directive_id,
                root,
                DirectiveLevel.ORGAN_COMMITTEE,
                self.organ["id"],
                None,
                issued_at + timedelta(hours=2),
            )
            units = [spec.unit for spec in UNITS][:reach]
            closes: list[datetime | None] = []
            stragglers = set(self.rng.sample(units, STRAGGLERS.get(plan, 0)))
            for unit in units:
                dispatched = issued_at + timedelta(hours=self.rng.randint(3, 30))
                if dispatched > self.now:
                    closes.append(None)  # not dispatched yet: the organ committee waits
                    continue
                branch = self._recipient(
                    directive_id,
                    organ,
                    DirectiveLevel.BRANCH,
                    self.county.unit_ids[unit],
                    None,
                    dispatched,
                )
                people = [
                    m
                    for m in self.county.unit_members[unit]
                    if m["service_status"] is ServiceStatus.ACTIVE
                ][1 : 1 + MEMBERS_PER_BRANCH]
                member_closes: list[datetime | None] = []
                for m in people:
                    handed = dispatched + timedelta(hours=self.rng.randint(1, 24))
                    if handed > self.now:
                        member_closes.append(None)  # not dispatched to the member yet
                        continue
                    member = self._recipient(
                        directive_id, branch, DirectiveLevel.MEMBER, m["branch_id"], m["id"], handed
                    )
                    member_closes.append(self._run(member, deadline, None))
                closes.append(
                    self._run(branch, deadline, member_closes, stays_open=unit in stragglers)
                )
            organ_closed = self._run(organ, deadline, closes)
            root_closed = self._run(root, deadline, [organ_closed], signed=issued_at)
            self.out.directives.append(
                {
                    "id": directive_id,
                    "title": title,
                    "content": f"{title}:请各支部按要求组织落实,按期反馈进展。",
                    "priority": priority,
                    "deadline": deadline,
                    "issued_by_branch_id": self.root["id"],
                    "issued_by_account_id": self.admin_id,
                    "issued_by_member_id": None,
                    "status": DirectiveStatus.CLOSED if root_closed else DirectiveStatus.ISSUED,
                    "issued_at": issued_at,
                    "closed_at": root_closed,
                    "created_at": issued_at,
                    "updated_at": root_closed or issued_at,
                }
            )
        return self.out

    def _recipient(
        self,
        directive_id: uuid.UUID,
        parent: dict[str, Any] | None,
        level: DirectiveLevel,
        branch_id: uuid.UUID,
        member_id: uuid.UUID | None,
        dispatched: datetime,
    ) -> dict[str, Any]:
        row: dict[str, Any] = {
            "id": str(new_id()),
            "directive_id": directive_id,
            "parent_id": parent["id"] if parent else None,
            "level": level,
            "target": f"m:{member_id}" if member_id else f"b:{branch_id}",
            "branch_id": branch_id,
            "officer_id": member_id,
            "status": RecipientStatus.PENDING,
            "dispatched_at": dispatched,
            "dispatched_by": self.admin_id,
            "signed_at": None,
            "signed_by": None,
            "last_reported_at": None,
            "closed_at": None,
            "closed_by": None,
            "updated_at": self.stamp,
            "deleted": False,
            "created_at": dispatched,
            "updated_by": self.admin_id,
            "updated_device": None,
        }
        self.out.recipients.append(row)
        return row

    def _run(
        self,
        row: dict[str, Any],
        deadline: datetime,
        children: list[datetime | None] | None,
        signed: datetime | None = None,
        stays_open: bool = False,
    ) -> datetime | None:
        """Signs, reports and closes `row` (after its children closed); returns when it closed."""
        rng = self.rng
        dispatched: datetime = row["dispatched_at"]
        signed_at = self._happened(signed or dispatched + timedelta(hours=rng.randint(1, 20)))
        if signed_at is None:
            return None
        row.update(status=RecipientStatus.SIGNED, signed_at=signed_at, signed_by=self.admin_id)
        self.out.receipts.append(
            {
                "id": row["id"],
                "branch_id": row["branch_id"],
                "officer_id": row["officer_id"],
                "signed_at_text": signed_at.isoformat(),
                "signed_at": signed_at,
                "updated_at": self.stamp,
                "deleted": False,
                "created_at": signed_at,
                "updated_by": self.admin_id,
                "updated_device": None,
            }
        )
        span = deadline - signed_at
        reported = self._happened(signed_at + span * rng.uniform(0.3, 0.6))
        if reported is not None:
            self._report(row, reported, PROGRESS_TEXTS[1], 50)
        if stays_open or (children and not all(children)):
            return None  # overdue, or waiting for those it dispatched to
        ready = max([signed_at, *(c for c in children or () if c)])
        closed = ready + timedelta(hours=rng.randint(2, 48))
        late = row["level"] is not DirectiveLevel.COUNTY_COMMITTEE and rng.random() < LATE_CHANCE
        if late:
            closed = max(closed, deadline + timedelta(days=rng.randint(1, 12)))
        elif ready <= deadline:
            closed = min(closed, deadline)
        closed_at = self._happened(closed)
        if closed_at is None:
            return None
        self._report(row, closed_at, PROGRESS_TEXTS[2], 100)
        row.update(status=RecipientStatus.CLOSED, closed_at=closed_at, closed_by=self.admin_id)
        return closed_at

    def _report(self, row: dict[str, Any], at: datetime, text: str, percent: int) -> None:
        row.update(status=RecipientStatus.IN_PROGRESS, last_reported_at=at)
        self.out.progress.append(
            {
                "id": str(new_id()),
                "recipient_id": row["id"],
                "branch_id": row["branch_id"],
                "officer_id": row["officer_id"],
                "text": text,
                "percent": percent,
                "stage": None,
                "reported_at_text": at.isoformat(),
                "reported_at": at,
                "updated_at": self.stamp,
                "deleted": False,
                "created_at": at,
                "updated_by": self.admin_id,
                "updated_device": None,
            }
        )


def build_directives(
    county: County, admin_id: uuid.UUID, when: Timeline, stamp: int
) -> DemoDirectives:
    """The directives issued by the seed's moment, with their four-level recipient trees."""
    return _Builder(county, admin_id, when, stamp).build()
