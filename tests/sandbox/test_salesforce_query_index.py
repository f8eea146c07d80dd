"""SOQL through the indexes returns the rows a full scan returns, in the same order.

The query engine walks sorted Id / SystemModstamp indexes for keyset pages and reads
equality indexes for ``=``/``IN`` terms; these tests compare it, while records are
updated, deleted and created between queries, with filtering every row of the object
by the same compiled condition and sorting by the same ORDER BY.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.sandbox.clock import ManualClock
from connector.sandbox.salesforce import SalesforceConfig, SalesforceSandbox, indexes
from connector.sandbox.salesforce.query import QueryEngine
from connector.sandbox.salesforce.soql import parse

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
VERSION = "v59.0"


def full_scan(engine: QueryEngine, soql: str, include_deleted: bool) -> list[str]:
    """Every row of the object, in creation order, filtered and sorted as the query says."""
    compiled = engine.compile(parse(soql))
    rows = engine.org.records(compiled.sobject, include_deleted)
    if compiled.where is not None:
        rows = [r for r in rows if compiled.where(r)]
    for column, descending, nulls_last in reversed(compiled.order):
        rows.sort(key=engine._sort_key(column, descending, nulls_last), reverse=descending)
    return [r.id for r in rows[: compiled.limit]]


def _stamp(seconds: int) -> str:
    return (START + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


@st.composite
def queries(draw: st.DrawFn, leads: list[str]) -> tuple[str, bool]:
    """A query of the shapes the adapter sends, or a near miss of them."""
    low, high = draw(st.integers(-1, 8)), draw(st.integers(-1, 8))
    after = draw(st.sampled_from(leads))
    some = draw(st.lists(st.sampled_from(leads), min_size=1, max_size=5))
    limit = draw(st.integers(1, 6))
    shape = draw(st.sampled_from(["window", "second", "scan", "in", "tasks", "members", "other ids", "descending"]))
    ids = ", ".join(f"'{i}'" for i in some)
    soql = {
        "window": f"SELECT Id FROM Lead WHERE SystemModstamp >= {_stamp(low)} AND SystemModstamp <= {_stamp(high)} "
        f"ORDER BY SystemModstamp, Id LIMIT {limit}",
        "second": f"SELECT Id FROM Lead WHERE SystemModstamp >= {_stamp(low)} AND SystemModstamp < {_stamp(low + 1)} "
        f"AND Id > '{after}' ORDER BY Id LIMIT {limit}",
        "scan": f"SELECT Id FROM Lead WHERE IsDeleted = false AND Id > '{after}' ORDER BY Id LIMIT {limit}",
        "in": f"SELECT Id FROM Lead WHERE Id IN ({ids}) AND Status != 'Nope'",
        "tasks": f"SELECT Id FROM Task WHERE WhoId IN ({ids}) AND IsClosed = true AND IsDeleted = false",
        "members": f"SELECT Id FROM CampaignMember WHERE LeadId IN ({ids}) AND HasResponded = true",
        "other ids": f"SELECT Id FROM Task WHERE Id IN ({ids})",  # Lead ids: no Task has them
        "descending": f"SELECT Id FROM Lead WHERE SystemModstamp > {_stamp(low)} ORDER BY SystemModstamp DESC, Id "
        f"LIMIT {limit}",
    }[shape]
    return soql, draw(st.booleans())


changes = st.lists(
    st.tuples(st.sampled_from(["touch", "delete", "create"]), st.integers(0, 100), st.integers(0, 2)), max_size=4
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), rounds=st.lists(changes, min_size=1, max_size=4))
def test_indexed_queries_answer_what_a_full_scan_answers(data, rounds) -> None:
    clock = ManualClock(START)
    sandbox = SalesforceSandbox(SalesforceConfig(contacts=12), clock=clock)
    org = sandbox.org
    lead_type = org.schema.objects["lead"]
    engine = QueryEngine(org)
    for between in rounds:
        leads = [r.id for r in org.records(lead_type, include_deleted=True)]
        soql, include_deleted = data.draw(queries(leads))
        _, rendered = engine.run(soql, include_deleted, VERSION)
        assert [r["Id"] for r in rendered] == full_scan(engine, soql, include_deleted), soql
        for kind, which, step in between:
            clock.advance(step)
            live = [r for r in org.records(lead_type) if not r.values.get("IsConverted")]
            if kind == "create" or not live:
                org.create(lead_type, {"LastName": f"New {which}", "Company": "Acme"}, system=True)
            elif kind == "touch":
                sandbox.touch(live[which % len(live)].id, {"Title": f"Title {which}"})
            else:
                org.delete(live[which % len(live)])


def test_modstamp_windows_hold_each_record_once_however_often_it_moved(monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox = SalesforceSandbox(SalesforceConfig(contacts=30, seed=3), clock=ManualClock(START))
    monkeypatch.setattr(indexes, "_STALE_FLOOR", 3)  # rebuild the sorted entries often
    org, clock = sandbox.org, sandbox.clock
    assert isinstance(clock, ManualClock)
    lead_type = org.schema.objects["lead"]
    leads = [r for r in org.records(lead_type) if not r.values.get("IsConverted")]
    since = "2026-11-20T09:00:03.000+0000"
    windows = {  # query -> which of the rows ordered by (SystemModstamp, Id) it answers
        "SELECT Id FROM Lead ORDER BY SystemModstamp, Id LIMIT 7": lambda rows: rows[:7],
        "SELECT Id FROM Lead WHERE SystemModstamp >= 2026-11-20T09:00:03Z ORDER BY SystemModstamp, Id": lambda rows: [
            r for r in rows if r.values["SystemModstamp"] >= since
        ],
    }
    engine = QueryEngine(org)
    for step in range(40):
        clock.advance(1)
        record = leads[step * 7 % len(leads)]
        if step % 9 == 8:
            with pytest.raises(RuntimeError), org.transaction():
                org.update(record, {"Title": "rolled back"})
                raise RuntimeError("roll back")
        else:
            org.update(record, {"Title": f"t{step}"})
        ordered = sorted(org.records(lead_type, True), key=lambda r: (r.values["SystemModstamp"], r.id))
        for soql, answer in windows.items():
            _, rows = engine.run(soql, True, VERSION)
            assert [r["Id"] for r in rows] == [r.id for r in answer(ordered)], (step, soql)
