"""Shared fixtures: an in-process HubSpot sandbox on a free port, driven by a manual clock.

- ``sandbox_clock``: a :class:`ManualClock` at 2026-11-20 12:00 UTC; advance it instead of sleeping.
- ``hubspot_sandbox``: a running :class:`SandboxHandle` (empty portal plus owners, rate limits
  OFF so tests with a frozen clock never trip them; turn them on with ``configure``).
- ``hubspot_client``: a real ``hubspot.HubSpot`` client pointed at it.
- ``salesforce_sandbox``: a running :class:`SalesforceHandle` (HTTPS with a throwaway CA; an org
  with users and the inbound queue but no people; the daily allocation at 15,000).
- ``salesforce_client``: a real ``simple_salesforce.Salesforce`` (API 59.0) pointed at it.
- ``hubspot_deployment``, ``salesforce_deployment``: ``(portal, runtime)``, Handoff started against the
  empty sandbox on its clock, with its state in a temporary SQLite file.
- ``state_url``: a state store URL, once a fresh SQLite file and once a fresh PostgreSQL schema
  (skipped without PostgreSQL, except in CI where it is required); ``postgresql_url``: only the latter.
"""

from __future__ import annotations

import gc
import json
import os
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import hubspot
import pytest
import requests
from deployments import deploy
from simple_salesforce import Salesforce
from sqlalchemy import create_engine, text

from connector.sandbox.clock import ManualClock
from connector.sandbox.hubspot import HubSpotConfig, HubSpotSandbox
from connector.sandbox.portals import HubSpotPortal, SalesforcePortal
from connector.sandbox.salesforce import SalesforceConfig, SalesforceSandbox
from connector.sandbox.server import SandboxServer

