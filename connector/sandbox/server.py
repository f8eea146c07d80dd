"""HTTP plumbing shared by every CRM sandbox: requests, routing, the threaded server.

Nothing here knows about a CRM. A sandbox is a :class:`~connector.sandbox.app.SandboxApp`
that turns a :class:`Request` into a :class:`Response`; :class:`SandboxServer` carries
it over HTTP/1.1 keep-alive on a stdlib ``ThreadingHTTPServer``, in a background thread
(tests, ``handoff demo``) or in the foreground (``handoff sandbox``). An optional
``ssl.SSLContext`` lets a later sandbox serve the same app over TLS.
"""

from __future__ import annotations

import contextlib
import email.parser
import email.utils
import functools
import json
import re
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import orjson

from connector.jsontext import read_json

JSON_CONTENT_TYPE = "application/json;charset=utf-8"
#: how often the accept loop checks for a stop request when nothing wakes it
_POLL_S = 0.5


class HttpError(Exception):
    """Raised by a handler to answer with ``status`` and a JSON ``body`` instead."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


class DropConnection(Exception):
    """Raised to close the client's connection with a TCP reset and no response."""


@dataclass(slots=True)
class Request:
    """One parsed HTTP request; ``params`` and ``label`` are filled in by routing."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    #: "METHOD path-template": what stats count calls by; handlers may refine it
    label: str = ""
    _json: Any = None

    def json(self) -> Any:
        """The body decoded as JSON (``None`` for an empty body); ValueError if malformed."""
        if self._json is None and self.body:
            self._json = read_json(self.body)
        return self._json

    def json_list(self) -> list[Any]:
        """The body as a JSON list (seeding takes lists); ValueError otherwise."""
        body = self.json()
        if not isinstance(body, list):
            raise ValueError("expected a JSON list")
        return body

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object (``{}`` for an empty body); ValueError otherwise."""
        body = self.json()
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise ValueError("expected a JSON object")
        return body

    def first(self, name: str, default: str | None = None) -> str | None:
        """The first value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else default

    def many(self, name: str) -> list[str]:
        """A list query parameter, repeated (``?p=a&p=b``), comma-separated (``?p=a,b``) or both."""
        out: list[str] = []
        for value in self.query.get(name, ()):
            out.extend(part for part in value.split(",") if part)
        return out


@dataclass(slots=True)
class Response:
    """A reply: JSON-encodable ``body`` or raw ``bytes`` (``None`` = no body) and extra headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Response]


class App(Protocol):
    """What the server needs from a sandbox."""

    def handle(self, request: Request) -> Response: ...


class RouteNotFound(Exception):
    """No route has this path (``allowed`` lists methods if the path exists under others)."""

    def __init__(self, allowed: tuple[str, ...] = ()) -> None:
        super().__init__(allowed)
        self.allowed = allowed


class Router:
    """Matches ``METHOD /a/{param}/b`` templates segment by segment (no regexes per request).

    Routes are bucketed by segment count, and literal segments win over parameters,
    so ``/objects/{type}/search`` beats ``/objects/{type}/{id}`` for ``.../search``.
    A trailing slash is a segment of its own: register both forms where both exist.
    """

    def __init__(self) -> None:
        self._buckets: dict[int, list[tuple[tuple[str | None, ...], tuple[str, ...], str, dict[str, Handler]]]] = {}

    def add(self, method: str, template: str, handler: Handler) -> None:
        """Register ``handler`` for ``method`` on ``template``."""
        segments = template.split("/")
        literal = tuple(None if s.startswith("{") else s for s in segments)
        names = tuple(s[1:-1] for s in segments if s.startswith("{"))
        bucket = self._buckets.setdefault(len(segments), [])
        for lit, _names, tmpl, handlers in bucket:
            if lit == literal and tmpl == template:
                handlers[method] = handler
                return
        bucket.append((literal, names, template, {method: handler}))
        # literals before parameters, position by position
        bucket.sort(key=lambda route: tuple(s is None for s in route[0]))

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, str], str]:
        """The handler, path parameters and template for a request, or RouteNotFound."""
        segments = path.split("/")
        allowed: tuple[str, ...] = ()
        for literal, names, template, handlers in self._buckets.get(len(segments), ()):
            values = []
            for want, got in zip(literal, segments, strict=False):
                if want is None:
                    if not got:
                        break
                    values.append(unquote(got) if "%" in got else got)
                elif want != got:
                    break
            else:
                handler = handlers.get(method)
                if handler is None:
                    allowed = allowed or tuple(handlers)
                    continue
                return handler, dict(zip(names, values, strict=False)), template
        raise RouteNotFound(allowed)


def encode_json(body: Any) -> bytes:
    """Compact UTF-8 JSON bytes, the way the CRMs send them (a page of records is most of
    what a call costs to answer: orjson writes it several times faster than ``json``)."""
    try:
        return orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:
        # what orjson refuses and a CRM still sends: integers past 64 bits (a hostile record's 10^300)
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


#: replies up to this size go out in one write with their headers: over TLS each write is a
#: record and a segment of its own (a small reply's second write cost as much as encrypting
#: it); a larger reply costs more to copy than to write apart
_JOINED_WRITE = 64 * 1024
#: what the stdlib's header reader allows (http.client's limits)
_MAX_LINE = 65536
_MAX_HEADERS = 100
#: a header line the email parser takes as one ``name: value`` header (no folding, no stray CR)
_PLAIN_HEADER = re.compile(r"[\041-\071\073-\176]+:[^\r\n]*\r?\n")


