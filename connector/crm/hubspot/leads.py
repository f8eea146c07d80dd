"""HubSpot's Leads object: one lead per SQL episode, found again by Handoff's key before any second create.

A lead must be associated with its contact at creation (type 578, lead to
primary contact); Handoff also associates it with the rep's task (646, lead to
task) and writes its idempotency key to a lead property of its own, created on
first use. Leads already made are found by reading the contact's associated
leads (an association read, not a search: it sees a lead the moment it exists)
and their keys, so a create whose answer was lost is never repeated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from connector.crm.base import TaskOutcome
from connector.crm.errors import Conflict, CrmError, RecordRejected, StopRun
from connector.crm.hubspot.adapter import ASSOCIATION_LIMIT, BATCH_LIMIT, _associations, _batch_result
from connector.crm.hubspot.transport import HubSpotApi
from connector.crm.outcomes import failed_tasks, task_outcome
from connector.crm.paging import chunks

log = structlog.get_logger(__name__)

LEAD_TO_PRIMARY_CONTACT = 578
LEAD_TO_TASK = 646
#: the lead property holding Handoff's idempotency key
KEY_PROPERTY = "handoff_lead_key"
LEAD_GROUP = "leadinformation"


@dataclass(frozen=True)
class LeadSpec:
    """A lead to create for a contact that reached SQL. ``key`` makes its creation idempotent."""

    key: str
    record_id: str
    name: str
    owner_id: str | None
    #: the rep's task to associate the lead with (None when that task could not be created)
    task_id: str | None


class HubSpotLeads:
    """Creates and finds Handoff's leads in one HubSpot portal."""

    def __init__(self, api: HubSpotApi):
        self.api = api
        self._ready = False

    def prepare(self) -> None:
        """Create the key property on leads if the portal lacks it (once per process)."""
        if self._ready:
            return
        body = {
            "name": KEY_PROPERTY,
            "label": "Handoff key",
            "type": "string",
            "fieldType": "text",
            "groupName": LEAD_GROUP,
            "description": "Written by Handoff; do not edit by hand.",
        }
        try:
            self.api.call(self.api.properties.create, "leads", body)
            log.info("created property", object="leads", property=KEY_PROPERTY)
        except Conflict:
            pass  # made by an earlier run or another replica
        except RecordRejected as exc:
            raise StopRun(f"could not create {KEY_PROPERTY!r} on HubSpot leads: {exc}") from None
        self._ready = True

    def existing(self, specs: Sequence[LeadSpec]) -> dict[str, str]:
        """Which of these leads exist already: key -> lead id, read through each contact's leads."""
        wanted = {s.key for s in specs}
        lead_ids: list[str] = []
        for chunk in chunks(list(dict.fromkeys(s.record_id for s in specs)), ASSOCIATION_LIMIT):
            body = self.api.call(
                self.api.associations.get_page, "contacts", "leads", {"inputs": [{"id": i} for i in chunk]}
            )
            lead_ids += [lead for _, lead in _associations(body)]
        found: dict[str, str] = {}
        for chunk in chunks(list(dict.fromkeys(lead_ids)), BATCH_LIMIT):
            body = self.api.call(
                self.api.leads_batch.read, {"inputs": [{"id": i} for i in chunk], "properties": [KEY_PROPERTY]}
            )
            for lead in (body or {}).get("results", []):
                key = (lead.get("properties") or {}).get(KEY_PROPERTY)
                if key in wanted:
                    found[key] = str(lead["id"])
        return found

    def create(self, specs: Sequence[LeadSpec]) -> list[TaskOutcome]:
        """Batch-create leads associated with their contact and task; one outcome per lead, by key."""
        outcomes: list[TaskOutcome] = []
        for chunk in chunks(list(specs), BATCH_LIMIT):
            try:
                body = self.api.call(self.api.leads_batch.create, {"inputs": [_lead_input(s) for s in chunk]})
            except CrmError as exc:
                outcomes.extend(failed_tasks([s.key for s in chunk], exc))
                continue
            result = _batch_result(body, key_of=lambda r: (r.get("properties") or {}).get(KEY_PROPERTY))
            # a lead with no result has an unknown fate: the next run looks for it before creating it again
            outcomes.extend(task_outcome(s.key, result.ids.get(s.key), result.error(s.key)) for s in chunk)
        return outcomes


def _lead_input(spec: LeadSpec) -> dict[str, Any]:
    properties = {"hs_lead_name": spec.name, KEY_PROPERTY: spec.key}
    if spec.owner_id:
        properties["hubspot_owner_id"] = spec.owner_id
    associations = [_association(spec.record_id, LEAD_TO_PRIMARY_CONTACT)]
    if spec.task_id:
        associations.append(_association(spec.task_id, LEAD_TO_TASK))
    return {"properties": properties, "associations": associations, "objectWriteTraceId": spec.key}


def _association(to_id: str, type_id: int) -> dict[str, Any]:
    return {"to": {"id": to_id}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}]}
