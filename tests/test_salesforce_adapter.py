"""What only Salesforce has: admin-made fields, queues, converted leads, row locks, campaign responses."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from builders import DEFAULT_RULES, NOW
from deployments import deploy

from connector.cli.runtime import salesforce_adapter
from connector.config.ruleset import Ruleset
from connector.crm.errors import CrmUnavailable, QuotaExhausted, RecordRejected, StopRun
from connector.crm.salesforce.mapping import campaign_activity, event_activity, task_activity
from connector.model import Stage
from connector.policy.lifecycle import Owners
from connector.policy.planner import RecordPlan
from connector.sandbox.clock import ManualClock
from connector.sandbox.portals import SalesforcePortal
from connector.sandbox.salesforce import SalesforceConfig, SalesforceSandbox
from connector.sandbox.salesforce.errors import error
from connector.sandbox.salesforce.ids import checksum
from connector.sandbox.synthetic import generate


@pytest.fixture
def org(salesforce_deployment):
    return salesforce_deployment


def cycle(portal, runtime):
    portal.clock.advance(300)
    return runtime.sync.sync_once()


COMPOSITE = "POST /services/data/{version}/composite"


def calls_during(portal, action):
    """What ``action`` cost: the sandbox's calls by label (a count per label)."""
    before = portal.app.stats.snapshot()["calls"]
    result = action()
    after = portal.app.stats.snapshot()["calls"]
    spent = {label: sum(after[label].values()) - sum(before.get(label, {}).values()) for label in after}
    return result, {label: n for label, n in spent.items() if n}


def test_an_org_without_handoffs_fields_stops_with_the_list_to_create(tmp_path):
    clock = ManualClock(NOW)
    app = SalesforceSandbox(SalesforceConfig(custom_fields=False), clock=clock)
    with app.server() as server:
        portal = SalesforcePortal(app, server.base_url, clock)
        adapter = salesforce_adapter(portal.settings(f"sqlite:///{tmp_path / 's.sqlite'}", DEFAULT_RULES))
        with pytest.raises(StopRun) as stopped:
            adapter.start()
    message = str(stopped.value)
    assert message.startswith("the Salesforce org lacks fields Handoff needs")
    for field in (
        "Lead.Lifecycle_Stage__c (Picklist: Lead, MQL, SQL)",
        "Lead.Handoff_Score__c (Number(18, 0))",
        "Task.Handoff_Key__c (Text(120), External ID, Unique (case sensitive))",
    ):
        assert field in message


def test_a_queue_owned_lead_gets_its_task_assigned_to_the_fallback_user(org):
    portal, runtime = org
    fallback = portal.app.directory.reps[1]
    policy = runtime.ruleset.policy.model_copy(update={"owners": Owners(fallback=fallback)})
    file = runtime.ruleset.file.model_copy(update={"lifecycle": policy})
    runtime.sync.ruleset = Ruleset(runtime.ruleset.path, file, runtime.ruleset.compiled)
    lead = portal.seed()
    portal.app.touch(lead, {"OwnerId": portal.app.directory.queue_id})
    portal.activity(lead, "form_submission", name="Request a demo")
    report = cycle(portal, runtime)
    assert report.dead_lettered == 0
    [task] = portal.tasks(lead)
    assert task.owner_id == fallback
    assert portal.owner_of(lead) == portal.app.directory.queue_id  # the lead itself stays with the queue


def test_a_lead_converted_after_it_was_read_is_skipped_not_dead_lettered(org):
    portal, runtime = org
    lead = portal.seed()
    portal.rep_sets_stage(lead, "opportunity")
    [outcome] = runtime.adapter.write([RecordPlan(lead, {"score": "80"}, Stage.SQL)])
    assert outcome.skipped and "CANNOT_UPDATE_CONVERTED_LEAD" in outcome.error
    portal.activity(lead, "form_submission", name="Request a demo")
    report = cycle(portal, runtime)
    assert report.dead_lettered == 0 and report.written == 0  # converted leads belong to their account


