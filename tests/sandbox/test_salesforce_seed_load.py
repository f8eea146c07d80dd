"""Seeding loads and changes synthetic records without per-field checks: the org must come out
exactly as checked writes (``Org.create``/``Org.update`` with ``system=True``) would have made
it, field by field and type by type."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from connector.sandbox.clock import ManualClock
from connector.sandbox.salesforce import SalesforceConfig, SalesforceSandbox
from connector.sandbox.salesforce.org import Org, Record
from connector.sandbox.salesforce.schema import SObject


def _seeded(contacts: int, seed: int) -> bytes:
    clock = ManualClock(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    # JSON bytes: 5 and 5.0 (or "5") compare equal as Python values, not on the wire
    return orjson.dumps(SalesforceSandbox(SalesforceConfig(contacts=contacts, seed=seed), clock=clock).dump())


@pytest.mark.parametrize("seed", [1, 7])
def test_a_seeded_org_is_what_checked_writes_make_of_the_same_people(
    monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    loaded = _seeded(400, seed)

    def checked(org: Org, sobject: SObject, fields: dict[str, object]) -> Record:
        return org.create(sobject, dict(fields), system=True)

    def checked_change(org: Org, record: Record, fields: dict[str, object]) -> Record:
        return org.update(record, dict(fields), system=True)

    monkeypatch.setattr(Org, "load", checked)
    monkeypatch.setattr(Org, "amend", checked_change)
    assert loaded == _seeded(400, seed)
