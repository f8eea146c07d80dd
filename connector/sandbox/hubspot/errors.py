"""HubSpot's error bodies: the single-call ``Error`` and the batch ``StandardError`` element."""

from __future__ import annotations

import json
import uuid
from typing import Any

from connector.sandbox.hubspot.store import PORTAL_ID, PropertyError
from connector.sandbox.server import HttpError

CORRELATION_HEADER = "X-HubSpot-Correlation-Id"

AUTH_MESSAGE = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more "
    "details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)
NOT_FOUND_MESSAGE = "resource not found"


def correlation_id() -> str:
    """A fresh request id, as HubSpot puts in every reply."""
    return str(uuid.uuid4())


def error(status: int, category: str, message: str, **extra: Any) -> HttpError:
    """An HttpError carrying HubSpot's error body: status, message, correlationId, category, extras."""
    cid = correlation_id()
    body = {"status": "error", "message": message, "correlationId": cid, "category": category, **extra}
    return HttpError(status, body, {CORRELATION_HEADER: cid})


def validation(message: str, **extra: Any) -> HttpError:
    """400 VALIDATION_ERROR."""
    return error(400, "VALIDATION_ERROR", message, **extra)


def not_found(message: str = NOT_FOUND_MESSAGE) -> HttpError:
    """404 OBJECT_NOT_FOUND."""
    return error(404, "OBJECT_NOT_FOUND", message)


def property_message(errors: list[PropertyError]) -> str:
    """HubSpot's "Property values were not valid" message, details as JSON inside the string."""
    details = [
        {
            "isValid": False,
            "message": e.message,
            "error": e.code,
            "name": e.name,
            "localizedErrorMessage": e.message,
            "portalId": PORTAL_ID,
        }
        for e in errors
    ]
    return "Property values were not valid: " + json.dumps(details, separators=(",", ":"))


def batch_error(category: str, message: str, context: dict[str, list[str]], **extra: Any) -> dict[str, Any]:
    """One element of a 207 reply's ``errors`` list."""
    return {"status": "error", "category": category, "message": message, "context": context, **extra}
