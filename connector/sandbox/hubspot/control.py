"""The HubSpot sandbox's own control routes (DESIGN.md 4.4), beside the generic ones.

Generic: ``GET /_sandbox/stats``, ``POST /_sandbox/faults``, ``POST /_sandbox/reset``.
Here: seeding contacts, touching one, seeding activities, the dump, and live settings.
Bad input answers 400 with ``{"error": ...}`` (the app turns ValueError/KeyError into it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connector.sandbox.hubspot.store import Conflict, InvalidAssociation, WriteRejected
from connector.sandbox.hubspot.wire import record_json
from connector.sandbox.server import Request, Response, Router

if TYPE_CHECKING:
    from connector.sandbox.hubspot.sandbox import HubSpotSandbox


def _refused(problem: Exception) -> Response:
    if isinstance(problem, WriteRejected):
        return Response(400, {"error": "invalid properties", "details": [e.message for e in problem.errors]})
    return Response(409 if isinstance(problem, Conflict) else 400, {"error": str(problem)})


def register_control(sandbox: HubSpotSandbox, router: Router) -> None:
    """Add the HubSpot control routes, bound to ``sandbox``."""

    def seed_contacts(request: Request) -> Response:
        try:
            return Response(201, {"ids": sandbox.seed_contacts(request.json_list())})
        except (WriteRejected, Conflict) as problem:
            return _refused(problem)

    def touch(request: Request) -> Response:
        body = request.json() or {}
        if not isinstance(body.get("properties"), dict):
            raise ValueError('expected {"properties": {...}}')
        try:
            record = sandbox.touch(request.params["id"], body["properties"])
        except KeyError as missing:
            return Response(404, {"error": str(missing)})
        except (WriteRejected, Conflict) as problem:
            return _refused(problem)
        return Response(200, record_json(record, sorted(record.props)))

    def activities(request: Request) -> Response:
        try:
            return Response(201, {"created": sandbox.add_activities(request.json_list())})
        except (WriteRejected, Conflict, InvalidAssociation) as problem:
            return _refused(problem)

    def settings(request: Request) -> Response:
        return Response(200, sandbox.configure(**(request.json() or {})))

    router.add("POST", "/_sandbox/contacts", seed_contacts)
    router.add("POST", "/_sandbox/contacts/{id}/touch", touch)
    router.add("POST", "/_sandbox/activities", activities)
    router.add("GET", "/_sandbox/dump", lambda request: Response(200, sandbox.dump()))
    router.add("GET", "/_sandbox/settings", lambda request: Response(200, sandbox.settings()))
    router.add("POST", "/_sandbox/settings", settings)
