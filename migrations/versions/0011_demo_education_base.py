"""The education base (党建教育基地) as a record with its name, area and address, and the base
each education activity was held at.

Activities recorded before this revision keep no base (base_id NULL); `meijing seed --demo`
creates the county's base and holds its activities there.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "education_base",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("area_m2", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("area_m2 > 0", name=op.f("ck_education_base_area_m2_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_education_base")),
        sa.UniqueConstraint("name", name=op.f("uq_education_base_name")),
    )
    with op.batch_alter_table("education_activity", schema=None) as batch_op:
        batch_op.add_column(sa.Column("base_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_education_activity_base_id_education_base"),
            "education_base",
            ["base_id"],
            ["id"],
        )
        batch_op.create_index(batch_op.f("ix_education_activity_base_id"), ["base_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("education_activity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_education_activity_base_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_education_activity_base_id_education_base"), type_="foreignkey"
        )
        batch_op.drop_column("base_id")
    op.drop_table("education_base")
