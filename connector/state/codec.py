"""JSON forms of the canonical types kept in the state store."""

from __future__ import annotations

import hashlib
from base64 import urlsafe_b64encode
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from connector.model import (
    MAX_COUNT,
    Activity,
    CrmState,
    Lead,
    Memory,
    Priority,
    Stage,
    TaskSpec,
    format_time,
    lead_from_json,
    parse_time,
    trusted_activity,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MILLISECOND = timedelta(milliseconds=1)
#: what starts a stored digest; a value that starts so is always stored digested, so none is misread
DIGEST_MARK = "~"
#: bytes of hash in a digest: 72 bits, 12 characters
DIGEST_BYTES = 9
#: a value longer than this is stored as its digest (shorter ones would not get shorter)
DIGEST_OVER = len(DIGEST_MARK) + 4 * DIGEST_BYTES // 3
#: digests of recent values kept (a few hundred bytes each)
DIGESTS_KEPT = 10_000
#: memories read back kept, by their stored form
MEMORIES_KEPT = 10_000


class Digest(str):
    """A long stored value kept as its digest: equal to the digest and to every value with that digest.

    Handoff only ever asks whether such a value changed (what it last wrote, the engagement
    markers and dates it last read), so ``stored == fresh`` and ``stored != fresh`` answer that
    without the value itself; stored again it stays the same digest.
    """

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return str.__eq__(self, other if isinstance(other, Digest) else digest(other))
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = str.__hash__


def digest(value: str) -> str:
    """The stored form of ``value``: itself when short (and not mark-like) or a digest already, else its digest."""
    if isinstance(value, Digest) or (len(value) <= DIGEST_OVER and not value.startswith(DIGEST_MARK)):
        return value
    return _digest_of(value)


@lru_cache(maxsize=DIGESTS_KEPT)
def _digest_of(value: str) -> str:
    # the sweep compares every record's reasons with the digest stored, and many leads share their words
    hashed = hashlib.blake2b(value.encode(), digest_size=DIGEST_BYTES).digest()
    return DIGEST_MARK + urlsafe_b64encode(hashed).decode()


def compared_to_json(values: Mapping[str, Any]) -> dict[str, Any]:
    """Values Handoff only compares (what it wrote, what it read last), long texts as digests."""
    return {name: digest(value) if isinstance(value, str) else value for name, value in values.items()}


def compared_from_json(data: Mapping[str, Any]) -> dict[str, Any]:
    """The values ``compared_to_json`` kept; a digest reads back as a ``Digest`` (old full values as they are)."""
    return {
        name: Digest(value) if isinstance(value, str) and value.startswith(DIGEST_MARK) else value
        for name, value in data.items()
    }


#: activity types as stored, by number. Stored rows refer to these positions: a new type is
#: appended, none is ever moved or removed (a type not listed is stored by its name)
ACTIVITY_CODES = (
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
)
_CODE_OF = {kind: code for code, kind in enumerate(ACTIVITY_CODES)}


def lead_to_json(lead: Lead) -> dict[str, Any]:
    """A lead as the records table keeps it: properties, and each activity as a short list.

    ``[type code, epoch milliseconds]``, then count, name and URL as far as any is set: a stored
    lead is about half its canonical JSON, and reads back faster.
    """
    return {"p": dict(lead.properties), "a": [_activity_row(a) for a in lead.activities]}


def _activity_row(activity: Activity) -> list[Any]:
    extra: list[Any] = [activity.count, activity.name, activity.url]
    while extra and extra[-1] is None:
        extra.pop()
    if extra == [1]:
        extra = []  # the count every single activity has
    kind = _CODE_OF.get(activity.type, activity.type)
    return [kind, (activity.at - EPOCH) // MILLISECOND, *extra]


def lead_from_stored(record_id: str, data: Any) -> Lead:
    """The lead a records row keeps; rows of older versions hold type names, or the canonical JSON."""
    if not isinstance(data, dict) or "p" not in data:
        return lead_from_json(data)
    activities: list[Activity] = []
    add = activities.append
    for row in data.get("a", ()):
        kind, ms = row[0], row[1]
        if isinstance(kind, int):
            kind = ACTIVITY_CODES[kind]
        size = len(row)
        count = row[2] if size > 2 else 1
        if 0 <= count <= MAX_COUNT:
            # an Activity stored it, so it holds as it is: epoch seconds are exactly ms / 1000 (both round the same quotient)
            name, url = row[3] if size > 3 else None, row[4] if size > 4 else None
            add(trusted_activity(kind, EPOCH + ms * MILLISECOND, count, name, url, ms / 1000))
        else:
            add(Activity(kind, EPOCH + ms * MILLISECOND, *row[2:]))
    return Lead(record_id, data["p"], tuple(activities))


#: the CRM state's fields, in the order of the bits of ``SAME_AS_LEAD``
CRM_STATE_FIELDS = ("stage", "lead_status", "owner_id", "name", "company")
#: the key of a bit set: which fields are as the lead's properties have them (so not stored twice)
SAME_AS_LEAD = "="
#: each field with its bit in ``SAME_AS_LEAD``, in CrmState's order
_FIELD_BITS = tuple((name, 1 << bit) for bit, name in enumerate(CRM_STATE_FIELDS))


def crm_state_to_json(state: CrmState, properties: Mapping[str, Any]) -> dict[str, Any]:
    """What the CRM said, without the fields it left empty or the lead's properties already hold.

    Every record is stored, so each byte counts: the stage, status, owner, name and company
    are almost always the properties read with them.
    """
    values = {
        "stage": state.stage.value if state.stage else None,
        "lead_status": state.lead_status,
        "owner_id": state.owner_id,
        "name": state.name,
        "company": state.company,
    }
    derived = _crm_state_of(properties)
    same, stored = 0, {}
    for bit, name in enumerate(CRM_STATE_FIELDS):
        if values[name] is not None and values[name] == derived[name]:
            same |= 1 << bit
        elif values[name] is not None:
            stored[name] = values[name]
    return {**stored, SAME_AS_LEAD: same} if same else stored


def crm_state_from_json(data: dict[str, Any], properties: Mapping[str, Any]) -> CrmState:
    """The state ``crm_state_to_json`` kept for a lead with these properties (or an older row's full form)."""
    same = data.get(SAME_AS_LEAD, 0)
    derived = _crm_state_of(properties) if same else {}
    stage, *rest = [derived[name] if same & bit else data.get(name) for name, bit in _FIELD_BITS]
    return CrmState(Stage(stage) if stage else None, *rest)  # every sweep reads every record's: positional is faster


def _crm_state_of(properties: Mapping[str, Any]) -> dict[str, Any]:
    """The CRM state fields as the canonical properties spell them."""
    name = " ".join(str(p) for p in (properties.get("first_name"), properties.get("last_name")) if p) or None
    return {
        "stage": properties.get("lifecycle_stage"),
        "lead_status": properties.get("lead_status"),
        "owner_id": properties.get("owner_id"),
        "name": name,
        "company": properties.get("company"),
    }


def memory_to_json(memory: Memory) -> dict[str, Any]:
    """What Handoff remembers, without what is as a new record's (``memory_from_json`` fills it back in)."""
    values = {
        "episode": memory.episode or None,
        "episode_start": format_time(memory.episode_start) if memory.episode_start else None,
        "level": memory.level.value if memory.level is not Stage.LEAD else None,
        "promoted": memory.promoted.value if memory.promoted else None,
        "last_lead_status": memory.last_lead_status,
        "reset_pending": memory.reset_pending or None,
        "crm_stage": memory.crm_stage.value if memory.crm_stage else None,
        "rejected_at": format_time(memory.rejected_at) if memory.rejected_at else None,
        "recycle_reason": memory.recycle_reason,
    }
    return {name: value for name, value in values.items() if value is not None}


def memory_from_json(data: dict[str, Any]) -> Memory:
    """The memory ``memory_to_json`` kept; most records remember one of a few things, read once each."""
    try:
        return _memory_of(tuple(data.items()))
    except TypeError:  # a value no version writes (a list): read as it is
        return _memory_from(data)


@lru_cache(maxsize=MEMORIES_KEPT)
def _memory_of(items: tuple[tuple[str, Any], ...]) -> Memory:
    # a Memory is frozen: records that remember the same share one
    return _memory_from(dict(items))


def _memory_from(data: dict[str, Any]) -> Memory:
    return Memory(
        episode=int(data.get("episode", 0)),
        episode_start=parse_time(data["episode_start"]) if data.get("episode_start") else None,
        level=Stage(data.get("level", Stage.LEAD.value)),
        promoted=Stage(data["promoted"]) if data.get("promoted") else None,
        last_lead_status=data.get("last_lead_status"),
        reset_pending=bool(data.get("reset_pending", False)),
        crm_stage=Stage(data["crm_stage"]) if data.get("crm_stage") else None,
        rejected_at=parse_time(data["rejected_at"]) if data.get("rejected_at") else None,
        recycle_reason=data.get("recycle_reason"),
    )


def task_to_json(task: TaskSpec) -> dict[str, Any]:
    return {
        "key": task.key,
        "record_id": task.record_id,
        "stage": task.stage.value,
        "owner_id": task.owner_id,
        "subject": task.subject,
        "body": task.body,
        "due_at": format_time(task.due_at),
        "priority": task.priority.value,
    }


def task_from_json(data: dict[str, Any]) -> TaskSpec:
    return TaskSpec(
        key=data["key"],
        record_id=data["record_id"],
        stage=Stage(data["stage"]),
        owner_id=data.get("owner_id"),
        subject=data["subject"],
        body=data["body"],
        due_at=parse_time(data["due_at"]),
        priority=Priority(data["priority"]),
    )
