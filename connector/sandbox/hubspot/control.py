"""The HubSpot sandbox's own control routes (DESIGN.md 4.4), beside the generic ones.

Generic: ``GET /_sandbox/stats``, ``POST /_sandbox/faults``, ``POST /_sandbox/reset``.
Here (no auth; bodies are JSON):

- ``POST /_sandbox/contacts``: seed contacts, ``[{"id"?, "properties": {...}}]`` -> 201 ``{"ids"}``
- ``POST /_sandbox/contacts/{id}/touch``: ``{"properties": {...}}``, as a rep or another app
- ``POST /_sandbox/activities``: seed engagement (canonical activities or engagement objects)
- ``GET /_sandbox/dump``, ``GET|POST /_sandbox/settings``

A rep's sales work, each a write by a user (modified times move, search sees it after the lag):

- ``POST /_sandbox/deals``: ``{"contactId", "pipeline"?, "stage"?, "amount"?, "name"?,
  "closedate"?}`` -> 201 the deal; the contact becomes an opportunity (lifecycle sync)
- ``POST /_sandbox/deals/{id}/stage``: ``{"stage": <stage id> | "won" | "lost" | "reopen",
  "properties"?: {...}}`` -> 200 the deal; won makes its contacts customers
- ``DELETE /_sandbox/deals/{id}``: archive the deal -> 204
- ``POST /_sandbox/tasks/{id}/complete`` -> 200 the task, ``COMPLETED`` with its completion date
- ``POST /_sandbox/tasks/{id}/status``: ``{"status": "IN_PROGRESS" | "WAITING" | ...}`` -> 200

Bad input answers 400 with ``{"error": ...}`` (the app turns ValueError/KeyError into it);
an unknown record 404, a write HubSpot would refuse 400 with its ``details``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from connector.sandbox.hubspot.store import Conflict, InvalidAssociation, Record, WriteRejected
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
        body = request.json_object()
        if not isinstance(body.get("properties"), dict):
            raise ValueError('expected {"properties": {...}}')
        return Response(200, _full(sandbox.touch(request.params["id"], body["properties"])))

    def activities(request: Request) -> Response:
        try:
            return Response(201, {"created": sandbox.add_activities(request.json_list())})
        except (WriteRejected, Conflict, InvalidAssociation) as problem:
            return _refused(problem)

    def settings(request: Request) -> Response:
        return Response(200, sandbox.configure(**(request.json() or {})))

    def create_deal(request: Request) -> Response:
        body = request.json_object()
        if not body.get("contactId"):
            raise ValueError('expected {"contactId": ..., ...}')
        deal = sandbox.create_deal(
            str(body["contactId"]),
            pipeline=body.get("pipeline"),
            stage=body.get("stage"),
            amount=body.get("amount"),
            name=body.get("name"),
            close_date=body.get("closedate"),
        )
        return Response(201, _full(deal))

    def move_deal(request: Request) -> Response:
        body = request.json_object()
        changes = body.get("properties") or {}
        if not isinstance(changes, dict) or not isinstance(body.get("stage"), str):
            raise ValueError('expected {"stage": ..., "properties"?: {...}}')
        return Response(200, _full(sandbox.move_deal(request.params["id"], body["stage"], **changes)))

    def delete_deal(request: Request) -> Response:
        sandbox.delete_deal(request.params["id"])
        return Response(204)

    def complete_task(request: Request) -> Response:
        return Response(200, _full(sandbox.set_task_status(request.params["id"])))

    def task_status(request: Request) -> Response:
        status = request.json_object().get("status")
        if not isinstance(status, str):
            raise ValueError('expected {"status": ...}')
        return Response(200, _full(sandbox.set_task_status(request.params["id"], status)))

    router.add("POST", "/_sandbox/contacts", seed_contacts)
    router.add("POST", "/_sandbox/contacts/{id}/touch", _rep_work(touch))
    router.add("POST", "/_sandbox/activities", activities)
    router.add("GET", "/_sandbox/dump", lambda request: Response(200, sandbox.dump()))
    router.add("GET", "/_sandbox/settings", lambda request: Response(200, sandbox.settings()))
    router.add("POST", "/_sandbox/settings", settings)
    for method, template, handler in (
        ("POST", "/_sandbox/deals", create_deal),
        ("POST", "/_sandbox/deals/{id}/stage", move_deal),
        ("DELETE", "/_sandbox/deals/{id}", delete_deal),
        ("POST", "/_sandbox/tasks/{id}/complete", complete_task),
        ("POST", "/_sandbox/tasks/{id}/status", task_status),
    ):
        router.add(method, template, _rep_work(handler))


def _full(record: Record) -> dict[str, Any]:
    """A record with every property it has."""
    return record_json(record, sorted(record.props))


def _rep_work(answer: Callable[[Request], Response]) -> Callable[[Request], Response]:
    """Acting on a record: an unknown one is 404; a write HubSpot would refuse is 400 (409 for a
    duplicate) with its details."""

    def handler(request: Request) -> Response:
        try:
            return answer(request)
        except KeyError as missing:
            return Response(404, {"error": str(missing).strip("'\"")})
        except (WriteRejected, Conflict, InvalidAssociation) as problem:
            return _refused(problem)

    return handler
