"""Small pieces of plain language for reasons and task bodies."""

from __future__ import annotations

_MINUTE, _HOUR, _DAY = 60.0, 3600.0, 86400.0


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


def join_words(items: list[str]) -> str:
    """``['budget', 'timeline']`` -> ``budget and timeline``."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
