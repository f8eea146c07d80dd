"""SLA escalations: one row per escalated qualification episode, written before the task is updated;
episodes say whether they still await a sales touch (existing ones are checked once and corrected).

Revision ID: 0004_sla
Revises: 0003
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_sla"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("episodes") as episodes:
        episodes.add_column(sa.Column("awaiting", sa.Boolean, nullable=False, server_default=sa.true()))
    op.create_table(
        "escalations",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("crm", sa.String(20), nullable=False),
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("task_key", sa.String(200), nullable=False),
        sa.Column("crm_task_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("owner_id", sa.String(64)),
        sa.Column("priority", sa.String(10)),
        sa.Column("actions", sa.JSON, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_escalations_status", "escalations", ["crm", "status"])
    op.create_index("ix_escalations_episode", "escalations", ["crm", "record_id", "number"])


def downgrade() -> None:
    op.drop_index("ix_escalations_episode", "escalations")
    op.drop_index("ix_escalations_status", "escalations")
    op.drop_table("escalations")
    with op.batch_alter_table("episodes") as episodes:
        episodes.drop_column("awaiting")
