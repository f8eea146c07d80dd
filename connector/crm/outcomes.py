"""Typed CRM errors as the per-record outcomes the sync acts on.

Adapters express every failure, of a whole call or of one item in a batch, as
one of ``crm.errors``; these helpers are the one place that says what each
type means for a write or a task: retry later, skip, or record the error.
A ``StopRun`` is never an outcome: it stops the run.
"""

from __future__ import annotations

from collections.abc import Sequence

from connector.crm.base import TaskOutcome, WriteOutcome
from connector.crm.errors import CrmError, RecordMovedOn, Retryable, StopRun


def write_outcome(record_id: str, error: CrmError | None = None) -> WriteOutcome:
    """The outcome of one record's write: done, or failed with what to do about it."""
    if error is None:
        return WriteOutcome(record_id)
    _raise_stop(error)
    return WriteOutcome(
        record_id,
        str(error),
        retryable=isinstance(error, Retryable),
        skipped=isinstance(error, RecordMovedOn),
    )


def task_outcome(key: str, crm_task_id: str | None = None, error: CrmError | None = None) -> TaskOutcome:
    """The outcome of one task's creation: its CRM id, or the error and whether to try again."""
    if error is None:
        return TaskOutcome(key, crm_task_id=crm_task_id)
    _raise_stop(error)
    return TaskOutcome(key, error=str(error), retryable=isinstance(error, Retryable))


def failed_writes(record_ids: Sequence[str], error: CrmError) -> list[WriteOutcome]:
    """Every record of a call that failed as a whole."""
    return [write_outcome(r, error) for r in record_ids]


def failed_tasks(keys: Sequence[str], error: CrmError) -> list[TaskOutcome]:
    """Every task of a call that failed as a whole."""
    return [task_outcome(k, error=error) for k in keys]


def _raise_stop(error: CrmError) -> None:
    if isinstance(error, StopRun):
        raise error
