"""Deal, opportunity and task rows as outcome events: pure mapping, with the rows CRMs really send."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from connector.crm.deals import DealRead, Remembered, changes, deleted
from connector.crm.hubspot import mapping as hubspot_mapping
from connector.crm.hubspot import outcomes as hubspot
from connector.crm.salesforce import mapping as salesforce_mapping
from connector.crm.salesforce import outcomes as salesforce
from connector.outcomes.events import STAGE_SOURCE
from connector.outcomes.events import OutcomeKind as K

STAGES = hubspot_mapping.StageMap([(v, i) for i, v in enumerate(hubspot_mapping.DEFAULT_STAGE_VALUES)])
STAGE_FIELD = salesforce_mapping.StageField()

PIPELINES = {
    "results": [
        {
            "id": "default",
            "stages": [
                {"id": "appointmentscheduled", "metadata": {"isClosed": "false", "probability": "0.2"}},
                {"id": "closedwon", "metadata": {"isClosed": "true", "probability": "1.0"}},
                {"id": "closedlost", "metadata": {"isClosed": "true", "probability": "0.0"}},
            ],
        },
        {
            "id": "705209413",
            "stages": [
                {"id": "1058723918", "metadata": {"isClosed": "true", "probability": "1.0"}},
                {"id": "1058723919", "metadata": {"isClosed": "true", "probability": "0.0"}},
                "not a stage",
            ],
        },
        None,
    ]
}
T = datetime(2026, 11, 20, 12, tzinfo=UTC)


def deal_row(**props: str) -> dict:
    base = {"pipeline": "default", "dealstage": "appointmentscheduled", "hs_lastmodifieddate": "2026-11-20T12:00:00Z"}
    return {"id": "9", "properties": {**base, **props}}


def test_won_and_lost_come_from_each_pipelines_stage_metadata():
    states = hubspot.stage_states(PIPELINES)
    assert states[("default", "closedwon")] == "won" and states[("default", "closedlost")] == "lost"
    assert states[("705209413", "1058723918")] == "won" and states[("705209413", "1058723919")] == "lost"
    assert states[("default", "appointmentscheduled")] == "open"


def test_a_deal_without_amount_or_dates_reads_with_what_it_has():
    deal = hubspot.deal_read(deal_row(amount="", closedate="not a date"), ("1",), hubspot.stage_states(PIPELINES))
    assert deal is not None
    assert (deal.amount, deal.created_at, deal.closed_at) == (None, T, T)


def test_a_deal_in_a_stage_no_pipeline_knows_is_not_read():
    assert hubspot.deal_read(deal_row(dealstage="gone"), ("1",), hubspot.stage_states(PIPELINES)) is None


def test_only_handoffs_completed_task_is_a_touch():
    body = '<p>Call Ana</p><p data-handoff-ref="handoff:42:sql:1">Handoff ref: handoff:42:sql:1</p>'
    row = {
        "id": "7",
        "properties": {
            "hs_task_body": body,
            "hs_task_status": "COMPLETED",
            "hs_task_completion_date": "2026-11-20T12:00:00Z",
        },
    }
    event = hubspot.touched(row)
    assert event is not None and (event.record_id, event.kind, event.at, event.source_id) == ("42", K.TOUCHED, T, "7")
    assert hubspot.touched({**row, "properties": {**row["properties"], "hs_task_status": "WAITING"}}) is None
    assert hubspot.touched({**row, "properties": {**row["properties"], "hs_task_body": "<p>mine</p>"}}) is None


def test_an_opportunity_row_and_a_conversion_without_one():
    row = {
        "Id": "006A",
        "IsClosed": True,
        "IsWon": False,
        "Amount": None,
        "CloseDate": "2026-11-21",
        "CreatedDate": "2026-11-20T12:00:00.000+0000",
        "SystemModstamp": "2026-11-21T09:00:00.000+0000",
    }
    deal = salesforce.opportunity_read(row, ("00Q1",))
    assert (deal.state, deal.amount, deal.created_at, deal.closed_at.date()) == (
        "lost",
        None,
        T,
        T.date().replace(day=21),
    )
    converted = salesforce.conversion(
        {"Id": "00Q1", "ConvertedDate": "2026-11-20", "SystemModstamp": "2026-11-20T12:00:00.000+0000"}
    )
    assert (converted.kind, converted.at, converted.reason) == (K.ACCEPTED, T, "CONVERTED_WITHOUT_OPPORTUNITY")
    assert not converted.day_only


def test_a_conversion_changed_again_later_is_dated_by_its_day_only():
    converted = salesforce.conversion(
        {"Id": "00Q1", "ConvertedDate": "2026-11-20", "SystemModstamp": "2026-11-22T08:00:00.000+0000"}
    )
    assert (converted.at, converted.day_only) == (datetime(2026, 11, 20, tzinfo=UTC), True)


def test_a_deals_close_is_a_day_its_creation_a_moment():
    events, _ = changes(DealRead("9", ("1",), "won", T, T, T), None)
    assert [(e.kind, e.day_only) for e in events] == [(K.OPPORTUNITY, False), (K.WON, True)]


def contact(**props: str) -> dict:
    base = {"lastmodifieddate": "2026-11-22T12:00:00Z", "lifecyclestage": "opportunity"}
    return {"id": "42", "properties": {**base, **props}}


def test_a_contacts_creation_and_stage_dates_come_with_it():
    read = hubspot_mapping.pulled(
        contact(
            createdate="2026-10-31T23:00:00Z",
            hs_lifecyclestage_opportunity_date="2026-11-20T12:00:00Z",
            hs_lifecyclestage_customer_date="1795003200000",  # epoch milliseconds, as v1 payloads send them
            hs_lifecyclestage_salesqualifiedlead_date="2026-11-19T12:00:00Z",
        ),
        STAGES,
    )
    assert read.created_at == datetime(2026, 10, 31, 23, tzinfo=UTC)
    assert [(e.kind, e.at, e.source_id) for e in read.outcomes] == [
        (K.OPPORTUNITY, T, STAGE_SOURCE),
        (K.WON, datetime(2026, 11, 18, 12, tzinfo=UTC), STAGE_SOURCE),
    ]


def test_a_contact_without_readable_stage_dates_carries_no_outcome():
    read = hubspot_mapping.pulled(contact(hs_lifecyclestage_opportunity_date="soon", createdate=""), STAGES)
    assert read.outcomes == [] and read.created_at is None


def test_a_salesforce_lead_says_when_it_was_created():
    row = {
        "Id": "00Q1",
        "LastName": "Ruiz",
        "Company": "Acme",
        "Status": "Open - Not Contacted",
        "CreatedDate": "2026-10-31T23:00:00.000+0000",
        "SystemModstamp": "2026-11-20T12:00:00.000+0000",
    }
    read = salesforce_mapping.pulled(row, salesforce_mapping.LEAD, STAGE_FIELD)
    assert read is not None and read.created_at == datetime(2026, 10, 31, 23, tzinfo=UTC)


def test_each_change_of_a_deal_is_told_once_and_a_deleted_one_to_every_record_it_had():
    deal = DealRead("9", ("1",), "won", T, T, T, Decimal(5))
    events, kept = changes(deal, None)
    assert [e.kind for e in events] == [K.OPPORTUNITY, K.WON]
    assert changes(deal, kept)[0] == []
    reopened = DealRead("9", ("1", "2"), "open", T, T, T)
    events, kept = changes(reopened, kept)
    assert sorted((e.record_id, e.kind) for e in events) == [("1", K.REOPENED), ("2", K.OPPORTUNITY)]
    gone, memory = deleted("9", T, kept)
    assert sorted(e.record_id for e in gone) == ["1", "2"] and memory == Remembered(("1", "2"), "deleted")
    assert deleted("9", T, memory) == ([], None) and deleted("8", T, None) == ([], None)
