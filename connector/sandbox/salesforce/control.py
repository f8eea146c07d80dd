"""The Salesforce sandbox's own control routes (DESIGN.md 4.4), beside the generic ones.

Generic: ``GET /_sandbox/stats``, ``POST /_sandbox/faults``, ``POST /_sandbox/reset``.
Here: seeding records (Leads unless an item says ``"sobject": "Contact"``), touching
one as a rep would, seeding activities, the dump, and live settings. Bad input
answers 400 with ``{"error": ...}``; a record Salesforce would refuse adds its
``errorCode``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from connector.sandbox.salesforce.errors import RecordError
from connector.sandbox.server import Request, Response, Router

if TYPE_CHECKING:
    from connector.sandbox.salesforce.sandbox import SalesforceSandbox


def _guarded(answer: Callable[[Request], Response]) -> Callable[[Request], Response]:
    """Turn refusals into 400/404 replies a script can read."""

    def handler(request: Request) -> Response:
        try:
            return answer(request)
        except RecordError as refused:
            return Response(400, {"error": refused.message, "errorCode": refused.code, "fields": refused.fields})
        except LookupError as missing:
            return Response(404, {"error": str(missing)})

    return handler


def register_control(sandbox: SalesforceSandbox, router: Router) -> None:
    """Add the Salesforce control routes, bound to ``sandbox``."""

    def seed(request: Request) -> Response:
        return Response(201, {"ids": sandbox.seed_records(request.json_list())})

    def touch(request: Request) -> Response:
        body = request.json() or {}
        if not isinstance(body.get("properties"), dict):
            raise ValueError('expected {"properties": {...}}')
        record = sandbox.touch(request.params["id"], body["properties"])
        return Response(200, sandbox.routes.render(record, sandbox.DUMP_VERSION))

    def activities(request: Request) -> Response:
        return Response(201, {"created": sandbox.add_activities(request.json_list())})

    def settings(request: Request) -> Response:
        body = request.json() or {}
        if not isinstance(body, dict):
            raise ValueError("settings must be a JSON object")
        return Response(200, sandbox.configure(**body))

    router.add("POST", "/_sandbox/contacts", _guarded(seed))
    router.add("POST", "/_sandbox/contacts/{id}/touch", _guarded(touch))
    router.add("POST", "/_sandbox/activities", _guarded(activities))
    router.add("GET", "/_sandbox/dump", lambda request: Response(200, sandbox.dump()))
    router.add("GET", "/_sandbox/settings", lambda request: Response(200, sandbox.settings()))
    router.add("POST", "/_sandbox/settings", settings)
