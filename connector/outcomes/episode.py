"""Qualification episodes: what happened to a lead after Handoff qualified it.

An episode starts when a record becomes MQL or SQL (or qualifies again after sales recycled it)
and ends in an outcome: sales recycled or rejected it, or it became an opportunity that was won or
lost. The episode keeps what Handoff knew at the moment it qualified the lead (score, fit, grade,
rules version, reasons, the rules that fired) next to what sales did afterwards, so reports can
tell whether a higher score really meant a better lead.

Pure data: no I/O. Episodes are stored and exported as JSON (:meth:`Episode.to_json`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connector.model import Stage, parse_time

_TIMES = (
    "created_at",
    "mql_at",
    "sql_at",
    "task_due_at",
    "first_touch_at",
    "accepted_at",
    "recycled_at",
    "rejected_at",
    "opportunity_at",
    "won_at",
    "lost_at",
    "deal_deleted_at",
)
_TEXTS = ("grade", "rules_version", "task_key", "owner_id", "sales_reason", "deal_id")
_INTS = ("score", "fit", "sla_minutes", "shadow_score")
_LISTS = ("reasons", "rules_fired")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class InvalidEpisode(ValueError):
    """An episode (or funnel input) that cannot be used; the message names the field and the problem."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Episode:
    """One qualification episode of one CRM record, from qualification to outcome.

    Times are aware UTC datetimes; ``None`` means "not (yet) known". Outcome fields are copied
    as the CRM reports them: the report, not this type, decides which of them count (an outcome
    dated before the episode started, for example, belongs to something earlier).
    """

    record_id: str
    #: 1 for the record's first qualification, 2 after its first recycle, ...
    number: int
    #: when the record was created in the CRM: places the episode in its lead cohort
    created_at: datetime | None = None
    mql_at: datetime | None = None
    sql_at: datetime | None = None
    # what Handoff concluded when the episode started
    score: int | None = None
    fit: int | None = None
    grade: str | None = None
    rules_version: str | None = None
    #: the top reasons, in the words written to the CRM
    reasons: tuple[str, ...] = ()
    #: names of the rules that contributed to the score
    rules_fired: tuple[str, ...] = ()
    # the rep task created for the episode
    task_key: str | None = None
    owner_id: str | None = None
    task_due_at: datetime | None = None
    sla_minutes: int | None = None
    # what sales did
    first_touch_at: datetime | None = None
    accepted_at: datetime | None = None
    recycled_at: datetime | None = None
    rejected_at: datetime | None = None
    #: the lead status or reason sales gave when recycling or rejecting
    sales_reason: str | None = None
    # the deal / opportunity that came of it
    deal_id: str | None = None
    opportunity_at: datetime | None = None
    won_at: datetime | None = None
    lost_at: datetime | None = None
    #: the deal was deleted in the CRM: it no longer counts as an opportunity, win or loss
    deal_deleted_at: datetime | None = None
    amount: Decimal | None = None
    # a candidate rules file scored beside the live one (HANDOFF_SHADOW_RULES), when there was one
    shadow_score: int | None = None
    shadow_level: Stage | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.record_id, str) or not self.record_id:
            raise InvalidEpisode("record_id: missing or empty")
        if not _is_int(self.number) or self.number < 1:
            raise InvalidEpisode(f"number: must be a whole number from 1, not {self.number!r}")
        for name in _TIMES:
            value = getattr(self, name)
            if value is None:
                continue
            if not isinstance(value, datetime) or value.tzinfo is None:
                raise InvalidEpisode(f"{name}: must be an aware datetime, not {value!r}")
            object.__setattr__(self, name, value.astimezone(UTC))
        if self.mql_at is None and self.sql_at is None:
            raise InvalidEpisode("an episode starts when the record becomes MQL or SQL: mql_at or sql_at is needed")
        for name in _INTS:
            value = getattr(self, name)
            if value is not None and not _is_int(value):
                raise InvalidEpisode(f"{name}: must be a whole number, not {value!r}")
        if self.sla_minutes is not None and self.sla_minutes < 0:
            raise InvalidEpisode(f"sla_minutes: must not be negative, not {self.sla_minutes}")
        if self.amount is not None and (not isinstance(self.amount, Decimal) or not self.amount.is_finite()):
            raise InvalidEpisode(f"amount: must be a finite Decimal, not {self.amount!r}")
        if self.shadow_level is not None and not isinstance(self.shadow_level, Stage):
            raise InvalidEpisode(f"shadow_level: must be a Stage, not {self.shadow_level!r}")

    @property
    def started_at(self) -> datetime:
        """When the record qualified: the earlier of becoming MQL and becoming SQL."""
        return min(t for t in (self.mql_at, self.sql_at) if t is not None)

    @property
    def cohort_time(self) -> datetime:
        """The moment that places the episode in a monthly lead cohort: the record's creation when known."""
        return self.created_at or self.started_at

    @property
    def sales_times(self) -> tuple[datetime | None, ...]:
        """When sales touched, accepted, recycled or rejected the lead, and its deal's milestones."""
        return (
            self.first_touch_at,
            self.accepted_at,
            self.recycled_at,
            self.rejected_at,
            self.opportunity_at,
            self.won_at,
            self.lost_at,
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON object with every field (``null`` when unknown); :meth:`from_json` reads it back exactly."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, datetime):
                value = _format_exact(value)
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Decimal):
                value = str(value)  # a string keeps every digit of a money amount
            elif isinstance(value, Stage):
                value = value.value
            out[f.name] = value
        return out

    @classmethod
    def from_json(cls, data: Any) -> Episode:
        """Read an episode written by :meth:`to_json`; raises :class:`InvalidEpisode` naming the bad field."""
        if not isinstance(data, Mapping):
            raise InvalidEpisode("an episode must be a JSON object")
        unknown = sorted(set(data) - _FIELD_NAMES)
        if unknown:
            raise InvalidEpisode(f"{unknown[0]}: not a field of an episode")
        values: dict[str, Any] = {}
        for name, raw in data.items():
            if raw is not None:
                values[name] = _read_field(name, raw)
        for required in ("record_id", "number"):
            if required not in values:
                raise InvalidEpisode(f"{required}: missing")
        return cls(**values)


