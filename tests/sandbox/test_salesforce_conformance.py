"""The sandbox against every recorded real Salesforce exchange in tests/fixtures/recorded/salesforce/ (copied from the recordings).

For each recording: arrange the org so the same kind of request makes sense (the
records it read or wrote, with their recorded ids), replay the request, and require
the same status, a body of the same shape (same keys, same value types, recursively,
with the shape comparison of the HubSpot conformance test) and the recorded
Salesforce headers (``Sforce-Limit-Info``, ``Location``, the ``Content-Type`` spelling).

Where a recording used an object or field our org does not have, the replay
uses the stand-in the recordings' README allows (a Lead for restforce's ``Bar`` or
grouparoo's Account; the standard ``Email`` for a custom email field) and the
recorded body's object-specific keys are mapped the same way. Custom fields
(``*__c``) are org-specific and left out of the comparison on both sides, as are
standard fields the recorded org hid by field-level security but our org
contract requires (``HasOptedOutOfEmail``).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from test_sandbox_conformance import learn, mismatches

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "recorded" / "salesforce"
#: standard fields our org contract requires that the recorded org's profile could not see
CONTRACT_EXTRAS = {"HasOptedOutOfEmail"}
NO_ASSIGN = {"Sforce-Auto-Assign": "FALSE"}


def _recordings() -> list[Path]:
    return sorted(FIXTURES.glob("*.json")) if FIXTURES.is_dir() else []


def test_recorded_salesforce_exchanges_are_present():
    # missing recordings must fail the suite, not silently skip the conformance tests
    assert FIXTURES.is_dir(), f"recorded fixtures not found at {FIXTURES.resolve()}"
    assert len(_recordings()) >= 15


@dataclass
class Replay:
    """The request to send (possibly with a stand-in object) and how to read the recorded body."""

    method: str
    path: str
    query: dict[str, str] | None
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    authorized: bool = True
    #: recorded key -> our key, applied to the recorded body before learning its shape
    renames: dict[str, str] = field(default_factory=dict)


def _org_neutral(value: Any) -> Any:
    """``value`` without custom fields and the contract's extra standard fields."""
    if isinstance(value, dict):
        return {k: _org_neutral(v) for k, v in value.items() if not k.endswith("__c") and k not in CONTRACT_EXTRAS}
    if isinstance(value, list):
        return [_org_neutral(v) for v in value]
    return value


def _renamed(value: Any, renames: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {renames.get(k, k): _renamed(v, renames) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v, renames) for v in value]
    return value


def _as_recorded(exchange: dict[str, Any]) -> Replay:
    request = exchange["request"]
    return Replay(request["method"], request["path"], request.get("query"), request.get("body"))


# -- arranging the org for each recording -----------------------------------------------------


def _seed_recorded_lead(sandbox, record: dict[str, Any]) -> str:
    """A Lead with the recorded id and values (owners and audit users are the sandbox's own)."""
    lead_type = sandbox.app.org.schema.get("Lead")
    skip = {"Id", "OwnerId", "CreatedById", "LastModifiedById", "attributes"}
    fields = {
        k: v
        for k, v in record.items()
        if k not in skip and v is not None and (f := lead_type.field(k)) is not None and not f.calculated
    }
    if fields.get("ConvertedAccountId"):
        sandbox.app.seed_records(
            [{"sobject": "Account", "id": fields["ConvertedAccountId"], "properties": {"Name": record["Company"]}}]
        )
    if fields.get("ConvertedContactId"):
        sandbox.app.seed_records(
            [
                {
                    "sobject": "Contact",
                    "id": fields["ConvertedContactId"],
                    "properties": {"LastName": record.get("LastName") or "Converted"},
                }
            ]
        )
    (lead_id,) = sandbox.app.seed_records([{"id": record["Id"], "properties": fields}])
    return lead_id


def _nothing(exchange, sandbox) -> Replay:
    return _as_recorded(exchange)


def _seed_found_lead(exchange, sandbox) -> Replay:
    for record in exchange["response"]["body"]["records"]:
        _seed_recorded_lead(sandbox, record)
    return _as_recorded(exchange)


def _seed_converted_lead(exchange, sandbox) -> Replay:
    _seed_recorded_lead(sandbox, exchange["response"]["body"])
    return _as_recorded(exchange)


def _seed_then_delete(exchange, sandbox) -> Replay:
    lead_id = exchange["request"]["path"].rsplit("/", 1)[1]
    _seed_recorded_lead(sandbox, {"Id": lead_id, "LastName": "Gone", "Company": "GoneCorp"})
    sandbox.app.org.delete(sandbox.app.org.get(lead_id))
    return _as_recorded(exchange)


def _seed_converted_lead_by_request(exchange, sandbox) -> Replay:
    (item,) = exchange["request"]["body"]["records"]
    _seed_recorded_lead(
        sandbox, {"Id": item["id"], "LastName": item["LastName"], "Company": item["Company"], "IsConverted": True}
    )
    return _as_recorded(exchange)


def _contacts_with_standard_email(exchange, sandbox) -> Replay:
    """The recorded Contacts, with the custom email field played by the standard ``Email``."""
    body = copy.deepcopy(exchange["request"]["body"])
    for item in body["records"]:
        sandbox.app.seed_records([{"sobject": "Contact", "id": item["id"], "properties": {"LastName": "Seeded"}}])
        if "email_field__c" in item:
            item["Email"] = item.pop("email_field__c")
        for name in [k for k in item if k.endswith("__c")]:
            del item[name]
    replay = _as_recorded(exchange)
    replay.body = body
    return replay


