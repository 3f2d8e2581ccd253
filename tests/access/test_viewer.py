"""Scope rules of the viewer, independent of any query path."""

from __future__ import annotations

import uuid

from access.viewer import Viewer, mask_id_number, mask_phone
from models import Role

MEIGUI = "/root/organ/meigui/"


def viewer(role: Role, path: str | None = MEIGUI, member_id: uuid.UUID | None = None) -> Viewer:
    return Viewer(
        account_id=uuid.uuid4(),
        username="someone",
        role=role,
        session_id=None,
        member_id=member_id,
        branch_id=uuid.uuid4(),
        branch_path=path,
    )


def test_secretary_sees_personal_data_only_within_their_subtree() -> None:
    secretary = viewer(Role.SECRETARY)
    member = uuid.uuid4()
    assert secretary.sees_personal_data(member, MEIGUI)
    assert secretary.sees_personal_data(member, MEIGUI + "group/")
    assert not secretary.sees_personal_data(member, "/root/organ/yushan/")
    assert not secretary.sees_personal_data(member, None)


def test_only_admins_and_the_member_see_personal_data_otherwise() -> None:
    me = uuid.uuid4()
    assert viewer(Role.ADMIN, None).sees_personal_data(uuid.uuid4(), "/elsewhere/")
    assert viewer(Role.OFFICER, member_id=me).sees_personal_data(me, MEIGUI)
    assert not viewer(Role.OFFICER, member_id=me).sees_personal_data(uuid.uuid4(), MEIGUI)
    assert not viewer(Role.INSPECTOR).sees_personal_data(uuid.uuid4(), MEIGUI)


def test_phone_mask_keeps_only_the_ends() -> None:
    assert mask_phone("13900000003") == "139****0003"
    assert mask_phone(None) is None


def test_id_number_mask_shows_only_the_region_and_the_birthdays_month_and_day() -> None:
    # Not the year, nor the sequence and check character that would narrow it down.
    assert mask_id_number("370124198505050027") == "370124****0505****"
    assert mask_id_number("37012419850505002X") == "370124****0505****"
    assert mask_id_number("370124850505002") == "*" * 15
    assert mask_id_number(None) is None
