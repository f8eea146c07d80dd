"""Episodes in one line each, and a realistic synthetic history for the report's page tests."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from connector.model import Stage
from connector.outcomes import Episode, FunnelInput

#: episodes of the hand-computed examples start on this Monday
T0 = datetime(2026, 9, 7, 9, 0, tzinfo=UTC)
#: the report is worked out as of this moment unless a test says otherwise
AS_OF = datetime(2026, 10, 15, 12, 0, tzinfo=UTC)


def at(days: float = 0, minutes: float = 0) -> datetime:
    return T0 + timedelta(days=days, minutes=minutes)


def episode(
    record_id: str = "r1",
    number: int = 1,
    *,
    mql: datetime | None = None,
    sql: datetime | None = None,
    touch_minutes: float | None = None,
    amount: float | str | None = None,
    rules: tuple[str, ...] = (),
    **fields: Any,
) -> Episode:
    """An episode that became MQL at T0 unless ``mql``/``sql`` say otherwise.

    ``touch_minutes`` puts the first sales touch that long after SQL; the record was created two
    days before it qualified unless ``created_at`` is given.
    """
    if mql is None and sql is None:
        mql = T0
    start = min(t for t in (mql, sql) if t is not None)
    if touch_minutes is not None:
        assert sql is not None, "a touch is timed from SQL"
        fields["first_touch_at"] = sql + timedelta(minutes=touch_minutes)
    fields.setdefault("created_at", start - timedelta(days=2))
    return Episode(
        record_id=record_id,
        number=number,
        mql_at=mql,
        sql_at=sql,
        amount=None if amount is None else Decimal(str(amount)),
        rules_fired=rules,
        **fields,
    )


def ten_episodes() -> FunnelInput:
    """Ten episodes of the September cohort with outcomes known by hand (40 leads that month).

    score  path        touch  outcome                       rules
    95     MQL→SQL     5      won 1000                      demo, vp
    90     SQL direct  10     opportunity, still open       demo
    85     MQL→SQL     20     lost                          demo, pricing
    52     MQL→SQL     30     won 3000                      pricing, vp
    70     MQL→SQL     60     recycled BAD_TIMING           pricing
    60     MQL         -      rejected UNQUALIFIED          webinar
    55     MQL→SQL     120    rejected UNQUALIFIED (due 3h) webinar, vp
    50     MQL         -      recycled NO_BUDGET            webinar
    45     MQL         -      open                          webinar
    40     SQL direct  240    recycled BAD_TIMING           demo
    """
    mql, sql = at(0), at(1)
    sla = {"sla_minutes": 60}
    return FunnelInput(
        episodes=(
            episode("e1", mql=mql, sql=sql, touch_minutes=5, score=95, owner_id="ana", **sla,
                    opportunity_at=at(5), won_at=at(20), amount=1000, rules=("demo", "vp")),
            episode("e2", sql=sql, touch_minutes=10, score=90, owner_id="ana", **sla,
                    opportunity_at=at(6), rules=("demo",)),
            episode("e3", mql=mql, sql=sql, touch_minutes=20, score=85, owner_id="ana", **sla,
                    opportunity_at=at(5), lost_at=at(25), rules=("demo", "pricing")),
            episode("e4", mql=mql, sql=sql, touch_minutes=30, score=52, owner_id="ben", **sla,
                    opportunity_at=at(4), won_at=at(18), amount="3000", rules=("pricing", "vp")),
            episode("e5", mql=mql, sql=sql, touch_minutes=60, score=70, owner_id="ben", **sla,
                    recycled_at=at(3), sales_reason="BAD_TIMING", rules=("pricing",)),
            episode("e6", mql=mql, score=60, rejected_at=at(2), sales_reason="UNQUALIFIED", rules=("webinar",)),
            episode("e7", mql=mql, sql=sql, touch_minutes=120, score=55, owner_id="ben", **sla,
                    task_due_at=sql + timedelta(hours=3), rejected_at=at(2), sales_reason="UNQUALIFIED",
                    rules=("webinar", "vp")),
            episode("e8", mql=mql, score=50, recycled_at=at(4), sales_reason="NO_BUDGET", rules=("webinar",)),
            episode("e9", mql=mql, score=45, rules=("webinar",)),
            episode("e10", sql=sql, touch_minutes=240, score=40, **sla,
                    recycled_at=at(3), sales_reason="BAD_TIMING", rules=("demo",)),
        ),
        lead_counts={"2026-09": 40},
    )  # fmt: skip


#: the charts of the sample history's page, top to bottom
SAMPLE_CHARTS = [
    "funnel",
    "cohorts",
    "speed",
    "score-bands",
    "rule-lift",
    "versions",
    "shadow",
    "recycle-reasons",
    "rejection-reasons",
]

_RULES = {
    # name: (how often it fires, how much it adds to the odds of converting)
    "demo_request": (0.18, 0.30),
    "pricing_page": (0.30, 0.12),
    "vp_or_c_level": (0.35, 0.10),
    "company_size_fit": (0.50, 0.06),
    "webinar_attended": (0.40, 0.01),
    "newsletter_only": (0.30, -0.05),
    "personal_email": (0.12, -0.08),
}
_OWNERS = ("77", "81", "93", "105")
_RECYCLE = ("BAD_TIMING", "BAD_TIMING", "NO_BUDGET", "NOT_NOW", "NO_RESPONSE")
_REJECT = ("UNQUALIFIED", "UNQUALIFIED", "COMPETITOR", "STUDENT", "WRONG_REGION")


def sample_history(seed: int = 11, records: int = 240, months: int = 6, end: datetime = AS_OF) -> FunnelInput:
    """A plausible half year: leads per month, about a third qualifying, outcomes that follow the score.

    Two rules versions (the second from month four, scored in shadow a month before), four reps
    with different speeds, recycles that qualify again, and a few deals without amounts.
    """
    rng = random.Random(seed)
    first = (end - timedelta(days=30 * months)).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    switch = first + timedelta(days=95)
    episodes: list[Episode] = []
    lead_counts: dict[str, int] = {}
    for i in range(records):
        created = first + timedelta(days=rng.uniform(0, 30 * months - 10), hours=rng.uniform(8, 18))
        if created >= end:
            continue
        month = created.strftime("%Y-%m")
        lead_counts[month] = lead_counts.get(month, 0) + 3  # two in three leads never qualify
        start = created + timedelta(days=rng.expovariate(1 / 6))
        number = 1
        while start < end and number <= 2:
            outcome = _sample_episode(rng, f"{1000 + i}", number, created, start, end, switch)
            episodes.append(outcome)
            if outcome.recycled_at is None or rng.random() > 0.35:
                break
            number += 1
            start = outcome.recycled_at + timedelta(days=rng.uniform(10, 40))
    return FunnelInput(tuple(episodes), lead_counts)


def _sample_episode(
    rng: random.Random,
    record_id: str,
    number: int,
    created: datetime,
    start: datetime,
    end: datetime,
    switch: datetime,
) -> Episode:
    fired = tuple(name for name, (often, _) in _RULES.items() if rng.random() < often)
    odds = 0.12 + sum(_RULES[name][1] for name in fired)
    score = max(5, min(100, round(25 + 100 * odds + rng.gauss(0, 8))))
    direct_sql = "demo_request" in fired and rng.random() < 0.7
    mql_at = None if direct_sql else start
    sql_at = start if direct_sql else None
    if not direct_sql and rng.random() < 0.25 + odds:
        sql_at = start + timedelta(hours=rng.uniform(2, 24 * 12))
    owner = rng.choice(_OWNERS)
    speed = {"77": 12, "81": 35, "93": 90, "105": 240}[owner]
    fields: dict[str, Any] = {
        "record_id": record_id,
        "number": number,
        "created_at": created,
        "mql_at": mql_at,
        "sql_at": sql_at,
        "score": score,
        "fit": round(score * 0.45),
        "grade": "A" if score >= 80 else "B" if score >= 60 else "C" if score >= 40 else "D",
        "rules_version": "2026.07-b" if start >= switch else "2026.04-a",
        "rules_fired": fired,
        "reasons": tuple(name.replace("_", " ") for name in fired[:3]),
        "owner_id": owner,
        "task_key": f"handoff:{record_id}:{number}",
        "sla_minutes": 60 if sql_at is not None else 24 * 60,
    }
    if switch - timedelta(days=30) <= start:
        fields["shadow_score"] = max(0, min(100, score + round(60 * sum(_RULES[n][1] for n in fired) - 6)))
        shadow = fields["shadow_score"]
        fields["shadow_level"] = Stage.SQL if shadow >= 75 else Stage.MQL if shadow >= 45 else Stage.LEAD
    last = sql_at or start
    if sql_at is not None and rng.random() < 0.9:
        fields["first_touch_at"] = sql_at + timedelta(minutes=rng.expovariate(1 / speed))
    fields["task_due_at"] = last + timedelta(minutes=fields["sla_minutes"])
    win = min(0.85, max(0.02, odds + (0.15 if sql_at else -0.05)))
    roll = rng.random()
    if roll < win * 0.8:
        opportunity_at = last + timedelta(days=rng.uniform(1, 20))
        fields["opportunity_at"] = opportunity_at
        fields["deal_id"] = f"deal-{record_id}-{number}"
        close = opportunity_at + timedelta(days=rng.uniform(10, 60))
        if close < end:
            if rng.random() < 0.45 + odds / 2:
                fields["won_at"] = close
                if rng.random() > 0.08:
                    fields["amount"] = Decimal(rng.choice((4800, 9600, 12000, 24000, 36000)))
            else:
                fields["lost_at"] = close
    elif roll < win * 0.8 + 0.35:
        fields["recycled_at"] = last + timedelta(days=rng.uniform(1, 30))
        fields["sales_reason"] = rng.choice(_RECYCLE)
    elif roll < win * 0.8 + 0.55:
        fields["rejected_at"] = last + timedelta(days=rng.uniform(0.5, 10))
        fields["sales_reason"] = rng.choice(_REJECT)
    # drop what has not happened yet as of the end of the history
    for name in ("first_touch_at", "opportunity_at", "recycled_at", "rejected_at", "won_at", "lost_at"):
        if fields.get(name) is not None and fields[name] > end:
            fields[name] = None
    if fields.get("opportunity_at") is None:
        for name in ("deal_id", "won_at", "lost_at", "amount"):
            fields.pop(name, None)
    if fields["sql_at"] is not None and fields["sql_at"] > end:
        fields["sql_at"] = None if fields["mql_at"] is not None else fields["sql_at"]
    return Episode(**fields)
