"""The CRM-agnostic plumbing: router, rolling windows, daily budget, keep-alive, TLS, faults."""

from __future__ import annotations

import http.client
import io
import json
import ssl
from http.server import BaseHTTPRequestHandler

import pytest
import trustme
from conftest import SANDBOX_START

from connector.sandbox import server
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


class _StdlibHandler(BaseHTTPRequestHandler):
    """The stdlib's request parsing, for comparison with the sandbox's."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass


def _parsed(handler_class, raw):
    """What a handler makes of one raw request: its fields, headers and anything it answered
    (the Date header left out)."""
    handler = handler_class.__new__(handler_class)
    handler.rfile = io.BytesIO(raw)
    handler.wfile = io.BytesIO()
    handler.client_address = ("127.0.0.1", 0)
    handler.request_version = handler.default_request_version
    handler.raw_requestline = handler.rfile.readline(65537)
    ok = handler.parse_request()
    headers = list(handler.headers.items()) if ok else None
    answered = b"\r\n".join(line for line in handler.wfile.getvalue().split(b"\r\n") if not line.startswith(b"Date:"))
    fields = (handler.command, getattr(handler, "path", None), handler.request_version, handler.close_connection)
    return ok, fields, headers, answered, handler.rfile.read()


@pytest.mark.parametrize(
    "raw",
    [
        b"POST /crm/v3/objects/contacts/search HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n"
        b"Content-Length: 2\r\n\r\n{}",
        b"GET //twice//slashed?a=1 HTTP/1.1\r\nX-Empty:\r\nX-Spaced: \t a b \r\nConnection: close\r\n\r\n",
        b"GET / HTTP/1.1\r\nConnection: keep-alive\r\nX-Dup: 1\r\nx-dup: 2\r\n\r\nrest",
        b"GET / HTTP/1.1\r\nX-Folded: a\r\n b\r\nHost: y\r\n\r\n",
        b"GET / HTTP/1.1\r\nno colon here\r\nHost: y\r\n\r\n",
        b"GET / HTTP/1.1\r\nBad Name: 1\r\nX-Cr: a\rb\r\n\r\n",
        b"GET / HTTP/1.1\nX-Bare-Newline: 1\n\n",
        b"GET / HTTP/1.1\r\nHost: y\r\n",  # the connection ends inside the headers
        b"PUT /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nz",
        b"GET / HTTP/1.1\r\n" + b"X-Many: 1\r\n" * 99 + b"\r\n",
        b"GET / HTTP/1.1\r\n" + b"X-Many: 1\r\n" * 100 + b"\r\n",
        b"GET / HTTP/1.1\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n",
        b"GET / HTTP/1.0\r\nHost: y\r\n\r\n",
        b"GET /\xa0x HTTP/1.1\r\nHost: y\r\n\r\n",
        b"GET / HTTP/2.0\r\n\r\n",
        b"BREW\r\n\r\n",
    ],
)
def test_request_headers_parse_as_the_stdlib_parses_them(raw):
    ours, stdlib = _parsed(server._Handler, raw), _parsed(_StdlibHandler, raw)
    assert ours == stdlib


@pytest.mark.parametrize(
    "body",
    [
        b'{"inputs": [{"id": "1"}, {"id": 2}], "a": 1, "a": 2}',
        b'{"big": 123456789012345678901234567890, "low": -9223372036854775809, "top": 18446744073709551615}',
        b"[NaN, Infinity, 1e400, -0.0, 0.1, 1.0000000000000002]",
        b'\xef\xbb\xbf{"bom": true}',
        '{"utf16": "é"}'.encode("utf-16"),
        b'{"lone": "\\ud800", "nul": "\\u0000", "text": "caf\xc3\xa9"}',
        b'{"digits18": 999999999999999999, "digits19": 9999999999999999999, "in_text": "12345678901234567890"}',
        b'{"apart": [123456789012345678, 1234567890.123456789, "1234567890 123456789"]}',
    ],
)
def test_a_request_body_reads_as_json_reads_it(body):
    assert repr(Request("POST", "/", {}, {}, body).json()) == repr(json.loads(body))


@pytest.mark.parametrize("body", [b"{bad", b'{"a": 1,}', b"[" * 3 + b"]"])
def test_a_malformed_request_body_is_refused_with_jsons_message(body):
    with pytest.raises(ValueError) as stdlib:
        json.loads(body)
    with pytest.raises(ValueError) as ours:
        Request("POST", "/", {}, {}, body).json()
    assert str(ours.value) == str(stdlib.value)


class _Writes(io.BytesIO):
    """A handler's output, remembering each write."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []

    def write(self, data):
        self.writes.append(bytes(data))
        return super().write(data)


def _written(method: str, response: Response, monkeypatch: pytest.MonkeyPatch) -> _Writes:
    handler = server._Handler.__new__(server._Handler)
    handler.wfile = _Writes()
    handler.command, handler.request_version = method, "HTTP/1.1"
    monkeypatch.setattr(server, "_http_date", lambda second: "Mon, 30 Nov 2026 21:00:00 GMT")
    handler._write(response)
    return handler.wfile


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("size", [0, 100, server._JOINED_WRITE - 40, server._JOINED_WRITE + 1])
def test_a_reply_is_its_headers_then_its_body_and_a_small_one_is_one_write(method, size, monkeypatch):
    body = "x" * (size - 2)  # a JSON string of `size` bytes
    written = _written(method, Response(200, body if size else None, {"X-Extra": "1"}), monkeypatch)
    payload = json.dumps(body).encode() if size else b""
    headers = (
        "HTTP/1.1 200 OK\r\nDate: Mon, 30 Nov 2026 21:00:00 GMT\r\n"
        + ("Content-Type: application/json;charset=utf-8\r\n" if size else "")
        + f"Content-Length: {len(payload)}\r\nX-Extra: 1\r\n\r\n"
    ).encode()
    sent = payload if method == "GET" else b""
    assert written.getvalue() == headers + sent
    assert written.writes == ([headers + sent] if len(sent) <= server._JOINED_WRITE else [headers, sent])
