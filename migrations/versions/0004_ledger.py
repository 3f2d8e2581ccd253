"""E-ledgers and study: the ledger catalog, entries with attendees and attachments (indexed by
branch, item and day for completeness), 第一议题 study records and study groups.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ledger_item",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("frequency", sa.String(length=32), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_item")),
        sa.UniqueConstraint("code", name=op.f("uq_ledger_item_code")),
    )
    op.create_table(
        "study_group",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_study_group_branch_id_branch")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_study_group")),
    )
    with op.batch_alter_table("study_group", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_study_group_branch_id"), ["branch_id"], unique=False)

    op.create_table(
        "study_group_member",
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["study_group.id"],
            name=op.f("fk_study_group_member_group_id_study_group"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_study_group_member_member_id_member")
        ),
        sa.PrimaryKeyConstraint("group_id", "member_id", name=op.f("pk_study_group_member")),
    )
    with op.batch_alter_table("study_group_member", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_study_group_member_member_id"), ["member_id"], unique=False
        )

    op.create_table(
        "ledger_entry",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_ledger_entry_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["account.id"], name=op.f("fk_ledger_entry_created_by_account")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["ledger_item.id"], name=op.f("fk_ledger_entry_item_id_ledger_item")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entry")),
    )
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ledger_entry_branch_day", ["branch_id", "occurred_on", "id"], unique=False
        )
        batch_op.create_index(
            "ix_ledger_entry_branch_item_day", ["branch_id", "item_id", "occurred_on"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ledger_entry_item_id"), ["item_id"], unique=False)

    op.create_table(
        "ledger_attachment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["account.id"], name=op.f("fk_ledger_attachment_created_by_account")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["ledger_entry.id"],
            name=op.f("fk_ledger_attachment_entry_id_ledger_entry"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_attachment")),
    )
    with op.batch_alter_table("ledger_attachment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_attachment_entry_id"), ["entry_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ledger_attachment_sha256"), ["sha256"], unique=False)

    op.create_table(
        "ledger_entry_attendee",
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["ledger_entry.id"],
            name=op.f("fk_ledger_entry_attendee_entry_id_ledger_entry"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_ledger_entry_attendee_member_id_member")
        ),
        sa.PrimaryKeyConstraint("entry_id", "member_id", name=op.f("pk_ledger_entry_attendee")),
    )
    with op.batch_alter_table("ledger_entry_attendee", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_entry_attendee_member_id"), ["member_id"], unique=False
        )

    op.create_table(
        "study_record",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("material", sa.Text(), nullable=True),
        sa.Column("form", sa.String(length=32), nullable=False),
        sa.Column("ledger_entry_id", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_study_record_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["account.id"], name=op.f("fk_study_record_created_by_account")
        ),
        sa.ForeignKeyConstraint(
            ["ledger_entry_id"],
            ["ledger_entry.id"],
            name=op.f("fk_study_record_ledger_entry_id_ledger_entry"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_study_record")),
    )
    with op.batch_alter_table("study_record", schema=None) as batch_op:
        batch_op.create_index(
            "ix_study_record_branch_day", ["branch_id", "held_on", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_study_record_ledger_entry_id"), ["ledger_entry_id"], unique=False
        )

    op.create_table(
        "study_record_attendee",
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_study_record_attendee_member_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["study_record.id"],
            name=op.f("fk_study_record_attendee_record_id_study_record"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("record_id", "member_id", name=op.f("pk_study_record_attendee")),
    )
    with op.batch_alter_table("study_record_attendee", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_study_record_attendee_member_id"), ["member_id"], unique=False
        )



def downgrade() -> None:
    with op.batch_alter_table("study_record_attendee", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_study_record_attendee_member_id"))

    op.drop_table("study_record_attendee")
    with op.batch_alter_table("study_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_study_record_ledger_entry_id"))
        batch_op.drop_index("ix_study_record_branch_day")

    op.drop_table("study_record")
    with op.batch_alter_table("ledger_entry_attendee", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_entry_attendee_member_id"))

    op.drop_table("ledger_entry_attendee")
    with op.batch_alter_table("ledger_attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_attachment_sha256"))
        batch_op.drop_index(batch_op.f("ix_ledger_attachment_entry_id"))

    op.drop_table("ledger_attachment")
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_entry_item_id"))
        batch_op.drop_index("ix_ledger_entry_branch_item_day")
        batch_op.drop_index("ix_ledger_entry_branch_day")

    op.drop_table("ledger_entry")
    with op.batch_alter_table("study_group_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_study_group_member_member_id"))

    op.drop_table("study_group_member")
    with op.batch_alter_table("study_group", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_study_group_branch_id"))

    op.drop_table("study_group")
    op.drop_table("ledger_item")
