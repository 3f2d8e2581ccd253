"""Supervision (督导提醒): reminders (a synced, pull-only collection, unique by dedup_key), spot
checks with findings, bulletins with their recipient branches and read receipts.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bulletin",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["published_by"], ["account.id"], name=op.f("fk_bulletin_published_by_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulletin")),
    )
    with op.batch_alter_table("bulletin", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bulletin_published_at"), ["published_at"], unique=False
        )

    op.create_table(
        "spot_check",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("inspector_id", sa.Uuid(), nullable=False),
        sa.Column("checked_on", sa.Date(), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_spot_check_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["inspector_id"], ["account.id"], name=op.f("fk_spot_check_inspector_id_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spot_check")),
    )
    with op.batch_alter_table("spot_check", schema=None) as batch_op:
        batch_op.create_index(
            "ix_spot_check_branch_checked", ["branch_id", "checked_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_spot_check_inspector_id"), ["inspector_id"], unique=False
        )

    op.create_table(
        "bulletin_read",
        sa.Column("bulletin_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_bulletin_read_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["bulletin_id"],
            ["bulletin.id"],
            name=op.f("fk_bulletin_read_bulletin_id_bulletin"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("bulletin_id", "account_id", name=op.f("pk_bulletin_read")),
    )
    with op.batch_alter_table("bulletin_read", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bulletin_read_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "bulletin_recipient",
        sa.Column("bulletin_id", sa.Uuid(), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_bulletin_recipient_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["bulletin_id"],
            ["bulletin.id"],
            name=op.f("fk_bulletin_recipient_bulletin_id_bulletin"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("bulletin_id", "branch_id", name=op.f("pk_bulletin_recipient")),
    )
    with op.batch_alter_table("bulletin_recipient", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bulletin_recipient_branch_id"), ["branch_id"], unique=False
        )

    op.create_table(
        "spot_check_finding",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("spot_check_id", sa.Uuid(), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("rectification", sa.Text(), nullable=True),
        sa.Column("rectified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rectified_by", sa.Uuid(), nullable=True),
        sa.Column("rectified_on", sa.Date(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_spot_check_finding_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["closed_by"], ["account.id"], name=op.f("fk_spot_check_finding_closed_by_account")
        ),
        sa.ForeignKeyConstraint(
            ["rectified_by"],
            ["account.id"],
            name=op.f("fk_spot_check_finding_rectified_by_account"),
        ),
        sa.ForeignKeyConstraint(
            ["spot_check_id"],
            ["spot_check.id"],
            name=op.f("fk_spot_check_finding_spot_check_id_spot_check"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spot_check_finding")),
    )
    with op.batch_alter_table("spot_check_finding", schema=None) as batch_op:
        batch_op.create_index(
            "ix_spot_check_finding_branch_deadline", ["branch_id", "deadline"], unique=False
        )
        batch_op.create_index(
            "ix_spot_check_finding_check", ["spot_check_id", "sort_order"], unique=False
        )

    op.create_table(
        "reminder",
        sa.Column("officer_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("dedup_key", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("ledger_item_id", sa.Uuid(), nullable=True),
        sa.Column("period", sa.String(length=10), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("subject_member_id", sa.Uuid(), nullable=True),
        sa.Column("directive_recipient_id", sa.String(length=64), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.Uuid(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.Uuid(), nullable=True),
        sa.Column("resolution", sa.String(length=32), nullable=True),
        sa.Column("answered_on", sa.Date(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("updated_device", sa.Uuid(), nullable=True),
        sa.Column("merged", sa.Boolean(), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["acknowledged_by"], ["account.id"], name=op.f("fk_reminder_acknowledged_by_account")
        ),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_reminder_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["directive_recipient_id"],
            ["directive_recipient.id"],
            name=op.f("fk_reminder_directive_recipient_id_directive_recipient"),
        ),
        sa.ForeignKeyConstraint(
            ["ledger_item_id"],
            ["ledger_item.id"],
            name=op.f("fk_reminder_ledger_item_id_ledger_item"),
        ),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["member.id"], name=op.f("fk_reminder_officer_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"], ["account.id"], name=op.f("fk_reminder_resolved_by_account")
        ),
        sa.ForeignKeyConstraint(
            ["subject_member_id"], ["member.id"], name=op.f("fk_reminder_subject_member_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["account.id"], name=op.f("fk_reminder_updated_by_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_reminder_dedup_key")),
    )
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.create_index("ix_reminder_branch_due", ["branch_id", "due_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_reminder_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index("ix_reminder_branch_status", ["branch_id", "status"], unique=False)
        batch_op.create_index("ix_reminder_cursor", ["updated_at", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_reminder_directive_recipient_id"),
            ["directive_recipient_id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_reminder_officer_id"), ["officer_id"], unique=False)
        batch_op.create_index("ix_reminder_status_kind", ["status", "kind"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.drop_index("ix_reminder_status_kind")
        batch_op.drop_index(batch_op.f("ix_reminder_officer_id"))
        batch_op.drop_index(batch_op.f("ix_reminder_directive_recipient_id"))
        batch_op.drop_index("ix_reminder_cursor")
        batch_op.drop_index("ix_reminder_branch_status")
        batch_op.drop_index(batch_op.f("ix_reminder_branch_id"))
        batch_op.drop_index("ix_reminder_branch_due")

    op.drop_table("reminder")
    with op.batch_alter_table("spot_check_finding", schema=None) as batch_op:
        batch_op.drop_index("ix_spot_check_finding_check")
        batch_op.drop_index("ix_spot_check_finding_branch_deadline")

    op.drop_table("spot_check_finding")
    with op.batch_alter_table("bulletin_recipient", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bulletin_recipient_branch_id"))

    op.drop_table("bulletin_recipient")
    with op.batch_alter_table("bulletin_read", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bulletin_read_account_id"))

    op.drop_table("bulletin_read")
    with op.batch_alter_table("spot_check", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_spot_check_inspector_id"))
        batch_op.drop_index("ix_spot_check_branch_checked")

    op.drop_table("spot_check")
    with op.batch_alter_table("bulletin", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bulletin_published_at"))

    op.drop_table("bulletin")
