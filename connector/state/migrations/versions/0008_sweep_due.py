"""Sweep due times: the decay sweep re-scores only the records whose result could have changed.

Revision ID: 0008_sweep_due
Revises: 0007_cache
Create Date: 2026-11-30

Existing rows get no due time (NULL): the first sweep after the upgrade re-scores each of them,
as every sweep did before, and gives it one.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_sweep_due"
down_revision = "0007_cache"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("records") as batch:
        batch.add_column(sa.Column("sweep_due", sa.BigInteger))  # whole seconds since the epoch
        batch.add_column(sa.Column("sweep_status", sa.String(20)))
    op.create_index("ix_records_sweep_due", "records", ["crm", "sweep_due", "record_id", "sweep_status"])


def downgrade() -> None:
    op.drop_index("ix_records_sweep_due", table_name="records")
    with op.batch_alter_table("records") as batch:
        batch.drop_column("sweep_status")
        batch.drop_column("sweep_due")
