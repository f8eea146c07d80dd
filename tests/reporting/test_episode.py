"""Episodes and funnel input: typed, UTC, and a JSON round trip that loses nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from episode_builders import at, episode

from connector.model import Stage
from connector.outcomes import Episode, FunnelInput, InvalidEpisode, cohort_month

BERLIN = timezone(timedelta(hours=2))


def full_episode() -> Episode:
    return Episode(
        record_id="1001",
        number=2,
        created_at=at(-30),
        mql_at=at(0) + timedelta(milliseconds=250),  # sub-second times must survive the round trip
        sql_at=at(1),
        score=87,
        fit=40,
        grade="A",
        rules_version="2026.09-b",
        reasons=("Requested a demo 2 days ago", "VP-level title (VP Engineering)"),
        rules_fired=("demo_request", "vp_title"),
        task_key="handoff:1001:2:sql",
        owner_id="77",
        task_due_at=at(1, minutes=60),
        sla_minutes=60,
        first_touch_at=at(1, minutes=14),
        accepted_at=at(2),
        recycled_at=None,
        rejected_at=None,
        sales_reason="Working - Contacted",
        deal_id="d-9",
        opportunity_at=at(5),
        won_at=at(30),
        lost_at=None,
        deal_deleted_at=None,
        amount=Decimal("12000.50"),
        shadow_score=91,
        shadow_level=Stage.SQL,
    )


def test_json_round_trip_keeps_every_field():
    original = full_episode()
    data = original.to_json()
    assert data["amount"] == "12000.50" and data["shadow_level"] == "sql"
    assert data["mql_at"] == "2026-09-07T09:00:00.250000Z"
    assert Episode.from_json(data) == original


def test_json_lists_every_field_with_null_when_unknown():
    data = episode("7").to_json()
    assert data["won_at"] is None and data["rules_fired"] == []
    assert Episode.from_json(data) == episode("7")


def test_times_are_kept_in_utc():
    e = Episode(record_id="1", number=1, mql_at=datetime(2026, 9, 1, 10, 0, tzinfo=BERLIN))
    assert e.mql_at == datetime(2026, 9, 1, 8, 0, tzinfo=UTC) and e.mql_at.tzinfo is UTC
    assert Episode.from_json({"record_id": "1", "number": 1, "sql_at": "2026-09-01T10:00:00+02:00"}).sql_at == (
        datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
    )


def test_the_episode_starts_at_the_first_qualification_and_belongs_to_the_creation_month():
    e = episode(mql=at(3), sql=at(1), created_at=datetime(2026, 8, 31, 23, 0, tzinfo=UTC))
    assert e.started_at == at(1)
    assert cohort_month(e.cohort_time) == "2026-08"
    assert cohort_month(episode(sql=at(1), created_at=None).cohort_time) == "2026-09"


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"record_id": "", "number": 1, "mql_at": at()}, "record_id: missing or empty"),
        ({"record_id": "1", "number": 0, "mql_at": at()}, "number: must be a whole number from 1"),
        ({"record_id": "1", "number": 1}, "mql_at or sql_at is needed"),
        ({"record_id": "1", "number": 1, "mql_at": datetime(2026, 9, 1)}, "mql_at: must be an aware datetime"),
        ({"record_id": "1", "number": 1, "mql_at": at(), "score": 9.5}, "score: must be a whole number"),
        ({"record_id": "1", "number": 1, "mql_at": at(), "sla_minutes": -5}, "sla_minutes: must not be negative"),
        ({"record_id": "1", "number": 1, "mql_at": at(), "amount": Decimal("NaN")}, "amount: must be a finite"),
    ],
)
def test_an_impossible_episode_is_refused_naming_the_field(fields, problem):
    with pytest.raises(InvalidEpisode, match=problem):
        Episode(**fields)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ([], "an episode must be a JSON object"),
        ({"number": 1, "mql_at": "2026-09-01T00:00:00Z"}, "record_id: missing"),
        ({"record_id": "1", "number": 1, "mql_at": "yesterday"}, "mql_at: not an ISO-8601 time: 'yesterday'"),
        ({"record_id": "1", "number": "1", "mql_at": "2026-09-01T00:00:00Z"}, "number: must be a whole number"),
        ({"record_id": "1", "number": 1, "mql_at": "2026-09-01T00:00:00Z", "colour": "red"}, "colour: not a field"),
        ({"record_id": "1", "number": 1, "sql_at": "2026-09-01T00:00:00Z", "amount": "lots"}, "amount: not a number"),
        ({"record_id": "1", "number": 1, "sql_at": "2026-09-01T00:00:00Z", "shadow_level": "hot"}, "not a stage"),
        ({"record_id": "1", "number": 1, "sql_at": "2026-09-01T00:00:00Z", "rules_fired": "demo"}, "list of strings"),
    ],
)
def test_bad_json_is_refused_naming_the_field(data, problem):
    with pytest.raises(InvalidEpisode, match=problem):
        Episode.from_json(data)


def test_amount_may_be_a_json_number():
    data = {"record_id": "1", "number": 1, "sql_at": "2026-09-01T00:00:00Z", "amount": 1500}
    assert Episode.from_json(data).amount == Decimal(1500)


def test_funnel_input_round_trip_and_month_checks():
    data = FunnelInput((full_episode(), episode("2")), {"2026-09": 40, "2026-08": 12})
    assert FunnelInput.from_json(data.to_json()) == data
    assert list(data.to_json()["lead_counts"]) == ["2026-08", "2026-09"]
    with pytest.raises(InvalidEpisode, match="'2026-9' is not a month"):
        FunnelInput(lead_counts={"2026-9": 3})
    with pytest.raises(InvalidEpisode, match=r"lead_counts\[2026-09\]: must be a whole number from 0"):
        FunnelInput(lead_counts={"2026-09": -1})
    with pytest.raises(InvalidEpisode, match=r"episodes\[1\]: number: missing"):
        FunnelInput.from_json({"episodes": [episode().to_json(), {"record_id": "x"}]})
