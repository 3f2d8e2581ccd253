"""Metrics the assessment scores `count_target` and `rate` items from: a registry of providers.

A metric provider answers, for a set of assessed branches and one or more windows of days, one
pair per branch and window: `(done, total)`. For a rate item that is done out of total
(directives closed on time out of those due); for a count item `done` is the count and `total`
the base it is divided by when the item's target is per member (the branch's members), else 0.

The contract every provider keeps, so the assessment stays cheap and deterministic:

- `branch_ids` are assessed branches (党支部 / 党总支). What belongs to a branch is what belongs
  to its **subtree**: a visit written by an officer of a 党小组 counts for its 支部.
  `by_assessed` rolls figures grouped by the records' own branch up to the assessed branches.
- Each `Window` is bureau calendar days [start, end): `start` the first day, `end` the day
  after the last. For a period still running, `end` is the day after today, so "due before
  `end`" means due by now. Windows may be any number (a year's twelve months for the trend,
  a period and the same period a year earlier for the dashboard) and may overlap.
- One aggregate SQL statement over all the branches and all the windows (the records joined
  to the windows' table, `WindowTable`, and grouped by the assessed branch and the window),
  whatever their number; the answer is one dict per window, in the windows' order, and
  branches with nothing may be left out of it (read as (0, 0)). A window's figures are
  exactly those a query of that window alone would give.

Providers register under a name that items' params refer to. The built-in ones are registered
below; `reminders_answered_on_time` and `findings_rectified_on_time` come from the supervision
module (resolvers/supervision_metrics.py). A name declared without a provider is known but
has none, and the items reading it are scored as not applicable (resolvers/assessment/__init__.py
says why).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, Subquery, and_, case, distinct, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models import (
    Branch,
    BranchHonour,
    Directive,
    DirectiveRecipient,
    EducationActivity,
    Member,
    PartyStatus,
    Patrol,
    PatrolKind,
    ServiceAction,
    ServiceStatus,
    Visit,
)
from models.service_action import SIX_ACTIONS
from resolvers.metric_window import Answer, Window, WindowTable, pairs
from resolvers.supervision_metrics import findings_rectified_on_time, reminders_answered_on_time

Metric = Callable[[AsyncSession, Sequence[uuid.UUID], Sequence[Window]], Awaitable[Answer]]
"""(db, assessed branch ids, windows) → per window, branch id → (done, total)."""

REMINDERS_ANSWERED_ON_TIME = "reminders_answered_on_time"
FINDINGS_RECTIFIED_ON_TIME = "findings_rectified_on_time"


@dataclass(frozen=True, slots=True)
class MetricInfo:
    """How an explanation speaks of a metric: `label` of what is counted, its `unit`."""

    label: str
    unit: str


class MetricRegistry:
    """Metric providers by name, plus the names that are known before their provider is."""

    def __init__(self) -> None:
        self._providers: dict[str, Metric] = {}
        self._info: dict[str, MetricInfo] = {}

    def declare(self, name: str, info: MetricInfo) -> None:
        """Makes a name known (items may refer to it) before any provider is registered."""
        self._info[name] = info

    def register(self, name: str, provider: Metric, info: MetricInfo | None = None) -> None:
        """Registers (or replaces) the provider of a metric."""
        self._providers[name] = provider
        if info is not None or name not in self._info:
            self._info[name] = info or MetricInfo(name, "")

    def unregister(self, name: str) -> None:
        self._providers.pop(name, None)

    def provider(self, name: str) -> Metric | None:
        """The provider, or None while the module that provides it is not there."""
        return self._providers.get(name)

    def info(self, name: str) -> MetricInfo:
        return self._info.get(name, MetricInfo(name, ""))

    def known(self, name: str) -> bool:
        return name in self._info or name in self._providers

    def names(self) -> list[str]:
        return sorted(set(self._info) | set(self._providers))

    @contextmanager
    def override(self, name: str, provider: Metric | None) -> Iterator[None]:
        """Within the block, `name` is provided by `provider` (None: by nobody); for tests."""
        before = self._providers.get(name)
        if provider is None:
            self._providers.pop(name, None)
        else:
            self._providers[name] = provider
        try:
            yield
        finally:
            if before is None:
                self._providers.pop(name, None)
            else:
                self._providers[name] = before


METRICS = MetricRegistry()


def register_metric(name: str, provider: Metric, info: MetricInfo | None = None) -> None:
    """Registers a provider in the registry the assessment reads (call it at import time)."""
    METRICS.register(name, provider, info)


# --- helpers for providers ----------------------------------------------------------------------


# Built once: aliasing a mapped class per call costs more than the statement it goes into.
_ASSESSED = aliased(Branch, name="assessed")
_HOLDER = aliased(Branch, name="holder")


def by_assessed(
    per_branch: Subquery, branch_ids: Sequence[uuid.UUID], done: Any, total: Any
) -> Select[Any]:
    """Rolls per-branch figures up to the assessed branches whose subtree holds them.

    `per_branch` is an aggregate keyed by `branch_id` and `w` columns (grouped by the records'
    own branch, which their index serves, and by window); `done` and `total` aggregate its
    columns again per assessed branch and window, e.g. `func.sum(per_branch.c.n)`. The subtree
    match (path prefix) runs on those few aggregated rows, never on every record, so the whole
    is still one statement.
    """
    assessed, holder = _ASSESSED, _HOLDER
    return (
        select(assessed.id, per_branch.c.w, done, total)
        .select_from(per_branch)
        .join(holder, holder.id == per_branch.c.branch_id)
        .join(assessed, holder.path.startswith(assessed.path))
        .where(assessed.id.in_(list(branch_ids)))
        .group_by(assessed.id, per_branch.c.w)
    )


# --- built-in providers -------------------------------------------------------------------------


async def visits_per_member(
    db: AsyncSession, branch_ids: Sequence[uuid.UUID], windows: Sequence[Window]
) -> Answer:
    """(visits in the window, members in service): A17 divides one by the other. Members are
    counted as they stand, the same in every window."""
    t = WindowTable(windows)
    members = (
        select(Member.branch_id, func.count().label("n"))
        .where(Member.service_status == ServiceStatus.ACTIVE)
        .group_by(Member.branch_id)
        .subquery("members")
    )
    per_branch = union_all(
        select(
            Visit.branch_id.label("branch_id"),
            t.c.w.label("w"),
            func.count().label("visits"),
            literal(0).label("members"),
        )
        .join(t.table, t.during(Visit.visited_at, instants=True))
        .where(Visit.deleted.is_(False))
        .group_by(Visit.branch_id, t.c.w),
        select(members.c.branch_id, t.c.w, literal(0), members.c.n).join(t.table, t.every()),
    ).subquery("per_branch")
    c = per_branch.c
    query = by_assessed(per_branch, branch_ids, func.sum(c.visits), func.sum(c.members))
    return await pairs(db, query, len(windows))


async def six_action_coverage(
    db: AsyncSession, branch_ids: Sequence[uuid.UUID], windows: Sequence[Window]
) -> Answer:
    """(distinct types of the six actions 六项行动 used, 6)."""
    t = WindowTable(windows)
    per_branch = (
        select(ServiceAction.branch_id, ServiceAction.type, t.c.w)
        .join(t.table, t.during(ServiceAction.happened_at, instants=True))
        .where(
            ServiceAction.deleted.is_(False),
            ServiceAction.type.in_(sorted(a.value for a in SIX_ACTIONS)),
        )
        .group_by(ServiceAction.branch_id, ServiceAction.type, t.c.w)
        .subquery("per_branch")
    )
    query = by_assessed(
        per_branch,
        branch_ids,
        func.count(distinct(per_branch.c.type)),
        literal(len(SIX_ACTIONS)),
    )
    return await pairs(db, query, len(windows))


async def difficulties_solved(
    db: AsyncSession, branch_ids: Sequence[uuid.UUID], windows: Sequence[Window]
) -> Answer:
    """(difficulties solved 解决群众困难 in service actions, 0)."""
    t = WindowTable(windows)
    per_branch = (
        select(
            ServiceAction.branch_id,
            t.c.w,
            func.sum(ServiceAction.difficulties_solved).label("n"),
        )
        .join(t.table, t.during(ServiceAction.happened_at, instants=True))
        .where(ServiceAction.deleted.is_(False))
        .group_by(ServiceAction.branch_id, t.c.w)
        .subquery("per_branch")
    )
    query = by_assessed(per_branch, branch_ids, func.sum(per_branch.c.n), literal(0))
    return await pairs(db, query, len(windows))


async def night_patrols(
    db: AsyncSession, branch_ids: Sequence[uuid.UUID], windows: Sequence[Window]
) -> Answer:
    """(night patrols 夜间巡逻 started in the window, 0)."""
    t = WindowTable(windows)
    per_branch = (
        select(Patrol.branch_id, t.c.w, func.count().label("n"))
        .join(t.table, t.during(Patrol.started_at, instants=True))
        .where(Patrol.deleted.is_(False), Patrol.kind == PatrolKind.NIGHT.value)
        .group_by(Patrol.branch_id, t.c.w)
        .subquery("per_branch")
    )
    query = by_assessed(per_branch, branch_ids, func.sum(per_branch.c.n), literal(0))
    return await pairs(db, query, len(windows))


async def education_activities(
    db: AsyncSession, branch_ids: Sequence[uuid.UUID], windows: Sequence[Window]
) -> Answer:
    """(education-base activities 教育基地活动 the branch organised, 0)."""
    t = WindowTable(windows)
    per_branch = (
        select(EducationActivity.branch_id, t.c.w, func.count().label("n"))
        .join(t.table, t.during(EducationActivity.held_on, instants=False))
        .group_by(EducationActivity.branch_id, t.c.w)
        .subquery("per_branch")
    )
    query = by_assessed(per_branch, branch_ids, func.sum(per_branch.c.n), literal(0))
    return await pairs(db, query, len(windows))


async def honours_and_banners(
    db: AsyncSession, branch_ids: Sequence[uuid.UUID], windows: Sequence[Window]
) -> Answer:
    """(honours awarded + banners 锦旗 received in the window, 0)."""
    t = WindowTable(windows)
    per_branch = union_all(
        select(BranchHonour.branch_id.label("branch_id"), t.c.w.label("w"), func.count().label("n"))
        .join(t.table, t.during(BranchHonour.awarded_on, instants=False))
        .group_by(BranchHonour.branch_id, t.c.w),
        select(ServiceAction.branch_id, t.c.w, func.sum(ServiceAction.banners_received))
        .join(t.table, t.during(ServiceAction.happened_at, instants=True))
        .where(ServiceAction.deleted.is_(False), ServiceAction.banners_received > 0)
        .group_by(ServiceAction.branch_id, t.c.w),
    ).subquery("per_branch")
    query = by_assessed(per_branch, branch_ids, func.sum(per_branch.c.n), literal(0))
    return await pairs(db, query, len(windows))


def one_year_before(day: date) -> date:
    """The same calendar day a year earlier (29 February → 28 February)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


