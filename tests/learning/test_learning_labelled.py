"""Reading labelled leads: lenient where a spreadsheet export would trip, one clear line where it cannot."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from connector.learning.episodes import labelled_from_episodes, labelled_to_json
from connector.learning.labelled import labelled_from_json, parse_labelled
from connector.learning.sources import SourceError, load_labelled
from connector.model import Activity, Lead
from connector.outcomes import Episode, OutcomeRule

LEAD = {"id": "1", "properties": {"occupation": "Student"}, "activities": []}


def lines(*objects: object) -> list[str]:
    return [json.dumps(o) if not isinstance(o, str) else o for o in objects]


def test_a_labelled_lead_keeps_its_outcome_and_when():
    found = parse_labelled(lines({**LEAD, "converted": True, "converted_at": "2026-11-02T10:00:00Z"}), "f.jsonl")
    (item,) = found.leads
    assert item.converted is True
    assert item.converted_at is not None and item.converted_at.day == 2
    assert found.problems == [] and found.warnings == []


def test_labels_given_as_text_or_numbers_are_read_as_booleans_with_one_warning():
    found = parse_labelled(
        lines(
            {**LEAD, "converted": True},
            {**LEAD, "id": "2", "converted": "yes"},
            {**LEAD, "id": "3", "converted": "0"},
            {**LEAD, "id": "4", "converted": 1},
        ),
        "f.jsonl",
    )
    assert [item.converted for item in found.leads] == [True, True, False, True]
    assert found.warnings == [
        "f.jsonl: converted given as text or a number on 3 line(s) (first: line 2); read as true/false"
    ]


def test_a_label_that_is_not_true_or_false_skips_the_line_and_names_it():
    found = parse_labelled(lines({**LEAD, "converted": "maybe"}, {**LEAD, "id": "2", "converted": False}), "f.jsonl")
    assert [item.lead.id for item in found.leads] == ["2"]
    assert found.problems == ["f.jsonl:1: converted: 'maybe' is not true or false"]


def test_a_lead_without_converted_has_no_known_outcome():
    found = parse_labelled(lines(LEAD, {**LEAD, "id": "2", "converted": False}), "f.jsonl")
    assert [item.converted for item in found.leads] == [None, False]
    assert [item.lead.id for item in found.labelled] == ["2"]


def test_numbers_that_are_not_finite_are_read_as_missing_with_one_warning():
    text = '{"id": "1", "properties": {"minutes": NaN, "size": Infinity, "ok": 3}, "converted": false}'
    found = parse_labelled([text], "f.jsonl")
    assert dict(found.leads[0].lead.properties) == {"minutes": None, "size": None, "ok": 3}
    assert found.warnings == [
        "f.jsonl: 2 value(s) are not finite numbers (NaN or Infinity), first at line 1 (minutes); read as missing"
    ]


def test_bad_lines_are_reported_with_their_number():
    found = parse_labelled(
        ["{not json", json.dumps({**LEAD, "converted_at": "last tuesday"}), "", json.dumps({"id": ""})], "f.jsonl"
    )
    assert found.leads == []
    assert found.problems == [
        "f.jsonl:1: not valid JSON: Expecting property name enclosed in double quotes at column 2",
        "f.jsonl:2: converted_at: not an ISO-8601 time: 'last tuesday'",
        "f.jsonl:4: id: missing or not a string",
    ]


T0 = datetime(2026, 9, 7, 9, 0, tzinfo=UTC)


def test_episodes_become_labelled_leads_as_they_were_when_they_qualified():
    before, after = Activity("page_view", T0 - timedelta(days=1)), Activity("meeting", T0 + timedelta(days=1))
    leads = {r: Lead(r, {"job_title": "VP"}, (before, after)) for r in ("won", "lost", "open")}
    episodes = [
        Episode(record_id="won", number=1, mql_at=T0, deal_id="d", opportunity_at=T0 + timedelta(days=2)),
        Episode(record_id="lost", number=1, mql_at=T0, rejected_at=T0 + timedelta(days=1)),
        Episode(record_id="open", number=1, mql_at=T0),
        Episode(record_id="gone", number=1, mql_at=T0, rejected_at=T0 + timedelta(days=1)),
    ]
    found = labelled_from_episodes(episodes, leads, T0 + timedelta(days=10), OutcomeRule(), "state")
    assert [(i.lead.id, i.converted, i.converted_at) for i in found.leads] == [
        ("won", True, T0 + timedelta(days=2)),
        ("lost", False, None),
    ]
    assert all(i.lead.activities == (before,) for i in found.leads)
    assert found.warnings == [
        "state: 1 undecided episode(s) left out (still open, started within 90 days)",
        "state: 1 episode(s) left out: the state store has no record for them",
    ]
    row = labelled_to_json(found.leads[0])
    assert (row["converted"], row["converted_at"]) == (True, "2026-09-09T09:00:00.000Z")
    assert labelled_from_json(row).converted_at == T0 + timedelta(days=2)  # the export reads back


def test_a_missing_file_is_one_line(tmp_path):
    with pytest.raises(SourceError) as caught:
        load_labelled(str(tmp_path / "nope.jsonl"))
    assert str(caught.value) == f"{tmp_path / 'nope.jsonl'}: cannot read: No such file or directory"


def test_a_file_is_read_line_by_line(tmp_path):
    path = tmp_path / "leads.jsonl"
    path.write_text("\n".join(lines({**LEAD, "converted": True}, {**LEAD, "id": "2", "converted": False})) + "\n")
    found = load_labelled(str(path))
    assert found.source == str(path)
    assert [item.converted for item in found.leads] == [True, False]