def test_row_lock_errors_are_retried_until_every_lead_is_written(org):
    portal, runtime = org
    leads = [portal.seed(email=f"p{i}@acme.io") for i in range(12)]
    for lead in leads:
        portal.activity(lead, "form_submission", name="Request a demo")
    portal.app.configure(lock_error_rate=0.5)
    cycle(portal, runtime)
    assert runtime.store.pending.all(), "some writes met a lock and wait for the next cycle"
    portal.app.configure(lock_error_rate=0.0)
    cycle(portal, runtime)
    assert runtime.store.pending.all() == []
    assert runtime.store.dead_letters.all() == []
    assert all(portal.stage(lead) == "sql" for lead in leads)
    assert all(len(portal.tasks(lead)) == 1 for lead in leads)


def test_request_limit_exceeded_stops_the_run(org):
    portal, runtime = org
    portal.seed()
    portal.set_faults(error_rate=1.0, status=403)
    with pytest.raises(QuotaExhausted, match="REQUEST_LIMIT_EXCEEDED"):
        cycle(portal, runtime)


def test_a_retried_task_upsert_never_makes_a_second_task(org):
    portal, runtime = org
    lead = portal.seed()
    portal.activity(lead, "form_submission", name="Request a demo")
    cycle(portal, runtime)
    [entry] = runtime.store.tasks.entries([f"handoff:{lead}:sql:0"]).values()
    again = runtime.adapter.create_tasks([entry.spec])  # as if the first answer had been lost
    assert again[0].ok
    assert portal.task_keys() == {f"handoff:{lead}:sql:0": 1}


def member(kind: str, name: str, status: str = "Responded", responded: bool = True) -> dict:
    return {
        "Id": "00v1",
        "HasResponded": responded,
        "Status": status,
        "CreatedDate": "2026-11-20T10:00:00.000+0000",
        "FirstRespondedDate": "2026-11-20",
        "Campaign": {"Name": name, "Type": kind},
    }


@pytest.mark.parametrize(
    ("campaign", "expected"),
    [
        (member("Web", "Request a Demo"), ("form_submission", "Request a Demo")),
        (member("Web", "Contact Sales"), ("form_submission", "Contact Sales")),
        (member("Web", "Free Trial Sign-up"), ("trial_signup", "Free Trial Sign-up")),
        (member("Webinar", "RevOps 2026", "Attended"), ("webinar_attendance", "RevOps 2026")),
        (member("Webinar", "RevOps 2026", "Registered"), ("webinar_registration", "RevOps 2026")),
        (member("Content", "Download: Lead Scoring Playbook"), ("content_download", "Download: Lead Scoring Playbook")),
        (member("Email", "Newsletter 2026-11", "Clicked"), ("email_click", "Newsletter 2026-11")),
    ],
)
def test_campaign_responses_become_activities_by_campaign_type_and_name(campaign, expected):
    activity = campaign_activity(campaign, NOW)
    assert (activity.type, activity.name) == expected
    assert activity.at == datetime(2026, 11, 20, 10, tzinfo=UTC)


def test_a_campaign_member_who_did_not_respond_is_no_activity():
    assert campaign_activity(member("Email", "Newsletter", "Sent", responded=False), NOW) is None


def test_a_response_recorded_days_after_joining_is_dated_on_the_response_day():
    late = {**member("Webinar", "RevOps 2026", "Attended"), "FirstRespondedDate": "2026-11-24"}
    assert campaign_activity(late, NOW).at == datetime(2026, 11, 24, tzinfo=UTC)


def test_only_completed_calls_count_and_handoffs_own_tasks_never_do():
    call = {"IsClosed": True, "Type": "Call", "Subject": "Discovery", "CreatedDate": "2026-11-20T10:00:00.000+0000"}
    assert task_activity(call, NOW).type == "call"
    assert task_activity({**call, "IsClosed": False}, NOW) is None
    assert task_activity({**call, "Type": "Email"}, NOW) is None
    assert task_activity({**call, "Handoff_Key__c": "handoff:1:sql:0"}, NOW) is None
    assert task_activity(call, NOW).at == datetime(2026, 11, 20, 10, tzinfo=UTC)


def test_an_engagement_without_a_readable_date_is_dated_by_the_injected_clock():
    call = {"IsClosed": True, "Type": "Call", "Subject": "Discovery", "CreatedDate": "yesterday-ish"}
    assert task_activity(call, NOW).at == NOW
    assert event_activity({"Subject": "Demo"}, NOW).at == NOW
    unknown = {**member("Web", "Request a Demo"), "CreatedDate": None, "FirstRespondedDate": None}
    assert campaign_activity(unknown, NOW).at == NOW