async def member_pipeline_on_time(
    db: AsyncSession, branch_ids: Sequence[uuid.UUID], windows: Sequence[Window]
) -> Answer:
    """(probationary members 预备党员 not yet a year in probation, all probationary members), on
    the window's last day. A member past the one-year probation who is not yet full is late.

    Read from members' current status: a member who became full since is no longer counted.
    """
    t = WindowTable(windows, cutoff=lambda w: one_year_before(w.end - timedelta(days=1)))
    since = Member.party_status_since
    per_branch = (
        select(
            Member.branch_id,
            t.c.w,
            func.sum(case((since >= t.c.cutoff, 1), else_=0)).label("on_time"),
            func.count().label("n"),
        )
        # On the window's last day: probationary since that day or earlier.
        .join(t.table, since < t.c.end_day)
        .where(Member.party_status == PartyStatus.PROBATIONARY)
        .group_by(Member.branch_id, t.c.w)
        .subquery("per_branch")
    )
    c = per_branch.c
    query = by_assessed(per_branch, branch_ids, func.sum(c.on_time), func.sum(c.n))
    return await pairs(db, query, len(windows))


async def directives_on_time(
    db: AsyncSession, branch_ids: Sequence[uuid.UUID], windows: Sequence[Window]
) -> Answer:
    """(recipient rows signed and closed by the deadline, rows whose deadline fell in the
    window): the branch's own receipts and its members'. A row whose deadline is still ahead
    is not counted yet, even when closed early."""
    t = WindowTable(windows)
    r = DirectiveRecipient
    on_time = and_(
        r.signed_at.is_not(None),
        r.signed_at <= Directive.deadline,
        r.closed_at.is_not(None),
        r.closed_at <= Directive.deadline,
    )
    per_branch = (
        select(
            r.branch_id,
            t.c.w,
            func.sum(case((on_time, 1), else_=0)).label("on_time"),
            func.count().label("n"),
        )
        .join(Directive, Directive.id == r.directive_id)
        .join(t.table, t.during(Directive.deadline, instants=True))
        .where(r.deleted.is_(False))
        .group_by(r.branch_id, t.c.w)
        .subquery("per_branch")
    )
    c = per_branch.c
    query = by_assessed(per_branch, branch_ids, func.sum(c.on_time), func.sum(c.n))
    return await pairs(db, query, len(windows))


for _name, _provider, _info in (
    ("visits_per_member", visits_per_member, MetricInfo("走访", "次")),
    ("six_action_coverage", six_action_coverage, MetricInfo("开展六项行动", "项")),
    ("difficulties_solved", difficulties_solved, MetricInfo("解决群众困难", "件")),
    ("night_patrols", night_patrols, MetricInfo("夜间巡逻", "次")),
    ("education_activities", education_activities, MetricInfo("教育基地活动", "场")),
    ("honours_and_banners", honours_and_banners, MetricInfo("荣誉和锦旗", "项")),
    ("member_pipeline_on_time", member_pipeline_on_time, MetricInfo("预备党员按期", "人")),
    ("directives_on_time", directives_on_time, MetricInfo("指令按期签收办结", "条")),
):
    METRICS.register(_name, _provider, _info)
# A22 and A23 read the supervision module (督导提醒): reminders and spot-check findings.
METRICS.register(
    REMINDERS_ANSWERED_ON_TIME, reminders_answered_on_time, MetricInfo("提醒按期回复", "条")
)
METRICS.register(
    FINDINGS_RECTIFIED_ON_TIME, findings_rectified_on_time, MetricInfo("抽查问题按期整改", "项")
)
