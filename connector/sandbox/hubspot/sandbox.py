"""The HubSpot sandbox: a portal, its API, its limits and its control surface, in one app.

Use it in-process::

    sandbox = HubSpotSandbox(HubSpotConfig(contacts=200, seed=7), clock=clock)
    with sandbox.server() as server:            # 127.0.0.1, a free port
        client = hubspot.HubSpot(access_token=sandbox.config.token, host=server.base_url)

or from the command line with ``handoff sandbox hubspot``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from connector.model import Activity
from connector.sandbox.app import SandboxApp
from connector.sandbox.clock import Clock, system_clock
from connector.sandbox.collector import seeding_for_life
from connector.sandbox.hubspot import errors
from connector.sandbox.hubspot.control import register_control
from connector.sandbox.hubspot.limits import HubSpotLimits, LimitSettings
from connector.sandbox.hubspot.objects import CONTACTS, DEALS, OBJECT_TYPES, TASKS, ObjectType, find_object_type
from connector.sandbox.hubspot.pipelines import DEFAULT_DEAL_PIPELINE, find_pipeline
from connector.sandbox.hubspot.render import apply_activity, render_person
from connector.sandbox.hubspot.routes import HubSpotRoutes
from connector.sandbox.hubspot.store import PORTAL_ID, Portal, Record
from connector.sandbox.hubspot.wire import owner_json, record_json
from connector.sandbox.server import (
    Handler,
    HttpError,
    Request,
    Response,
    Router,
    SandboxServer,
)
from connector.sandbox.synthetic import Person, activity_from_json, generate

DEFAULT_TOKEN = "sandbox-token"

_FAULT_CATEGORIES = {
    400: "VALIDATION_ERROR",
    401: "INVALID_AUTHENTICATION",
    403: "MISSING_SCOPES",
    404: "OBJECT_NOT_FOUND",
    409: "CONFLICT",
    423: "LOCKED",
}


@dataclass(slots=True)
class HubSpotConfig:
    """How a sandbox portal starts. Rate budgets of 0 are off; ``search_lag_ms`` delays search."""

    token: str = DEFAULT_TOKEN
    contacts: int = 0
    seed: int = 1
    rate_per_10s: int = 100
    search_rate_per_s: int = 5
    daily_limit: int = 0
    search_lag_ms: int = 0


class HubSpotSandbox(SandboxApp):
    """A local HubSpot portal that answers the CRM v3/v4 API like HubSpot does."""

    def __init__(self, config: HubSpotConfig | None = None, clock: Clock = system_clock) -> None:
        self.config = config or HubSpotConfig()
        super().__init__(clock=clock, seed=self.config.seed)
        self._auth = f"Bearer {self.config.token}"
        self.limits = HubSpotLimits(
            LimitSettings(self.config.rate_per_10s, self.config.search_rate_per_s, self.config.daily_limit),
            clock,
            PORTAL_ID,
        )
        self.stats.watch_peak("ten_secondly", lambda: self.limits.ten_secondly.peak)
        self.stats.watch_peak("search_secondly", lambda: self.limits.search.peak)
        register_control(self, self.control)
        self.portal = self._new_portal(self.config.contacts, self.config.seed)

    def server(self, host: str = "127.0.0.1", port: int = 0) -> SandboxServer:
        """An HTTP server for this sandbox (not started: call ``start()`` or use ``with``)."""
        return SandboxServer(self, host, port)

    # -- portal lifecycle ---------------------------------------------------------------

    def _new_portal(self, contacts: int, seed: int) -> Portal:
        portal = Portal(self.clock, self.config.search_lag_ms / 1000.0)
        with seeding_for_life():
            population = generate(contacts, seed, datetime.fromtimestamp(self.clock(), tz=UTC))
            portal.add_owners(population.owners)
            router = Router()
            HubSpotRoutes(portal).register(router)
            self.portal, self.api = portal, router
            self.seed_people(population.people)
        return portal

    def reset(self, options: dict[str, Any]) -> None:
        """A fresh portal, as at start (or with ``contacts``/``seed`` from ``options``), and fresh budgets."""
        contacts = int(options.get("contacts", self.config.contacts))
        seed = int(options.get("seed", self.config.seed))
        self._new_portal(contacts, seed)
        self.limits.reset()

    def configure(self, **settings: int) -> dict[str, int]:
        """Change rate budgets or the search lag while running; returns the settings in force."""
        unknown = set(settings) - {"rate_per_10s", "search_rate_per_s", "daily_limit", "search_lag_ms"}
        if unknown:
            raise ValueError(f"unknown settings: {sorted(unknown)}")
        current = self.limits.settings()
        self.limits.configure(
            LimitSettings(
                int(settings.get("rate_per_10s", current.rate_per_10s)),
                int(settings.get("search_rate_per_s", current.search_rate_per_s)),
                int(settings.get("daily_limit", current.daily_limit)),
            )
        )
        if "search_lag_ms" in settings:
            self.portal.search_lag_s = int(settings["search_lag_ms"]) / 1000.0
        return self.settings()

    def settings(self) -> dict[str, int]:
        current = self.limits.settings()
        return {
            "rate_per_10s": current.rate_per_10s,
            "search_rate_per_s": current.search_rate_per_s,
            "daily_limit": current.daily_limit,
            "search_lag_ms": round(self.portal.search_lag_s * 1000),
        }

    # -- the API pipeline -------------------------------------------------------------------

    def serve(self, request: Request, handler: Handler | None) -> Response:
        if request.headers.get("Authorization") != self._auth:
            cid = errors.correlation_id()
            body = {
                "status": "error",
                "message": errors.AUTH_MESSAGE,
                "correlationId": cid,
                "category": "INVALID_AUTHENTICATION",
            }
            return Response(401, body, {errors.CORRELATION_HEADER: cid, "x-hubspot-auth-failure": "401 Unauthorized"})
        try:
            headers = self.limits.admit(request.method == "POST" and request.path.endswith("/search"))
        except HttpError as refused:
            return Response(refused.status, refused.body, refused.headers)
        if handler is None:
            error = errors.error(404, "OBJECT_NOT_FOUND", f"No route for {request.method} {request.path}")
            return Response(error.status, error.body, {**headers, **error.headers})
        response = self.call(handler, request)
        response.headers.update(headers)
        response.headers.setdefault(errors.CORRELATION_HEADER, errors.correlation_id())
        return response

    def label(self, template: str, params: dict[str, str]) -> str:
        """Stats count calls per object type: ``{objectType}`` becomes ``contacts``, ``tasks``..."""
        for name in ("objectType", "fromObjectType", "toObjectType"):
            otype = find_object_type(params[name]) if name in params else None
            if otype is not None:
                template = template.replace("{" + name + "}", otype.name, 1)
        return template

    def fault_response(self, request: Request, status: int) -> Response:
        if status == 429:
            refusal = self.limits.ten_secondly_refusal({})  # the body a real refusal has
            return Response(429, refusal.body, refusal.headers)
        category = _FAULT_CATEGORIES.get(status, "INTERNAL_ERROR" if status < 503 else "SERVICE_UNAVAILABLE")
        error = errors.error(status, category, f"Injected fault: HTTP {status}")
        return Response(status, error.body, error.headers)

    # -- seeding and changing data (the control API calls these) ------------------------------

    def seed_contacts(self, items: Iterable[dict[str, Any]]) -> list[str]:
        """Create contacts that already existed (no search lag); items are ``{"id"?, "properties"}``
        with HubSpot property names. Read-only properties may be set."""
        ids = []
        for item in items:
            record, _ = self.portal.create(
                CONTACTS,
                dict(item.get("properties") or {}),
                system=True,
                record_id=str(item["id"]) if item.get("id") is not None else None,
                indexed_at_once=True,
            )
            ids.append(record.id)
        return ids

    def seed_people(self, people: Iterable[Person]) -> list[str]:
        """Create synthetic people as contacts, with their meetings, calls, emails, notes and deals."""
        ids = []
        portal = self.portal
        with portal.lock:
            for person in people:
                # rendered values are already in their stored form: created as trusted
                rendered = render_person(person)
                contact, _ = portal.create(
                    CONTACTS, rendered.properties, system=True, indexed_at_once=True, trusted=True
                )
                for otype, props in rendered.engagements:
                    props = {"hs_createdate": props["hs_timestamp"], **props}
                    engagement, _ = portal.create(otype, props, system=True, indexed_at_once=True, trusted=True)
                    portal.associate(otype, engagement.id, CONTACTS, contact.id)
                if rendered.deal is not None:
                    deal, _ = portal.create(DEALS, rendered.deal, system=True, indexed_at_once=True, trusted=True)
                    # the contact's stage and its dates already tell the deal's story
                    portal.associate(DEALS, deal.id, CONTACTS, contact.id, automate=False)
                ids.append(contact.id)
        return ids

    def touch(self, contact_id: str, properties: dict[str, Any]) -> Record:
        """Change a contact as a rep in the UI or another app would: any property, any stage
        direction, and the modified time moves (search sees it after the lag)."""
        record = self.portal.get(CONTACTS, contact_id)
        if record is None:
            raise KeyError(f"no contact {contact_id}")
        updated, _ = self.portal.update(CONTACTS, record, properties, system=True)
        return updated

    # -- a rep's sales work (the control API calls these) ----------------------------------

    def _live(self, otype: ObjectType, record_id: str) -> Record:
        record = self.portal.get(otype, record_id)
        if record is None:
            raise KeyError(f"no {otype.singular} {record_id}")
        return record

    def create_deal(
        self,
        contact_id: str,
        *,
        pipeline: str | None = None,
        stage: str | None = None,
        amount: float | str | None = None,
        name: str | None = None,
        close_date: str | None = None,
    ) -> Record:
        """A rep opens a deal for a contact: in ``pipeline`` (default: the default one) at
        ``stage`` (default: its first), owned by the contact's owner, amount optional. The
        lifecycle sync makes the contact an opportunity."""
        portal = self.portal
        with portal.lock:
            contact = self._live(CONTACTS, contact_id)
            chosen = find_pipeline(DEALS.name, pipeline or DEFAULT_DEAL_PIPELINE)
            if chosen is None:
                raise ValueError(f"no deal pipeline {pipeline}")
            company = contact.props.get("company") or contact.props.get("email") or contact_id
            props = {
                "dealname": name or f"{company} - New Business",
                "pipeline": chosen.id,
                "dealstage": stage or chosen.stages[0].id,
                "amount": "" if amount is None else str(amount),
                "closedate": close_date or "",
                "hubspot_owner_id": contact.props.get("hubspot_owner_id", ""),
            }
            deal, _ = portal.create(DEALS, {k: v for k, v in props.items() if v != ""}, system=True)
            portal.associate(DEALS, deal.id, CONTACTS, contact_id)
            return self._live(DEALS, deal.id)

    def move_deal(self, deal_id: str, stage: str, **changes: Any) -> Record:
        """A rep moves a deal: ``stage`` is a stage id of its pipeline, or ``won``, ``lost`` or
        ``reopen`` (its pipeline's first open stage); ``changes`` are other deal properties
        (``amount``, ``closedate``...). Closing sets today's close date unless one is given."""
        portal = self.portal
        with portal.lock:
            deal = self._live(DEALS, deal_id)
            pipeline = find_pipeline(DEALS.name, deal.props["pipeline"])
            assert pipeline is not None
            named = {"won": pipeline.won_stage.id, "lost": pipeline.lost_stage.id, "reopen": pipeline.stages[0].id}
            updated, _ = portal.update(DEALS, deal, {**changes, "dealstage": named.get(stage, stage)}, system=True)
            return updated

    def delete_deal(self, deal_id: str) -> None:
        """A rep deletes a deal (archived: the API lists it with ``archived=true``)."""
        if not self.portal.archive(DEALS, deal_id):
            raise KeyError(f"no deal {deal_id}")

    def deactivate_owner(self, owner_id: str) -> None:
        """An admin deactivates a user: their owner is archived (listed only with ``archived=true``)."""
        with self.portal.lock:
            if owner_id not in self.portal.owners:
                raise LookupError(f"no owner {owner_id}")
            self.portal.deactivated.add(owner_id)

    def set_task_status(self, task_id: str, status: str = "COMPLETED") -> Record:
        """A rep works a task: ``COMPLETED`` stamps ``hs_task_completion_date``, any other status clears it."""
        task = self._live(TASKS, task_id)
        updated, _ = self.portal.update(TASKS, task, {"hs_task_status": status}, system=True)
        return updated

    def add_activities(self, items: Iterable[dict[str, Any]]) -> list[dict[str, str]]:
        """Record engagement for contacts. Each item is either a canonical activity
        (``{"contactId", "type", "at", "count"?, "name"?, "url"?}``: counters on the contact,
        plus a meeting/call/note object where HubSpot keeps one) or an engagement object
        (``{"contactId", "objectType", "properties"}``). Returns the objects created."""
        created: list[dict[str, str]] = []
        portal = self.portal
        with portal.lock:
            for item in items:
                contact_id = str(item["contactId"])
                contact = portal.get(CONTACTS, contact_id)
                if contact is None:
                    raise KeyError(f"no contact {contact_id}")
                if "objectType" in item:
                    otype = find_object_type(str(item["objectType"]))
                    if otype is None or otype is CONTACTS:
                        raise ValueError(f"not an engagement type: {item['objectType']!r}")
                    engagements = [(otype, dict(item.get("properties") or {}))]
                else:
                    activity: Activity = activity_from_json({k: v for k, v in item.items() if k != "contactId"})
                    props = dict(contact.props)
                    engagements = apply_activity(props, activity, contact.props.get("hubspot_owner_id"))
                    changed = {k: v for k, v in props.items() if contact.props.get(k) != v and k != "lastmodifieddate"}
                    if changed:
                        portal.update(CONTACTS, contact, changed, system=True)
                for otype, props in engagements:
                    engagement, _ = portal.create(otype, props, system=True)
                    portal.associate(otype, engagement.id, CONTACTS, contact_id)
                    created.append({"objectType": otype.name, "id": engagement.id, "contactId": contact_id})
        return created

    def contact(self, contact_id: str) -> dict[str, Any] | None:
        """One live contact with all its properties, as ``dump`` shows it (without reading every record)."""
        record = self.portal.get(CONTACTS, contact_id)
        return None if record is None else record_json(record, sorted(record.props))

    def associated(self, contact_id: str, object_type: str) -> list[dict[str, Any]]:
        """The live records of ``object_type`` associated with a contact, as ``dump`` shows them."""
        portal = self.portal
        otype = find_object_type(object_type)
        if otype is None:
            raise KeyError(f"no object type {object_type}")
        with portal.lock:
            records = [portal.get(otype, i) for i in sorted(portal.associations(CONTACTS, contact_id, otype))]
            return [record_json(r, sorted(r.props)) for r in records if r is not None]

    def dump(self) -> dict[str, Any]:
        """Every owner and record (archived ones too) with all properties and associations."""
        portal = self.portal
        with portal.lock:
            out: dict[str, Any] = {
                "owners": [
                    owner_json(o, portal.owners_created, o.id in portal.deactivated) for o in portal.owners.values()
                ]
            }
            for otype in OBJECT_TYPES:
                items = []
                for record in portal.all_records(otype):
                    item = record_json(record, sorted(record.props))
                    links = {
                        other.name: sorted(linked)
                        for other in OBJECT_TYPES
                        if (linked := portal.associations(otype, record.id, other))
                    }
                    item["associations"] = links
                    items.append(item)
                out[otype.name] = items
            return out
