"""The stored forms of records: smaller than what they keep, and read back to the same answers."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from builders import NOW, lead
from hypothesis import given
from hypothesis import strategies as st

from connector.jsontext import read_json
from connector.model import ACTIVITY_TYPES, MAX_COUNT, Activity, CrmState, Decision, Lead, Memory, Stage
from connector.policy.planner import plan_record
from connector.state.codec import (
    ACTIVITY_CODES,
    SAME_AS_LEAD,
    Digest,
    compared_from_json,
    compared_to_json,
    crm_state_from_json,
    crm_state_to_json,
    lead_from_stored,
    lead_to_json,
    memory_from_json,
    memory_to_json,
)

REASONS = "- Executive title (CFO)\n- Enterprise company (1001 employees)\n- Requested a demo 2 days ago"


def stored(values):
    """``values`` as the records table keeps them: through JSON and back."""
    return compared_from_json(json.loads(json.dumps(compared_to_json(values))))


def test_a_long_written_value_is_kept_as_a_short_digest_equal_to_it():
    kept = stored({"reasons": REASONS, "score": "55"})
    assert len(kept["reasons"]) < 16 and kept["score"] == "55"
    assert kept["reasons"] == REASONS and (kept["reasons"] != REASONS) is False
    assert REASONS == kept["reasons"]  # noqa: SIM300 - the plain text on the left: Python asks the digest
    assert kept["reasons"] != REASONS + "\n- Visited pricing" and kept == {"reasons": REASONS, "score": "55"}


def test_a_digest_stored_again_stays_the_same_digest():
    once = stored({"reasons": REASONS})
    assert stored(once) == once and json.dumps(compared_to_json(once)) == json.dumps(compared_to_json(once))


def test_a_short_value_that_looks_like_a_digest_is_digested_so_it_never_reads_back_as_one():
    kept = stored({"name": "~x"})
    assert isinstance(kept["name"], Digest) and kept["name"] == "~x" and kept["name"] != "~y"


def test_values_stored_whole_by_older_versions_still_compare():
    assert compared_from_json({"reasons": REASONS}) == {"reasons": REASONS}


def test_planner_sends_no_reasons_a_digest_shows_unchanged_and_sends_changed_ones():
    written = stored({"score": "55", "status": "mql", "reasons": REASONS})
    same = Decision("1", None, False, {"score": "55", "status": "mql", "reasons": REASONS}, None, Memory())
    assert plan_record(same, written, step=5, task_done=False).is_empty
    moved = Decision("1", None, False, {"score": "70", "status": "mql", "reasons": REASONS + "+"}, None, Memory())
    assert set(plan_record(moved, written, step=5, task_done=False).properties) == {"score", "reasons"}


def test_a_crm_state_as_the_properties_spell_it_is_stored_as_one_number():
    properties = lead(
        first_name="Ana", last_name="Ruiz", company="Acme", owner_id="7", lead_status="NEW", lifecycle_stage="mql"
    ).properties
    state = CrmState(Stage.MQL, "NEW", "7", "Ana Ruiz", "Acme")
    assert crm_state_to_json(state, properties) == {SAME_AS_LEAD: 31}
    assert crm_state_from_json(crm_state_to_json(state, properties), properties) == state


def test_a_crm_state_differing_from_the_properties_keeps_the_fields_that_differ():
    properties = {"first_name": "Ana", "company": "Acme", "lifecycle_stage": "lead"}
    state = CrmState(Stage.SQL, None, "7", "Ana", "Acme Inc")
    kept = crm_state_to_json(state, properties)
    assert kept == {"stage": "sql", "owner_id": "7", "company": "Acme Inc", SAME_AS_LEAD: 8}
    assert crm_state_from_json(kept, properties) == state


def test_a_crm_state_stored_whole_by_an_older_version_reads_back():
    old = {"stage": "mql", "owner_id": "7", "name": "Ana Ruiz"}
    assert crm_state_from_json(old, {"lifecycle_stage": "sql"}) == CrmState(Stage.MQL, None, "7", "Ana Ruiz")


def test_every_activity_type_has_a_stored_code():
    assert set(ACTIVITY_CODES) >= ACTIVITY_TYPES


def test_rows_with_type_names_from_an_older_version_read_back():
    data = {"p": {"email": "a@b.example"}, "a": [["page_view", 1_700_000_000_000, 2]]}
    assert lead_from_stored("1", data).activities[0].type == "page_view"


def test_a_count_out_of_range_in_an_older_row_reads_back_within_range():
    data = {"p": {}, "a": [[9, 1_700_000_000_000, 10**12], [9, 1_700_000_000_000, -3, "x"]]}
    assert [a.count for a in lead_from_stored("1", data).activities] == [MAX_COUNT, 0]


moments = st.integers(min_value=-2_000_000_000_000, max_value=4_000_000_000_000).map(
    lambda ms: NOW.replace(year=1970, month=1, day=1, hour=0, minute=0) + timedelta(milliseconds=ms)
)
activities = st.builds(
    Activity,
    st.sampled_from(sorted(ACTIVITY_TYPES | {"a_type_of_tomorrow"})),
    moments,
    st.integers(min_value=0, max_value=10**9),
    st.none() | st.text(max_size=20),
    st.none() | st.text(max_size=20),
)
texts = st.none() | st.text(max_size=12)


@given(st.lists(activities, max_size=8), texts, texts, texts, texts)
def test_a_stored_lead_and_its_crm_state_read_back_as_they_were(kept, first, company, owner, status):
    properties = {"first_name": first, "company": company, "owner_id": owner, "lead_status": status}
    original = Lead("1", properties, tuple(kept))
    state = CrmState(None, status, owner, first or None, company)
    data = json.loads(json.dumps(lead_to_json(original)))
    restored = lead_from_stored("1", data)
    assert restored == original
    # scoring reads the epoch seconds, which equality leaves out
    assert [a.ts for a in restored.activities] == [a.ts for a in original.activities]
    crm = json.loads(json.dumps(crm_state_to_json(state, properties)))
    assert crm_state_from_json(crm, properties) == state


@given(st.text(max_size=40), st.text(max_size=40))
def test_stored_values_compare_as_the_values_do(one, other):
    kept = stored({"value": one})["value"]
    assert (kept == other, kept != other, other == kept) == (one == other, one != other, one == other)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=12,
)


@given(json_values, st.booleans())
def test_stored_json_reads_back_as_the_json_module_reads_it(value, spaced):
    text = json.dumps(value) if spaced else json.dumps(value, separators=(",", ":"))
    assert read_json(text) == json.loads(text) and read_json(text.encode()) == json.loads(text)


@pytest.mark.parametrize(
    "text",
    [
        "[18446744073709551616]",  # 2**64: orjson reads a float equal to it
        '{"a":-9223372036854775809,"b":[1,2]}',
        "12345678901234567890123",
        '{"id":"1234567890123456789012"}',  # a digit run in a string reads alike either way
        "[0.1234567890123456789012]",
        '["\\ud800",1e400,NaN]',
    ],
)
def test_json_with_long_numbers_reads_back_as_the_json_module_reads_it_to_the_type(text):
    assert repr(read_json(text)) == repr(json.loads(text))
    assert repr(read_json(text.encode())) == repr(json.loads(text))


memories = st.builds(
    Memory,
    episode=st.integers(0, 5),
    episode_start=st.none() | moments,
    level=st.sampled_from(Stage),
    promoted=st.none() | st.sampled_from(Stage),
    last_lead_status=texts,
    reset_pending=st.booleans(),
    crm_stage=st.none() | st.sampled_from(Stage),
    rejected_at=st.none() | moments,
    recycle_reason=texts,
)


@given(memories)
def test_a_stored_memory_reads_back_as_it_was_every_time(memory):
    data = json.loads(json.dumps(memory_to_json(memory)))
    assert memory_from_json(data) == memory
    assert memory_from_json(dict(data)) == memory  # read again, as the same stored form


def test_a_memory_with_a_value_no_version_writes_still_reads():
    assert memory_from_json({"episode": 2, "odd": [1]}) == Memory(episode=2)
