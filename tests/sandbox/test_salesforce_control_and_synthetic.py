"""The ``/_sandbox/`` control API of the Salesforce sandbox, and the synthetic org it starts with."""

from __future__ import annotations

from collections import Counter

from connector.sandbox.clock import ManualClock
from connector.sandbox.salesforce import SalesforceConfig, SalesforceSandbox
from connector.sandbox.salesforce.ids import IdFactory, checksum, normalize

PREFIXES = {
    "Lead": "00Q",
    "Contact": "003",
    "Account": "001",
    "Opportunity": "006",
    "LeadStatus": "01J",
    "TaskStatus": "01J",
    "Task": "00T",
    "Event": "00U",
    "Campaign": "701",
    "CampaignMember": "00v",
    "User": "005",
    "Group": "00G",
}


def test_ids_are_18_characters_with_the_case_checksum():
    assert checksum("00Q4S000002sSac") == "UAE"  # a recorded id: 00Q4S000002sSacUAE
    assert normalize("00Q4S000002sSac") == normalize("00Q4S000002sSacuae") == "00Q4S000002sSacUAE"
    assert normalize("00Q4S000002sSacXXX") is None and normalize("not-an-id") is None


def _base62(number: int, digits: int) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    return "".join(alphabet[number // 62**place % 62] for place in reversed(range(digits)))


def test_minted_ids_carry_the_record_number_in_base_62_and_the_case_checksum():
    # numbers on either side of where each digit pair, and the cached leading digits, roll over
    for number in (1, 61, 62, 3843, 3844, 62**4 - 1, 62**4, 62**6 + 62**4 - 1, 17 * 62**8 + 123456789):
        for prefix in ("00Q", "a0B", "00v"):
            minted = IdFactory(number - 1).new(prefix)
            id15 = f"{prefix}8d0{_base62(number, 9)}"
            assert minted == id15 + checksum(id15), (number, prefix)


def test_seed_touch_activities_dump_and_settings_over_http(salesforce_sandbox):
    status, seeded = salesforce_sandbox.control(
        "POST",
        "/_sandbox/contacts",
        [
            {"properties": {"Email": "ana@acme.io", "Title": "VP Engineering", "Lifecycle_Stage__c": "Lead"}},
            {"sobject": "Contact", "properties": {"LastName": "Okafor", "Email": "emeka@acme.io"}},
        ],
    )
    assert status == 201
    lead, contact = seeded["ids"]
    assert lead.startswith("00Q") and contact.startswith("003")

    salesforce_sandbox.clock.advance(30)
    status, touched = salesforce_sandbox.control(
        "POST", f"/_sandbox/contacts/{lead}/touch", {"properties": {"Status": "Recycled"}}
    )
    assert status == 200 and touched["Status"] == "Recycled"
    assert touched["SystemModstamp"] == "2026-11-20T12:00:30.000+0000"

    status, made = salesforce_sandbox.control(
        "POST",
        "/_sandbox/activities",
        [
            {"leadId": lead, "type": "form_submission", "name": "Request a demo", "at": "2026-11-20T11:00:00Z"},
            {"leadId": lead, "type": "call", "name": "Intro call", "at": "2026-11-19T11:00:00Z"},
            {"contactId": contact, "type": "meeting_booked", "name": "Discovery", "at": "2026-11-19T11:00:00Z"},
            {"sobject": "Task", "fields": {"Subject": "Raw", "WhoId": contact, "Status": "Completed"}},
        ],
    )
    assert status == 201
    assert [m["sobject"] for m in made["created"]] == ["CampaignMember", "Task", "Event", "Task"]

    status, dump = salesforce_sandbox.control("GET", "/_sandbox/dump")
    assert status == 200 and set(dump) == set(PREFIXES)
    (demo,) = [c for c in dump["Campaign"] if c["Name"] == "Request a Demo"]
    assert demo["Type"] == "Web"
    (member,) = dump["CampaignMember"]
    assert (member["LeadId"], member["HasResponded"], member["FirstRespondedDate"]) == (lead, True, "2026-11-20")
    call = next(t for t in dump["Task"] if t["Subject"] == "Intro call")
    assert (call["Type"], call["TaskSubtype"], call["Status"], call["IsClosed"]) == ("Call", "Call", "Completed", True)

    assert (
        salesforce_sandbox.control("POST", "/_sandbox/settings", {"lock_error_rate": 0.5})[1]["lock_error_rate"] == 0.5
    )
    assert salesforce_sandbox.control("POST", "/_sandbox/settings", {"nope": 1})[0] == 400
    assert (
        salesforce_sandbox.control("POST", "/_sandbox/contacts/00Q000000000000AAA/touch", {"properties": {}})[0] == 404
    )
    refused = salesforce_sandbox.control("POST", "/_sandbox/contacts", [{"properties": {"Lifecycle_Stage__c": "X"}}])
    assert refused[0] == 400 and refused[1]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"


def test_reset_brings_back_a_fresh_org_and_day(salesforce_sandbox, salesforce_client):
    salesforce_sandbox.seed_leads({"LastName": "x", "Company": "y"})
    salesforce_client.query("SELECT Id FROM Lead")
    assert salesforce_sandbox.control("POST", "/_sandbox/reset", {"contacts": 5})[0] == 200
    assert 1 <= len(salesforce_sandbox.dump()["Lead"]) <= 5
    salesforce_client.query("SELECT Id FROM Lead")
    assert salesforce_client.api_usage["api-usage"].used == 1
    assert salesforce_sandbox.stats()["total"] == 1


def test_the_synthetic_org_is_deterministic_and_looks_like_a_funnel(sandbox_clock):
    def build():
        return SalesforceSandbox(SalesforceConfig(contacts=400, seed=5), clock=ManualClock(sandbox_clock())).dump()

    dump = build()
    assert dump == build()
    for kind, rows in dump.items():
        assert rows and all(len(r["Id"]) == 18 and r["Id"].startswith(PREFIXES[kind]) for r in rows), kind
    (queue,) = dump["Group"]
    assert queue["Type"] == "Queue"
    leads = dump["Lead"]
    assert {lead["OwnerId"][:3] for lead in leads} == {"005", "00G"}
    converted = [lead for lead in leads if lead["IsConverted"]]
    contacts = {c["Id"] for c in dump["Contact"]}
    assert converted and all(
        lead["Status"] == "Closed - Converted" and lead["ConvertedContactId"] in contacts for lead in converted
    )
    assert len(contacts) > len(converted)  # some people were entered as Contacts
    assert set(Counter(lead["Status"] for lead in leads)) >= {
        "Open - Not Contacted",
        "Working - Contacted",
        "Recycled",
        "Closed - Not Converted",
    }
    assert {lead["Lifecycle_Stage__c"] for lead in leads} == {"Lead", "MQL", "SQL"}
    assert len({lead["Industry"] for lead in leads}) > 8 and len({lead["Title"] for lead in leads}) > 15
    campaign_types = {c["Type"] for c in dump["Campaign"]}
    assert campaign_types >= {"Webinar", "Content", "Email", "Web"}
    names = {c["Name"] for c in dump["Campaign"]}
    assert {"Request a Demo", "Contact Sales", "Newsletter"} <= names
    assert any(n.startswith("Download: ") for n in names)
    statuses = {m["Status"] for m in dump["CampaignMember"]}
    assert {"Registered", "Attended", "Downloaded", "Clicked", "Responded"} <= statuses
    calls = [t for t in dump["Task"] if t["Type"] == "Call"]
    assert calls and all(t["Status"] == "Completed" and t["WhoId"] for t in calls)
    assert dump["Event"] and all(e["WhoId"] for e in dump["Event"])
    assert not any(t["OwnerId"].startswith("00G") for t in dump["Task"] + dump["Event"])
