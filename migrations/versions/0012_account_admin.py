"""Account administration: a password an admin reset must be changed at the next sign-in, and
every administrative action on an account is kept in an audit trail.

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    # Existing rows are filled; the model sets the value on every insert from now on.
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.alter_column("must_change_password", server_default=None)

    op.create_table(
        "account_audit",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["account.id"], name=op.f("fk_account_audit_actor_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_account_audit_account_id_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_audit")),
    )
    op.create_index("ix_account_audit_at_id", "account_audit", ["at", "id"])
    op.create_index("ix_account_audit_account_id_at", "account_audit", ["account_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_account_audit_account_id_at", table_name="account_audit")
    op.drop_index("ix_account_audit_at_id", table_name="account_audit")
    op.drop_table("account_audit")
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_column("must_change_password")
