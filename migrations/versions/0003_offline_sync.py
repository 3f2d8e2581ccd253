"""Offline sync: visits, patrols and service actions, the conflict log, quarantine, devices,
scope exits, and the sync stamp clock and tombstone horizon on the data_version row.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sync_scope_exit",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("collection", sa.String(length=32), nullable=False),
        sa.Column("document_id", sa.String(length=64), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("branch_path", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_sync_scope_exit_branch_id_branch")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_scope_exit")),
    )
    with op.batch_alter_table("sync_scope_exit", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sync_scope_exit_branch_id"), ["branch_id"], unique=False
        )
        batch_op.create_index(
            "ix_sync_scope_exit_cursor", ["collection", "updated_at", "document_id"], unique=False
        )

    op.create_table(
        "patrol",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("area", sa.String(length=100), nullable=False),
        sa.Column("started_at_text", sa.String(length=40), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at_text", sa.String(length=40), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("participants", sa.Text(), nullable=False),
        sa.Column("track", sa.Text(), nullable=False),
        sa.Column("observations", sa.Text(), nullable=True),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("updated_device", sa.Uuid(), nullable=True),
        sa.Column("merged", sa.Boolean(), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("officer_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_patrol_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["member.id"], name=op.f("fk_patrol_officer_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["account.id"], name=op.f("fk_patrol_updated_by_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol")),
    )
    with op.batch_alter_table("patrol", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_patrol_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index("ix_patrol_cursor", ["updated_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_patrol_officer_id"), ["officer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_patrol_started_at"), ["started_at"], unique=False)

    op.create_table(
        "service_action",
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("place", sa.String(length=100), nullable=True),
        sa.Column("happened_at_text", sa.String(length=40), nullable=False),
        sa.Column("happened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("participants", sa.Text(), nullable=False),
        sa.Column("people_reached", sa.Integer(), nullable=False),
        sa.Column("difficulties_solved", sa.Integer(), nullable=False),
        sa.Column("banners_received", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("updated_device", sa.Uuid(), nullable=True),
        sa.Column("merged", sa.Boolean(), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("officer_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_service_action_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["member.id"], name=op.f("fk_service_action_officer_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["account.id"], name=op.f("fk_service_action_updated_by_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_action")),
    )
    with op.batch_alter_table("service_action", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_action_branch_id"), ["branch_id"], unique=False
        )
        batch_op.create_index("ix_service_action_cursor", ["updated_at", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_service_action_happened_at"), ["happened_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_service_action_officer_id"), ["officer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_service_action_type"), ["type"], unique=False)

    op.create_table(
        "sync_conflict",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("collection", sa.String(length=32), nullable=False),
        sa.Column("document_id", sa.String(length=64), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("ancestor", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("client", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("server", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("result", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.Column("device_session_id", sa.Uuid(), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.Uuid(), nullable=True),
        sa.Column("resolution", sa.JSON(none_as_null=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_sync_conflict_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_sync_conflict_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"], ["account.id"], name=op.f("fk_sync_conflict_resolved_by_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_conflict")),
        sa.UniqueConstraint(
            "collection",
            "document_id",
            "fingerprint",
            name=op.f("uq_sync_conflict_collection_document_id_fingerprint"),
        ),
    )
    with op.batch_alter_table("sync_conflict", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_conflict_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_sync_conflict_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sync_conflict_document_id"), ["document_id"], unique=False
        )

    op.create_table(
        "sync_device",
        sa.Column("device_session_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("app_version", sa.String(length=64), nullable=True),
        sa.Column("last_pull_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_push_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("clock_skew_ms", sa.BigInteger(), nullable=True),
        sa.Column("pushed_rows", sa.BigInteger(), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("quarantined_rows", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_sync_device_account_id_account")
        ),
        sa.PrimaryKeyConstraint("device_session_id", name=op.f("pk_sync_device")),
    )
    with op.batch_alter_table("sync_device", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_device_account_id"), ["account_id"], unique=False)

    op.create_table(
        "sync_quarantine",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("collection", sa.String(length=32), nullable=False),
        sa.Column("document_id", sa.Text(), nullable=True),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.Column("device_session_id", sa.Uuid(), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("row", sa.JSON(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.Uuid(), nullable=True),
        sa.Column("resolution", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_sync_quarantine_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"], ["account.id"], name=op.f("fk_sync_quarantine_resolved_by_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_quarantine")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_sync_quarantine_fingerprint")),
    )
    with op.batch_alter_table("sync_quarantine", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sync_quarantine_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sync_quarantine_device_session_id"), ["device_session_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sync_quarantine_received_at"), ["received_at"], unique=False
        )

    op.create_table(
        "visit",
        sa.Column("village", sa.String(length=100), nullable=False),
        sa.Column("household", sa.String(length=100), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("concerns", sa.Text(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("people_reached", sa.Integer(), nullable=False),
        sa.Column("visited_at_text", sa.String(length=40), nullable=False),
        sa.Column("visited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("updated_device", sa.Uuid(), nullable=True),
        sa.Column("merged", sa.Boolean(), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("officer_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_visit_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["member.id"], name=op.f("fk_visit_officer_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["account.id"], name=op.f("fk_visit_updated_by_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit")),
    )
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_visit_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index("ix_visit_cursor", ["updated_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_visit_officer_id"), ["officer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_visit_village"), ["village"], unique=False)
        batch_op.create_index(batch_op.f("ix_visit_visited_at"), ["visited_at"], unique=False)

    with op.batch_alter_table("data_version", schema=None) as batch_op:
        # The existing row starts both at 0 (no stamp taken, nothing purged).
        batch_op.add_column(
            sa.Column("sync_clock", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("tombstone_floor", sa.BigInteger(), nullable=False, server_default="0")
        )



def downgrade() -> None:
    with op.batch_alter_table("data_version", schema=None) as batch_op:
        batch_op.drop_column("tombstone_floor")
        batch_op.drop_column("sync_clock")

    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visit_visited_at"))
        batch_op.drop_index(batch_op.f("ix_visit_village"))
        batch_op.drop_index(batch_op.f("ix_visit_officer_id"))
        batch_op.drop_index("ix_visit_cursor")
        batch_op.drop_index(batch_op.f("ix_visit_branch_id"))

    op.drop_table("visit")
    with op.batch_alter_table("sync_quarantine", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_quarantine_received_at"))
        batch_op.drop_index(batch_op.f("ix_sync_quarantine_device_session_id"))
        batch_op.drop_index(batch_op.f("ix_sync_quarantine_account_id"))

    op.drop_table("sync_quarantine")
    with op.batch_alter_table("sync_device", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_device_account_id"))

    op.drop_table("sync_device")
    with op.batch_alter_table("sync_conflict", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_conflict_document_id"))
        batch_op.drop_index(batch_op.f("ix_sync_conflict_created_at"))
        batch_op.drop_index(batch_op.f("ix_sync_conflict_branch_id"))

    op.drop_table("sync_conflict")
    with op.batch_alter_table("service_action", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_action_type"))
        batch_op.drop_index(batch_op.f("ix_service_action_officer_id"))
        batch_op.drop_index(batch_op.f("ix_service_action_happened_at"))
        batch_op.drop_index("ix_service_action_cursor")
        batch_op.drop_index(batch_op.f("ix_service_action_branch_id"))

    op.drop_table("service_action")
    with op.batch_alter_table("patrol", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patrol_started_at"))
        batch_op.drop_index(batch_op.f("ix_patrol_officer_id"))
        batch_op.drop_index("ix_patrol_cursor")
        batch_op.drop_index(batch_op.f("ix_patrol_branch_id"))

    op.drop_table("patrol")
    with op.batch_alter_table("sync_scope_exit", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_scope_exit_cursor")
        batch_op.drop_index(batch_op.f("ix_sync_scope_exit_branch_id"))

    op.drop_table("sync_scope_exit")
