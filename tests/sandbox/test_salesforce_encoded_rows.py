"""Rows a query sends already encoded (kept per record version) are the rows it renders plainly,
whatever changed the records in between: an update, a delete, an activity's roll-up, a rollback.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from connector.sandbox.clock import ManualClock
from connector.sandbox.salesforce import SalesforceConfig, SalesforceSandbox
from connector.sandbox.salesforce.query import QueryEngine
from connector.sandbox.server import encode_json

VERSION = "v59.0"
LEADS = "SELECT Id, Email, Handoff_Score__c, LastActivityDate, IsDeleted, SystemModstamp FROM Lead ORDER BY Id"


def _both(engine: QueryEngine, soql: str) -> tuple[Any, Any]:
    """(what the encoded rows decode to, the plain rows) of one query, with queryAll's rows."""
    _, encoded = engine.run(soql, True, VERSION, encoded=True)
    _, plain = engine.run(soql, True, VERSION)
    return json.loads(encode_json(encoded)), plain


@pytest.fixture
def sandbox() -> SalesforceSandbox:
    return SalesforceSandbox(
        SalesforceConfig(contacts=30, seed=3), clock=ManualClock(datetime(2026, 11, 20, 9, tzinfo=UTC))
    )


def test_encoded_rows_follow_every_change_of_a_record(sandbox: SalesforceSandbox) -> None:
    org, engine = sandbox.org, QueryEngine(sandbox.org)
    lead_type = org.schema.objects["lead"]
    leads = [r for r in org.records(lead_type) if not r.values.get("IsConverted")]
    encoded, plain = _both(engine, LEADS)
    assert encoded == plain and len(plain) > 3

    org.update(leads[0], {"Handoff_Score__c": 42})
    org.delete(leads[1])
    task_type = org.schema.objects["task"]
    org.create(
        task_type, {"Subject": "Call", "Status": "Completed", "WhoId": leads[2].id, "ActivityDate": "2027-01-05"}
    )
    encoded, plain = _both(engine, LEADS)
    assert encoded == plain
    by_id = {r["Id"]: r for r in encoded}
    assert by_id[leads[0].id]["Handoff_Score__c"] == 42
    assert by_id[leads[1].id]["IsDeleted"] is True
    assert by_id[leads[2].id]["LastActivityDate"] == "2027-01-05"

    with pytest.raises(RuntimeError), org.transaction():
        org.update(leads[3], {"Handoff_Score__c": 7})
        org.create(
            task_type, {"Subject": "Call", "Status": "Completed", "WhoId": leads[3].id, "ActivityDate": "2027-02-01"}
        )
        assert _both(engine, LEADS)[0] == _both(engine, LEADS)[1]
        raise RuntimeError("roll back")
    encoded, plain = _both(engine, LEADS)
    assert encoded == plain
    assert {r["Id"]: r for r in encoded}[leads[3].id]["Handoff_Score__c"] != 7


def test_rows_of_other_fields_or_versions_are_kept_apart(sandbox: SalesforceSandbox) -> None:
    engine = QueryEngine(sandbox.org)
    _, narrow = engine.run("SELECT Id FROM Lead ORDER BY Id", False, VERSION, encoded=True)
    _, wide = engine.run("SELECT Id, Email FROM Lead ORDER BY Id", False, "v60.0", encoded=True)
    narrow_rows, wide_rows = json.loads(encode_json(narrow)), json.loads(encode_json(wide))
    assert all(set(r) == {"attributes", "Id"} for r in narrow_rows)
    assert all(set(r) == {"attributes", "Id", "Email"} for r in wide_rows)
    assert wide_rows[0]["attributes"]["url"].startswith("/services/data/v60.0/")
