"""What an alert says: one typed event per (record, qualification episode, kind), and links to the record.

Pure data: no I/O. The sync loop builds an :class:`AlertEvent` when a lead becomes SQL (or MQL,
when those alerts are on) and when a rep's follow-up task runs past its due time; the formats
(:mod:`connector.alerts.formats`) turn it into a Slack message or a generic JSON body.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlsplit

from connector.model import CrmState, Qualification, Stage, TaskSpec
from connector.outcomes.episode import Episode


class AlertKind(str, enum.Enum):
    """Why an alert goes out. The values are the ``event`` names of the JSON body."""

    NEW_SQL = "new_sql"
    NEW_MQL = "new_mql"
    SLA_BREACH = "sla_breach"


#: the stage a "new qualified lead" alert is about
_KIND_STAGE = {AlertKind.NEW_SQL: Stage.SQL, AlertKind.NEW_MQL: Stage.MQL}


class InvalidAlert(ValueError):
    """An alert event that cannot be sent; the message names the field and the problem."""


def alert_key(record_id: str, episode: int, kind: AlertKind) -> str:
    """The idempotency key: one alert per record, qualification episode and kind."""
    return f"alert:{record_id}:{episode}:{kind.value}"


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertEvent:
    """One alert about one CRM record.

    Texts (name, company, reasons, owner) are as the CRM and the scoring core gave them: the
    formats clean and escape them, so hostile record content cannot break or hijack a message.
    Times are aware datetimes, kept in UTC.
    """

    kind: AlertKind
    record_id: str
    #: the record's qualification episode, numbered as ``Episode.number`` (1 for the first, ``Memory.episode + 1``);
    #: a recycled lead that qualifies again alerts again
    episode: int
    #: the stage the alert is about: SQL for new_sql, MQL for new_mql, the task's stage for sla_breach
    stage: Stage
    occurred_at: datetime
    name: str | None = None
    company: str | None = None
    score: int | None = None
    grade: str | None = None
    #: the why-now lines, most important first
    reasons: tuple[str, ...] = ()
    owner_id: str | None = None
    owner_name: str | None = None
    #: when the rep's follow-up task is (or was) due; required for sla_breach
    due_at: datetime | None = None
    #: a link to the record in the CRM (see :func:`hubspot_record_url`, :func:`salesforce_record_url`)
    record_url: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.kind, AlertKind):
            raise InvalidAlert(f"kind: must be an AlertKind, not {self.kind!r}")
        if not isinstance(self.record_id, str) or not self.record_id:
            raise InvalidAlert("record_id: missing or empty")
        if not isinstance(self.episode, int) or isinstance(self.episode, bool) or self.episode < 0:
            raise InvalidAlert(f"episode: must be a whole number from 0, not {self.episode!r}")
        expected = _KIND_STAGE.get(self.kind)
        if expected is not None and self.stage is not expected:
            raise InvalidAlert(f"stage: a {self.kind.value} alert is about {expected.value}, not {self.stage!r}")
        if self.kind is AlertKind.SLA_BREACH and self.stage not in (Stage.MQL, Stage.SQL):
            raise InvalidAlert(f"stage: an SLA applies to mql or sql, not {self.stage!r}")
        for name in ("occurred_at", "due_at"):
            moment = getattr(self, name)
            if moment is None:
                continue
            if not isinstance(moment, datetime) or moment.tzinfo is None:
                raise InvalidAlert(f"{name}: must be an aware datetime, not {moment!r}")
            object.__setattr__(self, name, moment.astimezone(UTC))
        if self.kind is AlertKind.SLA_BREACH and self.due_at is None:
            raise InvalidAlert("due_at: an sla_breach alert needs the task's due time")
        if self.record_url is not None and not is_web_url(self.record_url):
            raise InvalidAlert("record_url: must be an http(s) URL")
        object.__setattr__(self, "reasons", tuple(self.reasons))

    @property
    def key(self) -> str:
        """``alert:<record>:<episode>:<kind>``: what the ledger and the receivers deduplicate on."""
        return alert_key(self.record_id, self.episode, self.kind)

    @property
    def overdue_by(self) -> timedelta | None:
        """How late the follow-up is at ``occurred_at`` (SLA breaches only; never negative)."""
        if self.kind is not AlertKind.SLA_BREACH or self.due_at is None:
            return None
        return max(self.occurred_at - self.due_at, timedelta(0))


def qualified_event(
    q: Qualification,
    crm: CrmState,
    task: TaskSpec,
    *,
    episode: int,
    occurred_at: datetime,
    record_url: str | None = None,
    owner_name: str | None = None,
    reasons: int = 5,
) -> AlertEvent:
    """The "new SQL" / "new MQL" alert for the task the lifecycle policy just decided.

    ``episode`` is the episode's number (``Memory.episode + 1``, as the episodes table counts, so
    that a new_sql and an sla_breach alert about one qualification carry one number); ``reasons``
    caps the why-now lines (use the policy's ``reasons_in_task`` to match the task body).
    """
    kind = AlertKind.NEW_SQL if task.stage is Stage.SQL else AlertKind.NEW_MQL
    return AlertEvent(
        kind=kind,
        record_id=task.record_id,
        episode=episode,
        stage=task.stage,
        occurred_at=occurred_at,
        name=crm.name,
        company=crm.company,
        score=q.score,
        grade=q.grade,
        reasons=tuple(r.text for r in q.reasons[:reasons]),
        owner_id=task.owner_id,
        owner_name=owner_name,
        due_at=task.due_at,
        record_url=record_url,
    )


def sla_breach_event(
    episode: Episode,
    crm: CrmState,
    *,
    occurred_at: datetime,
    record_url: str | None = None,
    owner_name: str | None = None,
) -> AlertEvent:
    """The alert for an episode whose follow-up task is past due with no touch from sales.

    Deciding *that* it is breached (due time passed, no first touch, not yet alerted) is the
    caller's job; this only says it.
    """
    if episode.task_due_at is None:
        raise InvalidAlert(f"episode {episode.record_id}#{episode.number}: no task due time, so no SLA to breach")
    return AlertEvent(
        kind=AlertKind.SLA_BREACH,
        record_id=episode.record_id,
        episode=episode.number,
        stage=Stage.SQL if episode.sql_at is not None else Stage.MQL,
        occurred_at=occurred_at,
        name=crm.name,
        company=crm.company,
        score=episode.score,
        grade=episode.grade,
        reasons=episode.reasons,
        owner_id=episode.owner_id or crm.owner_id,
        owner_name=owner_name,
        due_at=episode.task_due_at,
        record_url=record_url,
    )


def hubspot_record_url(portal_id: int | str, record_id: str, ui_domain: str = "app.hubspot.com") -> str:
    """The contact's page in HubSpot: ``https://<ui_domain>/contacts/<portalId>/record/0-1/<id>``.

    ``0-1`` is HubSpot's object type id for contacts. ``portal_id`` (the Hub ID) and ``ui_domain``
    (``app.hubspot.com``, or ``app-eu1.hubspot.com`` for EU-hosted accounts) are the ``portalId``
    and ``uiDomain`` of ``GET /account-info/v3/details``.
    """
    portal = str(portal_id)
    if not portal.isdigit() or not portal.isascii():
        raise InvalidAlert(f"portal_id: must be the numeric Hub ID, not {portal_id!r}")
    if not ui_domain or "/" in ui_domain or not is_web_url(f"https://{ui_domain}"):
        raise InvalidAlert(f"ui_domain: must be a host name like app.hubspot.com, not {ui_domain!r}")
    return f"https://{ui_domain}/contacts/{portal}/record/0-1/{_segment(record_id)}"


def salesforce_record_url(instance_url: str, record_id: str, sobject: str = "Lead") -> str:
    """The record's Lightning page: ``<instance_url>/lightning/r/<sobject>/<id>/view``.

    ``instance_url`` is the org's ``https://<domain>.my.salesforce.com`` (what the login returns);
    Salesforce redirects it to the Lightning host.
    """
    if not is_web_url(instance_url):
        raise InvalidAlert("instance_url: must be an http(s) URL")
    return f"{instance_url.rstrip('/')}/lightning/r/{_segment(sobject)}/{_segment(record_id)}/view"


def _segment(value: str) -> str:
    """One URL path segment: a record id can never add path, query or fragment to a link."""
    if not value:
        raise InvalidAlert("record link: empty id or object name")
    return quote(value, safe="")


def is_web_url(url: str) -> bool:
    """An http(s) URL with a host, a valid port if any, and no whitespace."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not any(c.isspace() for c in url)
