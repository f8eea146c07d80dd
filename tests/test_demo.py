"""`handoff demo`, the main job: it must run on a fresh machine and show the product working."""

from __future__ import annotations

import io

import pytest
from builders import DEFAULT_RULES
from rich.console import Console

from connector.cli.demo import run_demo


@pytest.mark.parametrize(("crm", "name"), [("hubspot", "HubSpot"), ("salesforce", "Salesforce")])
def test_the_demo_qualifies_leads_creates_tasks_and_explains_them(crm, name):
    out = io.StringIO()
    funnel = run_demo(DEFAULT_RULES, crm=crm, contacts=150, seed=7, console=Console(file=out, width=160))
    text = out.getvalue()
    assert funnel.get("stage:sql", 0) > 0 and funnel.get("stage:mql", 0) > 0
    assert "requests a demo: incremental sync" in text
    assert "Requested a demo" in text
    assert f"task in {name} (HIGH" in text
    assert "stage moves: 1 to lead" in text  # the rep's recycle was honoured
    # a share of today's levels, not called a conversion rate until outcomes exist
    assert "SQL share of qualified" in text and "conversion" not in text
