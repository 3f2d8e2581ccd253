"""Who may read directives and which recipient rows are addressed to whom, as SQL conditions."""

from __future__ import annotations

import uuid

from sqlalchemy import false, true

from access.directive import addressed_to, directive_read_clause
from access.viewer import Viewer
from models import Role

MEIGUI = "/root/organ/meigui/"


def viewer(
    role: Role, *, member_id: uuid.UUID | None = None, branch_id: uuid.UUID | None = None
) -> Viewer:
    return Viewer(
        account_id=uuid.uuid4(),
        username="someone",
        role=role,
        session_id=None,
        member_id=member_id,
        branch_id=branch_id,
        branch_path=MEIGUI if branch_id else None,
    )


def sql(clause: object) -> str:
    return str(clause)


def test_admins_and_inspectors_read_every_directive() -> None:
    for role in (Role.ADMIN, Role.INSPECTOR):
        assert sql(directive_read_clause(viewer(role))) == sql(true())


def test_nothing_is_addressed_to_a_viewer_with_no_member_branch_or_admin_role() -> None:
    assert sql(addressed_to(viewer(Role.OFFICER))) == sql(false())


def test_an_officer_acts_for_their_own_row_and_reads_their_branchs_rows_too() -> None:
    officer = viewer(Role.OFFICER, member_id=uuid.uuid4(), branch_id=uuid.uuid4())
    acts = sql(addressed_to(officer))
    reads = sql(addressed_to(officer, with_branch=True))
    assert "officer_id" in acts and "branch_id" not in acts
    assert "officer_id" in reads and "branch_id" in reads


def test_a_secretary_acts_for_their_branchs_rows() -> None:
    secretary = viewer(Role.SECRETARY, branch_id=uuid.uuid4())
    assert "branch_id" in sql(addressed_to(secretary))
    assert "issued_by_branch_id" in sql(directive_read_clause(secretary))
