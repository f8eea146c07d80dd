"""The daemon's HTTP port: ``/healthz``, ``/readyz`` and ``/metrics`` as one WSGI app behind waitress.

A probe or a scraper must get an answer even while something holds hundreds of
connections open. waitress reads every request whole in one I/O thread and only
then hands it to a small, fixed pool of worker threads, so a slow or idle client
costs a socket, never a thread; silent connections are closed after a timeout,
and open connections are capped.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from waitress import wasyncore
from waitress.server import create_server

from connector.ops.metrics import CONTENT_TYPE

#: a check behind a route: (HTTP status, JSON body)
Probe = Callable[[], tuple[int, dict[str, str]]]
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: threads answering complete requests; probes and one scraper need few
WORKERS = 4
#: connections open at once; past this, new ones wait in the listen backlog until others close
MAX_CONNECTIONS = 500
#: seconds a connection may send nothing before it is closed
IDLE_TIMEOUT = 10
#: request line and headers; a probe sends a few hundred bytes
MAX_HEADER_BYTES = 8192


def health_app(health: Probe, readiness: Probe, metrics: Callable[[], bytes]) -> WsgiApp:
    """``/healthz`` and ``/readyz`` as one line of JSON each, ``/metrics`` in Prometheus text format."""
    probes = {"/healthz": health, "/readyz": readiness}

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            code, data, content_type = 200, metrics(), CONTENT_TYPE
        else:
            code, body = probes[path]() if path in probes else (404, {"status": "not found"})
            data, content_type = json.dumps(body).encode() + b"\n", "application/json"
        start_response(
            f"{code} {HTTPStatus(code).phrase}", [("Content-Type", content_type), ("Content-Length", str(len(data)))]
        )
        return [data]

    return app


class HttpServer:
    """A WSGI app served on ``host:port`` by waitress in a background thread.

    The constructor binds the port (OSError if it is taken); ``start()`` serves,
    ``stop()`` closes every connection and waits for the threads.
    """

    def __init__(self, app: WsgiApp, host: str, port: int):
        self._map: dict[int, Any] = {}
        self._server = create_server(
            app,
            map=self._map,
            listen=f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
            threads=WORKERS,
            connection_limit=MAX_CONNECTIONS,
            channel_timeout=IDLE_TIMEOUT,
            cleanup_interval=1,  # how often idle connections are looked for
            max_request_header_size=MAX_HEADER_BYTES,
            max_request_body_size=0,
            asyncore_use_poll=True,  # select() cannot watch more than 1,024 sockets
            ident="handoff",
        )
        self._thread = threading.Thread(target=self._server.run, name="handoff-http", daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) actually bound: the port is the real one when port 0 was asked for."""
        return str(self._server.effective_host), int(self._server.effective_port)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Close the port and every open connection, then let the threads end."""
        if self._thread.is_alive():
            # sockets are closed by the I/O thread itself, between two polls, never under its feet
            self._server.trigger.pull_trigger(lambda: wasyncore.close_all(self._map))
            self._thread.join()
        else:
            wasyncore.close_all(self._map)
        self._server.task_dispatcher.shutdown()
