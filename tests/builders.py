"""Builders that keep tests short: leads, activities, rules and CRM state in one line each."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from connector.config.ruleset import Ruleset, load_rules
from connector.model import QUALIFICATION_LEVELS, Activity, CrmState, Lead, Memory, Stage

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)  # a Wednesday, 11:00 in Berlin
REPO = Path(__file__).resolve().parents[1]
DEFAULT_RULES = REPO / "config" / "scoring.yaml"


def ago(days: float = 0, hours: float = 0, now: datetime = NOW) -> datetime:
    return now - timedelta(days=days, hours=hours)


def activity(
    type: str,
    days_ago: float = 0,
    *,
    count: int = 1,
    name: str | None = None,
    url: str | None = None,
    hours_ago: float = 0,
    now: datetime = NOW,
) -> Activity:
    return Activity(type=type, at=ago(days_ago, hours_ago, now), count=count, name=name, url=url)


def page_view(path: str, days_ago: float = 0, count: int = 1) -> Activity:
    return activity("page_view", days_ago, count=count, url=f"https://vendor.example{path}")


def form(name: str, days_ago: float = 0) -> Activity:
    return activity("form_submission", days_ago, name=name)


def demo_request(days_ago: float = 1) -> Activity:
    return form("Request a demo", days_ago)


GOOD_FIT = {
    "email": "ana@acme.io",
    "first_name": "Ana",
    "last_name": "Ruiz",
    "job_title": "VP Engineering",
    "company": "Acme",
    "company_size": 250,
    "industry": "Software",
    "country": "DE",
}


def lead(*activities: Activity, id: str = "1001", **properties: Any) -> Lead:
    """A lead with a good fit unless properties say otherwise (``job_title=None`` removes one)."""
    props = {**GOOD_FIT, **properties}
    return Lead(id=id, properties={k: v for k, v in props.items() if v is not None}, activities=tuple(activities))


def rules_from(yaml_text: str, name: str = "rules.yaml") -> Ruleset:
    """A ruleset from inline YAML (dedented), as if read from ``name``."""
    return load_rules(Path(name), text=textwrap.dedent(yaml_text))


def default_rules() -> Ruleset:
    return load_rules(DEFAULT_RULES)


def crm(
    stage: Stage | None = Stage.LEAD,
    status: str | None = "NEW",
    owner: str | None = "77",
    name: str | None = "Ana Ruiz",
    company: str | None = "Acme",
) -> CrmState:
    return CrmState(stage=stage, lead_status=status, owner_id=owner, name=name, company=company)


def memory(**fields: Any) -> Memory:
    return Memory(**fields)


def memories(
    moments: st.SearchStrategy[datetime], lead_statuses: st.SearchStrategy[str | None] = st.none()
) -> st.SearchStrategy[Memory]:
    """Hypothesis: what Handoff may remember about a record, episodes starting at ``moments``."""
    return st.builds(
        Memory,
        episode=st.integers(0, 3),
        episode_start=st.none() | moments,
        level=st.sampled_from(QUALIFICATION_LEVELS),
        promoted=st.none() | st.sampled_from(QUALIFICATION_LEVELS),
        last_lead_status=lead_statuses,
        reset_pending=st.booleans(),
        crm_stage=st.none() | st.sampled_from(QUALIFICATION_LEVELS),
        rejected_at=st.none() | moments,
    )
