"""``handoff sandbox hubspot`` as a process: first line LISTENING, token enforced, clean exit on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_sandbox_command_announces_its_url_serves_and_exits_0_on_signal(stop):
    command = [
        sys.executable,
        "-m",
        "connector.sandbox.cli",
        "hubspot",
        "--contacts",
        "12",
        "--seed",
        "3",
        "--token",
        "pat-local",
        "--rate-per-10s",
        "50",
        "--search-rate-per-s",
        "2",
        "--search-lag-ms",
        "0",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = process.stdout.readline().strip()
        assert first.startswith("LISTENING http://127.0.0.1:"), first + process.stderr.read()
        base = first.split()[1]
        request = urllib.request.Request(
            base + "/crm/v3/objects/contacts?limit=100", headers={"Authorization": "Bearer pat-local"}
        )
        with urllib.request.urlopen(request, timeout=10) as reply:
            assert len(json.loads(reply.read())["results"]) == 12
            assert reply.headers["X-HubSpot-RateLimit-Max"] == "50"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(
                urllib.request.Request(
                    base + "/crm/v3/objects/contacts", headers={"Authorization": "Bearer sandbox-token"}
                )
            )
        assert refused.value.code == 401
        process.send_signal(stop)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()
