"""Synced documents lose the `merged` flag: a push decides by the assumed state a client sends,
never by who wrote the stored version or how, so nothing reads it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SYNCED_TABLES = (
    "visit",
    "patrol",
    "service_action",
    "directive_recipient",
    "directive_receipt",
    "directive_progress",
    "reminder",
)


def upgrade() -> None:
    for table in SYNCED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("merged")


def downgrade() -> None:
    for table in SYNCED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            # Rows written since the upgrade were never a merge sent back; the default says so.
            batch_op.add_column(
                sa.Column("merged", sa.Boolean(), nullable=False, server_default=sa.false())
            )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("merged", server_default=None)