_FIELD_NAMES = frozenset(f.name for f in fields(Episode))


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _format_exact(moment: datetime) -> str:
    """ISO-8601 in UTC with ``Z``, keeping microseconds when there are any (an exact round trip)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _read_field(name: str, raw: Any) -> Any:
    if name in _TIMES:
        if not isinstance(raw, str):
            raise InvalidEpisode(f"{name}: must be an ISO-8601 time string")
        try:
            return parse_time(raw)
        except ValueError:
            raise InvalidEpisode(f"{name}: not an ISO-8601 time: {raw!r}") from None
    if name in _LISTS:
        if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
            raise InvalidEpisode(f"{name}: must be a list of strings")
        return tuple(raw)
    if name == "amount":
        return _read_amount(raw)
    if name == "shadow_level":
        try:
            return Stage(raw)
        except ValueError:
            raise InvalidEpisode(f"shadow_level: not a stage: {raw!r}") from None
    if name in (*_INTS, "number"):
        if not _is_int(raw):
            raise InvalidEpisode(f"{name}: must be a whole number")
        return raw
    if not isinstance(raw, str):  # record_id and the texts
        raise InvalidEpisode(f"{name}: must be a string")
    return raw


def _read_amount(raw: Any) -> Decimal:
    # CRMs hand amounts over as strings ("1500.00"); hand-written files may use numbers
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise InvalidEpisode("amount: must be a number or a numeric string")
    try:
        amount = Decimal(str(raw))
    except InvalidOperation:
        raise InvalidEpisode(f"amount: not a number: {raw!r}") from None
    if not amount.is_finite():
        raise InvalidEpisode(f"amount: not a finite number: {raw!r}")
    return amount


def cohort_month(moment: datetime) -> str:
    """The monthly cohort (``YYYY-MM``, in UTC) a moment falls in."""
    return moment.astimezone(UTC).strftime("%Y-%m")


@dataclass(frozen=True, slots=True)
class FunnelInput:
    """Everything the funnel report reads: the episodes and how many leads each month brought.

    The funnel starts at leads, most of which never qualify, so the leads created per cohort month
    (``YYYY-MM`` -> count) come beside the episodes as plain counts.
    """

    episodes: tuple[Episode, ...] = ()
    lead_counts: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "episodes", tuple(self.episodes))
        object.__setattr__(self, "lead_counts", dict(self.lead_counts))
        for month, count in self.lead_counts.items():
            if not isinstance(month, str) or not _MONTH.match(month):
                raise InvalidEpisode(f"lead_counts: {month!r} is not a month (YYYY-MM)")
            if not _is_int(count) or count < 0:
                raise InvalidEpisode(f"lead_counts[{month}]: must be a whole number from 0, not {count!r}")

    def to_json(self) -> dict[str, Any]:
        return {
            "lead_counts": dict(sorted(self.lead_counts.items())),
            "episodes": [e.to_json() for e in self.episodes],
        }

    @classmethod
    def from_json(cls, data: Any) -> FunnelInput:
        if not isinstance(data, Mapping):
            raise InvalidEpisode("funnel input must be a JSON object")
        counts = data.get("lead_counts", {})
        if not isinstance(counts, Mapping):
            raise InvalidEpisode("lead_counts: must be an object of month -> count")
        raw_episodes = data.get("episodes", [])
        if not isinstance(raw_episodes, list):
            raise InvalidEpisode("episodes: must be a list")
        episodes = []
        for index, raw in enumerate(raw_episodes):
            try:
                episodes.append(Episode.from_json(raw))
            except InvalidEpisode as exc:
                raise InvalidEpisode(f"episodes[{index}]: {exc}") from None
        return cls(episodes=tuple(episodes), lead_counts=counts)
