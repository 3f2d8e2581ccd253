"""Supervision follow-up: who carried out a spot check, reminders about spot-check findings,
and A24's suggested score from the brand checklist.

- `spot_check.carried_out_by`: the people who carried out the check (督导人员); checks recorded
  before this revision are filled in with the recording account's username.
- `reminder.spot_check_finding_id`: the finding a `finding_deadline` reminder is about.
- The default catalog's A24 (品牌创建“六有一规范”, a manual item) names the brand checklist as
  the source of its suggested score, where the bureau left its params empty.

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("spot_check", schema=None) as batch_op:
        batch_op.add_column(sa.Column("carried_out_by", sa.String(length=200), nullable=True))
    op.execute(
        "UPDATE spot_check SET carried_out_by = "
        "(SELECT username FROM account WHERE account.id = spot_check.inspector_id)"
    )
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.add_column(sa.Column("spot_check_finding_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_reminder_spot_check_finding_id_spot_check_finding"),
            "spot_check_finding",
            ["spot_check_finding_id"],
            ["id"],
        )
    item = sa.table(
        "assessment_item",
        sa.column("code", sa.String),
        sa.column("rule_kind", sa.String),
        sa.column("params", sa.JSON),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(item.c.code, item.c.params).where(
            item.c.code == "A24", item.c.rule_kind == "manual"
        )
    ).all()
    for _code, params in rows:
        if not params:
            connection.execute(
                item.update()
                .where(item.c.code == "A24")
                .values(params={"suggested_by": "brand_checklist"})
            )


def downgrade() -> None:
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_reminder_spot_check_finding_id_spot_check_finding"),
            type_="foreignkey",
        )
        batch_op.drop_column("spot_check_finding_id")
    with op.batch_alter_table("spot_check", schema=None) as batch_op:
        batch_op.drop_column("carried_out_by")
