"""Foundation: the branch tree, members and their history, accounts and device sessions.

Revision ID: 0001
Revises:
Create Date: 2026-11-28

Written from autogenerate, then read and tidied. Every constraint and index carries the name the
models' naming convention gives it (models/base.py), so later migrations can address them on
both SQLite and PostgreSQL. Enum columns are plain VARCHAR(32) without a CHECK: adding a value
to an enum needs no migration (models.base.str_enum).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "branch",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("path", sa.String(length=700), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("unit_name", sa.String(length=100), nullable=True),
        sa.Column("brand_name", sa.String(length=100), nullable=True),
        sa.Column("brand_slogan", sa.String(length=200), nullable=True),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["branch.id"], name=op.f("fk_branch_parent_id_branch")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_branch")),
    )
    op.create_index(op.f("ix_branch_kind"), "branch", ["kind"])
    op.create_index(op.f("ix_branch_path"), "branch", ["path"])
    op.create_index(op.f("ix_branch_parent_sort"), "branch", ["parent_id", "sort_order"])

    op.create_table(
        "branch_honour",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=32), nullable=False),
        sa.Column("awarded_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_branch_honour_branch_id_branch")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_branch_honour")),
    )
    op.create_index(op.f("ix_branch_honour_branch_id"), "branch_honour", ["branch_id"])

    op.create_table(
        "member",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("personnel_type", sa.String(length=32), nullable=False),
        sa.Column("party_status", sa.String(length=32), nullable=False),
        sa.Column("party_status_since", sa.Date(), nullable=False),
        sa.Column("post", sa.String(length=32), nullable=False),
        sa.Column("police_number", sa.String(length=20), nullable=True),
        sa.Column("birthday", sa.Date(), nullable=True),
        sa.Column("joined_party_on", sa.Date(), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("id_number", sa.String(length=18), nullable=True),
        sa.Column("service_status", sa.String(length=32), nullable=False),
        sa.Column("retired_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_member_branch_id_branch")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member")),
        sa.UniqueConstraint("id_number", name=op.f("uq_member_id_number")),
        sa.UniqueConstraint("police_number", name=op.f("uq_member_police_number")),
    )
    op.create_index(op.f("ix_member_name"), "member", ["name"])
    op.create_index(op.f("ix_member_party_status"), "member", ["party_status"])
    op.create_index(op.f("ix_member_branch_name"), "member", ["branch_id", "name", "id"])

    op.create_table(
        "account",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("branch_id", sa.Uuid(), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_account_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_account_member_id_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account")),
        sa.UniqueConstraint("username", name=op.f("uq_account_username")),
    )

    op.create_table(
        "device_session",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.String(length=100), nullable=False),
        sa.Column("device_name", sa.String(length=100), nullable=True),
        sa.Column("refresh_hash", sa.String(length=64), nullable=False),
        sa.Column("previous_refresh_hash", sa.String(length=64), nullable=True),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_device_session_account_id_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_session")),
    )
    op.create_index(op.f("ix_device_session_account_id"), "device_session", ["account_id"])

    op.create_table(
        "task_unit_membership",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("task_unit_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=50), nullable=True),
        sa.Column("joined_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_unit_id"],
            ["branch.id"],
            name=op.f("fk_task_unit_membership_task_unit_id_branch"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_task_unit_membership_member_id_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_unit_membership")),
        sa.UniqueConstraint(
            "task_unit_id",
            "member_id",
            name=op.f("uq_task_unit_membership_task_unit_id_member_id"),
        ),
    )
    op.create_index(
        op.f("ix_task_unit_membership_task_unit_id"), "task_unit_membership", ["task_unit_id"]
    )
    op.create_index(
        op.f("ix_task_unit_membership_member_id"), "task_unit_membership", ["member_id"]
    )

    op.create_table(
        "member_transfer",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("from_branch_id", sa.Uuid(), nullable=False),
        sa.Column("to_branch_id", sa.Uuid(), nullable=False),
        sa.Column("transferred_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("by_account_id", sa.Uuid(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_member_transfer_member_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["from_branch_id"], ["branch.id"], name=op.f("fk_member_transfer_from_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["to_branch_id"], ["branch.id"], name=op.f("fk_member_transfer_to_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["by_account_id"], ["account.id"], name=op.f("fk_member_transfer_by_account_id_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_transfer")),
    )
    op.create_index(op.f("ix_member_transfer_member_id"), "member_transfer", ["member_id"])

    op.create_table(
        "party_status_change",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("fast_track", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("by_account_id", sa.Uuid(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_party_status_change_member_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["by_account_id"],
            ["account.id"],
            name=op.f("fk_party_status_change_by_account_id_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_party_status_change")),
    )
    op.create_index(op.f("ix_party_status_change_member_id"), "party_status_change", ["member_id"])


def downgrade() -> None:
    # Dependants first; a table's indexes go with it.
    for table in (
        "party_status_change",
        "member_transfer",
        "task_unit_membership",
        "device_session",
        "account",
        "member",
        "branch_honour",
        "branch",
    ):
        op.drop_table(table)
