"""Configuration from the environment, declared once.

Every field is an environment variable of the same name. A secret may instead
come from a file named by ``<NAME>_FILE`` (Docker and Kubernetes secrets), and
secrets are ``SecretStr`` so they never print.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from connector.config.files import ConfigError, ConfigProblem

DEFAULT_STATE_URL = "sqlite:///handoff-state.sqlite"


class FileSecretsSource(PydanticBaseSettingsSource):
    """``NAME_FILE=/run/secrets/x`` supplies NAME from that file's first line."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        path = os.environ.get(f"{field_name.upper()}_FILE")
        if not path:
            return None, field_name, False
        try:
            return Path(path).read_text(encoding="utf-8").strip(), field_name, False
        except OSError as exc:
            raise ConfigError(
                [ConfigProblem(f"{field_name.upper()}_FILE", None, path, f"cannot read: {exc.strerror}")]
            ) from None

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, info in self.settings_cls.model_fields.items():
            value, key, _ = self.get_field_value(info, name)
            if value is not None:
                values[key] = value
        return values


class Settings(BaseSettings):
    """Everything an admin sets with environment variables (see README)."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

    handoff_crm: Literal["hubspot", "salesforce"] = "hubspot"
    handoff_rules: Path = Path("config/scoring.yaml")
    handoff_state_url: SecretStr = SecretStr(DEFAULT_STATE_URL)

    hubspot_access_token: SecretStr | None = None
    hubspot_api_base: str = "https://api.hubapi.com"

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
    handoff_salesforce_objects: list[Literal["Lead", "Contact"]] = Field(
        default_factory=lambda: ["Lead"], description='JSON list: ["Lead"] or ["Lead", "Contact"]'
    )
    handoff_salesforce_stage_field: str = "Lifecycle_Stage__c"
    handoff_salesforce_stage_values: dict[Literal["lead", "mql", "sql"], str] = Field(
        default_factory=lambda: {"lead": "Lead", "mql": "MQL", "sql": "SQL"},
        description='JSON, e.g. {"lead": "Lead", "mql": "MQL", "sql": "SQL"}',
    )

    handoff_sync_interval: float = Field(60, gt=0, description="seconds between incremental syncs")
    handoff_sweep_interval: float = Field(3600, gt=0, description="seconds between decay sweeps")
    handoff_http_port: int = Field(8080, ge=0, le=65535)
    handoff_api_budget: float = Field(0.5, gt=0, le=1, description="share of the CRM's rate limit Handoff may use")
    handoff_overlap_seconds: float = Field(300, ge=0, description="re-read window behind the cursor")
    handoff_safety_lag_seconds: float = Field(10, ge=0, description="the cursor never passes run start minus this")
    handoff_trailing_pass_seconds: float = Field(3600, ge=0, description="how far back the late-index pass looks")
    handoff_max_write_attempts: int = Field(5, ge=1, description="failed writes retried this often, then dead-lettered")
    handoff_task_settle_seconds: float = Field(
        120, ge=0, description="a task whose creation went unanswered is searched for this long before a retry"
    )
    handoff_ready_max_failures: int = Field(
        3, ge=1, description="consecutive failed runs after which /readyz answers 503 (until a run succeeds)"
    )
    handoff_score_step: int = Field(5, ge=1, description="score changes smaller than this alone cause no write")
    handoff_log_format: Literal["auto", "json", "console"] = "auto"
    handoff_report_dir: Path = Path("handoff-reports")

    @field_validator("hubspot_api_base")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

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


def crm_credential_problems(settings: Settings) -> list[ConfigProblem]:
    """What is missing to reach the chosen CRM, one problem per variable to set."""

    def need(name: str, why: str) -> ConfigProblem:
        return ConfigProblem("environment", None, name, why)

    if settings.handoff_crm == "hubspot":
        if settings.hubspot_access_token is None:
            return [
                need("HUBSPOT_ACCESS_TOKEN", "required when HANDOFF_CRM=hubspot (or set HUBSPOT_ACCESS_TOKEN_FILE)")
            ]
        return []
    problems = []
    if settings.salesforce_session_id is not None:
        if not settings.salesforce_instance_url:
            problems.append(need("SALESFORCE_INSTANCE_URL", "required with SALESFORCE_SESSION_ID"))
    elif settings.salesforce_username and (settings.salesforce_password or settings.salesforce_consumer_key):
        if settings.salesforce_consumer_key and settings.salesforce_private_key_file is None:
            problems.append(need("SALESFORCE_PRIVATE_KEY_FILE", "required with SALESFORCE_CONSUMER_KEY (JWT login)"))
    else:
        problems.append(
            need(
                "SALESFORCE_SESSION_ID",
                "set it with SALESFORCE_INSTANCE_URL, or SALESFORCE_USERNAME "
                "with SALESFORCE_PASSWORD and SALESFORCE_SECURITY_TOKEN, or SALESFORCE_USERNAME with "
                "SALESFORCE_CONSUMER_KEY and SALESFORCE_PRIVATE_KEY_FILE (JWT)",
            )
        )
    if settings.salesforce_ca_bundle is not None and not settings.salesforce_ca_bundle.is_file():
        problems.append(need("SALESFORCE_CA_BUNDLE", f"no such file: {settings.salesforce_ca_bundle}"))
    return problems


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, or ConfigError with one line per bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = str(error["loc"][0]).upper() if error["loc"] else "environment"
            value = error.get("input")
            shown = (
                ""
                if isinstance(value, dict) or name.endswith(("TOKEN", "URL", "PASSWORD", "SECRET"))
                else f" (got {value!r})"
            )
            problems.append(ConfigProblem("environment", None, name, error["msg"] + shown))
        raise ConfigError(problems) from None
