"""Builds the running parts from settings: one adapter, one store, one ruleset, one Sync."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import SecretStr

from connector.alerts import AlertConfig, AlertSender, hubspot_record_url, salesforce_record_url
from connector.config.files import ConfigError
from connector.config.ruleset import Ruleset, load_rules, rules_path
from connector.config.settings import Settings, crm_credential_problems
from connector.crm.base import CrmAdapter
from connector.crm.hubspot.adapter import HubSpotAdapter
from connector.crm.hubspot.leads import HubSpotLeads
from connector.crm.hubspot.transport import HubSpotApi
from connector.crm.ratelimit import ApiBudget, RollingWindow
from connector.crm.retry import RetryPolicy
from connector.ops.metrics import Metrics
from connector.state import Store
from connector.sync.alerting import ALERT_KINDS, AlertOptions, AlertOutbox, RecordLink, no_link
from connector.sync.cycle import Sync, SyncOptions
from connector.sync.leads import LeadSync

if TYPE_CHECKING:
    # the Salesforce stack (simple-salesforce, zeep, lxml, requests: about 30 MB) loads only when
    # Handoff talks to Salesforce
    from connector.crm.salesforce.adapter import SalesforceAdapter
    from connector.crm.salesforce.login import SalesforceLogin

SHADOW_VARIABLE = "HANDOFF_SHADOW_RULES"
#: HubSpot's smallest published budgets, used until its headers say otherwise
HUBSPOT_TEN_SECONDLY = 100
HUBSPOT_SEARCH_PER_SECOND = 5


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    """Everything a command needs, built once."""

    settings: Settings
    ruleset: Ruleset
    adapter: CrmAdapter
    store: Store
    sync: Sync
    alerts: AlertOutbox | None = None

    def close(self) -> None:
        if self.alerts is not None:
            self.alerts.close()
        self.store.close()


#: the overlap when none is set and no trailing pass reads what a search indexed late
DEFAULT_OVERLAP_SECONDS = 300


def sync_options(settings: Settings) -> SyncOptions:
    """The sync's options from settings.

    HubSpot's trailing pass re-reads every change an hour behind, so with it on the overlap only
    re-reads Handoff's own writes: it defaults to none there.
    """
    overlap = settings.handoff_overlap_seconds
    if overlap is None:
        trailing = settings.handoff_crm == "hubspot" and settings.handoff_trailing_pass_seconds > 0
        overlap = 0 if trailing else DEFAULT_OVERLAP_SECONDS
    return SyncOptions(
        overlap=timedelta(seconds=overlap),
        outcome_interval=timedelta(seconds=settings.handoff_outcome_interval_seconds),
        safety_lag=timedelta(seconds=settings.handoff_safety_lag_seconds),
        max_write_attempts=settings.handoff_max_write_attempts,
        score_step=settings.handoff_score_step,
        task_settle=timedelta(seconds=settings.handoff_task_settle_seconds),
    )


#: Salesforce has no short-window limit; this only smooths bursts. The daily quota is the real budget.
SALESFORCE_TEN_SECONDLY = 250


def salesforce_adapter(
    settings: Settings,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    metrics: Metrics | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> SalesforceAdapter:
    """A Salesforce adapter with its own budget, fed by Sforce-Limit-Info, and retry policy."""
    from connector.crm.salesforce.adapter import SalesforceAdapter
    from connector.crm.salesforce.login import connect
    from connector.crm.salesforce.mapping import PERSON_OBJECTS, StageField
    from connector.crm.salesforce.transport import SalesforceApi

    problems = crm_credential_problems(settings)
    if problems:
        raise ConfigError(problems)
    verify: str | bool = str(settings.salesforce_ca_bundle) if settings.salesforce_ca_bundle else True
    client = connect(_salesforce_login(settings, verify))
    budget = ApiBudget(
        settings.handoff_api_budget,
        RollingWindow(SALESFORCE_TEN_SECONDLY, 10.0, clock=monotonic, sleep=sleep),
        general_capacity=SALESFORCE_TEN_SECONDLY,
        on_wait=metrics.waited if metrics else None,
    )
    api = SalesforceApi(
        client,
        budget,
        RetryPolicy(sleep=sleep),
        on_response=metrics.crm_request if metrics else None,
        verify=verify,
        bulk_poll=settings.handoff_salesforce_bulk_poll_seconds,
    )
    values: dict[str, str] = dict(settings.handoff_salesforce_stage_values.items())
    stage = StageField(settings.handoff_salesforce_stage_field, values)
    return SalesforceAdapter(
        api,
        clock,
        stage,
        [PERSON_OBJECTS[name] for name in dict.fromkeys(settings.handoff_salesforce_objects)],
        bulk_threshold=settings.handoff_salesforce_bulk_threshold,
    )


def _salesforce_login(settings: Settings, verify: str | bool) -> SalesforceLogin:
    from connector.crm.salesforce.login import SalesforceLogin

    def secret(value: SecretStr | None) -> str | None:
        return value.get_secret_value() if value is not None else None

    return SalesforceLogin(
        api_version=settings.salesforce_api_version,
        domain=settings.salesforce_domain,
        instance_url=settings.salesforce_instance_url,
        session_id=secret(settings.salesforce_session_id),
        username=settings.salesforce_username,
        password=secret(settings.salesforce_password),
        security_token=secret(settings.salesforce_security_token),
        consumer_key=settings.salesforce_consumer_key,
        private_key_file=settings.salesforce_private_key_file,
        verify=verify,
    )


def hubspot_adapter(
    settings: Settings,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    metrics: Metrics | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> HubSpotAdapter:
    """A HubSpot adapter with its own shared budget and retry policy."""
    problems = crm_credential_problems(settings)
    if problems or settings.hubspot_access_token is None:
        raise ConfigError(problems)
    budget = ApiBudget(
        settings.handoff_api_budget,
        RollingWindow(HUBSPOT_TEN_SECONDLY, 10.0, clock=monotonic, sleep=sleep),
        RollingWindow(HUBSPOT_SEARCH_PER_SECOND, 1.0, clock=monotonic, sleep=sleep),
        search_capacity=HUBSPOT_SEARCH_PER_SECOND,
        general_capacity=HUBSPOT_TEN_SECONDLY,
        on_wait=metrics.waited if metrics else None,
    )
    api = HubSpotApi(
        settings.hubspot_access_token.get_secret_value(),
        settings.hubspot_api_base,
        budget,
        RetryPolicy(sleep=sleep),
        on_response=metrics.crm_request if metrics else None,
    )
    return HubSpotAdapter(api, clock, late_delay=timedelta(seconds=settings.handoff_trailing_pass_seconds))


def record_link(settings: Settings, adapter: CrmAdapter) -> RecordLink:
    """How an alert links to a record: the contact's HubSpot page (with the Hub ID set), the
    Lead's or Contact's Lightning page on the org the adapter is logged in to."""
    if adapter.name == "salesforce":
        return _salesforce_link(adapter)
    portal, ui_domain = settings.handoff_hubspot_portal_id, settings.handoff_hubspot_ui_domain
    if isinstance(adapter, HubSpotAdapter) and portal is not None:
        return lambda record_id: hubspot_record_url(portal, record_id, ui_domain)
    return no_link


def _salesforce_link(adapter: CrmAdapter) -> RecordLink:
    """The Lead's or Contact's Lightning page on the org a Salesforce adapter is logged in to."""
    from connector.crm.salesforce.adapter import SalesforceAdapter
    from connector.crm.salesforce.mapping import CONTACT

    if not isinstance(adapter, SalesforceAdapter):
        return no_link
    instance = adapter.api.client.base_url.split("/services/", 1)[0]

    def salesforce(record_id: str) -> str:
        sobject = CONTACT.name if record_id.startswith(CONTACT.prefix) else "Lead"
        return salesforce_record_url(instance, record_id, sobject)

    return salesforce


def alert_notes(settings: Settings) -> list[str]:
    """What check-config says about alerts: where they go (scheme and host only) and what is missing."""
    if settings.handoff_alert_webhook_url is None:
        return []
    target = AlertConfig(url=settings.handoff_alert_webhook_url).target
    signed = ", signed" if settings.handoff_alert_secret is not None else ""
    events = ", ".join(settings.handoff_alert_on)
    notes = [f"alerts: ok ({settings.handoff_alert_format} to {target}{signed}; on {events})"]
    if settings.handoff_crm == "hubspot" and settings.handoff_hubspot_portal_id is None:
        notes.append("alerts: no links to records: set HANDOFF_HUBSPOT_PORTAL_ID to your Hub ID")
    return notes


def alert_outbox(
    settings: Settings,
    store: Store,
    adapter: CrmAdapter,
    clock: Callable[[], datetime] = utc_now,
    sleep: Callable[[float], None] = time.sleep,
) -> AlertOutbox | None:
    """The alert outbox when ``HANDOFF_ALERT_WEBHOOK_URL`` is set; its sender waits with ``sleep``."""
    if settings.handoff_alert_webhook_url is None:
        return None
    config = AlertConfig(
        url=settings.handoff_alert_webhook_url,
        format=settings.handoff_alert_format,
        secret=settings.handoff_alert_secret,
    )
    sender = AlertSender(config, sleep=sleep, clock=lambda: clock().timestamp())
    options = AlertOptions(
        kinds=frozenset(ALERT_KINDS[name] for name in settings.handoff_alert_on),
        max_attempts=settings.handoff_max_write_attempts,
    )
    return AlertOutbox(store, sender, options, clock, record_link(settings, adapter))


def build(
    settings: Settings,
    clock: Callable[[], datetime] = utc_now,
    adapter: CrmAdapter | None = None,
    metrics: Metrics | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Runtime:
    """Load the rules, open the store and connect the adapter (not yet started); ``sleep`` is how
    the alert sender waits between attempts."""
    ruleset = load_rules(rules_path(settings.handoff_rules))
    shadow = shadow_rules(settings)
    if adapter is None:
        make = salesforce_adapter if settings.handoff_crm == "salesforce" else hubspot_adapter
        adapter = make(settings, metrics=metrics, clock=clock)
    adapter.map_fields(ruleset.file.fields_for(adapter.name))
    if shadow is not None:
        adapter.use_shadow()
    store = Store(settings.handoff_state_url.get_secret_value(), adapter.name, clock)
    adapter.keep_lookups(store.lookups, timedelta(seconds=settings.handoff_lookup_refresh_seconds))
    alerts = alert_outbox(settings, store, adapter, clock, sleep)
    options = sync_options(settings)
    sync = Sync(adapter, store, ruleset, options, clock, alerts, shadow=shadow)
    if settings.handoff_hubspot_leads and isinstance(adapter, HubSpotAdapter):
        leads = HubSpotLeads(adapter.api)
        sync.leads = LeadSync(leads, store, options.max_write_attempts, options.task_settle, clock)
    return Runtime(settings, ruleset, adapter, store, sync, alerts)


def shadow_rules(settings: Settings) -> Ruleset | None:
    """The candidate rules of shadow mode (HANDOFF_SHADOW_RULES), or None; a bad file is a ConfigError naming it."""
    path = settings.handoff_shadow_rules
    if path is None:
        return None
    try:
        return load_rules(path)
    except ConfigError as exc:
        raise ConfigError([replace(p, file=f"{SHADOW_VARIABLE}={p.file}") for p in exc.problems]) from None
