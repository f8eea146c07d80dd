"""The dry run: a sink that records what a run would do and writes nothing, and its CSV for admins."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Protocol

from connector.config.files import ConfigError, ConfigProblem
from connector.crm.base import Pulled, Quarantined
from connector.model import Decision, Qualification, format_time
from connector.policy.planner import RecordPlan
from connector.state import RecordState
from connector.sync.alerting import AlertOutbox
from connector.sync.report import RunReport
from connector.sync.sink import Planned

COLUMNS = (
    "record_id",
    "name",
    "company",
    "crm_stage",
    "lead_status",
    "score",
    "grade",
    "qualification",
    "target_stage",
    "stage_reset",
    "changed_properties",
    "task_subject",
    "task_owner",
    "task_due",
    "task_priority",
    "notes",
)
#: a spreadsheet reads a cell starting with one of these as a formula (or, after tab and CR, as one)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A text cell a spreadsheet will show, never run: a leading formula character gets a ``'`` before it.

    Names, companies and task subjects come from the CRM, where anyone filling a
    form can write ``=HYPERLINK(...)``. Numbers are left alone (a score of -5 is data).
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class Rows(Protocol):
    """Receives each record a dry run planned."""

    def add(
        self, record: Pulled | RecordState, qualification: Qualification, decision: Decision, plan: RecordPlan
    ) -> None: ...


class DryRun:
    """The sink of a dry run: the plans go to ``rows`` (if any); no state, no cursor, nothing to the CRM,
    no alert posted (with ``alerts``, the report counts the ones the run would post as ``would_send``)."""

    dry_run = True

    def __init__(self, rows: Rows | None = None, alerts: AlertOutbox | None = None):
        self.rows = rows
        self.alerts = alerts

    def begin(self, report: RunReport) -> None:
        pass  # retries and reconciliation write: a dry run leaves them to the next real run

    def quarantine(self, bad: Sequence[Quarantined]) -> None:
        pass

    def take(self, planned: Sequence[Planned], report: RunReport) -> None:
        if self.alerts is not None:
            report.alerts["would_send"] += len(self.alerts.qualified(planned, report.kind))
        if self.rows is not None:
            for p in planned:
                self.rows.add(p.source, p.qualification, p.decision, p.plan)

    def checkpoint(self, cursor: str, value: str | None) -> None:
        pass

    def end(self, report: RunReport) -> None:
        pass


class CsvPlanSink:
    """Writes one row per record whose plan is not empty; counts every record it is shown."""

    def __init__(self, stream: IO[str]):
        self._writer = csv.DictWriter(stream, fieldnames=COLUMNS)
        self._writer.writeheader()
        self.rows = 0
        self.seen = 0

    def add(
        self, record: Pulled | RecordState, qualification: Qualification, decision: Decision, plan: RecordPlan
    ) -> None:
        self.seen += 1
        if plan.is_empty:
            return
        state = record.crm_state
        task = plan.task
        row = {
            "record_id": record.record_id,
            "name": state.name or "",
            "company": state.company or "",
            "crm_stage": state.stage.value if state.stage else "",
            "lead_status": state.lead_status or "",
            "score": qualification.score,
            "grade": qualification.grade,
            "qualification": "disqualified" if qualification.disqualified else qualification.stage.value,
            "target_stage": plan.stage.value if plan.stage else "",
            "stage_reset": "yes" if plan.reset_stage else "",
            "changed_properties": json.dumps(dict(plan.properties), ensure_ascii=False, sort_keys=True),
            "task_subject": task.subject if task else "",
            "task_owner": (task.owner_id or "unassigned") if task else "",
            "task_due": format_time(task.due_at) if task else "",
            "task_priority": task.priority.value if task else "",
            "notes": "; ".join(decision.notes),
        }
        self._writer.writerow({column: spreadsheet_safe(value) for column, value in row.items()})
        self.rows += 1


@contextmanager
def plan_file(directory: Path, kind: str, stamp: str) -> Iterator[tuple[Path, CsvPlanSink]]:
    """A new ``<dir>/dry-run-<kind>-<UTC stamp>.csv`` and the sink writing it, creating the directory.

    Raises ConfigError naming ``HANDOFF_REPORT_DIR`` when the file cannot be created there.
    """
    path = directory / f"dry-run-{kind}-{stamp}.csv"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        stream = path.open("w", newline="", encoding="utf-8")
    except OSError as exc:
        problem = f"cannot create {path}: {exc.strerror or exc}"
        raise ConfigError([ConfigProblem("environment", None, "HANDOFF_REPORT_DIR", problem)]) from None
    with stream:
        yield path, CsvPlanSink(stream)
