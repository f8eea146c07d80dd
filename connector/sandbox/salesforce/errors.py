"""Salesforce's error bodies.

Single-resource calls answer an HTTP error status with a JSON array of
``{"message", "errorCode"[, "fields"]}``; sObject Collections answer 200 and put
``{"statusCode", "message", "fields"}`` inside each failed item. One
:class:`RecordError` carries a record-level problem to either shape.
"""

from __future__ import annotations

from typing import Any

from connector.sandbox.server import HttpError, Request

NOT_FOUND_MESSAGE = "The requested resource does not exist"
SESSION_MESSAGE = "Session expired or invalid"
TOTAL_REQUESTS_MESSAGE = "TotalRequests Limit exceeded."
ROLLED_BACK_MESSAGE = "Record rolled back because not all records were valid and the request was using AllOrNone header"


class RecordError(Exception):
    """Why one record could not be written (DML error)."""

    def __init__(self, code: str, message: str, fields: list[str] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.fields = fields or []

    def single(self, status: int = 400) -> HttpError:
        """As the reply to a single-record call (``fields`` only when the error names some)."""
        body: dict[str, Any] = {"message": self.message, "errorCode": self.code}
        if self.fields:
            body["fields"] = self.fields
        return HttpError(status, [body])

    def item(self) -> dict[str, Any]:
        """As one failed item of a collection reply."""
        return {"success": False, "errors": [{"statusCode": self.code, "message": self.message, "fields": self.fields}]}


def error(status: int, code: str, message: str) -> HttpError:
    """A request-level error (no ``fields``), e.g. NOT_FOUND or MALFORMED_QUERY."""
    return HttpError(status, [{"message": message, "errorCode": code}])


def request_json(request: Request) -> Any:
    """The request's body as JSON; 400 ``JSON_PARSER_ERROR`` when it is not JSON."""
    try:
        return request.json()
    except ValueError as bad:
        raise error(400, "JSON_PARSER_ERROR", f"Unexpected character: {bad}") from None


def object_body(request: Request) -> dict[str, Any]:
    """The request's body as a JSON object; 400 ``JSON_PARSER_ERROR`` when it is anything else."""
    body = request_json(request)
    if not isinstance(body, dict):
        raise error(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of object from a non-object value")
    return body


def not_found() -> HttpError:
    return HttpError(404, [{"errorCode": "NOT_FOUND", "message": NOT_FOUND_MESSAGE}])


def rolled_back() -> dict[str, Any]:
    """The item reply of a valid record in a failed allOrNone request."""
    return RecordError("ALL_OR_NONE_OPERATION_ROLLED_BACK", ROLLED_BACK_MESSAGE).item()
