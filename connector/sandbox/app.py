"""The request pipeline every sandbox shares: control API, faults, stats, then the CRM's routes.

A CRM sandbox subclasses :class:`SandboxApp`, registers its API routes on ``self.api``
and its own control routes on ``self.control``, and fills in the hooks that shape
replies the way that CRM does (errors, unknown routes, injected faults).
"""

from __future__ import annotations

import time
from typing import Any

from connector.sandbox.clock import Clock, system_clock
from connector.sandbox.faults import FaultInjector, Faults
from connector.sandbox.server import (
    DropConnection,
    Handler,
    HttpError,
    Request,
    Response,
    RouteNotFound,
    Router,
)
from connector.sandbox.stats import DROPPED, Stats

CONTROL_PREFIX = "/_sandbox/"


class SandboxApp:
    """Base of every CRM sandbox: routes ``/_sandbox/`` to the control API, the rest to the CRM."""

    def __init__(self, *, clock: Clock = system_clock, seed: int = 0) -> None:
        self.clock = clock
        self.api = Router()
        self.control = Router()
        self.stats = Stats()
        self.faults = FaultInjector(seed)
        self.control.add("GET", "/_sandbox/stats", lambda r: Response(200, self.stats.snapshot()))
        self.control.add("POST", "/_sandbox/faults", self._set_faults)
        self.control.add("GET", "/_sandbox/faults", lambda r: Response(200, self.faults.faults.to_json()))
        self.control.add("POST", "/_sandbox/reset", self._reset)

    # -- hooks for the CRM ------------------------------------------------------------

    def serve(self, request: Request, handler: Handler | None) -> Response:
        """Answer a routed API call: auth, rate limits, then ``self.call(handler, request)``.

        ``handler`` is None when no route matched the path.
        """
        raise NotImplementedError

    def fault_response(self, request: Request, status: int) -> Response:
        """The reply to a call chosen to fail with ``status`` by the fault injector."""
        return Response(status, {"message": "injected fault"})

    def label(self, template: str, params: dict[str, str]) -> str:
        """The path part of a call's stats label; a CRM may name some parameters' values."""
        return template

    def reset(self, options: dict[str, Any]) -> None:
        """Return the CRM's data to its starting state (``options`` come from the request body)."""

    # -- pipeline ---------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Dispatch one request; the server calls this from its connection threads."""
        if request.path.startswith(CONTROL_PREFIX):
            return self._control(request)
        handler = self._resolve(request, self.api)
        decision = self.faults.decide()
        if decision.delay_s:
            time.sleep(decision.delay_s)
        if decision.drop:
            self.stats.record(request.label, DROPPED)
            raise DropConnection
        if decision.status is not None:
            response = self.fault_response(request, decision.status)
        else:
            response = self.serve(request, handler)
        self.stats.record(request.label, response.status)
        return response

    def _resolve(self, request: Request, router: Router) -> Handler | None:
        try:
            handler, params, template = router.match(request.method, request.path)
        except RouteNotFound:
            request.label = f"{request.method} (no route)"
            return None
        request.params = params
        request.label = f"{request.method} {self.label(template, params)}"
        return handler

    @staticmethod
    def call(handler: Handler, request: Request) -> Response:
        """Run ``handler``, turning an HttpError it raises into its reply."""
        try:
            return handler(request)
        except HttpError as error:
            return Response(error.status, error.body, error.headers)

    def _control(self, request: Request) -> Response:
        handler = self._resolve(request, self.control)
        if handler is None:
            return Response(404, {"error": f"no control route {request.method} {request.path}"})
        try:
            return self.call(handler, request)
        except (ValueError, TypeError, KeyError) as error:
            return Response(400, {"error": str(error)})

    def _set_faults(self, request: Request) -> Response:
        faults = Faults.from_json(request.json() or {})
        self.faults.configure(faults)
        return Response(200, faults.to_json())

    def _reset(self, request: Request) -> Response:
        body = request.json() or {}
        if not isinstance(body, dict):
            raise ValueError("reset options must be a JSON object")
        self.reset(body)
        self.faults.reset()
        self.stats.reset()
        return Response(200, {"reset": True})
