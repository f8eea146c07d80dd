"""The Salesforce sandbox's own control routes (DESIGN.md 4.4), beside the generic ones.

Generic: ``GET /_sandbox/stats``, ``POST /_sandbox/faults``, ``POST /_sandbox/reset``.
Here (no auth; bodies are JSON with Salesforce field names):

- ``POST /_sandbox/contacts``: seed records, ``[{"id"?, "sobject"? (Lead), "properties"}]`` -> 201 ``{"ids"}``
- ``POST /_sandbox/contacts/{id}/touch``: ``{"properties": {...}}``, as a rep or another app
- ``POST /_sandbox/activities``: canonical activities or raw ``{"sobject", "fields"}`` records
- ``GET /_sandbox/dump``, ``GET|POST /_sandbox/settings``

A rep's sales work (:mod:`~connector.sandbox.salesforce.sales`), each moving
``LastModifiedDate`` and ``SystemModstamp`` of what it touches:

- ``POST /_sandbox/leads/{id}/convert``: ``{"opportunity"?: true, "accountId"?, "contactId"?,
  "properties"?: {Opportunity fields}}`` -> 200 ``{"lead", "accountId", "contactId",
  "opportunityId"}`` (``opportunityId`` null when converted without one)
- ``POST /_sandbox/opportunities/{id}/close``: ``{"stage": "won" | "lost" | "reopen" | <StageName>,
  "properties"?: {...}}`` -> 200 the Opportunity (closing sets today's CloseDate unless given)
- ``DELETE /_sandbox/opportunities/{id}``: to the Recycle Bin (``queryAll`` sees it) -> 204
- ``POST /_sandbox/tasks/{id}/complete`` -> 200 the Task, ``Completed`` with ``CompletedDateTime``
- ``POST /_sandbox/tasks/{id}/status``: ``{"status": "In Progress" | ...}`` -> 200 the Task

Bad input answers 400 with ``{"error": ...}``; a write Salesforce would refuse adds its
``errorCode``; an unknown record is 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from connector.sandbox.salesforce import sales
from connector.sandbox.salesforce.errors import RecordError
from connector.sandbox.salesforce.org import Record
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

    def render(record: Record) -> dict[str, Any]:
        return sandbox.routes.render(record, sandbox.DUMP_VERSION)

    def seed(request: Request) -> Response:
        return Response(201, {"ids": sandbox.seed_records(request.json_list())})

    def touch(request: Request) -> Response:
        body = request.json() or {}
        if not isinstance(body.get("properties"), dict):
            raise ValueError('expected {"properties": {...}}')
        return Response(200, render(sandbox.touch(request.params["id"], body["properties"])))

    def activities(request: Request) -> Response:
        return Response(201, {"created": sandbox.add_activities(request.json_list())})

    def settings(request: Request) -> Response:
        return Response(200, sandbox.configure(**request.json_object()))

    def convert(request: Request) -> Response:
        body = request.json_object()
        lead = sales.convert_lead(
            sandbox.org,
            request.params["id"],
            opportunity=bool(body.get("opportunity", True)),
            account_id=body.get("accountId"),
            contact_id=body.get("contactId"),
            opportunity_fields=_properties(body),
        )
        values = lead.values
        return Response(
            200,
            {
                "lead": render(lead),
                "accountId": values["ConvertedAccountId"],
                "contactId": values["ConvertedContactId"],
                "opportunityId": values["ConvertedOpportunityId"],
            },
        )

    def close(request: Request) -> Response:
        body = request.json_object()
        if not isinstance(body.get("stage"), str):
            raise ValueError('expected {"stage": "won" | "lost" | "reopen" | <StageName>, "properties"?: {...}}')
        deal = sales.move_opportunity(sandbox.org, request.params["id"], body["stage"], **_properties(body))
        return Response(200, render(deal))

    def delete(request: Request) -> Response:
        sales.delete_opportunity(sandbox.org, request.params["id"])
        return Response(204)

    def complete(request: Request) -> Response:
        return Response(200, render(sales.set_task_status(sandbox.org, request.params["id"])))

    def status(request: Request) -> Response:
        value = request.json_object().get("status")
        if not isinstance(value, str):
            raise ValueError('expected {"status": ...}')
        return Response(200, render(sales.set_task_status(sandbox.org, request.params["id"], value)))

    router.add("POST", "/_sandbox/contacts", _guarded(seed))
    router.add("POST", "/_sandbox/contacts/{id}/touch", _guarded(touch))
    router.add("POST", "/_sandbox/activities", _guarded(activities))
    router.add("GET", "/_sandbox/dump", lambda request: Response(200, sandbox.dump()))
    router.add("GET", "/_sandbox/settings", lambda request: Response(200, sandbox.settings()))
    router.add("POST", "/_sandbox/settings", settings)
    router.add("POST", "/_sandbox/leads/{id}/convert", _guarded(convert))
    router.add("POST", "/_sandbox/opportunities/{id}/close", _guarded(close))
    router.add("DELETE", "/_sandbox/opportunities/{id}", _guarded(delete))
    router.add("POST", "/_sandbox/tasks/{id}/complete", _guarded(complete))
    router.add("POST", "/_sandbox/tasks/{id}/status", _guarded(status))


def _properties(body: dict[str, Any]) -> dict[str, Any]:
    properties = body.get("properties") or {}
    if not isinstance(properties, dict):
        raise ValueError('"properties" must be an object of field values')
    return properties
