"""The whole dashboard at once: every section, one after another (the xlsx export; the
GraphQL query computes only the sections it selects)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from access.viewer import Viewer
from resolvers.dashboard.figures import Dashboard
from resolvers.dashboard.progress import assessment_ranking, directives, ledger, open_reminders
from resolvers.dashboard.record import education, field_records, honours_by_level, honours_total
from resolvers.dashboard.roster import branches_by_kind, members
from resolvers.dashboard.scope import dashboard_scope
from resolvers.period import Period


async def dashboard(
    db: AsyncSession,
    viewer: Viewer,
    period: Period,
    branch_id: uuid.UUID | None,
    *,
    now: datetime,
    grace_days: int,
) -> Dashboard:
    """The dashboard of `period` for a subtree (None: the viewer's whole scope), with the same
    figures for the same period last year: every section, one after another (the xlsx export;
    the GraphQL query computes only the sections it selects). Raises Forbidden outside the
    viewer's scope and InputError (NOT_FOUND on `branchId`) for an unknown branch."""
    scope = await dashboard_scope(db, viewer, period, branch_id, now=now, grace_days=grace_days)
    honours = await honours_by_level(db, scope)
    return Dashboard(
        period=period,
        previous_period=scope.previous_period,
        branch=scope.branch,
        branches_by_kind=await branches_by_kind(db, scope),
        members=await members(db, scope),
        education=await education(db, scope),
        field_records=await field_records(db, scope),
        ledger=await ledger(db, scope),
        directives=await directives(db, scope),
        honours=honours_total(honours),
        honours_by_level=honours,
        assessment_ranking=await assessment_ranking(db, scope),
        open_reminders=await open_reminders(db, scope),
    )
