"""Account administration at the domain level: the list's session counts and search, the
changes and what each leaves behind in the account, its sessions and the audit trail."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from access.errors import ErrorCode, Forbidden, InputError
from access.viewer import Viewer
from core.clock import FrozenClock
from core.db import Sessionmaker, writing
from core.security import verify_password
from models import Account, AccountAction, AccountAudit, DeviceSession, Role
from resolvers import account_admin as ops
from resolvers.account_admin import AccountFilter
from resolvers.account_audit import AuditFilter, count_audit, list_audit
from resolvers.pagination import PageRequest
from tests.conftest import World
from tests.resolvers.test_account import POLICY, get_account, signed_in, viewer_of

PAGE = PageRequest(50, None)


async def admin_viewer(sessionmaker: Sessionmaker, clock: FrozenClock) -> Viewer:
    return await viewer_of(sessionmaker, clock, await signed_in(sessionmaker, clock, "admin"))


async def test_the_list_counts_only_live_sessions(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    old = await signed_in(sessionmaker, clock, "officer.meigui", device_id="old-phone")
    clock.advance(days=POLICY.refresh_lifetime.days - 1)
    await signed_in(sessionmaker, clock, "officer.meigui", device_id="phone")
    revoked = await signed_in(sessionmaker, clock, "officer.meigui", device_id="desk")
    admin = await admin_viewer(sessionmaker, clock)
    async with writing(sessionmaker) as db:
        session = await db.get(DeviceSession, revoked.session.id)
        assert session is not None
        session.revoked_at = clock()
    clock.advance(days=2)  # the old phone's refresh lifetime is over
    async with sessionmaker() as db:
        page = await ops.list_accounts(db, admin, AccountFilter(), PAGE, clock())
    counts = {r.row.username: r.open_sessions for r in page.items}
    assert counts["officer.meigui"] == 1
    assert old.session.id != revoked.session.id


async def test_the_search_matches_usernames_and_member_names_literally(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    admin = await admin_viewer(sessionmaker, clock)
    async with sessionmaker() as db:
        for search, expected in [
            ("SECRETARY", ["secretary.meigui"]),
            ("李民", ["officer.meigui"]),
            ("%", []),
            ("_", []),
        ]:
            page = await ops.list_accounts(db, admin, AccountFilter(search=search), PAGE, clock())
            assert [r.row.username for r in page.items] == expected, search
        with pytest.raises(InputError) as long:
            await ops.count_accounts(db, admin, AccountFilter(search="x" * 65))
        assert long.value.problems[0].code is ErrorCode.TOO_LONG


async def test_only_admins_administer_accounts(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    secretary = await viewer_of(
        sessionmaker, clock, await signed_in(sessionmaker, clock, "secretary.meigui")
    )
    async with writing(sessionmaker) as db:
        with pytest.raises(Forbidden):
            await ops.list_accounts(db, secretary, AccountFilter(), PAGE, clock())
        with pytest.raises(Forbidden):
            await list_audit(db, secretary, AuditFilter(), PAGE)
        with pytest.raises(Forbidden):
            await ops.set_account_disabled(db, secretary, clock(), world.officer.id, True)
        with pytest.raises(Forbidden):
            # Refused for the role before the password is even looked at.
            await ops.reset_password(db, secretary, clock(), world.officer.id, "short")
        with pytest.raises(Forbidden):
            await ops.change_role(db, secretary, clock(), world.officer.id, Role.ADMIN)
        with pytest.raises(Forbidden):
            await ops.add_account(db, secretary, clock, "new.one", "long-enough", Role.INSPECTOR)
    assert (await get_account(sessionmaker, world.officer.id)).role is Role.OFFICER


async def test_a_reset_sets_a_temporary_password_unlocks_and_ends_sessions(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    live = await signed_in(sessionmaker, clock, "officer.meigui")
    admin = await admin_viewer(sessionmaker, clock)
    async with writing(sessionmaker) as db:
        officer = await db.get(Account, world.officer.id)
        assert officer is not None
        officer.failed_logins = 4
        officer.locked_until = clock() + timedelta(minutes=10)
    async with writing(sessionmaker) as db:
        await ops.reset_password(db, admin, clock(), world.officer.id, "temporary-1")
    account = await get_account(sessionmaker, world.officer.id)
    assert account.must_change_password is True
    assert (account.failed_logins, account.locked_until) == (0, None)
    assert await verify_password(account.password_hash, "temporary-1")
    async with sessionmaker() as db:
        session = await db.get(DeviceSession, live.session.id)
        assert session is not None and session.revoked_at == clock()
        [entry] = (await db.scalars(select(AccountAudit))).all()
    assert (entry.action, entry.actor_id, entry.account_id) == (
        AccountAction.PASSWORD_RESET,
        admin.account_id,
        world.officer.id,
    )
    assert entry.detail == "结束 1 个会话 (1 sessions ended)"


async def test_a_bad_temporary_password_changes_nothing(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    admin = await admin_viewer(sessionmaker, clock)
    with pytest.raises(InputError) as refused:
        async with writing(sessionmaker) as db:
            await ops.reset_password(db, admin, clock(), world.officer.id, "short")
    assert refused.value.problems[0].field == "temporaryPassword"
    assert (await get_account(sessionmaker, world.officer.id)).must_change_password is False
    async with sessionmaker() as db:
        assert await count_audit(db, admin, AuditFilter()) == 0


async def test_a_role_change_moves_a_secretarys_scope_when_given_a_branch(
    sessionmaker: Sessionmaker, clock: FrozenClock, world: World
) -> None:
    admin = await admin_viewer(sessionmaker, clock)
    async with writing(sessionmaker) as db:
        await ops.change_role(
            db, admin, clock(), world.secretary.id, Role.SECRETARY, world.yushan.id
        )
    assert (await get_account(sessionmaker, world.secretary.id)).branch_id == world.yushan.id
    with pytest.raises(InputError) as missing:
        async with writing(sessionmaker) as db:
            await ops.change_role(
                db, admin, clock(), world.secretary.id, Role.SECRETARY, uuid.uuid4()
            )
    assert [(p.field, p.code) for p in missing.value.problems] == [
        ("branchId", ErrorCode.NOT_FOUND)
    ]
    async with sessionmaker() as db:
        page = await list_audit(db, admin, AuditFilter(account_id=world.secretary.id), PAGE)
    assert [(r.row.action, r.row.detail) for r in page.items] == [
        (AccountAction.ROLE_CHANGED, "支部书记 → 支部书记 (榆山第二派出所党支部)")
    ]
