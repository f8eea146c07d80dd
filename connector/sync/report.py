"""What one run did: the summary line, the JSON output, the metrics and the runs table all come from here."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connector.model import format_time
from connector.policy.escalation import Escalation

#: a run that did its work but left task intents to confirm or retry later
PARTIAL = "partial"


@dataclass
class RunReport:
    """Counts for one run."""

    kind: str
    dry_run: bool
    read: int = 0
    #: records read again that had not changed since Handoff last saw them (apart from its own writes)
    unchanged: int = 0
    quarantined: int = 0
    changed: int = 0
    written: int = 0
    write_failures: int = 0
    dead_lettered: int = 0
    retried: int = 0
    skipped: int = 0
    tasks_created: int = 0
    tasks_reconciled: int = 0
    #: tasks planned with no owner: the record has none who can take it and the rules name no one
    tasks_unassigned: int = 0
    #: CRM lead records (HubSpot Leads) created, and found already made by an earlier run
    leads_created: int = 0
    leads_reconciled: int = 0
    #: task intents not confirmed when the run ended, and when the first of them is tried again
    tasks_waiting: int = 0
    tasks_retry_at: datetime | None = None
    #: outcome events read from the CRM, and the episodes they changed
    outcomes: int = 0
    episodes_updated: int = 0
    #: SLA escalations this run claimed (each once per episode), and the task updates that landed
    escalations: list[Escalation] = field(default_factory=list)
    tasks_escalated: int = 0
    stages: Counter[str] = field(default_factory=Counter)
    tasks_by_stage: Counter[str] = field(default_factory=Counter)
    #: Handoff's qualification level of every record scored (the sweep sees them all)
    levels: Counter[str] = field(default_factory=Counter)
    #: alerts posted (sent), left for a later cycle (retrying), dead-lettered; a dry run's would_send
    alerts: Counter[str] = field(default_factory=Counter)
    status: str = "ok"
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "dry_run": self.dry_run,
            "status": self.status,
            "error": self.error,
            "read": self.read,
            "unchanged": self.unchanged,
            "quarantined": self.quarantined,
            "changed": self.changed,
            "written": self.written,
            "write_failures": self.write_failures,
            "dead_lettered": self.dead_lettered,
            "retried": self.retried,
            "skipped": self.skipped,
            "tasks_created": self.tasks_created,
            "tasks_reconciled": self.tasks_reconciled,
            "tasks_unassigned": self.tasks_unassigned,
            "tasks_waiting": self.tasks_waiting,
            "tasks_retry_at": format_time(self.tasks_retry_at) if self.tasks_retry_at else None,
            "leads_created": self.leads_created,
            "leads_reconciled": self.leads_reconciled,
            "stages": dict(self.stages),
            "outcomes": self.outcomes,
            "episodes_updated": self.episodes_updated,
            "alerts": dict(self.alerts),
            "escalated": len(self.escalations),
            "tasks_escalated": self.tasks_escalated,
        }

    def counts(self) -> dict[str, int]:
        """The numbers the daemon's metrics and summary line take."""
        return {
            "read": self.read,
            "written": self.written,
            "write_failures": self.write_failures,
            "dead_letters": self.dead_lettered,
            "quarantined": self.quarantined,
            "tasks_created": self.tasks_created,
            "tasks_waiting": self.tasks_waiting,
            "tasks_unassigned": self.tasks_unassigned,
            "leads_created": self.leads_created,
            "changed": self.changed,
            "alerts_sent": self.alerts["sent"],
            "alerts_retrying": self.alerts["retrying"],
            "escalated": len(self.escalations),
        }