def test_contacts_are_scored_too_when_configured(salesforce_sandbox, tmp_path):
    portal = SalesforcePortal(salesforce_sandbox.app, salesforce_sandbox.base_url, salesforce_sandbox.clock)
    runtime = deploy(portal, tmp_path / "state.sqlite", handoff_salesforce_objects=["Lead", "Contact"])
    [contact] = salesforce_sandbox.seed_contacts(
        {
            "FirstName": "Ana",
            "LastName": "Ruiz",
            "Email": "ana@acme.io",
            "Title": "VP Engineering",
            "MailingCountry": "DE",
            "OwnerId": portal.owner(),
            "Lifecycle_Stage__c": "Lead",
        }
    )
    lead = portal.seed(email="ben@acme.io")
    salesforce_sandbox.add_activities(
        {
            "contactId": contact,
            "type": "form_submission",
            "name": "Request a demo",
            "at": portal.clock.datetime().isoformat(),
        }
    )
    report = cycle(portal, runtime)
    assert report.read == 2
    record = salesforce_sandbox.record(contact)
    assert (record["Lifecycle_Stage__c"], record["Handoff_Status__c"]) == ("SQL", "sql")
    assert len(portal.tasks(contact)) == 1
    pages = list(runtime.adapter.scan(None))
    assert [p.resume.split(":")[0] for p in pages] == ["Lead", "Contact"]
    assert [r.record_id for p in runtime.adapter.scan(pages[0].resume) for r in p.records] == [contact]
    assert portal.stage(lead) == "lead"
    for _ in range(2):  # past the overlap
        cycle(portal, runtime)
    portal.clock.advance(60)
    # Lead and Contact pages and the three engagement queries: five queries, one Composite call
    report, spent = calls_during(portal, lambda: runtime.sync.sync_once())
    assert report.read == 0 and spent == {COMPOSITE: 1}
    runtime.close()


def test_engagements_of_a_thousand_people_take_two_queries_an_object_in_two_composite_calls(org, monkeypatch):
    portal, runtime = org
    lead = portal.seed()
    portal.activity(lead, "meeting_booked", name="Intro")
    [pulled] = runtime.adapter.read([lead])
    unknown = (f"{lead[:3]}{i:012d}" for i in range(999))
    others = [replace(pulled, record_id=i + checksum(i)) for i in unknown]
    query = portal.app.routes.query
    queries = []

    def counted(request, include_deleted):
        queries.append(request.first("q"))
        return query(request, include_deleted)

    monkeypatch.setattr(portal.app.routes, "query", counted)
    found, spent = calls_during(portal, lambda: runtime.adapter.activities([pulled, *others], {}))
    # Task, Event, CampaignMember: 1,000 ids fit two 16 KB URIs; six queries, five to a Composite call
    assert [q.split(" FROM ")[1].split()[0] for q in queries] == ["Task"] * 2 + ["Event"] * 2 + ["CampaignMember"] * 2
    assert spent == {COMPOSITE: 2}
    assert [a.type for a in found[lead].activities] == ["meeting_booked"]


def test_a_quiet_cycle_reads_leads_and_engagement_in_one_composite_call(org):
    portal, runtime = org
    lead = portal.seed()
    for _ in range(3):  # its write, read back, then left behind by the overlap
        cycle(portal, runtime)
    portal.clock.advance(60)
    report, spent = calls_during(portal, lambda: runtime.sync.sync_once())
    assert report.read == 0 and spent == {COMPOSITE: 1}
    assert portal.app.allocation.used() == portal.app.stats.snapshot()["total"]
    assert portal.stage(lead) == "lead"


def test_the_outcome_reads_of_a_quiet_cycle_take_one_more_composite_call(org):
    portal, runtime = org
    portal.seed()
    for _ in range(3):
        cycle(portal, runtime)
    portal.clock.advance(15 * 60)  # the outcome interval has passed
    report, spent = calls_during(portal, lambda: runtime.sync.sync_once())
    assert report.read == 0 and spent == {COMPOSITE: 2}


