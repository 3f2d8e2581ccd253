"""Who may read a branch's assessment scores and who may score, independent of any query."""

from __future__ import annotations

import uuid

import pytest

from access.assessment import readable, require_inspector, require_readable
from access.errors import Forbidden
from access.viewer import Viewer
from models import Branch, BranchKind, Role

MEIGUI = "/root/organ/meigui/"


def viewer(role: Role, path: str | None = MEIGUI) -> Viewer:
    return Viewer(
        account_id=uuid.uuid4(),
        username="someone",
        role=role,
        session_id=None,
        member_id=None,
        branch_id=uuid.uuid4(),
        branch_path=path,
    )


def branch(path: str) -> Branch:
    return Branch(id=uuid.uuid4(), name="支部", kind=BranchKind.BRANCH, path=path)


def test_admins_and_inspectors_read_every_branch() -> None:
    for role in (Role.ADMIN, Role.INSPECTOR):
        assert readable(viewer(role, None), branch("/root/organ/yushan/"))


def test_a_secretary_reads_their_subtree_and_the_branch_they_sit_in() -> None:
    secretary = viewer(Role.SECRETARY, MEIGUI + "group/")
    assert readable(secretary, branch(MEIGUI + "group/"))
    assert readable(secretary, branch(MEIGUI))
    assert not readable(secretary, branch("/root/organ/yushan/"))


def test_an_officer_reads_only_the_assessed_branch_they_belong_to() -> None:
    officer = viewer(Role.OFFICER, MEIGUI + "group/")
    assert readable(officer, branch(MEIGUI))
    assert not readable(officer, branch(MEIGUI + "group/other/"))
    assert not readable(officer, branch("/root/organ/yushan/"))
    assert not readable(viewer(Role.OFFICER, None), branch(MEIGUI))


def test_reading_outside_is_forbidden() -> None:
    require_readable(viewer(Role.OFFICER), branch(MEIGUI))
    with pytest.raises(Forbidden):
        require_readable(viewer(Role.OFFICER), branch("/root/organ/yushan/"))


def test_only_inspectors_and_admins_score() -> None:
    require_inspector(viewer(Role.ADMIN, None))
    require_inspector(viewer(Role.INSPECTOR, None))
    for role in (Role.SECRETARY, Role.OFFICER):
        with pytest.raises(Forbidden):
            require_inspector(viewer(role))