@functools.lru_cache(maxsize=4)
def _http_date(second: int) -> str:
    """The ``Date`` header of a reply sent in this second (the stdlib formats it per reply)."""
    return email.utils.formatdate(second, usegmt=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse one connection
    server: _HTTPServer
    raw_requestline: bytes  # set by the stdlib before parse_request
    _headers_buffer: list[bytes]  # the stdlib's: what send_header has written, until a flush

    def parse_request(self) -> bool:
        """An ``METHOD path HTTP/1.1`` request with plain header lines is read here: the stdlib
        reads every header block through the email package's parser, which cost a tenth of a
        small call. Anything else takes the stdlib's road, errors and all."""
        requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = requestline.split()
        if len(words) != 3 or words[2] != "HTTP/1.1":
            return super().parse_request()
        self.requestline = requestline
        self.command, path, self.request_version = words
        self.path = "/" + path.lstrip("/") if path.startswith("//") else path  # as the stdlib does
        self.close_connection = False
        lines: list[str] = []
        while True:  # http.client's header reader, limits and all
            line = self.rfile.readline(_MAX_LINE + 1)
            if len(line) > _MAX_LINE:
                explain = f"got more than {_MAX_LINE} bytes when reading header line"
                self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Line too long", explain)
                return False
            if len(lines) + 1 > _MAX_HEADERS:
                explain = f"got more than {_MAX_HEADERS} headers"
                self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Too many headers", explain)
                return False
            lines.append(str(line, "iso-8859-1"))
            if line in (b"\r\n", b"\n", b""):
                break
        headers = self.MessageClass()
        if all(_PLAIN_HEADER.fullmatch(text) for text in lines[:-1]):
            for text in lines[:-1]:  # stored as the email parser's compat32 policy stores them
                name, _, value = text.partition(":")
                headers.set_raw(name, value.lstrip(" \t").rstrip("\r\n"))
        else:  # folded or odd lines: the email parser, as the stdlib does
            headers = email.parser.Parser(_class=self.MessageClass).parsestr("".join(lines))
        self.headers = headers
        if headers.get("Connection", "").lower() == "close":
            self.close_connection = True
        if headers.get("Expect", "").lower() == "100-continue":
            return self.handle_expect_100()
        return True

    def _serve(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(
            method=self.command,
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True) if split.query else {},
            headers=self.headers,
            body=body,
        )
        try:
            response = self.server.app.handle(request)
        except DropConnection:
            self._reset()
            return
        self._write(response)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    def _write(self, response: Response) -> None:
        body = response.body
        # bytes go out as they are (a CSV page); anything else is JSON
        payload = b"" if body is None else body if isinstance(body, bytes) else encode_json(body)
        self.send_response_only(response.status)
        self.send_header("Date", _http_date(int(time.time())))  # the second gmtime would read
        if response.body is not None and "Content-Type" not in response.headers:
            # a sandbox may spell it the way its CRM does (Salesforce: charset=UTF-8)
            self.send_header("Content-Type", JSON_CONTENT_TYPE)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self._end_headers_and_send(payload if self.command != "HEAD" else b"")

    def _end_headers_and_send(self, payload: bytes) -> None:
        """``end_headers()`` then the payload; a small payload in the same write as the headers."""
        if self.request_version != "HTTP/0.9" and len(payload) <= _JOINED_WRITE:
            self._headers_buffer += (b"\r\n", payload)
            self.flush_headers()
            return
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    def _reset(self) -> None:
        # SO_LINGER 0 makes close() send RST: the client sees a connection reset,
        # the way a dropped load-balancer connection looks
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: logging every request would cost more than serving it."""


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: App, tls: ssl.SSLContext | None) -> None:
        self.app = app
        self.tls = tls
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls is not None:
            # the handshake happens on first read, in the connection's own thread
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up mid-request are normal under fault injection: stay quiet."""


class SandboxServer:
    """Serves an app on ``host:port`` (port 0 picks a free one); start/stop or use as a context."""

    def __init__(self, app: App, host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None) -> None:
        self.app = app
        self._httpd = _HTTPServer((host, port), app, tls)
        self._thread: threading.Thread | None = None
        self.scheme = "https" if tls is not None else "http"
        self.host = host

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """``scheme://host:port`` without a trailing slash (what SDKs take as ``host``)."""
        return f"{self.scheme}://{self.host}:{self.port}"

    def start(self) -> SandboxServer:
        """Serve in a daemon thread and return at once."""
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(_POLL_S,), name="sandbox-http", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket (open keep-alive connections die with
        their daemon threads)."""
        if self._thread is not None:
            stopper = threading.Thread(target=self._httpd.shutdown, daemon=True)
            stopper.start()
            # the accept loop reads the stop flag only when its poll ends; a connection
            # wakes it at once, so stopping costs milliseconds, not a poll interval
            while stopper.is_alive():
                with contextlib.suppress(OSError):
                    socket.create_connection((self.host, self.port), timeout=1).close()
                stopper.join(0.005)
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
