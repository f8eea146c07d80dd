"""An SLA escalation that asks for an alert posts one SLA-breach alert, on each CRM sandbox."""

from __future__ import annotations

from alert_builders import SIGNING_SECRET, receiving
from deployments import deploy
from pydantic import SecretStr
from test_e2e_sla import Deployment, escalating_rules, qualified, reps, until_escalation


def test_an_escalation_posts_one_sla_breach_alert_naming_the_new_owner(portal, tmp_path):
    first, second = reps(portal)
    with receiving(portal.clock) as receiver:
        runtime = deploy(
            portal,
            tmp_path / "state.sqlite",
            handoff_rules=escalating_rules(portal, tmp_path),
            handoff_alert_webhook_url=SecretStr(receiver.url),
            handoff_alert_format="json",
            handoff_alert_secret=SecretStr(SIGNING_SECRET),
        )
        deployment = Deployment(portal, runtime)
        try:
            lead = qualified(deployment)
            until_escalation(deployment, lead, minutes=1)
            assert len(deployment.cycle().escalations) == 1
            deployment.cycle(minutes=30)
        finally:
            runtime.close()
    new_sql, breach = receiver.accepted
    assert new_sql["event"] == "new_sql" and new_sql["owner"]["id"] == first
    assert (breach["event"], breach["key"]) == ("sla_breach", f"alert:{lead}:1:sla_breach")
    assert breach["owner"]["id"] == second
    assert breach["overdue_seconds"] >= 3600
