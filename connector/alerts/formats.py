"""How an alert is written on the wire: a Slack message, a generic JSON body, and its signature.

Pure functions: no I/O.

**Slack** (``HANDOFF_ALERT_FORMAT=slack``): a Block Kit message for an incoming webhook, with a
plain ``text`` fallback for notifications. Text from the CRM (names, companies, reasons, owners)
is cleaned (control characters dropped, line breaks flattened), clipped to Slack's limits,
stripped of mention power (``<!channel>``-style tokens are escaped, ``@here``/``@channel``/
``@everyone`` lose their ``@``) and escaped (``&``, ``<``, ``>``), so a record can neither ping a
channel nor forge a link or an extra line.

**JSON** (``HANDOFF_ALERT_FORMAT=json``): a stable, versioned object (see :func:`json_body`).
Texts are cleaned the same way but not Slack-escaped.

**Signature** (when ``HANDOFF_ALERT_SECRET`` is set): two headers,
``X-Handoff-Timestamp: <unix seconds>`` and ``X-Handoff-Signature: sha256=<hex>``, where the hex
is HMAC-SHA256 keyed with the secret over the ASCII timestamp, a ``.``, then the exact body bytes.
A receiver recomputes it over the raw body it received, compares in constant time and rejects a
timestamp more than five minutes from its own clock (:func:`verify_signature` does all three).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import unicodedata
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import quote

from connector.alerts.events import AlertEvent, AlertKind
from connector.model import format_time

AlertFormat = Literal["slack", "json"]
FORMATS: tuple[AlertFormat, ...] = ("slack", "json")

#: version of the generic JSON body; bumped only when a field changes meaning or goes away
JSON_VERSION = 1

TIMESTAMP_HEADER = "X-Handoff-Timestamp"
SIGNATURE_HEADER = "X-Handoff-Signature"
#: how far a signed timestamp may be from the receiver's clock before the request counts as a replay
SIGNATURE_TOLERANCE_SECONDS = 300.0

# Slack's limits are 3,000 characters per section text and 2,000 per field; these keep well inside
NAME_CHARS = 150
REASON_CHARS = 250
REASONS_SHOWN = 8

_TITLES = {
    AlertKind.NEW_SQL: "New SQL",
    AlertKind.NEW_MQL: "New MQL",
    AlertKind.SLA_BREACH: "Follow-up overdue",
}
# bidirectional overrides and isolates reorder what a reader sees ("Trojan Source")
_BIDI = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
_FULLWIDTH_AT = "\uff20"
# what may stay as is inside a link's URL: RFC 3986 reserved and unreserved characters and '%'
_URL_SAFE = ":/?#[]@!$&'()*+,;=%-._~"


def clean_text(text: str) -> str:
    """One line of readable text: control characters, bidi overrides and lone surrogates go,
    line breaks and tabs become spaces, runs of whitespace one space."""
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        if category in ("Cc", "Zl", "Zp"):
            kept.append(" ")
        elif category != "Cs" and ch not in _BIDI:
            kept.append(ch)
    return " ".join("".join(kept).split())


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when something was cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def slack_escape(text: str) -> str:
    """Escape Slack's three control characters, ``&`` first so the entities stay intact."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_text(text: str, limit: int = NAME_CHARS) -> str:
    """CRM-supplied text made safe for Slack mrkdwn: cleaned, clipped, no mention power, escaped."""
    return slack_escape(_BROADCAST.sub(_FULLWIDTH_AT + r"\1", clip(clean_text(text), limit)))


