"""The tables of the state store as this Handoff reads and writes them.

The migrations in ``connector/state/migrations`` build them; a change here goes
with a new migration there (``connector.state.migrate`` says how to make one).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    true,
)
from sqlalchemy.types import TypeDecorator

metadata = MetaData()


class EpochSeconds(TypeDecorator[datetime]):
    """A UTC moment kept as whole seconds since the epoch, rounded down.

    Used where a time is stored for every record and indexed: an integer takes a few bytes
    in the row and the index where SQLite's datetime text takes 26.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> int | None:
        return None if value is None else int(value.timestamp() // 1)

    def process_result_value(self, value: int | None, dialect: Any) -> datetime | None:
        return None if value is None else datetime.fromtimestamp(value, UTC)


#: the hand-written runner's version row, kept (and raised) so that Handoff 0.1 refuses a newer store
schema_info = Table(
    "handoff_schema",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
)

cursors = Table(
    "cursors",
    metadata,
    Column("crm", String(20), primary_key=True),
    Column("name", String(100), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

#: slow-changing CRM facts (property list, owners) and when they were read: refreshed on a schedule
lookups = Table(
    "lookups",
    metadata,
    Column("crm", String(20), primary_key=True),
    Column("name", String(100), primary_key=True),
    Column("value", JSON, nullable=False),
    Column("read_at", DateTime(timezone=True), nullable=False),
)

#: one row per CRM record Handoff has seen: what it knows, remembers and last wrote
records = Table(
    "records",
    metadata,
    Column("crm", String(20), primary_key=True),
    Column("record_id", String(64), primary_key=True),
    Column("lead", JSON, nullable=False),  # canonical lead, enough to re-score without the CRM
    Column("crm_state", JSON, nullable=False),  # stage, lead status, owner as last read
    Column("counters", JSON, nullable=False),  # engagement counters as last read, for deltas
    Column("memory", JSON, nullable=False),  # episode, level, promotions
    Column("written", JSON, nullable=False),  # values last written successfully
    Column("modified_at", DateTime(timezone=True)),  # CRM's last-modified time when read
    Column("updated_at", DateTime(timezone=True), nullable=False),
    #: when the CRM created the record if the adapter says, else when Handoff first saw it: the lead cohort
    Column("created_at", DateTime(timezone=True)),
    #: the earliest time re-scoring could change what was planned (connector.policy.steady); NULL: every sweep
    Column("sweep_due", EpochSeconds),
    #: the level (or untouched) it was last scored at: the sweep counts the records it skips by it
    Column("sweep_status", String(20)),
    #: the sweep reads only the records due, in this order, and counts the rest from the index alone
    Index("ix_records_sweep_due", "crm", "sweep_due", "record_id", "sweep_status"),
)

#: writes that failed and are retried next cycle, until they land or are dead-lettered
pending_writes = Table(
    "pending_writes",
    metadata,
    Column("crm", String(20), primary_key=True),
    Column("record_id", String(64), primary_key=True),
    Column("properties", JSON, nullable=False),
    Column("stage", String(40)),
    Column("reset_stage", Boolean, nullable=False, default=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

#: the task ledger: an intent is recorded before the CRM call, confirmed after
tasks = Table(
    "tasks",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("crm", String(20), nullable=False),
    Column("record_id", String(64), nullable=False),
    Column("stage", String(20), nullable=False),
    Column("status", String(20), nullable=False),  # intent | created | dead
    Column("crm_task_id", String(64)),
    Column("spec", JSON, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    #: times the intent was taken over after the insert that first claimed it; a takeover is an
    #: update that expects the count it read, so of two processes only one wins
    Column("claims", Integer, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    #: when the entry last changed: a claim, a failure; an intent is left alone until it settles
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_tasks_status", "crm", "status"),
)

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("crm", String(20), nullable=False),
    Column("record_id", String(64)),
    Column("kind", String(20), nullable=False),  # write | task | record
    Column("payload", JSON, nullable=False),
    Column("error", Text, nullable=False),
    Column("attempts", Integer, nullable=False, default=1),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("crm", String(20), nullable=False),
    Column("kind", String(20), nullable=False),  # sync | backfill | sweep
    Column("dry_run", Boolean, nullable=False),
    Column("status", String(20), nullable=False),  # running | ok | failed | stopped
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("report", JSON),
)

#: qualification episodes: what Handoff knew when a record qualified, and what sales did afterwards
episodes = Table(
    "episodes",
    metadata,
    Column("crm", String(20), primary_key=True),
    Column("record_id", String(64), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    #: an outcome ended it (recycled, rejected, won, lost): later outcomes go to a newer episode
    Column("closed", Boolean, nullable=False),
    Column("episode", JSON, nullable=False),  # Episode.to_json()
    Column("updated_at", DateTime(timezone=True), nullable=False),
    #: no sales touch and no outcome yet: the SLA follow-up only reads these
    Column("awaiting", Boolean, nullable=False, server_default=true()),
    Index("ix_episodes_started", "crm", "started_at"),
)

#: the alert ledger: an alert is claimed (inserted if its key is free) before it is posted, marked sent after
alerts = Table(
    "alerts",
    metadata,
    Column("key", String(200), primary_key=True),  # alert:<record>:<episode>:<kind>
    Column("crm", String(20), nullable=False),
    Column("record_id", String(64), nullable=False),
    Column("kind", String(20), nullable=False),  # new_sql | new_mql | sla_breach
    Column("status", String(20), nullable=False),  # pending | sent | dead
    Column("event", JSON, nullable=False),  # what is posted, so a retry sends what was decided
    #: cycles that posted it: raised before each post, so a crash right after one still counts
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    #: not posted again before this (the receiver asked for a pause)
    Column("not_before", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Index("ix_alerts_status", "crm", "status"),
)

#: SLA escalations: one per qualification episode, claimed before the task is updated in the CRM
escalations = Table(
    "escalations",
    metadata,
    Column("key", String(200), primary_key=True),  # escalation:<crm>:<record>:<episode number>
    Column("crm", String(20), nullable=False),
    Column("record_id", String(64), nullable=False),
    Column("number", Integer, nullable=False),
    Column("task_key", String(200), nullable=False),
    Column("crm_task_id", String(64), nullable=False),
    Column("status", String(20), nullable=False),  # claimed | done | dead
    #: the task update to make (an idempotent set): the owner and priority after the escalation
    Column("owner_id", String(64)),
    Column("priority", String(10)),
    Column("actions", JSON, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_escalations_status", "crm", "status"),
    Index("ix_escalations_episode", "crm", "record_id", "number"),
)


#: where the owner rotation stands: a position in the rules' cycle of turns, one row per CRM
rotation = Table(
    "rotation",
    metadata,
    Column("crm", String(20), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

#: the rep the rotation gave each task, by task key, recorded before the task is claimed: a task
#: retried after a crash, or planned again by another replica, goes to the same rep
rotation_picks = Table(
    "rotation_picks",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("crm", String(20), nullable=False),
    Column("owner_id", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

#: the lead ledger (HubSpot's Leads object): one lead per record and episode, claimed before the
#: create call and confirmed after, like tasks
crm_leads = Table(
    "crm_leads",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("crm", String(20), nullable=False),
    Column("record_id", String(64), nullable=False),
    Column("task_key", String(200), nullable=False),
    Column("status", String(20), nullable=False),  # intent | created | dead
    Column("lead_id", String(64)),
    Column("spec", JSON, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    #: times a process took the intent to create it; taking expects the count it read, so one wins
    Column("claims", Integer, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_crm_leads_status", "crm", "status"),
)
