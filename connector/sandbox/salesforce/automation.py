"""What the org does on its own around API writes: the Lead assignment rule and row-lock contention.

- **Assignment rule.** REST applies the org's active Lead assignment rule on every
  Lead create *and update* unless the request carries ``Sforce-Auto-Assign: FALSE``.
  The sandbox's rule routes every Lead to the inbound **queue** (``Inbound Queue``,
  a Group of Type ``Queue`` that owns Leads but not Tasks). It is a write by
  automation: ``SystemModstamp`` moves again. Converted Leads are never reassigned.
- **Lock contention.** With ``lock_error_rate`` > 0, each record of an sObject
  Collection request fails with ``UNABLE_TO_LOCK_ROW`` at that rate (seeded, so runs
  repeat). Single-record calls never draw it.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

from connector.sandbox.salesforce.errors import RecordError
from connector.sandbox.salesforce.org import Org, Record

AUTO_ASSIGN_HEADER = "Sforce-Auto-Assign"


def wants_auto_assign(header: str | None) -> bool:
    """Salesforce's default is TRUE; only an explicit FALSE (any case) turns the rule off."""
    return header is None or header.strip().lower() != "false"


@dataclass(slots=True)
class Automation:
    """The org's automation settings and its seeded source of lock errors."""

    seed: int
    assignment_rule: bool = True
    #: where the rule sends Leads (the inbound queue's id once the org is populated)
    assignee_id: str | None = None
    lock_error_rate: float = 0.0
    _rng: random.Random = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(f"locks-{self.seed}")

    def reset(self) -> None:
        with self._lock:
            self._rng = random.Random(f"locks-{self.seed}")

    def lock_error(self, record_id: str | None) -> RecordError | None:
        """UNABLE_TO_LOCK_ROW for this collection item, drawn at ``lock_error_rate``."""
        if self.lock_error_rate <= 0:
            return None
        with self._lock:
            unlucky = self._rng.random() < self.lock_error_rate
        if not unlucky:
            return None
        what = f"this record or 1 records: {record_id}" if record_id else "this record"
        return RecordError("UNABLE_TO_LOCK_ROW", f"unable to obtain exclusive access to {what}")

    def after_write(self, org: Org, record: Record, auto_assign: bool) -> None:
        """Run the assignment rule on a Lead just written through the API."""
        if (
            record.sobject.name != "Lead"
            or not auto_assign
            or not self.assignment_rule
            or self.assignee_id is None
            or record.values.get("IsConverted")
            or record.values.get("OwnerId") == self.assignee_id
        ):
            return
        org.update(record, {"OwnerId": self.assignee_id}, system=True)