def test_a_closed_task_on_a_quiet_lead_is_found_in_the_composite_call_and_the_lead_read_again(org):
    portal, runtime = org
    lead = portal.seed()
    for _ in range(3):
        cycle(portal, runtime)
    portal.activity(lead, "call")  # a completed Task: the Lead's own SystemModstamp does not move
    portal.clock.advance(60)
    report, spent = calls_during(portal, lambda: runtime.sync.sync_once())
    assert report.read == 1 and report.unchanged == 0
    assert spent[COMPOSITE] == 3  # what changed, the lead by id, its engagement (then its new score is written)
    stored = runtime.store.records.get([lead])[lead]
    assert stored.counters.get("engaged_at")


@pytest.mark.parametrize(
    ("status", "code", "raised"),
    [(400, "MALFORMED_QUERY", RecordRejected), (503, "SERVER_UNAVAILABLE", CrmUnavailable)],
)
def test_a_failed_engagement_subrequest_raises_what_the_same_query_raises_alone(org, monkeypatch, status, code, raised):
    portal, runtime = org
    query = portal.app.routes.query

    def refusing(request, include_deleted):
        if " FROM Event " in (request.first("q") or ""):
            raise error(status, code, "refused by the test")
        return query(request, include_deleted)

    monkeypatch.setattr(portal.app.routes, "query", refusing)
    now = portal.clock.datetime()
    with pytest.raises(raised) as in_composite:
        list(runtime.adapter.changed_since(now, now))
    with pytest.raises(raised) as alone:
        runtime.adapter.api.query_all("SELECT WhoId FROM Event WHERE IsDeleted = false")
    assert f"{status} {code}: refused by the test" in str(in_composite.value)
    assert str(in_composite.value) == str(alone.value)


def test_a_subrequest_that_fails_once_is_retried_with_its_composite_call(org, monkeypatch):
    portal, runtime = org
    query = portal.app.routes.query
    refused = []

    def once_unavailable(request, include_deleted):
        if " FROM Task " in (request.first("q") or "") and not refused:
            refused.append(request.first("q"))
            raise error(503, "SERVER_UNAVAILABLE", "try again")
        return query(request, include_deleted)

    monkeypatch.setattr(portal.app.routes, "query", once_unavailable)
    lead = portal.seed()
    portal.activity(lead, "call")
    report, spent = calls_during(portal, lambda: cycle(portal, runtime))
    # what changed (twice), the lead's engagement, then the first outcome read
    assert len(refused) == 1 and spent[COMPOSITE] == 4
    assert report.read == 1


def test_queries_sent_together_follow_next_records_url_in_the_next_composite_call(org):
    portal, runtime = org
    leads = portal.app.seed_leads(*({"LastName": f"L{i}", "Company": "Acme"} for i in range(2100)))
    soqls = ["SELECT Id FROM Lead", "SELECT Id FROM Event", *(f"SELECT Id FROM Lead WHERE Id = '{leads[0]}'",) * 4]
    rows, spent = calls_during(portal, lambda: runtime.adapter.api.query_many(soqls))
    assert sorted(r["Id"] for r in rows[0]) == sorted(leads) and rows[1] == []
    assert [[r["Id"] for r in found] for found in rows[2:]] == [[leads[0]]] * 4
    assert spent == {COMPOSITE: 2}  # five queries, then the sixth with the first one's second page


JOBS = "POST /services/data/{version}/jobs/query"
QUERY = "GET /services/data/{version}/query/"


def _scanned(runtime, page_size, threshold):
    """The pages of a scan at ``page_size`` with Bulk API 2.0 above ``threshold``, and what they cost."""
    runtime.adapter.page_size, runtime.adapter.bulk_threshold = page_size, threshold
    return list(runtime.adapter.scan(None))


def _synthetic_org(portal, people):
    """A lived-in org: synthetic Leads with every kind of field filled or empty, and one awkward Lead."""
    portal.app.seed_people(generate(people, 5, portal.clock.datetime()).people)
    portal.app.seed_leads(
        {"LastName": 'O"Brien', "Company": 'Acme, "Best"\nInc', "AnnualRevenue": 1250000.5, "NumberOfEmployees": 42}
    )


