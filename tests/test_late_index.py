"""HubSpot's search indexes some changes late: the HubSpot adapter's late window reads them an hour behind.

The window is the HubSpot adapter's own business (Salesforce lists changes as
they commit and spends no quota on it); it keeps its position through the
cursors the sync lends it, and its pages never move the sync's own cursor.
"""

from __future__ import annotations

import threading
from datetime import timedelta

from connector.crm.hubspot.adapter import LATE_DELAY, LATE_STEP
from connector.model import format_time, parse_time
from connector.sync.dry_run import DryRun

MINUTES = 60


class Cursors(dict):
    """The two methods of the state store's cursors an adapter may use, over a dict (``get`` is dict's own)."""

    def set(self, name, value):
        self[name] = value


def test_a_change_indexed_after_its_window_passed_is_read_by_the_late_window(hubspot_deployment):
    portal, runtime = hubspot_deployment
    lead = portal.seed()
    portal.clock.advance(5 * MINUTES)
    runtime.sync.sync_once()
    portal.app.configure(search_lag_ms=20 * MINUTES * 1000)
    portal.activity(lead, "form_submission", name="Request a demo")
    changed = portal.clock.datetime()
    stages = []
    # the late window is read in steps: it reaches the change an hour on, at most one step later
    while portal.clock.datetime() < changed + LATE_DELAY + LATE_STEP + timedelta(minutes=5):
        portal.clock.advance(5 * MINUTES)
        runtime.sync.sync_once()
        stages.append((portal.clock.datetime() - changed, portal.stage(lead)))
    # every regular window passed before the change reached the index; the late one, an hour on, finds it
    assert {stage for after, stage in stages if after <= timedelta(minutes=55)} == {"lead"}
    assert stages[-1][1] == "sql"
    assert len(portal.tasks(lead)) == 1


def test_the_late_window_starts_where_the_last_one_ended_and_marks_its_pages(hubspot_deployment):
    portal, runtime = hubspot_deployment
    adapter = runtime.adapter
    cursors = Cursors()
    start = portal.clock.datetime()
    lead = portal.seed()
    assert [p for p in adapter.changed_since(start, start, cursors) if p.late] == []
    assert parse_time(cursors["contacts.trailing"]) == start - timedelta(hours=1)
    later = start + timedelta(hours=2)
    pages = list(adapter.changed_since(later, later, cursors))
    assert [(p.late, [r.record_id for r in p.records]) for p in pages] == [(True, [lead])]
    assert parse_time(cursors["contacts.trailing"]) == later - timedelta(hours=1)


def test_a_late_window_left_unfinished_is_read_again_next_time(hubspot_deployment):
    portal, runtime = hubspot_deployment
    adapter = runtime.adapter
    start = portal.clock.datetime()
    cursors = Cursors({"contacts.trailing": format_time(start - timedelta(minutes=1))})
    portal.seed()
    pages = adapter.changed_since(start + timedelta(hours=2), start + timedelta(hours=2), cursors)
    assert next(pages).late
    pages.close()  # the sync stopped here
    assert cursors["contacts.trailing"] == format_time(start - timedelta(minutes=1))


def test_a_dry_run_reads_no_late_window(hubspot_deployment):
    portal, runtime = hubspot_deployment
    portal.clock.advance(5 * MINUTES)
    runtime.sync.sync_once()
    portal.clock.advance(2 * 60 * MINUTES)
    searches = portal.calls("POST /crm/v3/objects/contacts/search")
    runtime.sync.sync_once(sink=DryRun())
    assert portal.calls("POST /crm/v3/objects/contacts/search") - searches == 1  # the regular window only


def test_a_cycle_stopped_in_the_late_window_never_moves_the_cursor_back(hubspot_deployment):
    portal, runtime = hubspot_deployment
    portal.seed()
    portal.app.configure(search_lag_ms=90 * MINUTES * 1000)
    portal.clock.advance(30 * MINUTES)
    runtime.sync.sync_once()  # reads the contact and writes its score, which the index shows 90 minutes on
    cursor = runtime.store.cursors.get("contacts")
    portal.clock.advance(70 * MINUTES)
    stop = threading.Event()
    stop.set()
    report = runtime.sync.sync_once(stop=stop)  # the first page is the late window's (the old version)
    assert (report.status, report.read) == ("stopped", 1)
    assert parse_time(runtime.store.cursors.get("contacts")) >= parse_time(cursor)


def test_a_salesforce_cycle_spends_no_calls_on_a_late_window(salesforce_deployment):
    portal, runtime = salesforce_deployment
    portal.seed()
    for _ in range(3):  # until the cursor's overlap has passed Handoff's own write
        portal.clock.advance(5 * MINUTES)
        runtime.sync.sync_once()
    portal.clock.advance(2 * 60 * MINUTES)
    composites = portal.calls("POST /services/data/{version}/composite")
    total = portal.app.stats.snapshot()["total"]
    runtime.sync.sync_once()
    # one Composite call for the changed leads and changed engagement (tasks, events, campaign responses),
    # one for outcomes (opportunities, conversions without one, Handoff's closed tasks), and the
    # active users again: the list kept in the state store is older than an hour
    assert portal.calls("POST /services/data/{version}/composite") - composites == 2
    assert portal.app.stats.snapshot()["total"] - total == 3
    assert runtime.store.cursors.get("contacts.trailing") is None
