"""The CRM-agnostic plumbing: router, rolling windows, daily budget, keep-alive, TLS, faults."""

from __future__ import annotations

import http.client
import json
import ssl

import pytest
import trustme
from conftest import SANDBOX_START

from connector.sandbox.app import SandboxApp
from connector.sandbox.clock import ManualClock
from connector.sandbox.faults import FaultInjector, Faults
from connector.sandbox.ratelimit import DailyBudget, RollingWindow
from connector.sandbox.server import (
    Request,
    Response,
    RouteNotFound,
    Router,
    SandboxServer,
)


def _handler(name):
    return lambda request: Response(200, {"route": name})


def test_router_prefers_literal_segments_and_decodes_parameters():
    router = Router()
    router.add("GET", "/objects/{type}/{id}", _handler("by-id"))
    router.add("POST", "/objects/{type}/search", _handler("search"))
    router.add("GET", "/objects/{type}/search", _handler("get-search"))
    _, params, template = router.match("GET", "/objects/contacts/a%40b.io")
    assert template == "/objects/{type}/{id}" and params == {"type": "contacts", "id": "a@b.io"}
    assert router.match("POST", "/objects/contacts/search")[2] == "/objects/{type}/search"
    assert router.match("GET", "/objects/contacts/search")[0](None).body["route"] == "get-search"


def test_router_keeps_trailing_slash_routes_apart_and_reports_other_methods():
    router = Router()
    router.add("GET", "/owners", _handler("plain"))
    with pytest.raises(RouteNotFound):
        router.match("GET", "/owners/")
    with pytest.raises(RouteNotFound) as missing:
        router.match("DELETE", "/owners")
    assert missing.value.allowed == ("GET",)
    with pytest.raises(RouteNotFound):
        router.match("GET", "/objects//x")  # an empty segment never fills a parameter


def test_rolling_window_admits_up_to_the_limit_in_any_window():
    clock = ManualClock(0)
    window = RollingWindow(3, 10.0, clock)
    assert [window.acquire() for _ in range(3)] == [(True, 2), (True, 1), (True, 0)]
    assert window.acquire() == (False, 0)
    clock.advance(9.999)
    assert window.acquire()[0] is False
    clock.advance(0.001)  # the first three calls are exactly 10 s old: out of the window
    assert window.acquire() == (True, 2)
    assert window.peak == 3 and window.used() == 1


def test_rolling_window_with_limit_zero_never_refuses_but_tracks_the_peak():
    clock = ManualClock(0)
    window = RollingWindow(0, 1.0, clock)
    assert all(window.acquire()[0] for _ in range(500))
    assert window.peak == 500


def test_daily_budget_resets_at_utc_midnight():
    clock = ManualClock(SANDBOX_START)  # 12:00 UTC
    budget = DailyBudget(2, clock)
    assert budget.acquire() == (True, 1) and budget.acquire() == (True, 0)
    assert budget.acquire() == (False, 0)
    clock.advance(11 * 3600 + 3599)
    assert budget.acquire()[0] is False
    clock.advance(1)
    assert budget.acquire() == (True, 1)


def test_fault_injection_is_reproducible_from_its_seed():
    def draws(seed):
        injector = FaultInjector(seed)
        injector.configure(Faults(error_rate=0.3, status=500, reset_rate=0.2))
        return [(d.drop, d.status) for d in (injector.decide() for _ in range(200))]

    first = draws(7)
    assert first == draws(7) and first != draws(8)
    drops = sum(1 for drop, _ in first if drop)
    errors = sum(1 for _, status in first if status == 500)
    assert 20 < drops < 70 and 25 < errors < 80


class _EchoApp(SandboxApp):
    """A minimal CRM: one route that echoes what it got."""

    def __init__(self) -> None:
        super().__init__(clock=ManualClock(0))
        self.api.add("POST", "/echo/{name}", self._echo)

    def _echo(self, request: Request) -> Response:
        return Response(201, {"name": request.params["name"], "body": request.json(), "tags": request.many("tag")})

    def serve(self, request, handler):
        return self.call(handler, request) if handler else Response(404, {"error": "no route"})


def test_one_keep_alive_connection_carries_many_requests():
    with SandboxServer(_EchoApp()) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        sockets = set()
        for i in range(3):
            connection.request("POST", f"/echo/n{i}?tag=a,b&tag=c", body=json.dumps({"i": i}))
            reply = connection.getresponse()
            assert reply.status == 201 and reply.getheader("Content-Type") == "application/json;charset=utf-8"
            assert json.loads(reply.read()) == {"name": f"n{i}", "body": {"i": i}, "tags": ["a", "b", "c"]}
            sockets.add(id(connection.sock))
        assert len(sockets) == 1
        connection.close()
        assert server.app.stats.count("POST /echo/{name}", 201) == 3


def test_the_same_plumbing_serves_over_tls():
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    with SandboxServer(_EchoApp(), tls=context) as server:
        assert server.base_url.startswith("https://127.0.0.1:")
        client_context = ssl.create_default_context()
        authority.configure_trust(client_context)
        connection = http.client.HTTPSConnection("127.0.0.1", server.port, context=client_context, timeout=5)
        connection.request("POST", "/echo/secure", body=b"{}")
        assert json.loads(connection.getresponse().read())["name"] == "secure"
        connection.close()
