"""Raw CRM rows into a page of canonical records, where one bad record never stops the rest."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from connector.crm.base import Pulled, PulledPage, Quarantined
from connector.crm.values import one_line

REASON_LIMIT = 500


def read_page(
    rows: Iterable[Any],
    read: Callable[[Mapping[str, Any]], Pulled | None],
    id_field: str,
    resume: str | None = None,
    late: bool = False,
) -> PulledPage:
    """Each row read with ``read`` (None: nothing to score, e.g. a deleted row), or quarantined with the reason.

    Whatever goes wrong while a record becomes canonical (a missing field, a
    value of the wrong type, a number or date out of range) quarantines that
    record alone: the reason names the error, the payload keeps the row as read.
    """
    records: list[Pulled] = []
    quarantined: list[Quarantined] = []
    for row in rows:
        try:
            if not isinstance(row, Mapping):
                raise TypeError(f"a {type(row).__name__} where a record was expected")
            pulled = read(row)
        except Exception as exc:
            quarantined.append(_quarantined(row, id_field, exc))
            continue
        if pulled is not None:
            records.append(pulled)
    return PulledPage(records, quarantined, resume=resume, late=late)


def _quarantined(row: Any, id_field: str, exc: Exception) -> Quarantined:
    record_id = row.get(id_field) if isinstance(row, Mapping) else None
    payload = (
        {k: v for k, v in row.items() if k != "attributes"} if isinstance(row, Mapping) else {"raw": repr(row)[:500]}
    )
    reason = one_line(f"unreadable record: {type(exc).__name__}: {exc}", REASON_LIMIT)
    return Quarantined(one_line(str(record_id)) if record_id is not None else None, reason, payload)
