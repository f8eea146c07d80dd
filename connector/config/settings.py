"""Configuration from the environment, declared once.

Every field is an environment variable of the same name. A secret may instead
come from a file named by ``<NAME>_FILE`` (Docker and Kubernetes secrets), and
secrets are ``SecretStr`` so they never print. Whatever can be checked without
the network is checked here, so ``handoff check-config`` catches it before a
run trips over it.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from connector.config.files import ConfigError, ConfigProblem, shown
from connector.config.redact import redact_url

DEFAULT_STATE_URL = "sqlite:///handoff-state.sqlite"
ENVIRONMENT = "environment"

PersonObject = Literal["Lead", "Contact"]
StageKey = Literal["lead", "mql", "sql"]
#: what HANDOFF_ALERT_ON may name: a new SQL, a new MQL, a follow-up past its SLA
ALERT_EVENTS = ("sql", "mql", "sla_breach")
#: the state stores Handoff supports, by SQLAlchemy driver name
STATE_DRIVERS = ("sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg")
_SALESFORCE_API_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_HOSTNAME = re.compile(
    r"(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
_API_VERSION = re.compile(r"\d{2,3}\.\d")
#: a day, a week and a month in seconds: generous upper bounds that keep every time sum inside a date
DAY, WEEK, MONTH = 86_400, 7 * 86_400, 31 * 86_400


def _leads_only() -> list[PersonObject]:
    return ["Lead"]


def _default_stage_values() -> dict[StageKey, str]:
    return {"lead": "Lead", "mql": "MQL", "sql": "SQL"}


class FileSecretsSource(PydanticBaseSettingsSource):
    """``NAME_FILE=/run/secrets/x`` supplies NAME from that file's first line."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        variable = f"{field_name.upper()}_FILE"
        path = os.environ.get(variable)
        if not path:
            return None, field_name, False

        def fail(problem: str) -> ConfigError:
            return ConfigError([ConfigProblem(ENVIRONMENT, None, variable, f"{path}: {problem}")])

        try:
            value = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise fail(f"cannot read: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise fail("not UTF-8 text (a secret file holds the secret as one line of text)") from None
        if not value:
            raise fail("the file is empty")
        return value, field_name, False

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, info in self.settings_cls.model_fields.items():
            value, key, _ = self.get_field_value(info, name)
            if value is not None:
                values[key] = value
        return values


def http_url_problem(value: str) -> str | None:
    """Why ``value`` is not an ``http(s)://host[:port]`` URL, or None when it is."""
    if any(c.isspace() or not c.isprintable() for c in value):
        return "contains spaces or control characters"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - reading it is what checks it
    except ValueError as exc:
        return f"not a URL: {exc}"
    if parts.scheme not in ("http", "https"):
        return "must start with https:// (http:// only for a local sandbox)"
    if not parts.hostname:
        return "has no host name"
    return None


def _matching(pattern: re.Pattern[str], problem: str) -> Callable[[Any, str], str]:
    """A field validator accepting only values ``pattern`` matches whole."""

    def check(cls: Any, value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(problem)
        return value

    return check


_JSON_EXAMPLES = {
    "handoff_salesforce_objects": '["Lead"] or ["Lead", "Contact"]',
    "handoff_salesforce_stage_values": '{"lead": "Lead", "mql": "MQL", "sql": "SQL"}',
}


class Settings(BaseSettings):
    """Everything an admin sets with environment variables (see README)."""

    # NaN and infinity are not numbers of seconds: without this, inf passes gt=0
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True, allow_inf_nan=False)

    handoff_crm: Literal["hubspot", "salesforce"] = "hubspot"
    handoff_rules: Path | None = Field(None, description="default: config/scoring.yaml, else the packaged rules")
    handoff_shadow_rules: Path | None = Field(
        None, description="candidate rules scored beside the live ones, written only to shadow properties"
    )
    handoff_state_url: SecretStr = SecretStr(DEFAULT_STATE_URL)

    hubspot_access_token: SecretStr | None = None
    hubspot_api_base: str = "https://api.hubapi.com"
    handoff_hubspot_leads: bool = Field(
        False, description="reaching SQL also creates a record in HubSpot's Leads object (Sales Hub)"
    )

    salesforce_instance_url: str | None = None
    salesforce_session_id: SecretStr | None = None
    salesforce_username: str | None = None
    salesforce_password: SecretStr | None = None
    salesforce_security_token: SecretStr | None = None
    salesforce_consumer_key: str | None = None
    salesforce_private_key_file: Path | None = None
    salesforce_domain: str = Field("login", description="login, or test for a Salesforce sandbox org")
    salesforce_ca_bundle: Path | None = Field(None, description="CA bundle for an org behind a private CA")
    salesforce_api_version: str = "59.0"
    handoff_salesforce_objects: Annotated[list[PersonObject], NoDecode] = Field(
        default_factory=_leads_only,
        min_length=1,
        description='JSON list: ["Lead"] or ["Lead", "Contact"]',
    )
    handoff_salesforce_stage_field: str = "Lifecycle_Stage__c"
    handoff_salesforce_bulk_threshold: int = Field(
        20_000,
        ge=0,
        description="a backfill reads the Leads left after its first page through Bulk API 2.0 above this many (0: never)",
    )
    handoff_salesforce_bulk_poll_seconds: int = Field(
        5, ge=0, le=60, description="seconds between polls of a Bulk API 2.0 query job (each poll is an API call)"
    )
    handoff_salesforce_stage_values: Annotated[dict[StageKey, str], NoDecode] = Field(
        default_factory=_default_stage_values,
        description='JSON, e.g. {"lead": "Lead", "mql": "MQL", "sql": "SQL"}',
    )

    handoff_sync_interval: float = Field(60, gt=0, le=DAY, description="seconds between incremental syncs")
    handoff_sweep_interval: float = Field(3600, gt=0, le=WEEK, description="seconds between decay sweeps")
    handoff_http_host: str = Field("0.0.0.0", description="IP address the health and metrics server listens on")
    handoff_http_port: int = Field(8080, ge=0, le=65535)
    handoff_api_budget: float = Field(0.5, gt=0, le=1, description="share of the CRM's rate limit Handoff may use")
    handoff_overlap_seconds: float | None = Field(
        None,
        ge=0,
        le=WEEK,
        description="re-read window behind the cursor (default: 0 on HubSpot with its trailing pass on, else 300)",
    )
    handoff_safety_lag_seconds: float = Field(
        10, ge=0, le=DAY, description="the cursor never passes run start minus this"
    )
    handoff_trailing_pass_seconds: float = Field(
        3600, ge=0, le=MONTH, description="how far back the late-index pass looks"
    )
    handoff_lookup_refresh_seconds: float = Field(
        3600, ge=0, le=WEEK, description="the CRM's property list and owners are kept this long (0: read every run)"
    )
    handoff_outcome_interval_seconds: float = Field(
        900, ge=0, le=DAY, description="syncs read what sales did with qualified leads at most this often"
    )
    handoff_max_write_attempts: int = Field(
        5, ge=1, le=1000, description="failed writes retried this often, then dead-lettered"
    )
    handoff_task_settle_seconds: float = Field(
        120, ge=0, le=DAY, description="a task whose creation went unanswered is searched for this long before a retry"
    )
    handoff_score_step: int = Field(
        5, ge=1, le=1000, description="score changes smaller than this alone cause no write"
    )
    handoff_ready_max_failures: int = Field(
        3, ge=1, le=1000, description="consecutive failed runs after which /readyz answers 503 (until a run succeeds)"
    )
    handoff_log_format: Literal["auto", "json", "console"] = "auto"
    handoff_alert_webhook_url: SecretStr | None = Field(None, description="alerts are posted here; none: no alerts")
    handoff_alert_format: Literal["slack", "json"] = "slack"
    handoff_alert_secret: SecretStr | None = Field(None, description="signs each alert (HMAC-SHA256)")
    handoff_alert_on: Annotated[tuple[str, ...], NoDecode] = Field(
        ("sql", "sla_breach"), description="comma-separated: sql, mql, sla_breach"
    )
    handoff_hubspot_portal_id: str | None = Field(None, description="the Hub ID: alerts link to the contact")
    handoff_hubspot_ui_domain: str = Field("app.hubspot.com", description="app-eu1.hubspot.com for EU accounts")
    handoff_report_dir: Path = Path("handoff-reports")

    @field_validator("hubspot_api_base")
    @classmethod
    def _api_base(cls, value: str) -> str:
        problem = http_url_problem(value)
        if problem:
            raise ValueError(problem)
        return value.rstrip("/")

    @field_validator("salesforce_instance_url")
    @classmethod
    def _instance_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        # simple-salesforce also takes a bare host name
        problem = http_url_problem(value if "://" in value else f"https://{value}")
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("handoff_state_url")
    @classmethod
    def _state_url(cls, value: SecretStr) -> SecretStr:
        try:
            url = make_url(value.get_secret_value())
        except (ArgumentError, ValueError):
            raise ValueError(
                "not a database URL; use sqlite:///path/to/state.sqlite or postgresql+psycopg://user:password@host/db"
            ) from None
        if url.drivername not in STATE_DRIVERS:
            raise ValueError(f"{url.drivername} is not supported; use sqlite:///... or postgresql+psycopg://...")
        try:
            url.get_dialect().import_dbapi()
        except ImportError:
            # plain postgresql:// means psycopg2 to older SQLAlchemy releases, and Handoff ships psycopg 3
            raise ValueError(f"no driver for {url.drivername} is installed; use postgresql+psycopg://...") from None
        return value

    @field_validator("hubspot_access_token", "salesforce_session_id", "salesforce_security_token")
    @classmethod
    def _one_word(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        secret = value.get_secret_value().strip()
        if not secret:
            raise ValueError("is empty")
        if not all("!" <= c <= "~" for c in secret):
            # an HTTP header carries it: a space, a line break or a non-ASCII letter would break the request
            raise ValueError("contains spaces, control or non-ASCII characters; a token is one word of plain ASCII")
        return SecretStr(secret)

    @field_validator("salesforce_domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        if value.endswith(".salesforce.com") or not _HOSTNAME.fullmatch(value):
            raise ValueError("give what comes before .salesforce.com: login, test, or your My Domain (acme.my)")
        return value

    _api_version = field_validator("salesforce_api_version")(
        _matching(_API_VERSION, "a Salesforce API version looks like 59.0")
    )
    _stage_field = field_validator("handoff_salesforce_stage_field")(
        _matching(
            _SALESFORCE_API_NAME, "not a Salesforce field API name (letters, digits and _, e.g. Lifecycle_Stage__c)"
        )
    )

    @field_validator("handoff_salesforce_objects", "handoff_salesforce_stage_values", mode="before")
    @classmethod
    def _decode_json(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise ValueError(f"not valid JSON; write it like {_JSON_EXAMPLES[info.field_name or '']}") from None

    @field_validator("handoff_salesforce_stage_values")
    @classmethod
    def _stage_values(cls, value: dict[StageKey, str]) -> dict[StageKey, str]:
        missing = [key for key in get_args(StageKey) if not value.get(key)]
        if missing:
            raise ValueError(f"needs a picklist value for each of lead, mql and sql (missing {', '.join(missing)})")
        if len(set(value.values())) < len(value):
            raise ValueError("each stage needs its own picklist value")
        return value

    @field_validator("handoff_alert_webhook_url")
    @classmethod
    def _webhook_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        if http_url_problem(value.get_secret_value().strip()):
            # the URL is a credential: the message never shows it, nor any part of it
            raise ValueError("must be an http(s) URL with a host, like the one Slack gives an incoming webhook")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("handoff_alert_secret")
    @classmethod
    def _not_empty(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("is empty")
        return value

    @field_validator("handoff_alert_on", mode="before")
    @classmethod
    def _alert_events(cls, value: Any) -> tuple[str, ...]:
        names = [n.strip().lower() for n in value.split(",")] if isinstance(value, str) else list(value)
        unknown = [n for n in names if n not in ALERT_EVENTS]
        if unknown or not names:
            raise ValueError(f"name events from {', '.join(ALERT_EVENTS)}, separated by commas")
        return tuple(dict.fromkeys(names))

    @field_validator("handoff_hubspot_portal_id")
    @classmethod
    def _portal_id(cls, value: str | None) -> str | None:
        if value is not None and not (value.isascii() and value.isdigit() and len(value) <= 20):
            raise ValueError("the Hub ID is a number (HubSpot shows it in the account menu)")
        return value

    _ui_domain = field_validator("handoff_hubspot_ui_domain")(
        _matching(_HOSTNAME, "a host name like app.hubspot.com or app-eu1.hubspot.com")
    )

    @field_validator("handoff_http_host")
    @classmethod
    def _bind_address(cls, value: str) -> str:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise ValueError("not an IP address (0.0.0.0: every interface, 127.0.0.1: this machine only)") from None
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, FileSecretsSource(settings_cls))

    @property
    def crm_location(self) -> str:
        """Where the chosen CRM is reached, fit to print (no credentials)."""
        if self.handoff_crm == "hubspot":
            return redact_url(self.hubspot_api_base)
        if self.salesforce_instance_url:
            return redact_url(self.salesforce_instance_url)
        return f"https://{self.salesforce_domain}.salesforce.com (login)"


def _need(name: str, why: str) -> ConfigProblem:
    return ConfigProblem(ENVIRONMENT, None, name, why)


def crm_credential_problems(settings: Settings) -> list[ConfigProblem]:
    """What is missing to reach the chosen CRM, one problem per variable to set."""
    if settings.handoff_crm == "hubspot":
        if settings.hubspot_access_token is None:
            return [
                _need(
                    "HUBSPOT_ACCESS_TOKEN",
                    "required when HANDOFF_CRM=hubspot: a service key or private-app token "
                    "(or set HUBSPOT_ACCESS_TOKEN_FILE)",
                )
            ]
        return []
    problems = []
    if settings.salesforce_session_id is not None:
        if not settings.salesforce_instance_url:
            problems.append(_need("SALESFORCE_INSTANCE_URL", "required with SALESFORCE_SESSION_ID"))
    elif settings.salesforce_username and (settings.salesforce_password or settings.salesforce_consumer_key):
        if settings.salesforce_consumer_key:
            problems += _private_key_problems(settings.salesforce_private_key_file)
    else:
        problems.append(
            _need(
                "SALESFORCE_SESSION_ID",
                "set it with SALESFORCE_INSTANCE_URL, or SALESFORCE_USERNAME "
                "with SALESFORCE_PASSWORD and SALESFORCE_SECURITY_TOKEN, or SALESFORCE_USERNAME with "
                "SALESFORCE_CONSUMER_KEY and SALESFORCE_PRIVATE_KEY_FILE (JWT)",
            )
        )
    if settings.salesforce_ca_bundle is not None and not settings.salesforce_ca_bundle.is_file():
        problems.append(_need("SALESFORCE_CA_BUNDLE", f"no such file: {settings.salesforce_ca_bundle}"))
    if settings.handoff_hubspot_leads:
        problems.append(_need("HANDOFF_HUBSPOT_LEADS", "HubSpot's Leads object needs HANDOFF_CRM=hubspot"))
    return problems


def _private_key_problems(path: Path | None) -> list[ConfigProblem]:
    name = "SALESFORCE_PRIVATE_KEY_FILE"
    if path is None:
        return [_need(name, "required with SALESFORCE_CONSUMER_KEY (JWT login)")]
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return [_need(name, f"{path}: cannot read: {exc.strerror or exc}")]
    except UnicodeDecodeError:
        return [_need(name, f"{path}: not a PEM file (binary content)")]
    if "PRIVATE KEY-----" not in text:
        return [_need(name, f"{path}: holds no PEM private key (-----BEGIN PRIVATE KEY-----)")]
    return []


def local_problems(settings: Settings) -> list[ConfigProblem]:
    """Files and directories the settings name that cannot work: checked on this machine, no network."""
    problems = []
    report_dir = settings.handoff_report_dir
    blocker = next((p for p in (report_dir, *report_dir.parents) if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        problems.append(_need("HANDOFF_REPORT_DIR", f"{blocker} is a file, not a directory"))
    url = make_url(settings.handoff_state_url.get_secret_value())
    if url.drivername.startswith("sqlite") and url.database not in (None, "", ":memory:"):
        folder = Path(url.database).parent
        if not folder.is_dir():
            problems.append(_need("HANDOFF_STATE_URL", f"the SQLite file's directory {folder} does not exist"))
    return problems


#: fields whose value must never appear in a problem line
_SECRET_FIELDS = frozenset(
    name.upper()
    for name, info in Settings.model_fields.items()
    if SecretStr in (info.annotation, *get_args(info.annotation))
)


def _problem(error: ErrorDetails) -> ConfigProblem:
    name = str(error["loc"][0]).upper() if error["loc"] else ENVIRONMENT
    message = error["msg"].removeprefix("Value error, ")
    value = error.get("input")
    if name in _SECRET_FIELDS or not isinstance(value, (str, int, float)):
        return _need(name, message)
    text = redact_url(value) if isinstance(value, str) else value
    return _need(name, f"{message} (got {shown(text)})")


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, or ConfigError with one line per bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError([_problem(error) for error in exc.errors()]) from None
