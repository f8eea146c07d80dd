"""`handoff run` as a process against the sandbox: it syncs, reports health and metrics, and stops on SIGTERM.

The test follows the daemon's JSON log lines (a blocking read is an event, not a sleep).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from typing import IO, Any

import httpx
from builders import DEFAULT_RULES, REPO

from connector.sandbox.hubspot import HubSpotConfig, HubSpotSandbox


def next_event(stream: IO[str], event: str) -> dict[str, Any]:
    """Read log lines until one with ``event`` arrives (the process ending first fails the test)."""
    for line in stream:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("event") == event:
            return entry
    raise AssertionError(f"the daemon ended before logging {event!r}")


def test_the_daemon_syncs_serves_health_and_metrics_and_stops_cleanly_on_sigterm(tmp_path):
    app = HubSpotSandbox(HubSpotConfig(contacts=60, seed=3, rate_per_10s=0, search_rate_per_s=0))
    with app.server() as server:
        env = {
            **os.environ,
            "HUBSPOT_ACCESS_TOKEN": app.config.token,
            "HUBSPOT_API_BASE": server.base_url,
            "HANDOFF_STATE_URL": f"sqlite:///{tmp_path / 'state.sqlite'}",
            "HANDOFF_RULES": str(DEFAULT_RULES),
            "HANDOFF_HTTP_PORT": "0",
            "HANDOFF_SYNC_INTERVAL": "3600",
            "HANDOFF_LOG_FORMAT": "json",
            "HANDOFF_SAFETY_LAG_SECONDS": "0",
        }
        daemon = subprocess.Popen(
            [sys.executable, "-m", "connector", "run"],
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            port = next_event(daemon.stderr, "daemon started")["port"]
            first = next_event(daemon.stderr, "sync ok")
            assert first["report"]["read"] == 60 and first["report"]["written"] > 0
            base = f"http://127.0.0.1:{port}"
            assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200
            assert httpx.get(f"{base}/readyz", timeout=10).status_code == 200
            metrics = httpx.get(f"{base}/metrics", timeout=10).text
            assert 'handoff_sync_runs_total{kind="sync",status="ok"} 1.0' in metrics
            assert "handoff_crm_requests_total" in metrics
            stages = {c["properties"].get("lifecyclestage") for c in app.dump()["contacts"]}
            assert "salesqualifiedlead" in stages
            daemon.send_signal(signal.SIGTERM)
            assert daemon.wait(timeout=60) == 0
            rest = daemon.stderr.read()
            assert app.config.token not in rest
        finally:
            if daemon.poll() is None:
                daemon.kill()
