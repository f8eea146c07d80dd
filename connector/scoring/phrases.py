"""Small pieces of plain language for reasons and task bodies, and CRM text made safe to quote in them."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from connector.scoring.values import as_text

_MINUTE, _HOUR, _DAY = 60.0, 3600.0, 86400.0
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
#: characters that could fake a line, reorder what a rep reads or break an encoder: C0 and C1
#: controls, line and paragraph separators, bidirectional controls, lone surrogates
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
#: what Handoff's task marker looks like ("Handoff ref: handoff:<record>:<stage>:<episode>")
_MARKER = re.compile(r"(handoff(?:\s*ref)?)\s*:", re.IGNORECASE)
#: longest CRM value quoted in a reason or a task: a pasted essay must not crowd out the rest
VALUE_LIMIT = 200


def ago(seconds: float) -> str:
    """How long ago, the way a person says it: 'just now', '3 hours ago', 'yesterday', '2 weeks ago'."""
    if seconds < 2 * _MINUTE:
        return "just now"
    if seconds < _HOUR:
        return f"{int(seconds // _MINUTE)} minutes ago"
    if seconds < _DAY:
        hours = int(seconds // _HOUR)
        return "1 hour ago" if hours == 1 else f"{hours} hours ago"
    days = int(seconds // _DAY)
    if days == 1:
        return "yesterday"
    if days < 14:
        return f"{days} days ago"
    if days < 60:
        return f"{days // 7} weeks ago"
    if days < 730:
        return f"{days // 30} months ago"
    return f"{days // 365} years ago"


def ago_key(seconds: float) -> int:
    """What ``ago`` says of ``seconds``, as a number: two ages get the same number exactly when they
    get the same words. Reason words are cached by it, so all of a month's ages share one entry."""
    if seconds < _HOUR:
        return 0 if seconds < 2 * _MINUTE else int(seconds // _MINUTE)  # just now, 2-59 minutes
    if seconds < _DAY:
        return 60 + int(seconds // _HOUR)  # 61-83
    days = int(seconds // _DAY)
    if days < 14:
        return 100 + days  # 101-113: yesterday, days
    if days < 60:
        return 200 + days // 7  # 202-208: weeks
    if days < 730:
        return 300 + days // 30  # 302-324: months
    return 1000 + days // 365  # years


def window(days: float) -> str:
    """A signal's look-back window in words: 'today', 'this week', 'in the last 30 days'."""
    if days <= 1:
        return "today"
    if days == 7:
        return "this week"
    return f"in the last {days:g} days"


def humanize(name: str) -> str:
    """``demo_request`` -> ``Demo request``: the fallback label for a rule without a reason."""
    text = name.replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:]


def status_label(value: Any) -> str:
    """A CRM status as words: ``UNQUALIFIED`` -> ``Unqualified``, ``BAD_TIMING`` -> ``Bad timing``.

    A value already written in mixed case (``Closed - Not Converted``) is kept as it is.
    """
    text = " ".join(quoted(value).replace("_", " ").split())
    return text.capitalize() if text.isupper() or text.islower() else text


def day_label(moment: datetime) -> str:
    """``30 Nov 2026``: a day the same in every locale."""
    return f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year}"


def join_words(items: list[str]) -> str:
    """``['budget', 'timeline']`` -> ``budget and timeline``."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def one_line(text: str, limit: int | None = None) -> str:
    """``text`` made safe to show a rep: one line, no control characters, no task marker.

    Unsafe characters become spaces and runs of spaces one space, so a ``\\r\\n`` in a job
    title cannot add a line to a list of reasons. Anything that looks like Handoff's task
    marker loses its colon, so record content can never forge a task key in a task body.
    Longer than ``limit``, the text is cut with an ellipsis.
    """
    if not text.isprintable() or "handoff" in text.lower():
        text = _MARKER.sub(r"\1 -", " ".join(_UNSAFE.sub(" ", text).split()))
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def quoted(value: Any, limit: int = VALUE_LIMIT) -> str:
    """A CRM value (any JSON value) as safe text to quote: see ``one_line``; None is ""."""
    if value is None:
        return ""
    return one_line((value if value.__class__ is str else as_text(value)).strip(), limit)
