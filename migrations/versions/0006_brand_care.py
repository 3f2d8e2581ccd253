"""Brand building (六有一规范 criteria and branch checklists), education-base activities and
the 警心110 hotline requests with their handling notes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "brand_criterion",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brand_criterion")),
        sa.UniqueConstraint("code", name=op.f("uq_brand_criterion_code")),
    )
    op.create_table(
        "brand_checklist_item",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("criterion_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("evidence_links", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_brand_checklist_item_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["criterion_id"],
            ["brand_criterion.id"],
            name=op.f("fk_brand_checklist_item_criterion_id_brand_criterion"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["account.id"], name=op.f("fk_brand_checklist_item_updated_by_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brand_checklist_item")),
        sa.UniqueConstraint(
            "branch_id", "criterion_id", name=op.f("uq_brand_checklist_item_branch_id_criterion_id")
        ),
    )
    with op.batch_alter_table("brand_checklist_item", schema=None) as batch_op:
        batch_op.create_index(
            "ix_brand_checklist_item_branch_status", ["branch_id", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_brand_checklist_item_criterion_id"), ["criterion_id"], unique=False
        )

    op.create_table(
        "education_activity",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("audience_count", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "audience_count >= 0", name=op.f("ck_education_activity_audience_count_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_education_activity_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["account.id"], name=op.f("fk_education_activity_created_by_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_education_activity")),
    )
    with op.batch_alter_table("education_activity", schema=None) as batch_op:
        batch_op.create_index(
            "ix_education_activity_branch_held_on", ["branch_id", "held_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_education_activity_held_on"), ["held_on"], unique=False
        )

    op.create_table(
        "hotline_request",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("handled_by", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["account.id"], name=op.f("fk_hotline_request_created_by_account")
        ),
        sa.ForeignKeyConstraint(
            ["handled_by"], ["account.id"], name=op.f("fk_hotline_request_handled_by_account")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_hotline_request_member_id_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotline_request")),
    )
    with op.batch_alter_table("hotline_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_hotline_request_member_id"), ["member_id"], unique=False
        )
        batch_op.create_index(
            "ix_hotline_request_status_received", ["status", "received_at"], unique=False
        )

    op.create_table(
        "hotline_note",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("by_account_id", sa.Uuid(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_account_id"], ["account.id"], name=op.f("fk_hotline_note_by_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["hotline_request.id"],
            name=op.f("fk_hotline_note_request_id_hotline_request"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotline_note")),
    )
    with op.batch_alter_table("hotline_note", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_hotline_note_request_id"), ["request_id"], unique=False
        )



def downgrade() -> None:
    with op.batch_alter_table("hotline_note", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hotline_note_request_id"))

    op.drop_table("hotline_note")
    with op.batch_alter_table("hotline_request", schema=None) as batch_op:
        batch_op.drop_index("ix_hotline_request_status_received")
        batch_op.drop_index(batch_op.f("ix_hotline_request_member_id"))

    op.drop_table("hotline_request")
    with op.batch_alter_table("education_activity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_education_activity_held_on"))
        batch_op.drop_index("ix_education_activity_branch_held_on")

    op.drop_table("education_activity")
    with op.batch_alter_table("brand_checklist_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_brand_checklist_item_criterion_id"))
        batch_op.drop_index("ix_brand_checklist_item_branch_status")

    op.drop_table("brand_checklist_item")
    op.drop_table("brand_criterion")
