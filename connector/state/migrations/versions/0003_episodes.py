"""Qualification episodes, and when each record was created (or first seen): the funnel report's inputs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("records") as records:
        records.add_column(sa.Column("created_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "episodes",
        sa.Column("crm", sa.String(20), primary_key=True),
        sa.Column("record_id", sa.String(64), primary_key=True),
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed", sa.Boolean, nullable=False),
        sa.Column("episode", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_episodes_started", "episodes", ["crm", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_episodes_started", "episodes")
    op.drop_table("episodes")
    with op.batch_alter_table("records") as records:
        records.drop_column("created_at")
