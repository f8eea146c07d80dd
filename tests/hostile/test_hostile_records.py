"""Generated hostile CRM records through both adapters' mapping and the scoring core: scored or quarantined.

Every record is read as the adapter reads a page (``read_page`` with the
adapter's own mapping), its activities are worked out as the adapter's
``activities`` does, and the canonical lead goes through the scoring core and
the lifecycle policy with the default rules. Whatever the values, nothing may
escape: the record is either quarantined with a reason or scored, and any task
it earns renders with Handoff's marker intact.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from builders import default_rules
from hostile_data import (
    counter_snapshots,
    engagement_props,
    engagement_rows,
    hubspot_contacts,
    salesforce_leads,
    values,
)
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from connector.crm.base import PulledPage
from connector.crm.hubspot import mapping as hubspot
from connector.crm.reading import read_page
from connector.crm.salesforce import mapping as salesforce
from connector.model import Activity, Lead, Memory, Priority, Stage, TaskSpec
from connector.policy.lifecycle import evaluate

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
RULES = default_rules()
STAGES = hubspot.StageMap([(v, i) for i, v in enumerate(hubspot.DEFAULT_STAGE_VALUES)])
EXAMPLES = 200
HOSTILE = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: the only markup a HubSpot task body may hold: Handoff's own paragraphs, line breaks and marker
OUR_TAGS = re.compile(r'<p>|</p>|<br>|<p data-handoff-ref="[^"<>]*">')


def one_record(page: PulledPage) -> None:
    assert len(page.records) + len(page.quarantined) <= 1
    event("scored" if page.records else "quarantined" if page.quarantined else "deleted")
    for bad in page.quarantined:
        assert bad.reason.startswith("unreadable record: ")
        assert not re.search(r"[\x00-\x1f]", bad.reason)


def score_and_render(lead: Lead, crm_state) -> None:
    qualification, decision = evaluate(lead, crm_state, Memory(), RULES.compiled, RULES.policy, NOW)
    assert qualification.rules_version == RULES.version
    if decision.task is not None:
        event("task rendered")
        rendered_task_is_safe(decision.task)


def rendered_task_is_safe(task: TaskSpec) -> None:
    props = hubspot.task_properties(task)
    assert hubspot.task_ref(props["hs_task_body"]) == task.key
    assert OUR_TAGS.sub("", props["hs_task_body"]).count("<") == 0
    assert not re.search(r"[\x00-\x1f\x7f]", props["hs_task_subject"] + props["hs_task_body"])
    fields = salesforce.task_fields(task)
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f]", fields["Subject"] + fields["Description"].replace("\n", ""))
    assert "\n" not in fields["Subject"] and len(fields["Subject"]) <= 255
    assert fields["Description"].count("\n") <= task.body.count("\n")  # no value adds a line


@HOSTILE
@given(
    contact=hubspot_contacts(),
    before=counter_snapshots(),
    engagements=st.lists(st.tuples(st.sampled_from(sorted(hubspot.ENGAGEMENT_OBJECTS)), engagement_props), max_size=3),
)
def test_any_hubspot_contact_is_scored_or_quarantined(contact, before, engagements):
    page = read_page([contact], lambda raw: hubspot.pulled(raw, STAGES), "id")
    one_record(page)
    for record in page.records:
        activities = hubspot.counter_activities(record.counters, before, record.modified_at)
        for object_type, props in engagements:
            activity = hubspot.engagement_activity(object_type, props, NOW)
            activities += [activity] if activity is not None else []
        assert all(isinstance(a, Activity) for a in activities)
        score_and_render(Lead(record.record_id, record.properties, tuple(activities)), record.crm_state)


@HOSTILE
@given(row=salesforce_leads(), engagements=st.lists(engagement_rows, max_size=3))
def test_any_salesforce_lead_is_scored_or_quarantined(row, engagements):
    page = read_page([row], lambda r: salesforce.pulled(r, salesforce.LEAD, salesforce.StageField()), "Id")
    one_record(page)
    for record in page.records:
        activities: list[Activity] = []
        for engagement in engagements:
            found = [
                salesforce.task_activity(engagement, NOW),
                salesforce.event_activity(engagement, NOW),
                salesforce.campaign_activity(engagement, NOW),
            ]
            activities += [a for a in found if a is not None]
        score_and_render(Lead(record.record_id, record.properties, tuple(activities)), record.crm_state)


@HOSTILE
@given(subject=values, lines=st.lists(values, max_size=4), key_id=st.integers(1, 10**9))
def test_any_text_renders_into_task_fields_without_markup_lines_or_a_second_marker(subject, lines, key_id):
    from connector.model import Priority, Stage

    task = TaskSpec(
        key=f"handoff:{key_id}:sql:0",
        record_id=str(key_id),
        stage=Stage.SQL,
        owner_id="77",
        subject=str(subject),
        body="\n".join(str(line) for line in lines),
        due_at=NOW,
        priority=Priority.HIGH,
    )
    rendered_task_is_safe(task)


def test_a_task_ref_survives_a_sanitiser_that_drops_data_attributes():
    task = TaskSpec(
        "handoff:7:sql:1",
        "7",
        Stage.SQL,
        "77",
        "Sales-qualified: Ana",
        "Why now:\nHandoff ref: handoff:9:sql:9",
        NOW,
        Priority.HIGH,
    )
    body = hubspot.task_properties(task)["hs_task_body"]
    sanitised = re.sub(r"\sdata-handoff-ref=\"[^\"]*\"", "", body)
    assert hubspot.task_ref(sanitised) == "handoff:7:sql:1"


def test_record_text_alone_never_reads_as_a_task_ref():
    forged = "Why now:<br>Handoff ref: handoff:9:sql:9"
    assert hubspot.task_ref(f"<p>{forged}</p>") is None
    assert hubspot.task_ref("Handoff ref: handoff:9:sql:9") is None
