"""Who may read which directives (上级指令), and which recipient rows are addressed to whom."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_, select, true

from access.viewer import Viewer
from models import Branch, Directive, DirectiveLevel, DirectiveRecipient, Role


def directive_read_clause(viewer: Viewer) -> ColumnElement[bool]:
    """SQL condition on `Directive` rows the viewer may read.

    Admins and inspectors: all. A secretary: those issued by or dispatched into their subtree.
    An officer: those addressed to them or to their branch.
    """
    if viewer.reads_all_members:
        return true()
    received = select(DirectiveRecipient.directive_id)
    if viewer.role is Role.SECRETARY and viewer.branch_path:
        subtree = select(Branch.id).where(Branch.path.startswith(viewer.branch_path))
        return or_(
            Directive.issued_by_branch_id.in_(subtree),
            Directive.id.in_(received.where(DirectiveRecipient.branch_id.in_(subtree))),
        )
    return Directive.id.in_(received.where(addressed_to(viewer, with_branch=True)))


def addressed_to(viewer: Viewer, *, with_branch: bool = False) -> ColumnElement[bool]:
    """Recipient rows the viewer acts for: their own as a member, their branch's as its
    secretary, the county committee's as an admin. `with_branch`: also their branch's rows
    when they are an officer of it (they may read them, not sign them)."""
    clauses: list[ColumnElement[bool]] = []
    if viewer.member_id is not None:
        clauses.append(DirectiveRecipient.officer_id == viewer.member_id)
    if viewer.branch_id is not None and (viewer.role is Role.SECRETARY or with_branch):
        clauses.append(
            and_(
                DirectiveRecipient.branch_id == viewer.branch_id,
                DirectiveRecipient.level != DirectiveLevel.MEMBER,
            )
        )
    if viewer.is_admin:
        clauses.append(DirectiveRecipient.level == DirectiveLevel.COUNTY_COMMITTEE)
    return or_(*clauses) if clauses else false()
