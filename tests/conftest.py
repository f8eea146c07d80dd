"""Shared fixtures: an in-process HubSpot sandbox on a free port, driven by a manual clock.

- ``sandbox_clock``: a :class:`ManualClock` at 2026-11-20 12:00 UTC; advance it instead of sleeping.
- ``hubspot_sandbox``: a running :class:`SandboxHandle` (empty portal plus owners, rate limits
  OFF so tests with a frozen clock never trip them; turn them on with ``configure``).
- ``hubspot_client``: a real ``hubspot.HubSpot`` client pointed at it.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterator

import hubspot
import pytest

from connector.sandbox.clock import ManualClock
from connector.sandbox.hubspot import HubSpotConfig, HubSpotSandbox
from connector.sandbox.server import SandboxServer

SANDBOX_START = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


@dataclass
class SandboxHandle:
    """A running sandbox: its app (Python control API), server, clock and HTTP control helpers."""

    app: HubSpotSandbox
    server: SandboxServer
    clock: ManualClock

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def token(self) -> str:
        return self.app.config.token

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
