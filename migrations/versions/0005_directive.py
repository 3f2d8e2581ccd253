"""Directives (上级指令): the directive, its four-level dispatch tree of recipients (the synced
Directive documents), and the synced receipts and progress reports phones push offline.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "directive",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("priority", sa.String(length=32), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by_branch_id", sa.Uuid(), nullable=False),
        sa.Column("issued_by_account_id", sa.Uuid(), nullable=False),
        sa.Column("issued_by_member_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["issued_by_account_id"],
            ["account.id"],
            name=op.f("fk_directive_issued_by_account_id_account"),
        ),
        sa.ForeignKeyConstraint(
            ["issued_by_branch_id"],
            ["branch.id"],
            name=op.f("fk_directive_issued_by_branch_id_branch"),
        ),
        sa.ForeignKeyConstraint(
            ["issued_by_member_id"],
            ["member.id"],
            name=op.f("fk_directive_issued_by_member_id_member"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directive")),
    )
    with op.batch_alter_table("directive", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_directive_issued_at"), ["issued_at"], unique=False)
        batch_op.create_index(
            "ix_directive_issued_by_issued_at", ["issued_by_branch_id", "issued_at"], unique=False
        )
        batch_op.create_index("ix_directive_status_deadline", ["status", "deadline"], unique=False)

    op.create_table(
        "directive_receipt",
        sa.Column("officer_id", sa.Uuid(), nullable=True),
        sa.Column("signed_at_text", sa.String(length=40), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("updated_device", sa.Uuid(), nullable=True),
        sa.Column("merged", sa.Boolean(), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_directive_receipt_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["member.id"], name=op.f("fk_directive_receipt_officer_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["account.id"], name=op.f("fk_directive_receipt_updated_by_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directive_receipt")),
    )
    with op.batch_alter_table("directive_receipt", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_directive_receipt_branch_id"), ["branch_id"], unique=False
        )
        batch_op.create_index("ix_directive_receipt_cursor", ["updated_at", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_directive_receipt_officer_id"), ["officer_id"], unique=False
        )

    op.create_table(
        "directive_recipient",
        sa.Column("officer_id", sa.Uuid(), nullable=True),
        sa.Column("directive_id", sa.Uuid(), nullable=False),
        sa.Column("parent_id", sa.String(length=64), nullable=True),
        sa.Column("level", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dispatched_by", sa.Uuid(), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signed_by", sa.Uuid(), nullable=True),
        sa.Column("last_reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("updated_device", sa.Uuid(), nullable=True),
        sa.Column("merged", sa.Boolean(), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_directive_recipient_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["closed_by"], ["account.id"], name=op.f("fk_directive_recipient_closed_by_account")
        ),
        sa.ForeignKeyConstraint(
            ["directive_id"],
            ["directive.id"],
            name=op.f("fk_directive_recipient_directive_id_directive"),
        ),
        sa.ForeignKeyConstraint(
            ["dispatched_by"],
            ["account.id"],
            name=op.f("fk_directive_recipient_dispatched_by_account"),
        ),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["member.id"], name=op.f("fk_directive_recipient_officer_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["directive_recipient.id"],
            name=op.f("fk_directive_recipient_parent_id_directive_recipient"),
        ),
        sa.ForeignKeyConstraint(
            ["signed_by"], ["account.id"], name=op.f("fk_directive_recipient_signed_by_account")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["account.id"], name=op.f("fk_directive_recipient_updated_by_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directive_recipient")),
        sa.UniqueConstraint(
            "directive_id", "target", name=op.f("uq_directive_recipient_directive_id_target")
        ),
    )
    with op.batch_alter_table("directive_recipient", schema=None) as batch_op:
        batch_op.create_index(
            "ix_directive_recipient_branch_dispatched", ["branch_id", "dispatched_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_directive_recipient_branch_id"), ["branch_id"], unique=False
        )
        batch_op.create_index("ix_directive_recipient_cursor", ["updated_at", "id"], unique=False)
        batch_op.create_index(
            "ix_directive_recipient_directive_level", ["directive_id", "level"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_directive_recipient_officer_id"), ["officer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_directive_recipient_parent_id"), ["parent_id"], unique=False
        )

    op.create_table(
        "directive_progress",
        sa.Column("officer_id", sa.Uuid(), nullable=True),
        sa.Column("recipient_id", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("percent", sa.Integer(), nullable=True),
        sa.Column("stage", sa.String(length=50), nullable=True),
        sa.Column("reported_at_text", sa.String(length=40), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("updated_device", sa.Uuid(), nullable=True),
        sa.Column("merged", sa.Boolean(), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_directive_progress_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["member.id"], name=op.f("fk_directive_progress_officer_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["directive_recipient.id"],
            name=op.f("fk_directive_progress_recipient_id_directive_recipient"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["account.id"], name=op.f("fk_directive_progress_updated_by_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directive_progress")),
    )
    with op.batch_alter_table("directive_progress", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_directive_progress_branch_id"), ["branch_id"], unique=False
        )
        batch_op.create_index("ix_directive_progress_cursor", ["updated_at", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_directive_progress_officer_id"), ["officer_id"], unique=False
        )
        batch_op.create_index(
            "ix_directive_progress_recipient_reported",
            ["recipient_id", "reported_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_directive_progress_reported_at"), ["reported_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("directive_progress", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_directive_progress_reported_at"))
        batch_op.drop_index("ix_directive_progress_recipient_reported")
        batch_op.drop_index(batch_op.f("ix_directive_progress_officer_id"))
        batch_op.drop_index("ix_directive_progress_cursor")
        batch_op.drop_index(batch_op.f("ix_directive_progress_branch_id"))

    op.drop_table("directive_progress")
    with op.batch_alter_table("directive_recipient", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_directive_recipient_parent_id"))
        batch_op.drop_index(batch_op.f("ix_directive_recipient_officer_id"))
        batch_op.drop_index("ix_directive_recipient_directive_level")
        batch_op.drop_index("ix_directive_recipient_cursor")
        batch_op.drop_index(batch_op.f("ix_directive_recipient_branch_id"))
        batch_op.drop_index("ix_directive_recipient_branch_dispatched")

    op.drop_table("directive_recipient")
    with op.batch_alter_table("directive_receipt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_directive_receipt_officer_id"))
        batch_op.drop_index("ix_directive_receipt_cursor")
        batch_op.drop_index(batch_op.f("ix_directive_receipt_branch_id"))

    op.drop_table("directive_receipt")
    with op.batch_alter_table("directive", schema=None) as batch_op:
        batch_op.drop_index("ix_directive_status_deadline")
        batch_op.drop_index("ix_directive_issued_by_issued_at")
        batch_op.drop_index(batch_op.f("ix_directive_issued_at"))

    op.drop_table("directive")
