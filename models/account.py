"""Accounts, roles and per-device sessions."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, str_enum


class Role(enum.StrEnum):
    ADMIN = "admin"
    SECRETARY = "secretary"
    INSPECTOR = "inspector"
    OFFICER = "officer"

    @property
    def label(self) -> str:
        return {
            "admin": "县局党委",
            "secretary": "支部书记",
            "inspector": "督导",
            "officer": "民警",
        }[self]


class Account(Base):
    __tablename__ = "account"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    member_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("member.id"))
    # The root of a secretary's scope; officers are scoped by their member's home branch.
    branch_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("branch.id"))
    disabled: Mapped[bool] = mapped_column(default=False)
    # Set by an admin's password reset: signing in is refused until the user picks a new one.
    must_change_password: Mapped[bool] = mapped_column(default=False)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class DeviceSession(Base):
    """A signed-in device. Its refresh token rotates; revoking it ends that device only."""

    __tablename__ = "device_session"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"), index=True)
    device_id: Mapped[str] = mapped_column(String(100))
    device_name: Mapped[str | None] = mapped_column(String(100))
    refresh_hash: Mapped[str] = mapped_column(String(64))
    previous_refresh_hash: Mapped[str | None] = mapped_column(String(64))
    rotated_at: Mapped[datetime]
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class AccountAction(enum.StrEnum):
    """What was done to an account; the audit trail records each."""

    CREATED = "created"
    DISABLED = "disabled"
    ENABLED = "enabled"
    PASSWORD_RESET = "password_reset"
    PASSWORD_CHANGED = "password_changed"
    ROLE_CHANGED = "role_changed"
    SESSION_REVOKED = "session_revoked"

    @property
    def label(self) -> str:
        return {
            "created": "创建账号",
            "disabled": "停用账号",
            "enabled": "启用账号",
            "password_reset": "重置密码",
            "password_changed": "修改密码",
            "role_changed": "变更角色",
            "session_revoked": "注销会话",
        }[self]


class AccountAudit(Base):
    """One administrative action on an account: who did what to whom, and when. Append-only."""

    __tablename__ = "account_audit"
    __table_args__ = (
        Index("ix_account_audit_at_id", "at", "id"),
        Index("ix_account_audit_account_id_at", "account_id", "at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"))
    action: Mapped[AccountAction] = mapped_column(str_enum(AccountAction))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"))
    # What changed, for people: "民警 → 支部书记", the device a revoked session was on.
    detail: Mapped[str | None] = mapped_column(String(200))
