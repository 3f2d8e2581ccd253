"""Smart assessment (智能考核): the scored-item catalog, inspectors' manual scores (with the
chain of superseded ones) and score adjustments.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assessment_item",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("rule_kind", sa.String(length=32), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_item")),
        sa.UniqueConstraint("code", name=op.f("uq_assessment_item_code")),
    )
    op.create_table(
        "manual_score",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("inspector_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("superseded_by_id", sa.Uuid(), nullable=True),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_manual_score_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["inspector_id"], ["account.id"], name=op.f("fk_manual_score_inspector_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["assessment_item.id"],
            name=op.f("fk_manual_score_item_id_assessment_item"),
        ),
        sa.ForeignKeyConstraint(
            ["superseded_by_id"],
            ["manual_score.id"],
            name=op.f("fk_manual_score_superseded_by_id_manual_score"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manual_score")),
    )
    with op.batch_alter_table("manual_score", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_manual_score_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_manual_score_item_id"), ["item_id"], unique=False)
        batch_op.create_index(
            "ix_manual_score_period_branch_item", ["period", "branch_id", "item_id"], unique=False
        )

    op.create_table(
        "score_adjustment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=True),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("delta", sa.Double(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("inspector_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_score_adjustment_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["inspector_id"], ["account.id"], name=op.f("fk_score_adjustment_inspector_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["assessment_item.id"],
            name=op.f("fk_score_adjustment_item_id_assessment_item"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_adjustment")),
    )
    with op.batch_alter_table("score_adjustment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_score_adjustment_branch_id"), ["branch_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_score_adjustment_item_id"), ["item_id"], unique=False)
        batch_op.create_index(
            "ix_score_adjustment_period_branch", ["period", "branch_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("score_adjustment", schema=None) as batch_op:
        batch_op.drop_index("ix_score_adjustment_period_branch")
        batch_op.drop_index(batch_op.f("ix_score_adjustment_item_id"))
        batch_op.drop_index(batch_op.f("ix_score_adjustment_branch_id"))

    op.drop_table("score_adjustment")
    with op.batch_alter_table("manual_score", schema=None) as batch_op:
        batch_op.drop_index("ix_manual_score_period_branch_item")
        batch_op.drop_index(batch_op.f("ix_manual_score_item_id"))
        batch_op.drop_index(batch_op.f("ix_manual_score_branch_id"))

    op.drop_table("manual_score")
    op.drop_table("assessment_item")
