"""Builds the running parts from settings: one adapter, one store, one ruleset, one Sync."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from connector.config_file import ConfigError, ConfigProblem
from connector.crm.base import CrmAdapter
from connector.crm.hubspot.adapter import HubSpotAdapter
from connector.crm.hubspot.transport import HubSpotApi
from connector.crm.ratelimit import ApiBudget, RollingWindow
from connector.crm.retry import RetryPolicy
from connector.metrics import Metrics
from connector.rulesfile import Ruleset, load_rules
from connector.settings import Settings
from connector.state import Store
from connector.sync import Sync, SyncOptions

#: HubSpot's smallest published budgets, used until its headers say otherwise
HUBSPOT_TEN_SECONDLY = 100
HUBSPOT_SEARCH_PER_SECOND = 5


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Runtime:
    """Everything a command needs, built once."""

    settings: Settings
    ruleset: Ruleset
    adapter: CrmAdapter
    store: Store
    sync: Sync

    def close(self) -> None:
        self.store.close()


def sync_options(settings: Settings) -> SyncOptions:
    return SyncOptions(
        overlap=timedelta(seconds=settings.handoff_overlap_seconds),
        safety_lag=timedelta(seconds=settings.handoff_safety_lag_seconds),
        trailing=timedelta(seconds=settings.handoff_trailing_pass_seconds),
        max_write_attempts=settings.handoff_max_write_attempts,
        score_step=settings.handoff_score_step,
        task_settle=timedelta(seconds=settings.handoff_task_settle_seconds),
    )


def hubspot_adapter(settings: Settings, sleep: Callable[[float], None] = time.sleep,
                    monotonic: Callable[[], float] = time.monotonic, metrics: Metrics | None = None) -> HubSpotAdapter:
    """A HubSpot adapter with its own shared budget and retry policy."""
    if settings.hubspot_access_token is None:
        raise ConfigError([ConfigProblem("environment", None, "HUBSPOT_ACCESS_TOKEN",
                                         "required when HANDOFF_CRM=hubspot (or set HUBSPOT_ACCESS_TOKEN_FILE)")])
    budget = ApiBudget(
        settings.handoff_api_budget,
        RollingWindow(HUBSPOT_TEN_SECONDLY, 10.0, clock=monotonic, sleep=sleep),
        RollingWindow(HUBSPOT_SEARCH_PER_SECOND, 1.0, clock=monotonic, sleep=sleep),
        search_capacity=HUBSPOT_SEARCH_PER_SECOND,
        general_capacity=HUBSPOT_TEN_SECONDLY,
        on_wait=metrics.waited if metrics else None,
    )
    api = HubSpotApi(settings.hubspot_access_token.get_secret_value(), settings.hubspot_api_base, budget,
                     RetryPolicy(sleep=sleep), on_response=metrics.crm_request if metrics else None)
    return HubSpotAdapter(api)


def build(settings: Settings, clock: Callable[[], datetime] = utc_now, adapter: CrmAdapter | None = None,
          metrics: Metrics | None = None) -> Runtime:
    """Load the rules, open the store and connect the adapter (not yet started)."""
    ruleset = load_rules(settings.handoff_rules)
    if adapter is None:
        if settings.handoff_crm != "hubspot":
            raise ConfigError([ConfigProblem("environment", None, "HANDOFF_CRM",
                                             f"{settings.handoff_crm!r} is not supported yet (use hubspot)")])
        adapter = hubspot_adapter(settings, metrics=metrics)
    store = Store(settings.handoff_state_url.get_secret_value(), adapter.name, clock)
    return Runtime(settings, ruleset, adapter, store, Sync(adapter, store, ruleset, sync_options(settings), clock))
