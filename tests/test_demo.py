"""`handoff demo`, the main job: it must run on a fresh machine and show the product working."""

from __future__ import annotations

import io

from rich.console import Console

from builders import DEFAULT_RULES
from connector.demo import run_demo


def test_the_demo_qualifies_leads_creates_tasks_and_explains_them():
    out = io.StringIO()
    funnel = run_demo(DEFAULT_RULES, contacts=150, seed=7, console=Console(file=out, width=160))
    text = out.getvalue()
    assert funnel.get("stage:salesqualifiedlead", 0) > 0 and funnel.get("stage:marketingqualifiedlead", 0) > 0
    assert "requests a demo: incremental sync" in text
    assert "Requested a demo" in text
    assert "task in HubSpot (HIGH" in text
    assert "stage moves: 1 to lead" in text  # the rep's recycle was honoured
    assert "MQL->SQL conversion" in text
