"""The owner rotation (its position and the pick of each task) and the HubSpot lead ledger.

Revision ID: 0006_routing
Revises: 0005_alerts
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_routing"
down_revision = "0005_alerts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rotation",
        sa.Column("crm", sa.String(20), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "rotation_picks",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("crm", sa.String(20), nullable=False),
        sa.Column("owner_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "crm_leads",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("crm", sa.String(20), nullable=False),
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("task_key", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("lead_id", sa.String(64)),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("claims", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_crm_leads_status", "crm_leads", ["crm", "status"])


def downgrade() -> None:
    op.drop_index("ix_crm_leads_status", "crm_leads")
    op.drop_table("crm_leads")
    op.drop_table("rotation_picks")
    op.drop_table("rotation")
