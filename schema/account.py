"""GraphQL surface of accounts: sign-in, password change, refresh, device sessions and `me`."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from access.errors import ErrorCode, InputError, from_global_id, optional_global_id
from access.viewer import Viewer
from core.db import writing
from models import Account as AccountRow
from models import DeviceSession as DeviceSessionRow
from models import Role
from resolvers import account as ops
from resolvers import account_admin as admin_ops
from resolvers.account import AuthFailure, AuthPolicy, SignedIn
from schema.branch import Branch
from schema.context import Info
from schema.errors import InvalidInput, read, write
from schema.member import Member
from schema.node import Node, register_node, to_global_id

RoleEnum = strawberry.enum(
    Role,
    name="Role",
    description="admin 县局党委 · secretary 支部书记 · inspector 督导 · officer 民警",
)


@strawberry.type(
    description=(
        "An account. `me.account` shows your own; admins read any (`accounts`, `node`). "
        "Ids of type Account."
    )
)
class Account(Node):
    username: str
    role: Role
    role_label: str
    last_login_at: datetime | None
    created_at: datetime
    disabled: bool = strawberry.field(
        description="停用: cannot sign in or refresh; its sessions have ended."
    )
    locked_until: datetime | None = strawberry.field(
        description="After too many wrong passwords: when sign-in is allowed again (if later "
        "than now)."
    )
    password_change_required: bool = strawberry.field(
        description="An admin reset the password: sign-in answers PASSWORD_CHANGE_REQUIRED "
        "until `changePassword`."
    )
    _account_id: strawberry.Private[uuid.UUID]
    _member_id: strawberry.Private[uuid.UUID | None]
    _branch_id: strawberry.Private[uuid.UUID | None]
    # Counted with the list that produced the account (`accounts`); else counted when asked.
    _open_sessions: strawberry.Private[int | None] = None

    @classmethod
    def from_model(cls, row: AccountRow, open_sessions: int | None = None) -> Account:
        return cls(
            id=to_global_id("Account", row.id),
            username=row.username,
            role=row.role,
            role_label=row.role.label,
            last_login_at=row.last_login_at,
            created_at=row.created_at,
            disabled=row.disabled,
            locked_until=row.locked_until,
            password_change_required=row.must_change_password,
            _account_id=row.id,
            _member_id=row.member_id,
            _branch_id=row.branch_id,
            _open_sessions=open_sessions,
        )

    @strawberry.field(
        description="Locked now by too many wrong passwords (an admin's password reset unlocks it)."
    )
    def locked(self, info: Info) -> bool:
        return self.locked_until is not None and self.locked_until > info.context.clock()

    @strawberry.field(description="Live sessions: signed-in devices neither revoked nor expired.")
    async def open_session_count(self, info: Info) -> int:
        if self._open_sessions is not None:
            return self._open_sessions
        now = info.context.clock()
        # Only the account's own holder or an admin is ever given an Account object.
        async with info.context.sessionmaker() as db:
            return await admin_ops.count_open_sessions(db, self._account_id, now)

    @strawberry.field(description="The member the account belongs to (officers, secretaries).")
    async def member(self, info: Info) -> Member | None:
        if self._member_id is None or info.context.viewer is None:
            return None
        row = await info.context.loaders.member.load(self._member_id)
        return Member.from_model(row) if row else None

    @strawberry.field(description="Secretaries: the root of their scope, when set on the account.")
    async def branch(self, info: Info) -> Branch | None:
        if self._branch_id is None:
            return None
        row = await info.context.loaders.branch.load(self._branch_id)
        return Branch.from_model(row) if row else None


@strawberry.type(description="A signed-in device; revoking it signs that device out.")
class DeviceSession(Node):
    device_id: str
    device_name: str | None
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime

    @classmethod
    def from_model(cls, row: DeviceSessionRow) -> DeviceSession:
        return cls(
            id=to_global_id("DeviceSession", row.id),
            device_id=row.device_id,
            device_name=row.device_name,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            expires_at=row.expires_at,
        )


@strawberry.type(
    description="Tokens: send `Authorization: Bearer <accessToken>`; renew with refreshToken."
)
class SignInSuccess:
    access_token: str
    access_token_expires_at: datetime
    refresh_token: str = strawberry.field(
        description="Long-lived, single-use, rotates on every refresh; keep it secret on the device."
    )
    account: Account
    session: DeviceSession

    @classmethod
    def from_result(cls, result: SignedIn) -> SignInSuccess:
        return cls(
            access_token=result.access_token,
            access_token_expires_at=result.access_expires_at,
            refresh_token=result.refresh_token,
            account=Account.from_model(result.account),
            session=DeviceSession.from_model(result.session),
        )


@strawberry.type(description="Sign-in or refresh refused.")
class AuthError:
    code: ErrorCode
    message: str
    field: str | None
    retry_after: datetime | None = strawberry.field(
        description="Locked accounts: when to try again."
    )

    @classmethod
    def from_failure(cls, failure: AuthFailure) -> AuthError:
        return cls(
            code=failure.code,
            message=failure.message,
            field=failure.field,
            retry_after=failure.retry_after,
        )


SignInResult = Annotated[SignInSuccess | AuthError, strawberry.union("SignInResult")]


@strawberry.type(description="Who is asking: the account, their member record and branch.")
class Me:
    account: Account
    _viewer: strawberry.Private[Viewer]

    @strawberry.field
    async def member(self, info: Info) -> Member | None:
        if self._viewer.member_id is None:
            return None
        row = await info.context.loaders.member.load(self._viewer.member_id)
        return Member.from_model(row) if row else None

    @strawberry.field(description="Secretaries: the root of their scope; officers: their branch.")
    async def branch(self, info: Info) -> Branch | None:
        if self._viewer.branch_id is None:
            return None
        row = await info.context.loaders.branch.load(self._viewer.branch_id)
        return Branch.from_model(row) if row else None

    @strawberry.field
    async def sessions(self, info: Info) -> list[DeviceSession]:
        now = info.context.clock()
        rows = await read(info, lambda db, viewer: ops.list_sessions(db, viewer, None, now))
        return [DeviceSession.from_model(r) for r in rows]


def auth_policy(info: Info) -> AuthPolicy:
    s = info.context.settings
    return AuthPolicy(
        secret_key=s.secret_key,
        access_lifetime=timedelta(minutes=s.access_token_minutes),
        refresh_lifetime=timedelta(days=s.refresh_token_days),
        max_failures=s.login_max_failures,
        lock_duration=timedelta(minutes=s.login_lock_minutes),
    )


@strawberry.type
class AccountQuery:
    @strawberry.field(description="The signed-in viewer.")
    async def me(self, info: Info) -> Me:
        viewer = info.context.require_viewer()
        account = await read(info, lambda db, _: db.get(AccountRow, viewer.account_id))
        assert account is not None
        return Me(account=Account.from_model(account), _viewer=viewer)


@strawberry.input
class CreateAccountInput:
    username: str
    password: str
    role: Role
    member_id: strawberry.ID | None = None
    branch_id: strawberry.ID | None = None


@strawberry.type
class AccountPayload:
    account: Account


@strawberry.type
class SessionPayload:
    session: DeviceSession


@strawberry.input(
    description="Your current password (or the temporary one an admin set) and a new one."
)
class ChangePasswordInput:
    username: str
    current_password: str
    new_password: str
    device_id: str | None = None
    device_name: str | None = None


AccountResult = Annotated[AccountPayload | InvalidInput, strawberry.union("AccountResult")]
ChangePasswordResult = Annotated[
    SignInSuccess | AuthError | InvalidInput, strawberry.union("ChangePasswordResult")
]
SessionResult = Annotated[SessionPayload | InvalidInput, strawberry.union("SessionResult")]


@strawberry.type
class AccountMutation:
    @strawberry.mutation(
        description="Signs in; deviceId names the phone or browser for revocation."
    )
    async def login(
        self,
        info: Info,
        username: str,
        password: str,
        device_id: str | None = None,
        device_name: str | None = None,
    ) -> SignInResult:
        ctx = info.context
        result = await ops.login(
            ctx.sessionmaker,
            ctx.clock,
            auth_policy(info),
            username,
            password,
            device_id,
            device_name,
        )
        if isinstance(result, AuthFailure):
            return AuthError.from_failure(result)
        for replaced in result.replaced_session_ids:
            ctx.viewer_cache.forget(replaced)
        return SignInSuccess.from_result(result)

    @strawberry.mutation(
        description=(
            "Changes a password and signs in with the new one; needs no token. The way in after "
            "`login` answers PASSWORD_CHANGE_REQUIRED. Every session of the old password ends."
        )
    )
    async def change_password(self, info: Info, input: ChangePasswordInput) -> ChangePasswordResult:
        ctx = info.context
        try:
            result = await ops.change_password(
                ctx.sessionmaker,
                ctx.clock,
                auth_policy(info),
                input.username,
                input.current_password,
                input.new_password,
                input.device_id,
                input.device_name,
            )
        except InputError as error:
            return InvalidInput.from_error(error)
        if isinstance(result, AuthFailure):
            return AuthError.from_failure(result)
        for ended in result.replaced_session_ids:
            ctx.viewer_cache.forget(ended)
        return SignInSuccess.from_result(result)

    @strawberry.mutation(
        description="Trades a refresh token for fresh tokens, without the password."
    )
    async def refresh_token(self, info: Info, refresh_token: str) -> SignInResult:
        ctx = info.context
        async with writing(ctx.sessionmaker) as db:
            result = await ops.refresh(db, ctx.clock, auth_policy(info), refresh_token)
        if isinstance(result, AuthFailure):
            if result.revoked_session_id is not None:
                # A reused token ended the session: its access tokens must stop working now.
                ctx.viewer_cache.forget(result.revoked_session_id)
            return AuthError.from_failure(result)
        return SignInSuccess.from_result(result)

    @strawberry.mutation(description="Signs one device out (your own, or anyone's for an admin).")
    async def revoke_session(self, info: Info, session_id: strawberry.ID) -> SessionResult:
        revoked: list[uuid.UUID] = []

        async def run(db: AsyncSession, viewer: Viewer) -> SessionPayload:
            sid = from_global_id(session_id, "DeviceSession", "sessionId")
            row = await ops.revoke_session(db, viewer, info.context.clock, sid)
            revoked.append(sid)
            return SessionPayload(session=DeviceSession.from_model(row))

        result = await write(info, run)
        # Only once committed: a request in between could otherwise cache the live session again.
        for sid in revoked:
            info.context.viewer_cache.forget(sid)
        return result

    @strawberry.mutation(description="Adds an account (admins).")
    async def create_account(self, info: Info, input: CreateAccountInput) -> AccountResult:
        async def run(db: AsyncSession, viewer: Viewer) -> AccountPayload:
            row = await admin_ops.add_account(
                db,
                viewer,
                info.context.clock,
                input.username,
                input.password,
                input.role,
                member_id=optional_global_id(input.member_id, "Member", "memberId"),
                branch_id=optional_global_id(input.branch_id, "Branch", "branchId"),
            )
            return AccountPayload(account=Account.from_model(row))

        return await write(info, run)


# --- node(id:) ------------------------------------------------------------------------------------


async def _account_node(info: Info, account_id: uuid.UUID) -> Account | None:
    row = await read(info, lambda db, viewer: ops.get_own_account(db, viewer, account_id))
    return Account.from_model(row) if row else None


async def _session_node(info: Info, session_id: uuid.UUID) -> DeviceSession | None:
    now = info.context.clock()
    row = await read(info, lambda db, viewer: ops.get_visible_session(db, viewer, session_id, now))
    return DeviceSession.from_model(row) if row else None


register_node("Account", Account, _account_node)
register_node("DeviceSession", DeviceSession, _session_node)