def test_a_backfill_above_the_threshold_reads_the_rest_through_bulk_api_as_rest_reads_it(org):
    portal, runtime = org
    _synthetic_org(portal, 40)
    rest, rest_spent = calls_during(portal, lambda: _scanned(runtime, 5, 0))
    bulk, bulk_spent = calls_during(portal, lambda: _scanned(runtime, 5, 10))
    leads = sorted((r for p in rest for r in p.records), key=lambda r: r.record_id)
    assert len(leads) > 20 and not [q for p in rest + bulk for q in p.quarantined]
    assert sorted((r for p in bulk for r in p.records), key=lambda r: r.record_id) == leads
    awkward = next(r for r in leads if r.crm_state.company == 'Acme, "Best" Inc')  # whitespace read as one space
    assert awkward.properties["company_size"] == 42
    assert JOBS not in rest_spent
    # the first page and the COUNT() by REST, then one job: create, one poll, one results call
    assert bulk_spent == {
        QUERY: 2,
        JOBS: 1,
        "GET /services/data/{version}/jobs/query/{job}": 1,
        "GET /services/data/{version}/jobs/query/{job}/results": 1,
    }
    # only the last page resumes, past every Lead read
    assert [p.resume for p in bulk[1:-1]] == [None] * (len(bulk) - 2)
    assert bulk[-1].resume == f"Lead:{leads[-1].record_id}"
    assert [r.record_id for p in runtime.adapter.scan(bulk[-1].resume) for r in p.records] == []


def test_a_backfill_at_or_below_the_threshold_stays_on_rest(org):
    portal, runtime = org
    _synthetic_org(portal, 10)
    live = len(portal.app.org.records(portal.app.org.schema.get("Lead"), False))
    pages, spent = calls_during(portal, lambda: _scanned(runtime, 5, live - 5))
    assert sum(len(p.records) + len(p.quarantined) for p in pages) == live
    assert spent == {QUERY: -(-live // 5) + (live % 5 == 0) + 1}  # the pages, an empty last one if full, the COUNT()
    assert all(p.resume and p.resume.startswith("Lead:") for p in pages)


def test_a_whole_backfill_through_bulk_api_scores_every_lead_and_clears_its_resume_point(org):
    portal, runtime = org
    _synthetic_org(portal, 30)
    runtime.adapter.page_size, runtime.adapter.bulk_threshold = 5, 5
    report, spent = calls_during(portal, lambda: runtime.sync.backfill())
    assert report.status == "ok" and spent[JOBS] == 1
    assert report.read == len([r for p in _scanned(runtime, 5, 0) for r in p.records])
    assert runtime.store.cursors.get("backfill.resume") is None


def test_when_the_days_bulk_query_jobs_are_spent_the_backfill_reads_on_by_rest(org):
    portal, runtime = org
    _synthetic_org(portal, 30)
    portal.app.jobs.created.limit = 1
    portal.app.jobs.created.acquire()  # the day's one job, spent elsewhere
    rest = _scanned(runtime, 5, 0)
    pages, spent = calls_during(portal, lambda: _scanned(runtime, 5, 5))
    assert [r for p in pages for r in p.records] == [r for p in rest for r in p.records]
    assert spent[JOBS] == 1 and "GET /services/data/{version}/jobs/query/{job}/results" not in spent
    assert all(p.resume for p in pages)


def test_every_bulk_api_call_takes_one_slot_of_the_budget_a_refused_job_too(org, monkeypatch):
    portal, runtime = org
    _synthetic_org(portal, 30)
    budget, taken = runtime.adapter.api.budget, []
    acquire = budget.acquire
    monkeypatch.setattr(budget, "acquire", lambda **kwargs: (taken.append(kwargs), acquire(**kwargs))[1])

    _, spent = calls_during(portal, lambda: _scanned(runtime, 5, 5))
    assert spent[JOBS] == 1 and len(taken) == sum(spent.values())  # the SDK's create, poll and pages included

    portal.app.jobs.created.limit = 1  # the day's jobs are spent: the creation is refused, REST reads on
    taken.clear()
    _, spent = calls_during(portal, lambda: _scanned(runtime, 5, 5))
    assert spent[JOBS] == 1 and len(taken) == sum(spent.values())