def duration_words(span: timedelta) -> str:
    """``2 hours 15 minutes``, ``3 days 4 hours``, ``45 minutes``: the two largest units, rounded down."""
    minutes = int(span.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [(days, "day"), (hours, "hour"), (minutes, "minute")]
    largest = next((i for i, (n, _) in enumerate(parts) if n), None)
    if largest is None:
        return "less than a minute"
    return " ".join(f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in parts[largest : largest + 2] if n)


def display_name(event: AlertEvent) -> str:
    """Who the alert is about, as a rep would say it (cleaned, not escaped)."""
    return clean_text(event.name or "") or f"Lead {event.record_id}"


def _owner(event: AlertEvent) -> str:
    return clean_text(event.owner_name or event.owner_id or "") or "unassigned"


def _score(event: AlertEvent) -> str:
    """``87 (grade A)``, escaped for Slack."""
    score = "unknown" if event.score is None else str(event.score)
    grade = slack_text(event.grade or "", 8)
    return f"{score} (grade {grade})" if grade else score


def _slack_link(url: str, label: str) -> str:
    """``<url|label>`` with the URL percent-encoded where Slack's syntax would break (``|``, ``<``, ``>``)."""
    return f"<{slack_escape(quote(url, safe=_URL_SAFE))}|{label}>"


def _slack_time(moment: datetime) -> str:
    """A time each reader sees in their own time zone, with a UTC fallback for old clients."""
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def _headline(event: AlertEvent) -> tuple[str, str]:
    """The first line, as (mrkdwn, plain fallback)."""
    title = _TITLES[event.kind]
    who = slack_text(display_name(event))
    company = slack_text(event.company or "")
    company = f" ({company})" if company else ""
    late = f", {duration_words(event.overdue_by)} overdue" if event.overdue_by is not None else ""
    person = _slack_link(event.record_url, who) if event.record_url else who
    return f"*{title}:* *{person}*{company}{late}", f"{title}: {who}{company}{late}"


def slack_message(event: AlertEvent) -> dict[str, Any]:
    """The Slack incoming-webhook payload: Block Kit ``blocks`` plus a plain ``text`` fallback."""
    headline, fallback = _headline(event)
    reasons = [slack_text(r, REASON_CHARS) for r in event.reasons[:REASONS_SHOWN]]
    reasons = [r for r in reasons if r]
    fields = [
        f"*Score*\n{_score(event)}",
        f"*Stage*\n{event.stage.value.upper()}",
        f"*Owner*\n{slack_text(_owner(event))}",
    ]
    if event.overdue_by is not None and event.due_at is not None:
        fields.append(f"*Was due*\n{_slack_time(event.due_at)}")
    elif event.due_at is not None:
        fields.append(f"*Follow up by*\n{_slack_time(event.due_at)}")
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": headline}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]},
    ]
    if reasons:
        why = "*Why now*\n" + "\n".join(f"• {r}" for r in reasons)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": why}})
    context = [f"Handoff · {slack_text(event.key, 200)}"]
    if event.record_url:
        context.insert(0, _slack_link(event.record_url, "Open the record"))
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": c} for c in context]})
    text = f"{fallback}, score {_score(event)}"
    if reasons:
        text += f": {reasons[0]}"
    return {"text": text, "blocks": blocks}


def json_body(event: AlertEvent) -> dict[str, Any]:
    """The generic webhook body, schema version 1.

    ``version``, ``event`` (new_sql | new_mql | sla_breach), ``key`` (deduplicate on it),
    ``occurred_at``, ``record`` {``id``, ``episode``, ``url``}, ``person`` {``name``, ``company``},
    ``stage`` (mql | sql), ``score``, ``grade``, ``reasons`` (why-now lines, most important first),
    ``owner`` {``id``, ``name``}, ``due_at`` and ``overdue_seconds`` (SLA breaches). Times are
    ISO-8601 UTC with ``Z``; unknown values are ``null``. New fields may be added within a version.
    """
    overdue = event.overdue_by
    return {
        "version": JSON_VERSION,
        "event": event.kind.value,
        "key": event.key,
        "occurred_at": format_time(event.occurred_at),
        "record": {"id": event.record_id, "episode": event.episode, "url": event.record_url},
        "person": {"name": _clean_or_none(event.name), "company": _clean_or_none(event.company)},
        "stage": event.stage.value,
        "score": event.score,
        "grade": _clean_or_none(event.grade),
        "reasons": [r for r in (clean_text(r) for r in event.reasons) if r],
        "owner": {"id": _clean_or_none(event.owner_id), "name": _clean_or_none(event.owner_name)},
        "due_at": format_time(event.due_at) if event.due_at is not None else None,
        "overdue_seconds": int(overdue.total_seconds()) if overdue is not None else None,
    }


def _clean_or_none(text: str | None) -> str | None:
    return (clean_text(text) or None) if text is not None else None


def render(event: AlertEvent, fmt: AlertFormat) -> bytes:
    """The request body for ``fmt``: compact JSON, ASCII-only so any byte sequence from a CRM encodes."""
    payload = slack_message(event) if fmt == "slack" else json_body(event)
    return json.dumps(payload, separators=(",", ":")).encode("ascii")


def _digest(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def signature_headers(secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    """``X-Handoff-Timestamp`` and ``X-Handoff-Signature: sha256=<hex>`` for ``body`` sent at ``timestamp``."""
    stamp = str(int(timestamp))
    return {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: "sha256=" + _digest(secret, stamp, body)}


def verify_signature(
    secret: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    *,
    now: float,
    tolerance: float = SIGNATURE_TOLERANCE_SECONDS,
) -> bool:
    """True when ``signature`` is the secret's HMAC of ``timestamp`` and the raw ``body``, and the
    timestamp lies within ``tolerance`` seconds of ``now`` (epoch seconds). For receivers."""
    if not timestamp or not signature or not timestamp.isascii() or not timestamp.isdigit():
        return False
    if abs(now - int(timestamp)) > tolerance:
        return False
    scheme, _, received = signature.partition("=")
    if scheme != "sha256":
        return False
    return hmac.compare_digest(received.encode("ascii", "replace"), _digest(secret, timestamp, body).encode())
