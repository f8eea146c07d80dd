"""Hiding credentials that ride inside URLs, wherever a URL is shown: check-config, errors, logs."""

from __future__ import annotations

import re

REDACTED = "[redacted]"

# scheme://userinfo@ : the userinfo runs to the last "@" before the path, query, fragment or a space
_USERINFO = re.compile(r"\b([a-z][a-z0-9+.-]*://)[^\s/?#'\"<>]*@", re.IGNORECASE)


def redact_url(text: str) -> str:
    """``text`` with the user name and password of every URL in it hidden.

    ``http://user:secret@host/x`` becomes ``http://[redacted]@host/x``; the
    host, path and anything around the URL stay, so a message still says where.
    """
    return _USERINFO.sub(rf"\g<1>{REDACTED}@", text)
