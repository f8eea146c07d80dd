"""The alert ledger: each (record, episode, kind) alert is claimed before it is posted, marked sent after.

Revision ID: 0005_alerts
Revises: 0004_sla
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_alerts"
down_revision = "0004_sla"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("crm", sa.String(20), nullable=False),
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("event", sa.JSON, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("not_before", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_alerts_status", "alerts", ["crm", "status"])


def downgrade() -> None:
    op.drop_index("ix_alerts_status", "alerts")
    op.drop_table("alerts")
