"""The Salesforce sandbox: an org, its REST API over TLS, its limits and its control surface.

Use it in-process::

    sandbox = SalesforceSandbox(SalesforceConfig(contacts=200, seed=7), clock=clock)
    with sandbox.server() as server:                  # https://127.0.0.1:<free port>
        session = requests.Session()
        session.verify = str(sandbox.ca_path)
        sf = Salesforce(session_id=sandbox.config.token, instance_url=server.base_url,
                        version="59.0", session=session)

or from the command line with ``handoff sandbox salesforce``. Call ``close()`` (the
fixture does) to delete the CA bundle file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connector.sandbox.app import SandboxApp
from connector.sandbox.clock import Clock, system_clock
from connector.sandbox.collector import seeding_for_life
from connector.sandbox.salesforce import errors
from connector.sandbox.salesforce.automation import Automation
from connector.sandbox.salesforce.bulk import QueryJobs
from connector.sandbox.salesforce.control import register_control
from connector.sandbox.salesforce.ids import IdFactory
from connector.sandbox.salesforce.limits import DailyAllocation, exceeded, limits_body
from connector.sandbox.salesforce.org import Org, Record
from connector.sandbox.salesforce.query import Cursors
from connector.sandbox.salesforce.render import Directory, Renderer, seed_directory, seed_status_values
from connector.sandbox.salesforce.routes import SalesforceRoutes
from connector.sandbox.salesforce.schema import Field, build_schema
from connector.sandbox.server import Handler, HttpError, Request, Response, RouteNotFound, Router, SandboxServer
from connector.sandbox.synthetic import Person, activity_from_json, generate
from connector.sandbox.tls import ThrowawayCA

DEFAULT_TOKEN = "sandbox-token"
DEFAULT_DAILY_LIMIT = 15000  # a Developer Edition org's allocation
_VERSION = re.compile(r"v\d{2,3}\.\d\Z")
#: record numbers start here so ids look like a lived-in org's (``00Q8d00002sSac...``)
_FIRST_RECORD_NUMBER = 2 * 62**5 + 123456
_FAULTS = {
    400: ("JSON_PARSER_ERROR", "Injected fault: the request could not be parsed"),
    401: ("INVALID_SESSION_ID", errors.SESSION_MESSAGE),
    404: ("NOT_FOUND", errors.NOT_FOUND_MESSAGE),
    500: (
        "UNKNOWN_EXCEPTION",
        "An unexpected error occurred. Please include this ErrorId if you contact support: "
        "1234567890-12345 (-1234567890)",
    ),
    503: ("SERVER_UNAVAILABLE", "Server temporarily unavailable: injected fault"),
}
_SETTINGS = ("daily_limit", "lock_error_rate", "assignment_rule")
#: how Salesforce labels its JSON replies
CONTENT_TYPE = "application/json;charset=UTF-8"


@dataclass(slots=True)
class SalesforceConfig:
    """How a sandbox org starts.

    ``contacts`` synthetic people are seeded (mostly Leads, some Contacts);
    ``custom_fields=False`` leaves out the Handoff custom fields; ``assignment_rule``
    is the Lead assignment rule that fires unless ``Sforce-Auto-Assign: FALSE`` is sent.
    """

    token: str = DEFAULT_TOKEN
    contacts: int = 0
    seed: int = 1
    daily_limit: int = DEFAULT_DAILY_LIMIT
    custom_fields: bool = True
    #: fields an admin added to Lead and Contact beyond Handoff's (``schema.custom_field("Occupation__c", "string")``)
    extra_fields: tuple[Field, ...] = ()
    lock_error_rate: float = 0.0
    assignment_rule: bool = True


class SalesforceSandbox(SandboxApp):
    """A local Salesforce org that answers the REST API like Salesforce does."""

    #: the API version records are rendered with outside any request (dump, touch replies)
    DUMP_VERSION = "v59.0"

    def __init__(self, config: SalesforceConfig | None = None, clock: Clock = system_clock) -> None:
        self.config = config or SalesforceConfig()
        super().__init__(clock=clock, seed=self.config.seed)
        self._auth = f"Bearer {self.config.token}"
        self.allocation = DailyAllocation(self.config.daily_limit, clock)
        self.automation = Automation(
            self.config.seed, self.config.assignment_rule, lock_error_rate=self.config.lock_error_rate
        )
        self._ca: ThrowawayCA | None = None
        register_control(self, self.control)
        self._new_org(self.config.contacts, self.config.seed)

    # -- TLS -------------------------------------------------------------------------------

    def server(self, host: str = "127.0.0.1", port: int = 0) -> SandboxServer:
        """An HTTPS server for this sandbox (not started: call ``start()`` or use ``with``)."""
        if self._ca is None:
            self._ca = ThrowawayCA((host,))
        return SandboxServer(self, host, port, tls=self._ca.server_context())

    @property
    def ca_path(self) -> Path:
        """The PEM bundle clients must trust (exists once ``server()`` was called)."""
        if self._ca is None:
            raise RuntimeError("no server yet: call server() first")
        return self._ca.bundle_path

    def close(self) -> None:
        """Delete the CA bundle file."""
        if self._ca is not None:
            self._ca.cleanup()

    # -- org lifecycle -----------------------------------------------------------------------

    def _new_org(self, contacts: int, seed: int) -> None:
        now = datetime.fromtimestamp(self.clock(), tz=UTC)
        id_factory = IdFactory(_FIRST_RECORD_NUMBER)
        org = Org(build_schema(self.config.custom_fields, self.config.extra_fields), self.clock, id_factory)
        with seeding_for_life(), org.loading():
            population = generate(contacts, seed, now)
            self.directory: Directory = seed_directory(org, population.owners, now)
            seed_status_values(org, now)
            self.automation.assignee_id = self.directory.queue_id
            self.org = org
            self.renderer = Renderer(org, self.directory, self.config.custom_fields)
            self.routes = SalesforceRoutes(org, self.automation, Cursors(id_factory, self.clock), self._limits)
            self.jobs = QueryJobs(self.routes.engine, id_factory, self.clock, lambda: org.api_user_id)
            router = Router()
            self.routes.register(router)
            self.jobs.register(router)
            self.api = router
            with self.renderer.generated():
                self.seed_people(population.people)

    def reset(self, options: dict[str, Any]) -> None:
        """A fresh org, as at start (or with ``contacts``/``seed`` from ``options``), and a fresh day."""
        self._new_org(int(options.get("contacts", self.config.contacts)), int(options.get("seed", self.config.seed)))
        self.allocation.reset()
        self.automation.reset()

    def configure(self, **settings: Any) -> dict[str, Any]:
        """Change ``daily_limit``, ``lock_error_rate`` or ``assignment_rule`` while running."""
        unknown = set(settings) - set(_SETTINGS)
        if unknown:
            raise ValueError(f"unknown settings: {sorted(unknown)}")
        if "daily_limit" in settings:
            self.allocation.configure(int(settings["daily_limit"]))
        if "lock_error_rate" in settings:
            rate = float(settings["lock_error_rate"])
            if not 0 <= rate <= 1:
                raise ValueError("lock_error_rate must be between 0 and 1")
            self.automation.lock_error_rate = rate
        if "assignment_rule" in settings:
            self.automation.assignment_rule = bool(settings["assignment_rule"])
        return self.settings()

    def settings(self) -> dict[str, Any]:
        return {
            "daily_limit": self.allocation.limit,
            "lock_error_rate": self.automation.lock_error_rate,
            "assignment_rule": self.automation.assignment_rule,
        }

    def _limits(self) -> dict[str, Any]:
        return limits_body(self.allocation.used(), self.allocation.limit, self.jobs.created.used())

    # -- the API pipeline ---------------------------------------------------------------------

    def serve(self, request: Request, handler: Handler | None) -> Response:
        response = self._answer(request, handler)
        if response.body is not None:
            response.headers.setdefault("Content-Type", CONTENT_TYPE)
        return response

    def _answer(self, request: Request, handler: Handler | None) -> Response:
        if request.headers.get("Authorization") != self._auth:
            return Response(
                401, [{"message": errors.SESSION_MESSAGE, "errorCode": "INVALID_SESSION_ID"}], self.allocation.header()
            )
        version = request.params.get("version")
        if handler is None or (version is not None and not _VERSION.match(version)):
            return self._unrouted(request)
        try:
            headers = self.allocation.spend()
        except HttpError as refused:
            return Response(refused.status, refused.body, refused.headers)
        response = self.call(handler, request)
        response.headers.update(headers)
        return response

    def _unrouted(self, request: Request) -> Response:
        try:
            self.api.match(request.method, request.path)
        except RouteNotFound as missing:
            if missing.allowed:
                allowed = ",".join(missing.allowed)
                return Response(
                    405,
                    [
                        {
                            "errorCode": "METHOD_NOT_ALLOWED",
                            "message": f"HTTP Method '{request.method}' not allowed. Allowed are {allowed}",
                        }
                    ],
                    self.allocation.header(),
                )
        refusal = errors.not_found()
        return Response(refusal.status, refusal.body, self.allocation.header())

    def label(self, template: str, params: dict[str, str]) -> str:
        """Stats count calls per object: ``{sobject}`` becomes ``Lead``, ``Task``..."""
        sobject = self.org.schema.get(params["sobject"]) if "sobject" in params else None
        return template.replace("{sobject}", sobject.name) if sobject is not None else template

    def fault_response(self, request: Request, status: int) -> Response:
        headers = {**self.allocation.header(), "Content-Type": CONTENT_TYPE}
        if status == 403:
            return Response(403, exceeded().body, headers)
        code, message = _FAULTS.get(
            status, ("SERVER_UNAVAILABLE" if status >= 500 else "INVALID_REQUEST", f"Injected fault: HTTP {status}")
        )
        return Response(status, [{"message": message, "errorCode": code}], headers)

    # -- seeding and changing data (the control API calls these) --------------------------------

    def seed_people(self, people: Iterable[Person]) -> list[str]:
        """Render synthetic people (Leads, Contacts, their campaign responses and activities, and
        for those who became opportunities their conversion, Account and Opportunity)."""
        people = list(people)
        with self.org.lock:
            self.renderer.prepare(people)
            return [self.renderer.person(person).id for person in people]

    def seed_records(self, items: Iterable[dict[str, Any]]) -> list[str]:
        """Create records that already existed: ``{"id"?, "sobject"? (default Lead), "properties"}``
        with Salesforce field names; read-only fields may be set. A Lead without ``LastName`` or
        ``Company`` gets ``[not provided]``, as web-to-lead does."""
        ids = []
        with self.org.lock:
            for item in items:
                sobject = self.org.schema.get(str(item.get("sobject") or "Lead"))
                if sobject is None:
                    raise ValueError(f"unknown sobject {item.get('sobject')!r}")
                fields = dict(item.get("properties") or {})
                if sobject.name == "Lead":
                    fields.setdefault("LastName", "[not provided]")
                    fields.setdefault("Company", "[not provided]")
                record_id = str(item["id"]) if item.get("id") is not None else None
                ids.append(self.org.create(sobject, fields, system=True, record_id=record_id).id)
        return ids

    def seed_leads(self, *fields: dict[str, Any]) -> list[str]:
        """Seed Leads from Salesforce field values; returns their ids."""
        return self.seed_records({"properties": f} for f in fields)

    def touch(self, record_id: str, fields: dict[str, Any]) -> Record:
        """Change any record as a rep in the UI or another app would: read-only fields too, converted
        Leads too, no assignment rule; LastModifiedDate and SystemModstamp move."""
        with self.org.lock:
            record = self.org.get(record_id)
            if record is None:
                raise LookupError(f"no record {record_id}")
            return self.org.update(record, fields, system=True)

    def add_activities(self, items: Iterable[dict[str, Any]]) -> list[dict[str, str]]:
        """Record engagement. Each item is a canonical activity for a person
        (``{"leadId" | "contactId", "type", "at", "name"?, "url"?, "count"?}``, rendered as in
        :mod:`render`) or a raw record (``{"sobject": "Task", "fields": {...}}``).
        Returns ``{"sobject", "id"}`` of every record created or changed."""
        out: list[dict[str, str]] = []
        with self.org.lock:
            for item in items:
                if "sobject" in item:
                    sobject = self.org.schema.get(str(item["sobject"]))
                    if sobject is None:
                        raise ValueError(f"unknown sobject {item['sobject']!r}")
                    record: Record | None = self.org.create(sobject, dict(item.get("fields") or {}), system=True)
                else:
                    who_id = item.get("leadId") or item.get("contactId")
                    who = self.org.get(str(who_id)) if who_id else None
                    if who is None or who.sobject.name not in ("Lead", "Contact"):
                        raise LookupError(f"no lead or contact {who_id}")
                    canonical = {k: v for k, v in item.items() if k not in ("leadId", "contactId")}
                    record = self.renderer.activity(who, activity_from_json(canonical))
                if record is not None:
                    out.append({"sobject": record.sobject.name, "id": record.id})
        return out

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        """Every record of every object (deleted ones too) with all its fields, by object name."""
        with self.org.lock:
            return {
                sobject.name: [dict(r.values) for r in self.org.records(sobject, include_deleted=True)]
                for sobject in self.org.schema.objects.values()
            }
