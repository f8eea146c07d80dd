"""A table index filled while loading (sorted fields filed in one go at the end) ends as one
filed record by record: same sorted entries, same creation order."""

from __future__ import annotations

from typing import Any

import pytest

from connector.sandbox.ranges import Range
from connector.sandbox.salesforce.indexes import SORTED_FIELDS, TableIndex, births
from connector.sandbox.salesforce.org import Record
from connector.sandbox.salesforce.schema import build_schema

LEAD = build_schema(True, ()).objects["lead"]


def _record(record_id: str, modstamp: str | None) -> Record:
    return Record(LEAD, {"Id": record_id, "SystemModstamp": modstamp})


def _changes(table: TableIndex, loading: bool) -> None:
    """Records filed before loading, then new, changed, cleared and forgotten ones while loading."""
    first = [_record(f"00Q{n}", f"2026-11-2{n}T09:00:00.000+0000") for n in range(4)]
    for record in first:
        table.file(record)
    if loading:
        table.start_loading()
    late = _record("00Q9", "2026-11-20T09:00:00.000+0000")  # ties the first record's stamp
    table.file(late)
    first[1].values["SystemModstamp"] = "2026-11-29T09:00:00.000+0000"
    table.file(first[1])
    first[2].values["SystemModstamp"] = None
    table.file(first[2])
    gone = _record("00Q7", "2026-11-25T09:00:00.000+0000")
    table.file(gone)
    table.unfile(gone)
    table.unfile(first[3])  # filed before loading began
    late.values["SystemModstamp"] = "2026-11-21T09:00:00.000+0000"
    table.file(late)
    if loading:
        table.finish_loading()


def _state(table: TableIndex) -> dict[str, Any]:
    return {
        "born": table.born,
        **{name: list(table.sorted_ids(name, Range())[1]) for name in SORTED_FIELDS},
    }


@pytest.mark.parametrize("query_while_loading", [False, True])
def test_loading_files_what_filing_each_change_files(query_while_loading: bool) -> None:
    loaded, filed = TableIndex(births()), TableIndex(births())
    _changes(filed, loading=False)
    if query_while_loading:
        loaded.start_loading()
        loaded.sorted_ids("Id", Range())  # a query while seeding sorts what was filed so far
    _changes(loaded, loading=True)
    assert _state(loaded) == _state(filed)
    assert _state(filed)["SystemModstamp"] == ["00Q0", "00Q9", "00Q1"]
