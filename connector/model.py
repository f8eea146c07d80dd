"""Canonical data shared by every layer: leads, activities, stages and results.

Nothing here knows about a CRM. Adapters translate to and from these types;
the scoring core and the lifecycle policy only ever see them.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple, get_args

#: what a person can do, in canonical terms (DESIGN.md 4.3), in alphabetical order
ActivityType = Literal[
    "call",
    "cart_add",
    "chat",
    "content_download",
    "email_click",
    "email_open",
    "form_submission",
    "meeting_booked",
    "newsletter_signup",
    "page_view",
    "site_visit",
    "trial_signup",
    "unsubscribe",
    "webinar_attendance",
    "webinar_registration",
]
ACTIVITY_TYPES: frozenset[str] = frozenset(get_args(ActivityType))


class Stage(str, enum.Enum):
    """Funnel stages in their forward order (the order HubSpot ships by default).

    CRMs with custom stages map each of theirs onto one of these by position.
    """

    SUBSCRIBER = "subscriber"
    LEAD = "lead"
    MQL = "mql"
    SQL = "sql"
    OPPORTUNITY = "opportunity"
    CUSTOMER = "customer"
    EVANGELIST = "evangelist"
    OTHER = "other"

    @property
    def rank(self) -> int:
        return _STAGE_RANK[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Stage):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Stage):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Stage):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Stage):
            return NotImplemented
        return self.rank >= other.rank


_STAGE_RANK = {stage: i for i, stage in enumerate(Stage)}

#: The levels the scoring core can assign; everything above SQL belongs to sales.
QUALIFICATION_LEVELS = (Stage.LEAD, Stage.MQL, Stage.SQL)


def parse_time(value: str | datetime) -> datetime:
    """Parse an ISO-8601 timestamp (``Z`` or offset) into an aware UTC datetime."""
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(value)  # Python 3.11+ reads "Z" itself
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def format_time(moment: datetime) -> str:
    """ISO-8601 in UTC with milliseconds and ``Z``, the way both CRMs like it."""
    # isoformat truncates to milliseconds as the CRMs do, at about half strftime's cost (seeding
    # a sandbox formats millions of these); "+00:00" is always its last six characters in UTC
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


#: the largest activity count kept: beyond it a counter is noise, and a count too large for a
#: float (10**400) must not break the arithmetic of scoring
MAX_COUNT = 10**9


@dataclass(frozen=True, slots=True)
class Activity:
    """One thing a person did. ``count`` carries aggregated counters (3 opens = count 3).

    A time without a zone is taken as UTC (as ``parse_time`` reads it) and a count is kept
    within 0..MAX_COUNT, so every Activity is one scoring can use.
    """

    type: str
    at: datetime
    count: int = 1
    name: str | None = None
    url: str | None = None
    #: ``at`` in epoch seconds, worked out once: scoring reads it for every activity of every lead
    ts: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            object.__setattr__(self, "at", self.at.replace(tzinfo=UTC))
        if not 0 <= self.count <= MAX_COUNT:
            object.__setattr__(self, "count", 0 if self.count < 0 else MAX_COUNT)
        object.__setattr__(self, "ts", self.at.timestamp())

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "at": format_time(self.at)}
        if self.count != 1:
            out["count"] = self.count
        if self.name is not None:
            out["name"] = self.name
        if self.url is not None:
            out["url"] = self.url
        return out


def _slot_setters(cls: type, names: tuple[str, ...]) -> tuple[Callable[[Any, Any], None], ...]:
    """The setters of a frozen slots dataclass's fields, which its ``__setattr__`` does not stand in front of.

    A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__`` (a global, an
    attribute and a generic call each); the few objects built millions of times are built through
    these instead. ``names`` must be every field, in order: a field added to the class and not to
    its fast builder would be left unset, so that fails here, at import.
    """
    if tuple(f.name for f in fields(cls)) != names:
        raise TypeError(f"{cls.__name__}'s fields changed: its fast builder must set every one of them")
    return tuple(getattr(cls, name).__set__ for name in names)


_ACTIVITY_SLOTS = _slot_setters(Activity, ("type", "at", "count", "name", "url", "ts"))
_new_object = object.__new__


def trusted_activity(kind: str, at: datetime, count: int, name: str | None, url: str | None, ts: float) -> Activity:
    """An Activity from values known to be valid, made without checking them again.

    ``at`` is in UTC, ``count`` within 0..MAX_COUNT and ``ts`` is ``at.timestamp()``: values an
    Activity held before (the decay sweep reads back every stored activity) or generated valid
    (the sandboxes' synthetic people). A third cheaper than the constructor.
    """
    activity = _new_object(Activity)
    set_type, set_at, set_count, set_name, set_url, set_ts = _ACTIVITY_SLOTS
    set_type(activity, kind)
    set_at(activity, at)
    set_count(activity, count)
    set_name(activity, name)
    set_url(activity, url)
    set_ts(activity, ts)
    return activity


@dataclass(frozen=True, slots=True)
class Lead:
    """A person in the CRM with the canonical properties of DESIGN.md 4.3 and their activities."""

    id: str
    properties: Mapping[str, Any]
    activities: tuple[Activity, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "properties": dict(self.properties),
            "activities": [a.to_json() for a in self.activities],
        }


class InvalidLead(ValueError):
    """A canonical lead that cannot be scored; the message says which field and why."""


def lead_from_json(data: Any) -> Lead:
    """Build a Lead from the canonical JSON shape, raising InvalidLead with the offending field."""
    if not isinstance(data, dict):
        raise InvalidLead("a lead must be a JSON object")
    lead_id = data.get("id")
    if not isinstance(lead_id, (str, int)) or isinstance(lead_id, bool) or lead_id == "":
        raise InvalidLead("id: missing or not a string")
    properties = data.get("properties", {})
    if not isinstance(properties, dict):
        raise InvalidLead("properties: must be an object")
    raw_activities = data.get("activities", [])
    if not isinstance(raw_activities, list):
        raise InvalidLead("activities: must be a list")
    activities = tuple(_activity_from_json(i, raw) for i, raw in enumerate(raw_activities))
    return Lead(id=str(lead_id), properties=properties, activities=activities)


def _activity_from_json(index: int, raw: Any) -> Activity:
    where = f"activities[{index}]"
    if not isinstance(raw, dict):
        raise InvalidLead(f"{where}: must be an object")
    kind = raw.get("type")
    if kind not in ACTIVITY_TYPES:
        raise InvalidLead(f"{where}.type: unknown activity type {kind!r}")
    at = raw.get("at")
    if not isinstance(at, str):
        raise InvalidLead(f"{where}.at: missing timestamp")
    try:
        moment = parse_time(at)
    except ValueError:
        raise InvalidLead(f"{where}.at: not an ISO-8601 timestamp: {at!r}") from None
    count = raw.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise InvalidLead(f"{where}.count: must be a non-negative integer")
    name, url = raw.get("name"), raw.get("url")
    if name is not None and not isinstance(name, str):
        raise InvalidLead(f"{where}.name: must be a string")
    if url is not None and not isinstance(url, str):
        raise InvalidLead(f"{where}.url: must be a string")
    return Activity(type=kind, at=moment, count=count, name=name, url=url)


class Reason(NamedTuple):
    """One contribution to a score, in words a rep understands, with its points."""

    text: str
    points: float
    kind: str  # fit | engagement | signal | negative | disqualifier


@dataclass(frozen=True, slots=True)
class Qualification:
    """What the scoring core concluded about one lead at one moment."""

    id: str
    score: int
    fit: int
    engagement: int
    grade: str
    stage: Stage
    #: highest level the lead still holds once the hysteresis margin is allowed for
    hold_stage: Stage
    disqualified: bool
    disqualified_reason: str | None
    signals: tuple[str, ...]
    reasons: tuple[Reason, ...]
    missing: tuple[str, ...]
    interests: tuple[str, ...]
    rules_version: str
    #: names of every rule that played a part (fit, engagement, negative, signal, scorecard, disqualifier):
    #: what the report's rule lift compares
    rules_fired: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        id: str,
        score: int,
        fit: int,
        engagement: int,
        grade: str,
        stage: Stage,
        hold_stage: Stage,
        disqualified: bool,
        disqualified_reason: str | None,
        signals: tuple[str, ...],
        reasons: tuple[Reason, ...],
        missing: tuple[str, ...],
        interests: tuple[str, ...],
        rules_version: str,
        rules_fired: tuple[str, ...],
    ) -> Qualification:
        """The Qualification the constructor builds, in about 60% of its time (0.9 µs, not 1.5).

        Scoring builds one per lead: this sets the slots through their setters (``_slot_setters``).
        The class stays frozen for every other caller and for mypy (the scoring tests compare the
        two ways of building one).
        """
        (
            set_id,
            set_score,
            set_fit,
            set_engagement,
            set_grade,
            set_stage,
            set_hold_stage,
            set_disqualified,
            set_disqualified_reason,
            set_signals,
            set_reasons,
            set_missing,
            set_interests,
            set_rules_version,
            set_rules_fired,
        ) = _QUALIFICATION_SLOTS
        q = _new_object(cls)
        set_id(q, id)
        set_score(q, score)
        set_fit(q, fit)
        set_engagement(q, engagement)
        set_grade(q, grade)
        set_stage(q, stage)
        set_hold_stage(q, hold_stage)
        set_disqualified(q, disqualified)
        set_disqualified_reason(q, disqualified_reason)
        set_signals(q, signals)
        set_reasons(q, reasons)
        set_missing(q, missing)
        set_interests(q, interests)
        set_rules_version(q, rules_version)
        set_rules_fired(q, rules_fired)
        return q

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "score": self.score,
            "fit": self.fit,
            "engagement": self.engagement,
            "grade": self.grade,
            "stage": self.stage.value,
            "disqualified": self.disqualified,
            "disqualified_reason": self.disqualified_reason,
            "signals": list(self.signals),
            "reasons": [r.text for r in self.reasons],
            "missing": list(self.missing),
            "interests": list(self.interests),
            "rules_version": self.rules_version,
            "rules_fired": list(self.rules_fired),
        }


_QUALIFICATION_SLOTS = _slot_setters(
    Qualification,
    (
        "id",
        "score",
        "fit",
        "engagement",
        "grade",
        "stage",
        "hold_stage",
        "disqualified",
        "disqualified_reason",
        "signals",
        "reasons",
        "missing",
        "interests",
        "rules_version",
        "rules_fired",
    ),
)


@dataclass(frozen=True, slots=True)
class CrmState:
    """What the CRM says about a record right now, in canonical terms."""

    stage: Stage | None
    lead_status: str | None = None
    owner_id: str | None = None
    name: str | None = None
    company: str | None = None


@dataclass(frozen=True, slots=True)
class Memory:
    """What Handoff remembers about a record between cycles (kept in the state store).

    ``episode`` counts qualification episodes: a recycle by sales opens a new one,
    and activity before ``episode_start`` no longer counts.
    """

    episode: int = 0
    episode_start: datetime | None = None
    level: Stage = Stage.LEAD
    promoted: Stage | None = None
    last_lead_status: str | None = None
    #: sales recycled the lead and the CRM stage still has to be set back (once)
    reset_pending: bool = False
    #: the CRM's stage as Handoff last knew it (read, or written by Handoff): a lower stage read
    #: later was set back by a person
    crm_stage: Stage | None = None
    #: when Handoff first saw a rep's rejection (a disqualify status); None while not rejected
    rejected_at: datetime | None = None
    #: what sales did that opened this episode: the recycle status, or the stage moved back to
    recycle_reason: str | None = None


class Priority(str, enum.Enum):
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """A follow-up task for a rep. ``key`` makes its creation idempotent."""

    key: str
    record_id: str
    stage: Stage
    owner_id: str | None
    subject: str
    body: str
    due_at: datetime
    priority: Priority


@dataclass(frozen=True, slots=True)
class Decision:
    """What the lifecycle policy wants done to one record, and what to remember."""

    record_id: str
    target_stage: Stage | None
    #: True when sales recycled the lead: the stage goes back, which a CRM only
    #: allows by clearing it first
    reset_stage: bool
    properties: Mapping[str, str | None]
    task: TaskSpec | None
    memory: Memory
    notes: tuple[str, ...] = field(default=())