def _lead_missing_its_required_name(exchange, sandbox) -> Replay:
    """An Account without ``Name`` becomes a Lead without ``LastName`` (its required name field)."""
    replay = _as_recorded(exchange)
    replay.body = {
        "allOrNone": False,
        "records": [{"attributes": {"type": "Lead"}, "Company": "Recorded Co", "LastName": None}],
    }
    replay.renames = {"Name": "LastName"}
    return replay


def _lead_for_bar(exchange, sandbox) -> Replay:
    replay = _as_recorded(exchange)
    replay.path = replay.path.replace("/sobjects/Bar", "/sobjects/Lead")
    return replay


def _many_leads(sandbox) -> None:
    sandbox.seed_leads(*({"LastName": f"n{i:03d}", "Company": "c"} for i in range(201)))


def _first_page_of_leads(exchange, sandbox) -> Replay:
    _many_leads(sandbox)
    replay = _as_recorded(exchange)
    replay.query = {"q": "SELECT Name FROM Lead"}
    replay.headers = {"Sforce-Query-Options": "batchSize=200"}
    replay.renames = {"Text_Label": "Name"}
    return replay


def _last_page_of_leads(exchange, sandbox) -> Replay:
    _many_leads(sandbox)
    client = sandbox.client(version=exchange["request"]["path"].split("/")[3][1:])
    first = client.query("SELECT Name FROM Lead", headers={"Sforce-Query-Options": "batchSize=200"})
    replay = _as_recorded(exchange)
    replay.path = first["nextRecordsUrl"]
    replay.renames = {"Text_Label": "Name"}
    return replay


def _unauthorized(exchange, sandbox) -> Replay:
    replay = _as_recorded(exchange)
    replay.authorized = False
    return replay


ARRANGE: dict[str, Callable[[dict[str, Any], Any], Replay]] = {
    "composite_sobjects_patch_200_cannot_update_converted_lead.json": _seed_converted_lead_by_request,
    "composite_sobjects_patch_200_mixed_success_and_error.json": _contacts_with_standard_email,
    "composite_sobjects_post_200_create_lead.json": _nothing,
    "composite_sobjects_post_200_required_field_missing.json": _lead_missing_its_required_name,
    "error_400_invalid_field.json": _lead_for_bar,
    "error_400_malformed_query.json": _nothing,
    "error_401_invalid_session_id.json": _unauthorized,
    "lead_describe_200_trimmed.json": _nothing,
    "lead_get_200_converted.json": _seed_converted_lead,
    "lead_get_404_not_found.json": _seed_then_delete,
    "lead_query_200_empty.json": _nothing,
    "lead_query_200_one_record.json": _seed_found_lead,
    "query_200_first_page_with_next_records_url.json": _first_page_of_leads,
    "query_200_last_page.json": _last_page_of_leads,
    "sobject_post_201_create_campaign.json": _nothing,
}

#: recordings whose message text is the sandbox's too (object names aside)
EXACT_MESSAGES = {
    "error_400_malformed_query.json": lambda m: m,
    "error_400_invalid_field.json": lambda m: m.replace("Bar", "Lead"),
    "error_401_invalid_session_id.json": lambda m: m,
    "lead_get_404_not_found.json": lambda m: m,
    "composite_sobjects_patch_200_cannot_update_converted_lead.json": lambda m: m,
}


# -- the replay ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", _recordings(), ids=lambda p: p.name)
def test_sandbox_answers_like_the_recorded_exchange(path: Path, salesforce_sandbox):
    exchange = json.loads(path.read_text())
    assert path.name in ARRANGE, f"no arrangement for new recording {path.name}: add one to ARRANGE"
    replay = ARRANGE[path.name](exchange, salesforce_sandbox)
    recorded = exchange["response"]

    headers = {"Content-Type": "application/json", **NO_ASSIGN, **replay.headers}
    if replay.authorized:
        headers["Authorization"] = f"Bearer {salesforce_sandbox.token}"
    reply = salesforce_sandbox.session().request(
        replay.method,
        salesforce_sandbox.base_url + replay.path,
        params=replay.query,
        data=None if replay.body is None else json.dumps(replay.body),
        headers=headers,
        timeout=10,
    )

    assert reply.status_code == recorded["status"], reply.text[:500]
    if recorded["body"] is None:
        assert reply.content == b""
    else:
        expected = learn(_org_neutral(_renamed(recorded["body"], replay.renames)))
        problems = mismatches(_org_neutral(reply.json()), expected)
        assert problems == [], "\n".join(problems)
    if path.name in EXACT_MESSAGES:
        want = EXACT_MESSAGES[path.name](
            recorded["body"][0].get("message") or recorded["body"][0]["errors"][0]["message"]
        )
        got = reply.json()[0]
        assert (got.get("message") or got["errors"][0]["message"]) == want
    recorded_headers = recorded.get("headers") or {}
    for name in ("Sforce-Limit-Info", "Location", "Content-Type"):
        if name in recorded_headers:
            assert name in reply.headers, f"{name} missing"
    if "Content-Type" in recorded_headers:
        assert reply.headers["Content-Type"] == recorded_headers["Content-Type"]
    assert reply.headers["Sforce-Limit-Info"].startswith("api-usage=")
