"""The tables of Handoff 0.1, as its hand-written runner built them (its schema version 1).

A store that runner made is stamped at this revision instead of running it.

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    schema_info = op.create_table(
        "handoff_schema",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.bulk_insert(schema_info, [{"id": 1, "version": 1}])
    op.create_table(
        "cursors",
        sa.Column("crm", sa.String(20), primary_key=True),
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        _when("updated_at"),
    )
    op.create_table(
        "records",
        sa.Column("crm", sa.String(20), primary_key=True),
        sa.Column("record_id", sa.String(64), primary_key=True),
        sa.Column("lead", sa.JSON, nullable=False),
        sa.Column("crm_state", sa.JSON, nullable=False),
        sa.Column("counters", sa.JSON, nullable=False),
        sa.Column("memory", sa.JSON, nullable=False),
        sa.Column("written", sa.JSON, nullable=False),
        _when("modified_at", nullable=True),
        _when("updated_at"),
    )
    op.create_table(
        "pending_writes",
        sa.Column("crm", sa.String(20), primary_key=True),
        sa.Column("record_id", sa.String(64), primary_key=True),
        sa.Column("properties", sa.JSON, nullable=False),
        sa.Column("stage", sa.String(40)),
        sa.Column("reset_stage", sa.Boolean, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        _when("updated_at"),
    )
    op.create_table(
        "tasks",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("crm", sa.String(20), nullable=False),
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("stage", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("crm_task_id", sa.String(64)),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        _when("created_at"),
        _when("updated_at"),
    )
    op.create_index("ix_tasks_status", "tasks", ["crm", "status"])
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("crm", sa.String(20), nullable=False),
        sa.Column("record_id", sa.String(64)),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        _when("created_at"),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("crm", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("dry_run", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        _when("started_at"),
        _when("finished_at", nullable=True),
        sa.Column("report", sa.JSON),
    )


def downgrade() -> None:
    for table in ("runs", "dead_letters", "tasks", "pending_writes", "records", "cursors", "handoff_schema"):
        op.drop_table(table)
