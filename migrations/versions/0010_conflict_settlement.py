"""A resolved conflict records what its override did to the record: applied, merged with later
writes, or clashed with one (then logged as a new conflict, which it points to).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sync_conflict", schema=None) as batch_op:
        batch_op.add_column(sa.Column("settlement", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("next_conflict_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_sync_conflict_next_conflict_id_sync_conflict"),
            "sync_conflict",
            ["next_conflict_id"],
            ["id"],
        )
    # Overrides made before this revision wrote their value unconditionally.
    op.execute("UPDATE sync_conflict SET settlement = 'applied' WHERE resolved_at IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("sync_conflict", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_sync_conflict_next_conflict_id_sync_conflict"), type_="foreignkey"
        )
        batch_op.drop_column("next_conflict_id")
        batch_op.drop_column("settlement")
