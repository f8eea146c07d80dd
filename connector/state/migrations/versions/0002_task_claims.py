"""Task intents are claimed: a takeover counter makes reconciling an intent a conditional update.

The old runner's version row goes to 2, so Handoff 0.1 refuses this store instead of using it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as tasks:
        tasks.add_column(sa.Column("claims", sa.Integer, nullable=False, server_default="0"))
    op.execute("UPDATE handoff_schema SET version = 2")


def downgrade() -> None:
    op.execute("UPDATE handoff_schema SET version = 1")
    with op.batch_alter_table("tasks") as tasks:
        tasks.drop_column("claims")
