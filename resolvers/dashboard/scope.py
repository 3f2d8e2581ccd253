"""The dashboard's scope: the subtree the viewer may analyse, and the period beside the same
period last year, which every section reads; plus the SQL conditions of "within a period"."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from access.errors import Forbidden
from access.scope import scope_of
from access.viewer import Viewer
from models import Branch
from resolvers.branch import get_branch
from resolvers.period import Period, day_start, local_date

BranchClause = Callable[[InstrumentedAttribute[uuid.UUID]], ColumnElement[bool]]


@dataclass(frozen=True, slots=True)
class DashboardScope:
    """What every section reads: who asks, the subtree (its root, None for the whole county,
    and a SQL condition on a `branch_id` column), the period and the same period last year, and
    the moment the dashboard is computed at."""

    viewer: Viewer
    branch: Branch | None
    in_scope: BranchClause
    period: Period
    previous_period: Period
    now: datetime
    grace_days: int

    @property
    def today(self) -> date:
        return local_date(self.now)


async def dashboard_scope(
    db: AsyncSession,
    viewer: Viewer,
    period: Period,
    branch_id: uuid.UUID | None,
    *,
    now: datetime,
    grace_days: int,
) -> DashboardScope:
    """The dashboard's subtree (None: the viewer's whole scope) and period, which every section
    reads. Raises Forbidden outside the viewer's scope and InputError (NOT_FOUND on `branchId`)
    for an unknown branch. One statement when a branch is asked for or implied, else none."""
    root, in_scope = await _subtree(db, viewer, branch_id)
    return DashboardScope(
        viewer=viewer,
        branch=root,
        in_scope=in_scope,
        period=period,
        previous_period=period.same_period_last_year(),
        now=now,
        grace_days=grace_days,
    )


async def _subtree(
    db: AsyncSession, viewer: Viewer, branch_id: uuid.UUID | None
) -> tuple[Branch | None, BranchClause]:
    """The subtree's root and a SQL condition on a `branch_id` column for the subtree."""
    scope = scope_of(viewer)
    if scope.kind == "none":
        raise Forbidden("无权查看数据分析 (no branch to analyse)")
    root: Branch | None
    if branch_id is not None:
        root = await get_branch(db, branch_id, "branchId")
        if not scope.covers(root.id, root.path):
            raise Forbidden("该组织不在您的查看范围内 (outside what you may read)")
    elif scope.kind == "all":
        root = None
    else:
        assert scope.branch_id is not None
        root = await get_branch(db, scope.branch_id, "branchId")
    if root is None:
        return None, lambda column: true()
    if scope.kind == "branch":
        # Officers read their own branch's records only (access/scope.py), not those below it.
        only = root.id
        return root, lambda column: column == only
    subtree = select(Branch.id).where(Branch.path.startswith(root.path))
    return root, lambda column: column.in_(subtree)


def within(column: Any, period: Period, *, instants: bool) -> ColumnElement[bool]:
    """`column` (a timestamp when `instants`, else a date) lies in the period."""
    start: Any = day_start(period.start) if instants else period.start
    end: Any = day_start(period.end_exclusive) if instants else period.end_exclusive
    return and_(column >= start, column < end)


def in_both(column: Any, period: Period, previous: Period, *, instants: bool) -> Any:
    """`column` lies in either period (the WHERE of a statement that reads both)."""
    return or_(
        within(column, period, instants=instants), within(column, previous, instants=instants)
    )
