"""``handoff sandbox salesforce`` as a process: LISTENING with the CA bundle, token enforced, clean exit."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import requests
from simple_salesforce import Salesforce


def test_salesforce_command_announces_url_and_ca_serves_https_and_exits_0_on_sigterm():
    command = [
        sys.executable,
        "-m",
        "connector.sandbox.cli",
        "salesforce",
        "--contacts",
        "15",
        "--seed",
        "3",
        "--token",
        "sid-local",
        "--daily-limit",
        "500",
        "--no-custom-fields",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = process.stdout.readline().strip()
        assert first.startswith("LISTENING https://127.0.0.1:"), first + process.stderr.read()
        _, base, ca = first.split()
        bundle = Path(ca.removeprefix("ca="))
        assert bundle.read_text().startswith("-----BEGIN CERTIFICATE-----")
        session = requests.Session()
        session.verify, session.trust_env = str(bundle), False
        sf = Salesforce(session_id="sid-local", instance_url=base, version="59.0", session=session)
        people = (
            sf.query("SELECT COUNT() FROM Lead")["totalSize"]
            + sf.query("SELECT COUNT() FROM Contact WHERE IsDeleted = false")["totalSize"]
        )
        assert people >= 15  # converted leads also have their contact
        assert sf.api_usage["api-usage"].total == 500
        assert not [f for f in sf.Lead.describe()["fields"] if f["custom"]]
        refused = session.get(base + "/services/data/v59.0/limits/", headers={"Authorization": "Bearer sandbox-token"})
        assert refused.status_code == 401
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert not bundle.exists()  # the throwaway CA goes with the process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()
