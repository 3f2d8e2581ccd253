"""The roster sections: the subtree's branches by kind and its members, as they stand (the
platform keeps no dated roster, so they carry no previous value)."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Branch, BranchKind, Member, PartyStatus, PersonnelType, ServiceStatus
from resolvers.dashboard.figures import Members
from resolvers.dashboard.scope import DashboardScope


async def branches_by_kind(db: AsyncSession, scope: DashboardScope) -> dict[BranchKind, int]:
    """The subtree's branches per kind, as they stand. One statement."""
    in_scope = scope.in_scope
    return {
        BranchKind(kind): int(n)
        for kind, n in await db.execute(
            select(Branch.kind, func.count()).where(in_scope(Branch.id)).group_by(Branch.kind)
        )
    }


async def members(db: AsyncSession, scope: DashboardScope) -> Members:
    """The subtree's roster as it stands, by personnel type, party and service status. One
    statement."""
    in_scope = scope.in_scope
    query = select(
        Member.personnel_type, Member.party_status, Member.service_status, func.count()
    ).where(in_scope(Member.branch_id))
    query = query.group_by(Member.personnel_type, Member.party_status, Member.service_status)
    by_type: dict[PersonnelType, int] = defaultdict(int)
    by_status: dict[PartyStatus, int] = defaultdict(int)
    by_service: dict[ServiceStatus, int] = defaultdict(int)
    for kind, status, service, n in await db.execute(query):
        by_type[PersonnelType(kind)] += int(n)
        by_status[PartyStatus(status)] += int(n)
        by_service[ServiceStatus(service)] += int(n)
    return Members(sum(by_type.values()), dict(by_type), dict(by_status), dict(by_service))
