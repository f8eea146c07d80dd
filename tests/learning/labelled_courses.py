"""Labelled leads of an online-course business (not B2B SaaS), with a planted outcome.

Who converts is decided by a hidden logistic model the shipped rules know nothing about:
working professionals and leads from the "Lead Add Form" convert far more, students and the
unemployed less, time on the website helps, and so do recent website visits. Deterministic per seed.
"""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime, timedelta
from typing import Any

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
OCCUPATIONS = (("Working Professional", 20), ("Student", 25), ("Unemployed", 45), ("Businessman", 5), (None, 5))
ORIGINS = (("Landing Page Submission", 50), ("API", 35), ("Lead Add Form", 10), ("Lead Import", 5))
#: rules an analyst might write for the course business after a look at the data
COURSE_RULES = """
    version: courses-1
    fit:
      rules:
        - {name: working_professional, field: occupation, equals: Working Professional, points: 30, reason: Working professional}
        - {name: lead_add_form, field: lead_origin, equals: Lead Add Form, points: 20, reason: Came through the lead form}
        - {name: long_visit, field: total_time_on_website_minutes, min: 15, points: 10, reason: "Spent over 15 minutes on the site"}
    thresholds: {mql: 25, mql_min_grade: D, mql_min_engagement: 0, sql: 45, sql_min_grade: D}
"""

_OCCUPATION_WEIGHT = {"Working Professional": 2.4, "Student": -0.8, "Unemployed": -0.4, "Businessman": 0.6}
_ORIGIN_WEIGHT = {"Lead Add Form": 1.8, "Lead Import": -0.5}


def _pick(rng: random.Random, pairs: tuple[tuple[Any, int], ...]) -> Any:
    return rng.choices([p[0] for p in pairs], [p[1] for p in pairs])[0]


def course_lead(i: int, rng: random.Random) -> dict[str, Any]:
    """One labelled lead as its JSON object."""
    occupation = _pick(rng, OCCUPATIONS)
    origin = _pick(rng, ORIGINS)
    minutes = round(rng.expovariate(1 / 8), 1) if rng.random() < 0.8 else 0
    visits = rng.choice((0, 0, 1, 1, 2, 3, 5, 8))
    logit = -1.6 + _OCCUPATION_WEIGHT.get(occupation, 0.0) + _ORIGIN_WEIGHT.get(origin, 0.0)
    logit += 1.2 * math.log1p(minutes) / math.log1p(30) + 0.25 * min(visits, 5)
    converted = rng.random() < 1 / (1 + math.exp(-logit))
    activities = []
    if visits:
        at = NOW - timedelta(days=rng.uniform(0, 25))
        activities.append({"type": "site_visit", "at": at.isoformat(), "count": visits})
    if rng.random() < 0.5:
        at = NOW - timedelta(days=rng.uniform(0, 200))
        activities.append({"type": "email_open", "at": at.isoformat(), "count": rng.randint(1, 4)})
    return {
        "id": f"c{i}",
        "properties": {
            "email": f"person{i}@example.org",
            "occupation": occupation,
            "lead_origin": origin,
            "total_time_on_website_minutes": minutes,
            "city": rng.choice(("Mumbai", "Pune", "Delhi", "Other")),
            "country": "IN",
        },
        "activities": activities,
        "converted": converted,
    }


def course_leads(n: int = 1500, seed: int = 3) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [course_lead(i, rng) for i in range(n)]


def jsonl(objects: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(o) + "\n" for o in objects)
