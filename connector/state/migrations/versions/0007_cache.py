"""Lookups: the CRM's property list and owners, kept between runs and refreshed on a schedule.

Revision ID: 0007_cache
Revises: 0006_routing
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_cache"
down_revision = "0006_routing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lookups",
        sa.Column("crm", sa.String(20), primary_key=True),
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("value", sa.JSON, nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("lookups")
