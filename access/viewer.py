"""Who is asking, and what their role and scope let them read and write."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from access.errors import Forbidden
from models import Account, Branch, DeviceSession, Member, Role


@dataclass(frozen=True, slots=True)
class Viewer:
    account_id: uuid.UUID
    username: str
    role: Role
    session_id: uuid.UUID | None
    member_id: uuid.UUID | None
    # Secretary: root of their subtree; officer: their home branch.
    branch_id: uuid.UUID | None
    branch_path: str | None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def reads_all_members(self) -> bool:
        return self.role in (Role.ADMIN, Role.INSPECTOR)

    def covers_path(self, path: str) -> bool:
        """True when a branch with this path lies in the viewer's writable subtree."""
        if self.is_admin:
            return True
        if self.role is Role.SECRETARY and self.branch_path:
            return path.startswith(self.branch_path)
        return False

    def member_read_clause(self) -> ColumnElement[bool]:
        """SQL condition on `Member` rows this viewer may read."""
        if self.reads_all_members:
            return true()
        if self.role is Role.SECRETARY and self.branch_path:
            subtree = select(Branch.id).where(Branch.path.startswith(self.branch_path))
            return Member.branch_id.in_(subtree)
        if self.role is Role.OFFICER:
            clauses: list[ColumnElement[bool]] = []
            if self.branch_id is not None:
                clauses.append(Member.branch_id == self.branch_id)
            if self.member_id is not None:
                clauses.append(Member.id == self.member_id)
            return or_(*clauses) if clauses else false()
        return false()

    def sees_personal_data(self, member_id: uuid.UUID, member_branch_path: str | None) -> bool:
        """Phone and ID numbers, the date of birth and everything that tells it (the age, the
        retirement date): admins, the member themself, and the secretary over their branch.

        Everyone else who may read the member (an inspector, an officer's colleagues) gets the
        masks below and no date of birth: only its month and day, which collective birthdays
        need. Decided on the member's own branch, not on how the member reached the viewer, so
        a path that ever returns members from outside the subtree still masks them.
        """
        if self.is_admin or member_id == self.member_id:
            return True
        return (
            self.role is Role.SECRETARY
            and member_branch_path is not None
            and self.covers_path(member_branch_path)
        )

    def require_writer(self) -> None:
        if self.role not in (Role.ADMIN, Role.SECRETARY):
            raise Forbidden()

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Forbidden("仅县局党委管理员可执行 (admins only)")

    def require_covers(self, path: str) -> None:
        self.require_writer()
        if not self.covers_path(path):
            raise Forbidden("该组织不在您的管辖范围内 (outside your branch subtree)")


# GB 11643: six digits of region, eight of birth date (YYYYMMDD), three of sequence, one check.
ID_NUMBER_LENGTH = 18


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_id_number(number: str | None) -> str | None:
    """370124****0422****: the issuing region and the month and day of birth, which a viewer
    may know anyway (collective birthdays show them), and nothing else.

    The year of birth stays hidden, and with it the sequence (whose last digit tells the sex)
    and the check character: shown beside a known month and day, these would narrow the year
    down to a few candidates (the check character is a sum over all the digits), and a known
    year would give back the whole number.
    """
    if not number:
        return number
    if len(number) != ID_NUMBER_LENGTH:
        return "*" * len(number)
    return number[:6] + "****" + number[10:14] + "****"


async def load_viewer(
    db: AsyncSession, session_id: uuid.UUID, account_id: uuid.UUID, now: datetime
) -> Viewer | None:
    """The viewer behind a live session, with their scope; None when revoked, expired or disabled."""
    scope = aliased(Branch)
    home = aliased(Branch)
    query = (
        select(
            Account,
            DeviceSession.revoked_at,
            DeviceSession.expires_at,
            scope,
            home,
        )
        .join(DeviceSession, DeviceSession.account_id == Account.id)
        .outerjoin(Member, Member.id == Account.member_id)
        .outerjoin(scope, scope.id == Account.branch_id)
        .outerjoin(home, home.id == Member.branch_id)
        .where(DeviceSession.id == session_id, Account.id == account_id)
    )
    row = (await db.execute(query)).first()
    if row is None:
        return None
    account, revoked_at, expires_at, scope_branch, home_branch = row
    if revoked_at is not None or expires_at <= now or account.disabled:
        return None
    return viewer_for(account, session_id, scope_branch, home_branch)


def viewer_for(
    account: Account,
    session_id: uuid.UUID | None,
    scope_branch: Branch | None,
    home_branch: Branch | None,
) -> Viewer:
    """Secretaries are scoped by their account's branch (else their own); officers by their own."""
    branch = home_branch if account.role is Role.OFFICER else (scope_branch or home_branch)
    return Viewer(
        account_id=account.id,
        username=account.username,
        role=account.role,
        session_id=session_id,
        member_id=account.member_id,
        branch_id=branch.id if branch else None,
        branch_path=branch.path if branch else None,
    )