SANDBOX_START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PG_URL = os.environ.get("HANDOFF_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


class _Handle:
    """Where a running sandbox of either CRM listens, and the token it accepts."""

    app: Any
    server: SandboxServer

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def token(self) -> str:
        return self.app.config.token


@dataclass
class SandboxHandle(_Handle):
    """A running HubSpot sandbox: its app (Python control API), server, clock and HTTP control helpers."""

    app: HubSpotSandbox
    server: SandboxServer
    clock: ManualClock

    def client(self, **kwargs: Any) -> hubspot.HubSpot:
        """A real SDK client for this sandbox (``kwargs`` go to ``hubspot.HubSpot``, e.g. ``retry``)."""
        return hubspot.HubSpot(access_token=self.token, host=self.base_url, **kwargs)

    def configure(self, **settings: int) -> dict[str, int]:
        """Rate budgets / search lag (``rate_per_10s``, ``search_rate_per_s``, ``daily_limit``, ``search_lag_ms``)."""
        return self.app.configure(**settings)

    def seed_contacts(self, *properties: dict[str, Any]) -> list[str]:
        """Seed contacts (HubSpot property names); returns their ids."""
        return self.app.seed_contacts({"properties": p} for p in properties)

    def control(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """Call the control API over HTTP: (status, decoded JSON body)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10) as reply:
                return reply.status, json.loads(reply.read() or b"null")
        except urllib.error.HTTPError as failure:
            return failure.code, json.loads(failure.read() or b"null")

    def stats(self) -> dict[str, Any]:
        return self.app.stats.snapshot()


@pytest.fixture(autouse=True)
def collector_thresholds_as_python_sets_them() -> Iterator[None]:
    """Each test starts with Python's collection thresholds. A sandbox tunes them for the process
    it runs in (collections rarer, survivors frozen); in a test process that would carry into
    later tests. What it froze stays frozen: unfreezing after every test doubles the suite's time."""
    threshold, callbacks = gc.get_threshold(), list(gc.callbacks)
    yield
    gc.callbacks[:] = callbacks
    gc.set_threshold(*threshold)


@pytest.fixture
def sandbox_clock() -> ManualClock:
    return ManualClock(SANDBOX_START)


@pytest.fixture
def hubspot_sandbox(sandbox_clock: ManualClock) -> Iterator[SandboxHandle]:
    config = HubSpotConfig(contacts=0, seed=1, rate_per_10s=0, search_rate_per_s=0)
    app = HubSpotSandbox(config, clock=sandbox_clock)
    with app.server() as server:
        yield SandboxHandle(app, server, sandbox_clock)


@pytest.fixture
def hubspot_client(hubspot_sandbox: SandboxHandle) -> hubspot.HubSpot:
    return hubspot_sandbox.client()


@dataclass
class SalesforceHandle(_Handle):
    """A running Salesforce sandbox: app, server, clock, CA bundle and helpers; ``base_url`` is
    simple-salesforce's ``instance_url``."""

    app: SalesforceSandbox
    server: SandboxServer
    clock: ManualClock

    @property
    def ca_path(self) -> str:
        """The CA bundle (PEM) that verifies the sandbox's certificate."""
        return str(self.app.ca_path)

    def session(self) -> requests.Session:
        """A requests session that trusts the sandbox's CA.

        ``trust_env`` is off because requests lets ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` from the
        environment override ``session.verify`` when the call itself passes no ``verify``
        (simple-salesforce never does)."""
        session = requests.Session()
        session.verify = self.ca_path
        session.trust_env = False
        return session

    def client(self, version: str = "59.0", token: str | None = None) -> Salesforce:
        """A real simple-salesforce client on this sandbox (``token`` overrides the session id)."""
        return Salesforce(
            session_id=token or self.token, instance_url=self.base_url, version=version, session=self.session()
        )

    def seed_leads(self, *fields: dict[str, Any]) -> list[str]:
        """Seed Leads (Salesforce field names, read-only ones allowed); returns their ids."""
        return self.app.seed_leads(*fields)

    def seed_contacts(self, *fields: dict[str, Any]) -> list[str]:
        """Seed Contacts; returns their ids."""
        return self.app.seed_records({"sobject": "Contact", "properties": f} for f in fields)

    def add_activities(self, *items: dict[str, Any]) -> list[dict[str, str]]:
        """Canonical activities (``leadId``/``contactId``, ``type``, ``at``...) or raw ``{"sobject", "fields"}``."""
        return self.app.add_activities(items)

    def touch(self, record_id: str, **fields: Any) -> dict[str, Any]:
        """Change a record as a rep would; its field values after the change."""
        return dict(self.app.touch(record_id, fields).values)

    def record(self, record_id: str) -> dict[str, Any]:
        """Every field of one record, as stored (deleted records too)."""
        found = self.app.org.get(record_id)
        assert found is not None, f"no record {record_id}"
        return dict(found.values)

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        return self.app.dump()

    def configure(self, **settings: Any) -> dict[str, Any]:
        """``daily_limit``, ``lock_error_rate``, ``assignment_rule``."""
        return self.app.configure(**settings)

    def stats(self) -> dict[str, Any]:
        return self.app.stats.snapshot()

    def control(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """Call the control API over HTTPS: (status, decoded JSON body)."""
        reply = self.session().request(method, self.base_url + path, json=body, timeout=10)
        return reply.status_code, reply.json() if reply.content else None


@pytest.fixture
def salesforce_sandbox(sandbox_clock: ManualClock) -> Iterator[SalesforceHandle]:
    app = SalesforceSandbox(SalesforceConfig(contacts=0, seed=1), clock=sandbox_clock)
    try:
        with app.server() as server:
            yield SalesforceHandle(app, server, sandbox_clock)
    finally:
        app.close()


@pytest.fixture
def salesforce_client(salesforce_sandbox: SalesforceHandle) -> Salesforce:
    return salesforce_sandbox.client()


PORTALS = {"hubspot": (HubSpotPortal, "hubspot_sandbox"), "salesforce": (SalesforcePortal, "salesforce_sandbox")}


@pytest.fixture(params=sorted(PORTALS))
def portal(request: pytest.FixtureRequest) -> HubSpotPortal | SalesforcePortal:
    """Each CRM sandbox behind its portal driver (a test runs once per CRM)."""
    driver, sandbox = PORTALS[request.param]
    handle = request.getfixturevalue(sandbox)
    return driver(handle.app, handle.base_url, handle.clock)


@pytest.fixture
def hubspot_deployment(hubspot_sandbox: SandboxHandle, tmp_path: Any) -> Iterator[tuple[HubSpotPortal, Any]]:
    portal = HubSpotPortal(hubspot_sandbox.app, hubspot_sandbox.base_url, hubspot_sandbox.clock)
    runtime = deploy(portal, tmp_path / "state.sqlite")
    yield portal, runtime
    runtime.close()


@pytest.fixture
def salesforce_deployment(
    salesforce_sandbox: SalesforceHandle, tmp_path: Any
) -> Iterator[tuple[SalesforcePortal, Any]]:
    portal = SalesforcePortal(salesforce_sandbox.app, salesforce_sandbox.base_url, salesforce_sandbox.clock)
    runtime = deploy(portal, tmp_path / "state.sqlite")
    yield portal, runtime
    runtime.close()


@contextmanager
def _postgresql_schema() -> Iterator[str]:
    schema_name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema_name}"'))
    except Exception as exc:
        admin.dispose()
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at {PG_URL} is required in CI: {exc}")
        pytest.skip(f"no PostgreSQL at {PG_URL}")
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema_name}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema_name}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def state_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """A state store URL for each store Handoff supports; a PostgreSQL schema is dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.sqlite'}"
        return
    with _postgresql_schema() as url:
        yield url


@pytest.fixture
def postgresql_url() -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL schema."""
    with _postgresql_schema() as url:
        yield url
