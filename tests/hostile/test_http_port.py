"""The daemon's health and metrics port under abuse: idle and half-sent connections by the hundred.

Once, each connection held a thread of its own and no timeout ever let go of it.
Now a connection costs a socket until it has sent a whole request, the worker
threads stay few, and a probe still gets its answer.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import httpx
import pytest

from connector.config.settings import load_settings
from connector.ops.daemon import Daemon
from connector.ops.http import HttpServer, health_app
from connector.ops.metrics import Metrics

HOLD = 300


def ok() -> tuple[int, dict[str, str]]:
    return 200, {"status": "ok"}


@pytest.fixture
def server() -> Iterator[HttpServer]:
    serving = HttpServer(health_app(ok, ok, lambda: b"handoff_up 1\n"), "127.0.0.1", 0)
    serving.start()
    yield serving
    serving.stop()


def test_hundreds_of_idle_and_half_sent_connections_hold_no_threads_and_a_probe_still_answers(server):
    host, port = server.address
    threads_before = threading.active_count()
    held: list[socket.socket] = []
    try:
        for i in range(HOLD):
            conn = socket.create_connection((host, port), timeout=5)
            if i % 2:
                conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: probe\r\n")  # the blank line never comes
            held.append(conn)
        response = httpx.get(f"http://{host}:{port}/healthz", timeout=5)
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
        assert httpx.get(f"http://{host}:{port}/metrics", timeout=5).text == "handoff_up 1\n"
        assert threading.active_count() == threads_before
    finally:
        for conn in held:
            conn.close()


def test_stop_closes_the_port_and_every_open_connection():
    serving = HttpServer(health_app(ok, ok, lambda: b""), "127.0.0.1", 0)
    serving.start()
    host, port = serving.address
    idle = socket.create_connection((host, port), timeout=5)
    serving.stop()
    try:
        assert idle.recv(1) == b""  # closed by the server...
    except ConnectionResetError:
        pass  # ...or reset: either way, not left hanging
    finally:
        idle.close()
    with pytest.raises(OSError):
        socket.create_connection((host, port), timeout=1)


def test_the_daemon_listens_on_the_configured_address_only():
    settings = load_settings(
        handoff_http_host="127.0.0.2", handoff_http_port=0, handoff_sync_interval=3600, handoff_sweep_interval=3600
    )
    daemon = Daemon(
        settings, sync_once=lambda stop: None, sweep=lambda stop: None, startup=lambda: None, metrics=Metrics()
    )
    daemon.start()
    try:
        assert httpx.get(f"http://127.0.0.2:{daemon.port}/healthz", timeout=5).status_code == 200
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{daemon.port}/healthz", timeout=5)
    finally:
        daemon.request_stop()
        daemon.wait()


def test_every_interface_is_the_default_bind_address():
    assert load_settings().handoff_http_host == "0.0.0.0"
